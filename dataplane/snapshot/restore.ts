// Restoring a snapshot onto any host: check every manifest of the chain, replace /workspace with
// the chain's archives applied in order (removals before and after each, planned from the
// manifests), create the symlinks held back, reset directory times, then verify every entry
// against the manifest and name each one that differs. A damaged archive is reported as such,
// never taken as fine.
import { ensureHostTools, gpuTools } from "../ssh/host-tools.ts";
import { bulkTransferMs, quickCommandMs, workspaceListingBytes, workspaceWalkMs } from "../ssh/command-bounds.ts";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { DumontError } from "../../lib/errors.ts";
import type { RunResult, SshConnection } from "../ssh/client.ts";
import { checkManifest, UnsafeManifestError } from "./manifest-check.ts";
import { treeIndex, type EntryType, type Manifest } from "./manifest.ts";
import { Md5Parser } from "./host-listings.ts";
import { hostPathStream, nulTerminated, sliced } from "./path-bytes.ts";
import { planChain } from "./restore-plan.ts";
import { quoteTarName } from "./tar-messages.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import { directoryTimesScript, emptyWorkspaceScript, restoreArchiveScript, restoreSymlinksScript } from "./scripts.ts";
import type { SnapshotStore } from "./store.ts";
import { ensurePackHelper } from "./pack-helper.ts";
import { TreeVerification, type Mismatch } from "./tree-verification.ts";
import { verifyTree } from "./workspace-scan.ts";

export interface RestoreReport {
  readonly manifest: Manifest;
  /** Archives whose bytes were not what their manifest recorded. */
  readonly damagedArchives: readonly string[];
  /** The first differences (tree-verification.ts `keptMismatches`); `mismatchCount` counts them all. */
  readonly mismatches: readonly Mismatch[];
  readonly mismatchCount: number;
  /** Differences in files the snapshot recorded as unstable (they changed during every read). */
  readonly warnings: readonly Mismatch[];
  readonly warningCount: number;
  readonly ok: boolean;
  readonly seconds: { readonly download: number; readonly verify: number; readonly total: number };
}

export class RestoreFailed extends DumontError {
  readonly report: RestoreReport;
  constructor(report: RestoreReport) {
    const shown = report.mismatches.slice(0, 20).map((m) => `  ${JSON.stringify(m.path)}: ${m.problem}`);
    super([
      `restore of ${report.manifest.id} failed verification`,
      ...report.damagedArchives.map((a) => `  archive ${a} is damaged (its download, LZ4's checksum or its extraction failed)`),
      `  ${report.mismatchCount} of ${report.manifest.entries.length} entries differ${report.mismatchCount ? ":" : ""}`,
      ...shown,
      ...(report.mismatchCount > shown.length ? [`  … and ${report.mismatchCount - shown.length} more`] : []),
    ].join("\n"));
    this.report = report;
  }
}

export interface RestoreOptions {
  readonly ssh: SshConnection;
  /** The restoring stack's store: a snapshot another stack made is refused (snapshot-owner.ts). */
  readonly store: SnapshotStore;
  readonly id: string;
  readonly onProgress?: (line: string) => void;
  /** Stops the restore at once (the controller lost the stack's lease): no archive is applied after it. */
  readonly signal?: AbortSignal;
  /**
   * Hash the files as the archives are extracted, where dumont-pack downloads them (the default;
   * restoreArchiveScript says why). false: the verification reads every file back from the disk
   * (tests of that path).
   */
  readonly hashAsExtracted?: boolean;
}

/** A host script reached for a path below something that is not a real directory (it names it): stop. */
function stopIfRefused(id: string, result: RunResult): void {
  if (result.code === 7) throw new DumontError(`restore of ${id} stopped: ${result.stderr.trim().split("\n").at(-1)}`);
  if (result.code === 8) throw new UnsafeManifestError(id, result.stderr.trim().split("\n").at(-1) ?? "an archive member its manifest does not name");
}

const typeLetters: Readonly<Record<EntryType, string>> = { file: "f", dir: "d", symlink: "l" };

/**
 * What extracting a link's archive may write, as the restore script lists its stage ("<find %y>
 * ./<path>"): its members as the manifest types them, and every folder above them as a folder (tar
 * makes a member's missing parents; restoreArchiveScript). A member the tree no longer has
 * (discarded: it vanished while the snapshot was made, and is removed after extraction) may be of
 * any of the three types; a parent is always a folder.
 */
