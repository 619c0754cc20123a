// Reading a host's /workspace as a manifest sees it: every entry, and MD5s of the files asked for.
// Used when a snapshot is made and when a restored tree is verified. Names cross as bytes both
// ways (path-bytes.ts), so a name that is not UTF-8 is read and asked about exactly.
import { DumontError, UserError } from "../../lib/errors.ts";
import type { CommandRunner } from "../ssh/client.ts";
import { workspaceListingBytes, workspaceWalkMs } from "../ssh/command-bounds.ts";
import { withMd5, type Entry } from "./manifest.ts";
import { EntryTable } from "./entry-table.ts";
import { longestPath } from "./string-column.ts";
import { Md5Parser, ScanParser, type ScanResult } from "./host-listings.ts";
import { hostPathStream } from "./path-bytes.ts";
import type { TreeVerification, VerificationResult } from "./tree-verification.ts";
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
  await runScan(ssh, parser, options);
  return parser.result();
}

/**
 * The tree as a table in path order (a snapshot's scan): held as objects, the entries of a million
 * files were 300 MB of the controller's memory.
 */
export async function scanWorkspaceTable(ssh: CommandRunner, options: TreeRoot & Stoppable = {}): Promise<ScannedTable> {
  const scanned = new EntryTable();
  const parser = new ScanParser((entry) => {
    if (entry.path.length > longestPath) {
      throw new UserError(`${JSON.stringify(entry.path.slice(0, 60))}… in ${options.root ?? workspace} is a path of ${entry.path.length} characters, longer than any snapshot holds (${longestPath})`, "move it to a shorter path, or out of the workspace, and snapshot again");
    }
    scanned.pushParsed(entry);
  });
  await runScan(ssh, parser, options);
  scanned.sortByPath();
  return { entries: scanned, skipped: parser.result().skipped };
}

export interface ScannedTable {
  readonly entries: EntryTable;
  /** Paths of other kinds (sockets, fifos, devices), which snapshots do not hold. */
  readonly skipped: string[];
}

async function runScan(ssh: CommandRunner, parser: ScanParser, options: TreeRoot & Stoppable): Promise<void> {
  await ssh.run(["bash", "-c", scanScript(), "scan", options.root ?? workspace], {
    onStdout: parser.push, timeoutMs: workspaceWalkMs, maxStdoutBytes: workspaceListingBytes, signal: options.signal,
  });
  parser.done();
}

type HashOptions = { missingOk?: boolean } & TreeRoot & Stoppable;

/**
 * MD5s of these files (paths relative to /workspace), computed on the host. With `missingOk`, files
 * that do not exist (or cannot be read) are left out of the result instead of failing the call.
 */
export async function hashFiles(ssh: CommandRunner, paths: readonly string[], options: HashOptions = {}): Promise<Map<string, string>> {
  const parser = new Md5Parser();
  await runHashes(ssh, paths, parser, options);
  return parser.result();
}

async function runHashes(ssh: CommandRunner, paths: readonly string[], parser: Md5Parser, options: HashOptions): Promise<void> {
  if (paths.length === 0) return;
  const root = options.root ?? workspace;
  const result = await ssh.run(options.pack ? [options.pack, "sums", root, "-"] : ["bash", "-c", hashScript(), "hash", root], {
    stdin: hostPathStream(paths), allowFailure: options.missingOk, onStdout: parser.push, timeoutMs: workspaceWalkMs, maxStdoutBytes: workspaceListingBytes, signal: options.signal,
  });
  // Both hashers exit 1 when some files could not be read (left out with missingOk). Any other
  // failure is the hashing's own (the folder, the output, a signal): named as such, not passed off
  // as every file's "could not be read".
  if (result.code !== 0 && result.code !== 1) {
    throw new DumontError(`hashing ${paths.length} file(s) in ${root} failed (exit ${result.code}): ${result.stderr.trim().split("\n").at(-1) || "no message"}`);
  }
  parser.done();
}

/** The whole tree with every file's MD5. */
export async function scanWithHashes(ssh: CommandRunner, options: TreeRoot & Stoppable = {}): Promise<Entry[]> {
  const { entries } = await scanWorkspace(ssh, options);
  const sums = await hashFiles(ssh, entries.filter((e) => e.type === "file").map((e) => e.path), options);
  return withMd5(entries, sums);
}

/**
 * Checks the tree as it is against what it should be: the scan, and at the same time (neither waits
 * for the other) the MD5s of the expected files the verification has none of yet (a restore may
 * hash the archives as it extracts them), each compared as it arrives. A file the scan finds that
 * has no MD5 either way (unreadable) is named by the verification's result.
 */
export async function verifyTree(ssh: CommandRunner, verification: TreeVerification, options: TreeRoot & Stoppable = {}): Promise<VerificationResult> {
  await Promise.all([
    runScan(ssh, new ScanParser(verification.found), options),
    runHashes(ssh, verification.filesToHash(), new Md5Parser(verification.hashed), { ...options, missingOk: true }),
  ]);
  return verification.result();
}
