// Making a snapshot of a host's /workspace: scan, decide full or incremental, let the host stream
// its files | lz4 straight to presigned part URLs, hashing each as it archives it, read again what
// changed meanwhile, complete the upload, and write the manifest last. Anything that fails aborts
// the upload: no manifest, no snapshot.
import { allSettledOrThrow } from "../../lib/all-settled.ts";
import { DumontError } from "../../lib/errors.ts";
import { ensureHostTools, gpuTools } from "../ssh/host-tools.ts";
import { randomBytes } from "node:crypto";
import type { SshConnection } from "../ssh/client.ts";
import { HostUpload, maxParts } from "./host-upload.ts";
import { deletedSince, diffTrees, snapshotId, stats, treeIndex, withoutOrphans, type Entry, type Manifest, type TreeChanges } from "./manifest.ts";
import { RoundListing, settleRound } from "./read-rounds.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import type { SnapshotStore } from "./store.ts";
import { readTarReport } from "./tar-messages.ts";
import { ensurePackHelper } from "./pack-helper.ts";
import { scanWorkspace } from "./workspace-scan.ts";
import type { ScanResult } from "./host-listings.ts";
import { settingDefaults } from "../../contract/settings-schema.ts";

export interface CreateSnapshotOptions {
  readonly ssh: SshConnection;
  /** The stack's store: the snapshot is recorded as that stack's (SnapshotStoreSettings.stack). */
  readonly store: SnapshotStore;
  readonly name: string;
  /** "auto": incremental on the newest snapshot unless its chain is fullEvery long; "full"; or a parent id. */
  readonly parent?: "auto" | "full" | string;
  /** A chain of this many snapshots ends with a full one. Default: dumont:snapshotFullEvery's. */
  readonly fullEvery?: number;
  /** Part size in bytes (B2: 5 MB to 5 GB, at most 10,000 parts). Default: see defaultPartSize. */
  readonly partSize?: number;
  /** Parts uploading at once (B2 wants many streams). Default 6. */
  readonly concurrency?: number;
  /** Where the snapshot came from, for `list`. */
  readonly sourceLabel?: string;
  readonly onProgress?: (line: string) => void;
}

export interface CreateSnapshotResult {
  readonly manifest: Manifest;
  readonly seconds: { readonly scan: number; readonly upload: number; readonly total: number };
}

const mib = 1024 * 1024;
/** S3 wants parts of 5 MiB at least (B2 says 5 MB): 5 MiB satisfies both. */
export const minPartSize = 5 * mib;
/**
 * How often a file that keeps changing is read (the first read and up to three more) before the
 * snapshot records it as unstable rather than waiting for it to hold still.
 */
export const maxReads = 4;

/**
 * Parts small enough that compressing and uploading overlap (at least two rounds of `concurrency`
 * parts) and large enough for B2's throughput per stream: between 5 and 64 MiB.
 */
export function defaultPartSize(upperBound: number, concurrency: number): number {
  return Math.min(64 * mib, Math.max(minPartSize, Math.ceil(upperBound / (2 * concurrency))));
}

/**
 * Part size and count for an archive of at most `upperBound` bytes: the requested size, raised so
 * that the parts stay well under B2's 10,000. The size is fixed for the whole upload; the count is
 * what is presigned up front (the host asks for more if the stream outgrows it).
 */
export function planParts(upperBound: number, requested = 64 * mib): { partSize: number; parts: number } {
  const partSize = Math.max(minPartSize, requested, Math.ceil(upperBound / (maxParts - 100)));
  return { partSize, parts: Math.max(1, Math.ceil(upperBound / partSize)) };
}

/** A strict upper bound of tar + lz4 output for these entries (LZ4 grows incompressible data by < 0.4%). */
export function archiveUpperBound(entries: readonly Entry[]): number {
  let bytes = 1024 * 1024;
  for (const e of entries) bytes += 3 * 512 + Math.ceil(e.size / 512) * 512 + e.path.length * 2 + (e.target?.length ?? 0) * 2;
  return Math.ceil(bytes * 1.01);
}