export function* expectedStagedPaths(link: Pick<Manifest, "entries" | "included" | "discarded">): Generator<string> {
  const types = treeIndex(link.entries);
  const parents = new Set<string>();
  const members = [...link.included, ...(link.discarded ?? [])];
  for (const name of members) {
    // Deepest parent first: once one is known, so are all above it (members share most of theirs).
    for (let slash = name.lastIndexOf("/"); slash > 0 && !parents.has(name.slice(0, slash)); slash = name.lastIndexOf("/", slash - 1)) {
      parents.add(name.slice(0, slash));
    }
  }
  for (const parent of parents) yield `d ./${parent}`;
  for (const name of members) {
    if (parents.has(name)) continue;
    const type = types.type(name);
    if (type) yield `${typeLetters[type]} ./${name}`;
    else yield* [`f ./${name}`, `d ./${name}`, `l ./${name}`];
  }
}

/** The names tar lists as it extracts a link's members (`-v`, quoted as tar-messages.ts reads them). */
function* tarListing(members: readonly string[]): Generator<string> {
  yield "."; // archives made before dumont-pack end each round with the workspace folder's own header
  for (const member of members) yield `./${quoteTarName(member)}`;
}

/** The host's tools (installed if its image lacks them) and dumont-pack's path on it, if it can have it. */
async function readyHost(ssh: SshConnection, progress: (line: string) => void): Promise<string | undefined> {
  const installed = await ensureHostTools(ssh, gpuTools);
  if (installed.length > 0) progress(`installed ${installed.join(", ")} on ${ssh.label} (its image lacked them)`);
  // The helper downloads, decodes and hashes as the archives are extracted, and hashes what the
  // verification reads back: without it (not built here, a host of another architecture), curl,
  // lz4 and md5sum do.
  return ensurePackHelper(ssh).catch((error: Error) => {
    progress(`downloading with curl and verifying with md5sum: ${error.message}`);
    return undefined;
  });
}

