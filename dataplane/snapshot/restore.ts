// Restoring a snapshot onto any host: check every manifest of the chain (the first archive already
// downloading into its stage meanwhile), replace /workspace with the chain's archives applied in
// order (removals before and after each, planned from the manifests), create the symlinks held back,
// reset directory times, then verify every entry against the manifest and name each one that
// differs. A damaged archive is reported as such, never taken as fine.
import { collectGarbage } from "../../lib/tools/collect-garbage.ts";
import { ensureHostTools, gpuTools } from "../ssh/host-tools.ts";
import { quickCommandMs, workspaceWalkMs } from "../ssh/command-bounds.ts";
import { randomBytes } from "node:crypto";
import { DumontError } from "../../lib/errors.ts";
import type { RunResult, SshConnection } from "../ssh/client.ts";
import { allSettledOrThrow } from "../../lib/all-settled.ts";
import { readChain } from "./chain-read.ts";
import { giveTurn, membersOf, sendLists, touchTime } from "./link-lists.ts";
import { LinkRun } from "./link-run.ts";
import { checkManifest, UnsafeManifestError } from "./manifest-check.ts";
import { entryFields, type Entry, type Manifest } from "./manifest.ts";
import { nulTerminated } from "./path-bytes.ts";
import { planChain } from "./restore-plan.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import { directoryTimesScript, restoreSymlinksScript } from "./scripts.ts";
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

/**
 * A host script refused to go on (7: a path below something that is not a real directory, which it
 * names, or a workspace it could not enter, empty or stage in) or found an archive member its
 * manifest does not name (8): stop.
 */
function stopIfRefused(id: string, result: RunResult): void {
  if (result.code === 7) throw new DumontError(`restore of ${id} stopped: ${result.stderr.trim().split("\n").at(-1)}`);
  if (result.code === 8) throw new UnsafeManifestError(id, result.stderr.trim().split("\n").at(-1) ?? "an archive member its manifest does not name");
}

/** The host's tools (installed if its image lacks them) and dumont-pack's path on it, if it can have it. */
async function readyHost(ssh: SshConnection, progress: (line: string) => void): Promise<string | undefined> {
  // Both at once: they are on the way to the first download (each a command on the host).
  const [installed, pack] = await allSettledOrThrow([
    ensureHostTools(ssh, gpuTools),
    // The helper downloads, decodes and hashes as the archives are extracted, and hashes what the
    // verification reads back: without it (not built here, a host of another architecture), curl,
    // lz4 and md5sum do.
    ensurePackHelper(ssh).catch((error: Error) => {
      progress(`downloading with curl and verifying with md5sum: ${error.message}`);
      return undefined;
    }),
  ]);
  if (installed.length > 0) progress(`installed ${installed.join(", ")} on ${ssh.label} (its image lacked them)`);
  return pack;
}

