// Restoring a snapshot onto any host: check every manifest of the chain, replace /workspace with
// the chain's archives applied in order (removals before and after each, planned from the
// manifests), create the symlinks held back, reset directory times, then verify every entry
// against the manifest and name each one that differs. A damaged archive is reported as such,
// never taken as fine.
import { ensureHostTools, gpuTools } from "../ssh/host-tools.ts";
import { bulkTransferMs, quickCommandMs, workspaceListingBytes, workspaceWalkMs } from "../ssh/command-bounds.ts";
import { randomBytes } from "node:crypto";
import { DumontError } from "../../lib/errors.ts";
import type { RunResult, SshConnection } from "../ssh/client.ts";
import { checkManifest, UnsafeManifestError } from "./manifest-check.ts";
import { compareTrees, separateWarnings, typesByPath, type EntryType, type Manifest, type Mismatch } from "./manifest.ts";
import { Md5Parser } from "./host-listings.ts";
import { hostPathList, nulTerminated } from "./path-bytes.ts";
import { planChain } from "./restore-plan.ts";
import { quoteTarName } from "./tar-messages.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import { directoryTimesScript, emptyWorkspaceScript, restoreArchiveScript, restoreSymlinksScript } from "./scripts.ts";
import type { SnapshotStore } from "./store.ts";
import { ensurePackHelper } from "./pack-helper.ts";
import { scanToCheck } from "./workspace-scan.ts";