/** A manifest of the store's stack: an incremental on another stack's snapshot would chain to it. */
async function ownManifest(store: SnapshotStore, id: string): Promise<Manifest> {
  const manifest = await store.readManifest(id);
  checkSnapshotOwner(manifest, store.settings.stack);
  return manifest;
}

async function chooseParent(store: SnapshotStore, parent: CreateSnapshotOptions["parent"], fullEvery: number): Promise<Manifest | undefined> {
  if (parent === "full") return undefined;
  if (parent && parent !== "auto") return ownManifest(store, parent);
  const newest = (await store.list()).at(-1);
  if (!newest) return undefined;
  const manifest = await ownManifest(store, newest.id);
  return manifest.chain.length >= fullEvery ? undefined : manifest;
}

export async function createSnapshot(options: CreateSnapshotOptions): Promise<CreateSnapshotResult> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;

  let t = performance.now();
  const installed = await ensureHostTools(ssh, gpuTools);
  if (installed.length > 0) progress(`installed ${installed.join(", ")} on ${ssh.label} (its image lacked them)`);
  // The helper's check, the scan (the host's disk) and the parent's manifest (the store) at once: an
  // incremental of 100k files read its parent for 0.5 s after a scan of 1.3 s. Each is awaited
  // before any failure is thrown, so nothing still runs on the connection once this fails.
  const [pack, scanned, parent] = await allSettledOrThrow([
    ensurePackHelper(ssh),
    scanWorkspace(ssh),
    chooseParent(store, options.parent, options.fullEvery ?? settingDefaults.snapshotFullEvery),
  ]);
  // Dropped once read (below): at a million files the scan's entries are a few hundred MB.
  let scan: ScanResult | undefined = scanned;
  if (scan.skipped.length) progress(`skipping ${scan.skipped.length} special files (sockets, fifos, devices)`);
  let changes: TreeChanges | undefined = parent ? diffTrees(parent.entries, scan.entries) : { changed: scan.entries, deleted: [], unchanged: [] };
  const scanSeconds = since(t);
  progress(parent
    ? `incremental on ${parent.id}: ${changes.changed.filter((e) => e.type !== "dir").length} changed, ${changes.deleted.length} deleted, ${changes.unchanged.length} unchanged`
    : `full: ${scan.entries.length} entries`);

  const id = snapshotId(options.name, new Date());
  const concurrency = options.concurrency ?? 6;
  const upperBound = archiveUpperBound(changes.changed);
  const plan = planParts(upperBound, options.partSize ?? defaultPartSize(upperBound, concurrency));
  const uploadId = await store.startUpload(id);
  const spool = `/tmp/dumont-snapshot-${randomBytes(6).toString("hex")}`;
  let upload: HostUpload | undefined;
  try {
    t = performance.now();
    progress(`uploading ${(changes.changed.reduce((s, e) => s + e.size, 0) / mib).toFixed(1)} MiB in parts of ${(plan.partSize / mib).toFixed(0)} MiB, ${concurrency} at a time`);
    upload = await HostUpload.start({
      ssh, store, id, uploadId, spool, partSize: plan.partSize, parts: plan.parts, concurrency, progress, firstRound: changes.changed.map((e) => e.path), pack,
    });
    const read = await readInRounds(ssh, upload, changes.changed, plan.partSize, progress);
    const archived = changes.changed.map((e) => e.path);
    const unchanged = changes.unchanged;
    // What each round read is kept from here on, not the scan it started from.
    scan = undefined;
    changes = undefined;
    const uploaded = await upload.finish();
    const uploadSeconds = since(t);
    await store.completeUpload(id, uploadId, uploaded.parts);

    // Whatever vanished while it was read leaves the tree, and so does anything below it.
    const entries = withoutOrphans(sortedByPath([...read, ...unchanged]));
    const inTree = treeIndex(entries); // also serves deletedSince below
    const manifest: Manifest = {
      format: "dumont-snapshot/1", id, name: options.name, createdAt: new Date().toISOString(),
      kind: parent ? "incremental" : "full", parent: parent?.id ?? null, chain: [...(parent?.chain ?? []), id],
      source: { host: ssh.label, label: options.sourceLabel }, stack: store.settings.stack,
      archive: { key: store.archiveKey(id), bytes: uploaded.bytes, parts: uploaded.parts.length, partSize: plan.partSize, compression: "lz4" },
      entries, included: archived.filter((p) => inTree.has(p)), deleted: parent ? deletedSince(parent.entries, entries) : [],
      discarded: archived.filter((p) => !inTree.has(p)), stats: stats(entries),
    };
    await store.writeManifest(manifest);
    progress(`snapshot ${id}: ${manifest.stats.files} files, ${(uploaded.bytes / mib).toFixed(1)} MiB compressed, ${uploadSeconds.toFixed(1)} s upload`);
    return { manifest, seconds: { scan: scanSeconds, upload: uploadSeconds, total: since(started) } };
  } catch (error) {
    await upload?.abandon();
    await store.abortUpload(id, uploadId);
    // An archive whose upload completed but whose manifest was not written would bill unlisted.
    await store.delete(id).catch(() => undefined);
    throw error;
  } finally {
    await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
  }
}