/** Restores and verifies; throws RestoreFailed (with the report) when anything differs. */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreReport> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const spool = `/tmp/dumont-restore-${randomBytes(6).toString("hex")}`;
  // Takes the MD5s of the files as the archives are extracted (restoreArchiveScript), later links'
  // over earlier ones', then the tree as the host lists it. Made once the manifests are read; a
  // host that sends sums before its lists came (it never should) has them refused.
  let verification: TreeVerification | undefined;
  const hashed = (path: string, md5: string) => {
    if (!verification) throw new DumontError("MD5s came before the restore's lists");
    verification.hashed(path, md5);
  };
  // The host's tools and the spool, once: at the first link's header, or after the manifests.
  let hostReady: Promise<string | undefined> | undefined;
  let spoolMade = false;
  const readyHostOnce = () => (hostReady ??= (async () => {
    spoolMade = true; // at worst half made: removed all the same
    const [pack] = await allSettledOrThrow([
      readyHost(ssh, progress),
      ssh.run(["bash", "-c", 'umask 077 && mkdir -p "$1"', "prepare", spool], { timeoutMs: quickCommandMs }),
    ]);
    return pack;
  })());
  const runs: LinkRun[] = [];
  // Set once the restore is over (done, or given up): no script starts after it, and lists still
  // being sent stop (also when the caller's signal stops the restore).
  let over = false;
  const giveUp = new AbortController();
  const stopped = () => giveUp.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stopped, { once: true });
  const launch = async (index: number, link: { id: string; kind: string; archiveBytes: number }, links: number): Promise<LinkRun> => {
    const pack = await readyHostOnce();
    options.signal?.throwIfAborted();
    if (over) throw new DumontError("the restore was given up before this link started");
    progress(`restoring ${index + 1}/${links}: ${link.id} (${link.kind}, ${(link.archiveBytes / 1024 / 1024).toFixed(1)} MiB)`);
    const url = await store.presignDownload(link.id);
    if (over) throw new DumontError("the restore was given up before this link started");
    const run = new LinkRun(ssh, { spool, index, url, pack, hashAsExtracted: options.hashAsExtracted !== false, signal: options.signal }, hashed);
    runs.push(run);
    return run;
  };
  // The first archive downloads into its stage while the chain's manifests still arrive and are
  // checked (chain-read.ts), once both the newest snapshot and the first belong to the stack. Before
  // that nothing runs on the host; until the first link's lists are there, its script changes
  // nothing in the workspace but its stage (the host's tools, the helper and the spool are Dumont's).
  let firstRun: Promise<LinkRun> | undefined;
  const listsSent: Array<Promise<unknown>> = [];
  const launches: Array<Promise<LinkRun>> = [];
  let turnGiven: Promise<void> | undefined;
  let restored: { manifest: Manifest; verification: TreeVerification; damagedArchives: string[]; pack: string | undefined };
  try {
    const chain = await readChain(store, options.id, store.settings.stack, (first) => {
      firstRun = launch(0, first, first.links);
      firstRun.catch(() => undefined); // awaited once the manifests are checked
    });
    const manifest = chain.at(-1)!;
    collectGarbage(); // the manifests' text, parsed
    // Before anything in the workspace but the first link's stage changes: another stack's
    // snapshot, or a manifest that names paths outside the workspace, is refused.
    for (const link of chain) {
      checkSnapshotOwner(link, store.settings.stack);
      checkManifest(link);
    }
    const plan = planChain(chain);
    verification = new TreeVerification(manifest.entries);
    const damagedArchives: string[] = [];
    // Every link's lists, the first link's first: a later link's are there when its turn comes, so
    // its script starts on them at once.
    let sending: Promise<unknown> = readyHostOnce();
    for (const [i, link] of chain.entries()) {
      sending = sending.then((pack) => sendLists(ssh, spool, i, link, plan.links[i]!, Boolean(pack), giveUp.signal).then(() => pack));
      sending.catch(() => undefined); // awaited at the link's turn, or when the restore gives up
      listsSent.push(sending);
    }
    // A link's script downloads, extracts and checks its archive into a stage of its own as soon as
    // it starts, and is placed on its turn: the link before it done and its sums taken. So the next
    // link starts once this one has (at most two stages at once), and a chain's later links cost
    // little more than their placing.
    const launchWhenListed = (i: number): Promise<LinkRun> => {
      const link = chain[i]!;
      const launched = listsSent[i]!.then(() => launch(i, { id: link.id, kind: link.kind, archiveBytes: link.archive.bytes }, chain.length));
      launched.catch(() => undefined); // awaited at the link's turn, or when the restore gives up
      launches.push(launched);
      return launched;
    };
    let next = firstRun ?? launchWhenListed(0);
    for (const [i, link] of chain.entries()) {
      options.signal?.throwIfAborted();
      // What this link writes replaces what earlier ones did: their sums of its members no longer
      // hold. (Its own come only after its turn, below.)
      const members = membersOf(link);
      verification.forgetSums(members);
      const run = await next;
      if (i + 1 < chain.length) next = launchWhenListed(i + 1);
      await listsSent[i];
      // A script that already ended (refused its archive, or cut off) is never given a turn: one
      // cut off on this side may still run on the host, and must not place anything.
      if (i > 0 && !run.ended) {
        turnGiven = giveTurn(ssh, spool, i, giveUp.signal);
        await turnGiven;
      }
      const result = await run.running;
      stopIfRefused(link.id, result);
      const sumsProblem = result.code === 0 ? run.sumsProblem() : undefined;
      if (sumsProblem) progress(`  ${link.id}: its files' MD5s as extracted are not used (${sumsProblem.message}); they are hashed from the disk`);
      if (result.code !== 0 || sumsProblem) verification.forgetSums(members);
      if (result.code === 6) {
        progress(`  ${link.id}: ${result.stderr.trim()}`);
        damagedArchives.push(link.id);
      } else if (result.code !== 0) {
        // Killed (the OOM killer, a signal) or failed outside its own checks: what it left is unknown,
        // so no later link is applied over it.
        throw new DumontError(`restore of ${link.id} stopped: the host's restore of it ended with ${result.code < 0 || result.code > 128 ? "a signal" : `exit ${result.code}`} (${result.stderr.trim().split("\n").at(-1) ?? ""})`);
      }
    }
    const pack = await readyHostOnce();
    const symlinks = plan.heldBackSymlinks.flatMap((s) => [s.target!, touchTime(s.mtime), s.path]);
    const created = await ssh.run(["bash", "-c", restoreSymlinksScript(), "symlinks", pack ?? ""], { stdin: nulTerminated(symlinks), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, created);
    if (created.code !== 0) throw new DumontError(`creating the snapshot's symlinks failed on ${ssh.label}: ${created.stderr.trim()}`);
    const dirs: Entry[] = [];
    const tree = entryFields(manifest.entries);
    for (let i = 0; i < tree.length; i++) if (tree.typeAt(i) === "dir") dirs.push(tree.at(i));
    dirs.sort((a, b) => b.path.split("/").length - a.path.split("/").length);
    const timed = await ssh.run(["bash", "-c", directoryTimesScript(), "dir-times", pack ?? ""], { stdin: nulTerminated(dirs.flatMap((d) => [touchTime(d.mtime), d.path])), allowFailure: true, timeoutMs: workspaceWalkMs });
    stopIfRefused(manifest.id, timed);
    if (timed.code !== 0) throw new DumontError(`setting the snapshot's folder times failed on ${ssh.label}: ${timed.stderr.trim()}`);
    restored = { manifest, verification, damagedArchives, pack };
  } finally {
    // No script starts from here on, and one still being started is, first; a turn still being
    // given is, too. Gone, the spool stops any script still downloading or waiting for its lists or
    // its turn (exit 9), and nothing of its link is put in place. Each is over before the restore
    // returns or throws, but for one stopped by the signal (ssh.run kills it: its stage is removed
    // by the next restore).
    over = true;
    giveUp.abort();
    options.signal?.removeEventListener("abort", stopped);
    await Promise.allSettled([firstRun, hostReady, ...listsSent, ...launches, turnGiven]);
    // Renamed first: a script writing into the spool as it goes cannot keep its path in being.
    if (spoolMade) {
      await ssh.run(["bash", "-c", 'mv -T -- "$1" "$1.gone" 2>/dev/null; rm -rf -- "$1" "$1.gone"', "remove-spool", spool], { allowFailure: true, timeoutMs: quickCommandMs })
        .catch(() => undefined);
    }
    await Promise.allSettled(runs.map((run) => run.running));
  }
  return verifyRestore({ ...options, ...restored, started, progress });
}

