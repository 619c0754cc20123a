// Reading a host's /workspace as a manifest sees it: every entry, and MD5s of the files asked for.
// Used when a snapshot is made and when a restored tree is verified.
import type { SshConnection } from "../ssh/client.ts";
import { parseMd5, parseScan, withMd5, type Entry, type ScanResult } from "./manifest.ts";
import { hashScript, scanScript, workspace } from "./scripts.ts";

/** Where a tree is read: /workspace unless told (the standby keeps its mirror elsewhere). */
export interface TreeRoot {
  readonly root?: string;
}

export async function scanWorkspace(ssh: SshConnection, options: TreeRoot = {}): Promise<ScanResult> {
  const result = await ssh.run(["bash", "-c", scanScript(), "scan", options.root ?? workspace]);
  return parseScan(Buffer.from(result.stdout, "utf8"));
}

/**
 * MD5s of these files (paths relative to /workspace), computed on the host. With `missingOk`, files
 * that do not exist are left out of the result instead of failing the call.
 */
export async function hashFiles(ssh: SshConnection, paths: readonly string[], options: { missingOk?: boolean } & TreeRoot = {}): Promise<Map<string, string>> {
  if (paths.length === 0) return new Map();
  const list = Buffer.from(paths.map((p) => `./${p}\0`).join(""), "utf8");
  const result = await ssh.run(["bash", "-c", hashScript(), "hash", options.root ?? workspace], { stdin: list, allowFailure: options.missingOk });
  return parseMd5(Buffer.from(result.stdout, "utf8"));
}

/** The whole tree with every file's MD5. */
export async function scanWithHashes(ssh: SshConnection, options: TreeRoot = {}): Promise<Entry[]> {
  const { entries } = await scanWorkspace(ssh, options);
  const sums = await hashFiles(ssh, entries.filter((e) => e.type === "file").map((e) => e.path), options);
  return withMd5(entries, sums);
}
