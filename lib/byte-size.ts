// Sizes as people type them on a command line: 1GiB, 500MiB, 100MB, 0.
import { UsageError } from "./errors.ts";

const mib = 1024 * 1024;

/** Parses sizes such as 1GiB, 500MiB, 100MB, 0. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?\s*$/i.exec(text);
  if (!match) throw new UsageError(`'${text}' is not a size (e.g. 1GiB, 500MiB, 0)`);
  const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: mib, gib: 1024 * mib };
  return Math.round(Number(match[1]) * units[(match[2] ?? "b").toLowerCase()]!);
}