function sortedByPath(entries: Entry[]): Entry[] {
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Round 1 reads every changed entry, archiving each file and hashing the same bytes for the
 * manifest. Each entry as the reader saw it is compared with the scan; any that changed since, or
 * as it was read, is read again in another round, appended to the same archive, until all hold still or maxReads is reached: those still
 * changing are recorded as they were last read (the MD5 of their last archive copy) and marked
 * unstable. Returns the manifest entries of everything read that is still there.
 */
export async function readInRounds(
  ssh: Pick<SshConnection, "label">, upload: Pick<HostUpload, "roundRead" | "roundSums" | "roundSeen" | "startRound">,
  first: readonly Entry[], partSize: number, progress: (line: string) => void,
): Promise<Entry[]> {
  const recorded: Entry[] = [];
  let reading = first;
  let plannedBytes = archiveUpperBound(first);
  for (let round = 1; ; round++) {
    const roundRead = await upload.roundRead(round);
    const tar = readTarReport(roundRead.notes);
    // The reader exits 1 when a file changed as it read it, 2 also when one vanished first: both are
    // handled below. Anything else it says with a 2 (or worse) means the archive cannot be trusted
    // (and its lists may be cut short: they are not read then).
    if (roundRead.status > 2 || (roundRead.status === 2 && tar.others.length)) {
      throw new DumontError(`reading the workspace failed on ${ssh.label} (exit ${roundRead.status}): ${tar.others[0] ?? "no message"}`);
    }
    const listing = new RoundListing(reading);
    await Promise.all([upload.roundSums(round, listing.summed), upload.roundSeen(round, listing.seen)]);
    const outcome = settleRound(reading, listing.now, listing.sums, tar);
    // One at a time: a spread of a round's entries (a million files) passes the engine's limit on
    // a call's arguments ("Maximum call stack size exceeded" from about 130,000).
    for (const entry of outcome.settled) recorded.push(entry);
    if (outcome.vanished.length) progress(`${outcome.vanished.length} path(s) vanished while read, left out: ${quoted(outcome.vanished)}`);
    if (outcome.changing.length === 0) break;
    const again = outcome.changing.map((c) => c.now);
    plannedBytes += archiveUpperBound(again);
    if (round === maxReads || Math.ceil(plannedBytes / partSize) > maxParts) {
      for (const c of outcome.changing) recorded.push({ ...c.asRead, unstable: true });
      progress(`${again.length} file(s) changed during each of ${round} reads, recorded as unstable: ${quoted(again.map((e) => e.path))}`);
      break;
    }
    progress(`${again.length} file(s) changed while read, reading again (round ${round + 1}): ${quoted(again.map((e) => e.path))}`);
    await upload.startRound(round + 1, again.map((e) => e.path));
    reading = again;
  }
  return recorded;
}

/** A few paths for a progress line. */
function quoted(paths: readonly string[]): string {
  return paths.slice(0, 5).map((p) => JSON.stringify(p)).join(", ") + (paths.length > 5 ? `, … (${paths.length - 5} more)` : "");
}
