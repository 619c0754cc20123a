// What GNU tar says on stderr while it archives a round (scripts.ts: uploadScript), read back into
// paths. The upload runs tar with LC_ALL=C and --quoting-style=escape, so every name in a message
// is ASCII: backslash escapes for control characters, ':' and '\', octal for every other byte.
import { pathFromBytes, pathToBytes } from "./path-bytes.ts";

const namedEscapes: Readonly<Record<string, number>> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13 };

/** A name as tar's escape quoting printed it, back to a path string. */
export function unquoteTarName(quoted: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < quoted.length; i++) {
    const char = quoted[i]!;
    if (char !== "\\" || i + 1 === quoted.length) {
      bytes.push(...Buffer.from(char, "utf8"));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(quoted.slice(i + 1, i + 4))?.[0];
    if (octal) {
      bytes.push(parseInt(octal, 8));
      i += 3;
    } else {
      const next = quoted[++i]!;
      bytes.push(namedEscapes[next] ?? next.charCodeAt(0));
    }
  }
  return pathFromBytes(Buffer.from(bytes));
}

const escapeOf: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(namedEscapes).map(([letter, byte]) => [byte, `\\${letter}`]));

/**
 * A path as `tar -t --quoting-style=escape` lists it under LC_ALL=C: printable ASCII as itself, a
 * backslash doubled, control characters by their letter, every other byte in octal (checked against
 * GNU tar for every byte in test/unit/dataplane/snapshot/tar-messages.test.ts). The restore names an
 * archive's unexpected members as tar lists them by comparing that listing with these.
 */
export function quoteTarName(path: string): string {
  if (printableAscii.test(path)) return path;
  let quoted = "";
  for (const byte of pathToBytes(path)) {
    if (byte === 0x5c) quoted += "\\\\";
    else if (escapeOf[byte]) quoted += escapeOf[byte];
    else if (byte >= 0x20 && byte <= 0x7e) quoted += String.fromCharCode(byte);
    else quoted += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return quoted;
}

/** Printable ASCII but the backslash: what tar's escape quoting leaves as it is. */
const printableAscii = /^[\x20-\x5b\x5d-\x7e]*$/;

export interface TarReport {
  /** Files tar saw change while it read them (it stored what it read, maybe a mix). */
  readonly changed: ReadonlySet<string>;
  /** Entries that were gone when tar came to them (not in the archive). */
  readonly missing: ReadonlySet<string>;
  /** Every other message, as tar printed it. */
  readonly others: readonly string[];
}

const changedMessages = /^(file changed as we read it|File shrank by \d+ bytes; padding with zeros)$/;
const missingMessages = /^Cannot (stat|open|readlink): No such file or directory$/;

/** Sorts tar's messages about one round: "tar: <quoted name>: <message>" lines. */
export function readTarReport(lines: readonly string[]): TarReport {
  const changed = new Set<string>();
  const missing = new Set<string>();
  const others: string[] = [];
  for (const line of lines) {
    // A quoted name holds no ": " (its ':' are escaped), so the first one ends it.
    const match = /^tar: ((?:[^\\:]|\\.)*): (.*)$/.exec(line);
    const path = match && unquoteTarName(match[1]!).replace(/^\.\//, "");
    if (path !== null && changedMessages.test(match![2]!)) changed.add(path);
    else if (path !== null && missingMessages.test(match![2]!)) missing.add(path);
    else if (line !== "tar: Exiting with failure status due to previous errors" && line.trim() !== "") others.push(line);
  }
  return { changed, missing, others };
}
