// Reading a host's /workspace as a manifest sees it: every entry, and MD5s of the files asked for.
// Used when a snapshot is made and when a restored tree is verified. Names cross as bytes both
// ways (path-bytes.ts), so a name that is not UTF-8 is read and asked about exactly.
import { DumontError } from "../../lib/errors.ts";
import type { CommandRunner } from "../ssh/client.ts";
import { workspaceListingBytes, workspaceWalkMs } from "../ssh/command-bounds.ts";
import { withMd5, type Entry } from "./manifest.ts";
import { Md5Parser, ScanParser, type ScanResult } from "./host-listings.ts";
import { hostPathList } from "./path-bytes.ts";
import { hashScript, scanScript, workspace } from "./scripts.ts";

/** Where a tree is read: /workspace unless told (the standby keeps its mirror elsewhere). */
export interface TreeRoot {
  readonly root?: string;
  /**
   * dumont-pack's path on the host (pack-helper.ts), to hash with it: several files at a time,
   * about a third faster than md5sum on many small files. Without it, md5sum.
   */
  readonly pack?: string;
}

/** A signal that stops the reading (a failover whose lease was lost). */
export interface Stoppable {
  readonly signal?: AbortSignal;
}

export async function scanWorkspace(ssh: CommandRunner, options: TreeRoot & Stoppable = {}): Promise<ScanResult> {
  const parser = new ScanParser();
  await ssh.run(["bash", "-c", scanScript(), "scan", options.root ?? workspace], {
    onStdout: parser.push, timeoutMs: workspaceWalkMs, maxStdoutBytes: workspaceListingBytes, signal: options.signal,
  });
  return parser.result();
}

/**
 * MD5s of these files (paths relative to /workspace), computed on the host. With `missingOk`, files
 * that do not exist (or cannot be read) are left out of the result instead of failing the call.
 */
export async function hashFiles(ssh: CommandRunner, paths: readonly string[], options: { missingOk?: boolean } & TreeRoot & Stoppable = {}): Promise<Map<string, string>> {
  if (paths.length === 0) return new Map();
  const root = options.root ?? workspace;
  const parser = new Md5Parser();
  const result = await ssh.run(options.pack ? [options.pack, "sums", root, "-"] : ["bash", "-c", hashScript(), "hash", root], {
    stdin: hostPathList(paths), allowFailure: options.missingOk, onStdout: parser.push, timeoutMs: workspaceWalkMs, maxStdoutBytes: workspaceListingBytes, signal: options.signal,
  });
  // Both hashers exit 1 when some files could not be read (left out with missingOk). Any other
  // failure is the hashing's own (the folder, the output, a signal): named as such, not passed off
  // as every file's "could not be read".
  if (result.code !== 0 && result.code !== 1) {
    throw new DumontError(`hashing ${paths.length} file(s) in ${root} failed (exit ${result.code}): ${result.stderr.trim().split("\n").at(-1) || "no message"}`);
  }
  return parser.result();
}

/** The whole tree with every file's MD5. */
export async function scanWithHashes(ssh: CommandRunner, options: TreeRoot & Stoppable = {}): Promise<Entry[]> {
  const { entries } = await scanWorkspace(ssh, options);
  const sums = await hashFiles(ssh, entries.filter((e) => e.type === "file").map((e) => e.path), options);
  return withMd5(entries, sums);
}

/**
 * The tree as it is, to check against what it should be: the scan, and at the same time (neither
 * waits for the other) the MD5s of the files `expected` names, less those in `known` (MD5s already
 * made of what was written: a restore may hash the archives as it extracts them). A file the scan
 * finds that has no MD5 either way (not expected, or unreadable) has none: the comparison with the
 * expected tree names it.
 */
export async function scanToCheck(ssh: CommandRunner, expected: readonly string[], options: TreeRoot & Stoppable & { known?: ReadonlyMap<string, string> } = {}): Promise<Entry[]> {
  const known = options.known ?? new Map<string, string>();
  const [{ entries }, sums] = await Promise.all([
    scanWorkspace(ssh, options),
    hashFiles(ssh, expected.filter((path) => !known.has(path)), { ...options, missingOk: true }),
  ]);
  return entries.map((e) => {
    const md5 = e.type === "file" ? (known.get(e.path) ?? sums.get(e.path)) : undefined;
    return md5 ? { ...e, md5 } : e;
  });
}