/** The verification of the restored tree, and the restore's report. */
async function verifyRestore(args: RestoreOptions & {
  manifest: Manifest; verification: TreeVerification; damagedArchives: string[]; pack: string | undefined; started: number; progress: (line: string) => void;
}): Promise<RestoreReport> {
  const { manifest, verification, damagedArchives, progress } = args;
  const downloadSeconds = (performance.now() - args.started) / 1000;
  progress(`verifying every file against the manifest (${verification.knownSums()} hashed as they were extracted)`);
  collectGarbage(); // the links' lists and sums
  const verifyStarted = performance.now();
  const { failures, failureCount, warnings, warningCount } = await verifyTree(args.ssh, verification, { pack: args.pack, signal: args.signal });
  const report: RestoreReport = {
    manifest, damagedArchives, mismatches: failures, mismatchCount: failureCount, warnings, warningCount, ok: damagedArchives.length === 0 && failureCount === 0,
    seconds: { download: downloadSeconds, verify: (performance.now() - verifyStarted) / 1000, total: (performance.now() - args.started) / 1000 },
  };
  for (const w of warnings) progress(`warning: ${JSON.stringify(w.path)} changed during every read when the snapshot was made: ${w.problem}`);
  if (warningCount > warnings.length) progress(`warning: … and ${warningCount - warnings.length} more unstable files differ`);
  if (!report.ok) throw new RestoreFailed(report);
  progress(`restored ${manifest.stats.files} files (${(manifest.stats.bytes / 1024 / 1024).toFixed(1)} MiB), all verified${warningCount ? ` but ${warningCount} unstable` : ""}`);
  return report;
}