/** Restores and verifies; throws RestoreFailed (with the report) when anything differs. */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreReport> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const manifest = await store.readManifest(options.id);
  const chain = await Promise.all(manifest.chain.map((id) => (id === manifest.id ? manifest : store.readManifest(id))));
  // Before anything on the host changes: another stack's snapshot, or a manifest that names paths
  // outside the workspace, is refused.
  for (const link of chain) {
    checkSnapshotOwner(link, store.settings.stack);
    checkManifest(link);
  }
  const plan = planChain(chain);
  const pack = await readyHost(ssh, progress);
  const damagedArchives: string[] = [];
  // Takes the MD5s of the files as the archives are extracted (restoreArchiveScript), later links'
  // over earlier ones', then the tree as the host lists it.
  const verification = new TreeVerification(manifest.entries);
  const spool = `/tmp/dumont-restore-${randomBytes(6).toString("hex")}`;
  const putSpoolFile = (file: string, content: Buffer | string | Readable) =>
    ssh.run(["bash", "-c", 'cat > "$1/$2"', "put", spool, file], { stdin: content, timeoutMs: workspaceWalkMs });
  await ssh.run(["bash", "-c", emptyWorkspaceScript()], { timeoutMs: workspaceWalkMs });
  try {
    await ssh.run(["bash", "-c", 'umask 077 && mkdir -p "$1"', "prepare", spool], { timeoutMs: quickCommandMs });
    for (const [i, link] of chain.entries()) {
      options.signal?.throwIfAborted();
      const steps = plan.links[i]!;
      progress(`restoring ${i + 1}/${chain.length}: ${link.id} (${link.kind}, ${(link.archive.bytes / 1024 / 1024).toFixed(1)} MiB)`);
      const members = [...link.included, ...(link.discarded ?? [])];
      const url = await store.presignDownload(link.id);
      const place = i === 0 ? "first" : "later";
      // The archive downloads and extracts into the stage while this link's lists are worked out
      // and sent; the script reads them once `ready` is there.
      const ready = `ready-${i}`;
      await putSpoolFile("remove-before", nulTerminated(steps.removeBefore));
      // What this link writes replaces what earlier ones did: their sums of its members no longer
      // hold. Its own count once it succeeded; sums that do not parse are not used (the verification
      // hashes those files from the disk), and the script is never stopped for them, so its own
      // checks and exit status still count.
      verification.forgetSums(members);
      const sums = new Md5Parser(verification.hashed);
      let sumsRefused: Error | undefined;
      const takeSums = (chunk: Buffer) => {
        if (sumsRefused) return;
        try {
          sums.push(chunk);
        } catch (error) {
          sumsRefused = error as Error;
        }
      };
      const running = ssh.run(["bash", "-c", restoreArchiveScript(), "restore", spool, place, ready, pack ?? "", options.hashAsExtracted === false ? "no" : "yes"], {
        stdin: `${url}\n`, allowFailure: true, timeoutMs: bulkTransferMs, signal: options.signal, onStdout: takeSums, maxStdoutBytes: workspaceListingBytes,
      });
      running.catch(() => undefined); // awaited below, after the lists are sent
      try {
        await putSpoolFile("remove-after", nulTerminated(steps.removeAfter));
        await putSpoolFile("members", hostPathStream(members));
        await putSpoolFile("known", sliced(expectedStagedPaths(link), nulTerminated));
        await putSpoolFile("known-listing", sliced(tarListing(members), (lines) => `${lines.join("\n")}\n`));
        await putSpoolFile(ready, "");
      } catch (error) {
        // Without its lists the script stops when the spool goes, and cleans up after itself (a
        // killed one could not remove its stage).
        await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true, timeoutMs: quickCommandMs }).catch(() => undefined);
        await running.catch(() => undefined);
        throw error;
      }
      const result = await running;
      stopIfRefused(link.id, result);
      if (result.code === 0) {
        try {
          if (sumsRefused) throw sumsRefused;
          sums.done();
        } catch (error) {
          sumsRefused = error as Error;
          progress(`  ${link.id}: its files' MD5s as extracted are not used (${sumsRefused.message}); they are hashed from the disk`);
        }
      }
      if (result.code !== 0 || sumsRefused) verification.forgetSums(members);
      if (result.code === 6) {
        progress(`  ${link.id}: ${result.stderr.trim()}`);
        damagedArchives.push(link.id);
      } else if (result.code !== 0) {
        // Killed (the OOM killer, a signal) or failed outside its own checks: what it left is unknown,
        // so no later link is applied over it.
        throw new DumontError(`restore of ${link.id} stopped: the host's restore of it ended with ${result.code < 0 || result.code > 128 ? "a signal" : `exit ${result.code}`} (${result.stderr.trim().split("\n").at(-1) ?? ""})`);
      }
    }
    const symlinks = plan.heldBackSymlinks.flatMap((s) => [s.target!, s.mtime, s.path]);
    const created = await ssh.run(["bash", "-c", restoreSymlinksScript(), "symlinks", pack ?? ""], { stdin: nulTerminated(symlinks), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, created);
    if (created.code !== 0) throw new DumontError(`creating the snapshot's symlinks failed on ${ssh.label}: ${created.stderr.trim()}`);
    const dirs = manifest.entries.filter((e) => e.type === "dir").sort((a, b) => b.path.split("/").length - a.path.split("/").length);
    const timed = await ssh.run(["bash", "-c", directoryTimesScript(), "dir-times", pack ?? ""], { stdin: nulTerminated(dirs.flatMap((d) => [d.mtime, d.path])), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, timed);
    if (timed.code !== 0) throw new DumontError(`setting the snapshot's folder times failed on ${ssh.label}: ${timed.stderr.trim()}`);
  } finally {
    await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true, timeoutMs: quickCommandMs }).catch(() => undefined);
  }
  const downloadSeconds = (performance.now() - started) / 1000;
  progress(`verifying every file against the manifest (${verification.knownSums()} hashed as they were extracted)`);
  const verifyStarted = performance.now();
  const { failures, failureCount, warnings, warningCount } = await verifyTree(ssh, verification, { pack, signal: options.signal });
  const report: RestoreReport = {
    manifest, damagedArchives, mismatches: failures, mismatchCount: failureCount, warnings, warningCount, ok: damagedArchives.length === 0 && failureCount === 0,
    seconds: { download: downloadSeconds, verify: (performance.now() - verifyStarted) / 1000, total: (performance.now() - started) / 1000 },
  };
  for (const w of warnings) progress(`warning: ${JSON.stringify(w.path)} changed during every read when the snapshot was made: ${w.problem}`);
  if (warningCount > warnings.length) progress(`warning: … and ${warningCount - warnings.length} more unstable files differ`);
  if (!report.ok) throw new RestoreFailed(report);
  progress(`restored ${manifest.stats.files} files (${(manifest.stats.bytes / 1024 / 1024).toFixed(1)} MiB), all verified${warningCount ? ` but ${warningCount} unstable` : ""}`);
  return report;
}