export interface RestoreReport {
  readonly manifest: Manifest;
  /** Archives whose bytes were not what their manifest recorded. */
  readonly damagedArchives: readonly string[];
  readonly mismatches: readonly Mismatch[];
  /** Differences in files the snapshot recorded as unstable (they changed during every read). */
  readonly warnings: readonly Mismatch[];
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
      `  ${report.mismatches.length} of ${report.manifest.entries.length} entries differ${report.mismatches.length ? ":" : ""}`,
      ...shown,
      ...(report.mismatches.length > shown.length ? [`  … and ${report.mismatches.length - shown.length} more`] : []),
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
   * Hash the files as the archives are extracted ("always"), or only on a host of four cores or
   * more ("auto", the default: restoreArchiveScript says why); otherwise the verification reads
   * them back from the disk.
   */
  readonly hashAsExtracted?: "auto" | "always";
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
export function expectedStagedPaths(link: Pick<Manifest, "entries" | "included" | "discarded">): string[] {
  const types = typesByPath(link.entries);
  const parents = new Set<string>();
  const members = [...link.included, ...(link.discarded ?? [])];
  for (const name of members) {
    // Deepest parent first: once one is known, so are all above it (members share most of theirs).
    for (let slash = name.lastIndexOf("/"); slash > 0 && !parents.has(name.slice(0, slash)); slash = name.lastIndexOf("/", slash - 1)) {
      parents.add(name.slice(0, slash));
    }
  }
  const expected = Array.from(parents, (p) => `d ./${p}`);
  for (const name of members) {
    if (parents.has(name)) continue;
    const type = types.get(name);
    if (type) expected.push(`${typeLetters[type]} ./${name}`);
    else expected.push(`f ./${name}`, `d ./${name}`, `l ./${name}`);
  }
  return expected;
}

/** The host's tools (installed if its image lacks them) and dumont-pack's path on it, if it can have it. */
async function readyHost(ssh: SshConnection, progress: (line: string) => void): Promise<string | undefined> {
  const installed = await ensureHostTools(ssh, gpuTools);
  if (installed.length > 0) progress(`installed ${installed.join(", ")} on ${ssh.label} (its image lacked them)`);
  // The helper only speeds up the verification: without it (not built here, a host of another
  // architecture), md5sum verifies.
  return ensurePackHelper(ssh).catch((error: Error) => {
    progress(`verifying with md5sum: ${error.message}`);
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
  /** MD5s of the files as the archives were extracted (restoreArchiveScript), by path: later links win. */
  const extracted = new Map<string, string>();
  const spool = `/tmp/dumont-restore-${randomBytes(6).toString("hex")}`;
  const putSpoolFile = (file: string, content: Buffer | string) =>
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
      // Sums that do not parse are not used (the verification hashes those files from the disk);
      // the script is never stopped for them, so its own checks and exit status still count.
      const sums = new Md5Parser();
      let sumsRefused: Error | undefined;
      const takeSums = (chunk: Buffer) => {
        if (sumsRefused) return;
        try {
          sums.push(chunk);
        } catch (error) {
          sumsRefused = error as Error;
        }
      };
      const running = ssh.run(["bash", "-c", restoreArchiveScript(), "restore", spool, place, ready, pack ?? "", options.hashAsExtracted ?? "auto"], {
        stdin: `${url}\n`, allowFailure: true, timeoutMs: bulkTransferMs, signal: options.signal, onStdout: takeSums, maxStdoutBytes: workspaceListingBytes,
      });
      running.catch(() => undefined); // awaited below, after the lists are sent
      try {
        await putSpoolFile("remove-after", nulTerminated(steps.removeAfter));
        await putSpoolFile("members", hostPathList(members));
        await putSpoolFile("known", nulTerminated(expectedStagedPaths(link)));
        // "." too: archives made before dumont-pack end each round with the workspace folder's own header.
        await putSpoolFile("known-listing", [".", ...members.map((m) => `./${quoteTarName(m)}`)].map((line) => `${line}\n`).join(""));
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
      // What this link wrote replaces what earlier ones did: their sums of its members no longer hold.
      for (const member of members) extracted.delete(member);
      if (result.code === 0) {
        try {
          if (sumsRefused) throw sumsRefused;
          for (const [path, md5] of sums.result()) extracted.set(path, md5);
        } catch (error) {
          progress(`  ${link.id}: its files' MD5s as extracted are not used (${(error as Error).message}); they are hashed from the disk`);
        }
      }
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
    const created = await ssh.run(["bash", "-c", restoreSymlinksScript()], { stdin: nulTerminated(symlinks), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, created);
    if (created.code !== 0) throw new DumontError(`creating the snapshot's symlinks failed on ${ssh.label}: ${created.stderr.trim()}`);
    const dirs = manifest.entries.filter((e) => e.type === "dir").sort((a, b) => b.path.split("/").length - a.path.split("/").length);
    const timed = await ssh.run(["bash", "-c", directoryTimesScript()], { stdin: nulTerminated(dirs.flatMap((d) => [d.mtime, d.path])), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, timed);
    if (timed.code !== 0) throw new DumontError(`setting the snapshot's folder times failed on ${ssh.label}: ${timed.stderr.trim()}`);
  } finally {
    await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true, timeoutMs: quickCommandMs }).catch(() => undefined);
  }
  const downloadSeconds = (performance.now() - started) / 1000;
  progress(`verifying every file against the manifest (${extracted.size} hashed as they were extracted)`);
  const verifyStarted = performance.now();
  const files = manifest.entries.filter((e) => e.type === "file").map((e) => e.path);
  const restored = await scanToCheck(ssh, files, { pack, known: extracted, signal: options.signal });
  const { failures, warnings } = separateWarnings(compareTrees(manifest.entries, restored), manifest.entries);
  const report: RestoreReport = {
    manifest, damagedArchives, mismatches: failures, warnings, ok: damagedArchives.length === 0 && failures.length === 0,
    seconds: { download: downloadSeconds, verify: (performance.now() - verifyStarted) / 1000, total: (performance.now() - started) / 1000 },
  };
  for (const w of warnings) progress(`warning: ${JSON.stringify(w.path)} changed during every read when the snapshot was made: ${w.problem}`);
  if (!report.ok) throw new RestoreFailed(report);
  progress(`restored ${manifest.stats.files} files (${(manifest.stats.bytes / 1024 / 1024).toFixed(1)} MiB), all verified${warnings.length ? ` but ${warnings.length} unstable` : ""}`);
  return report;
}
