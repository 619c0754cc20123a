// Making a snapshot of a host's /workspace: scan, decide full or incremental, let the host stream
// its files | lz4 straight to presigned part URLs, hashing each as it archives it, read again what
// changed meanwhile, complete the upload, and write the manifest last. Anything that fails aborts
// the upload: no manifest, no snapshot.
import { collectGarbage } from "../../lib/tools/collect-garbage.ts";
import { allSettledOrThrow } from "../../lib/all-settled.ts";
import { DumontError } from "../../lib/errors.ts";
import { ensureHostTools, gpuTools } from "../ssh/host-tools.ts";
import { randomBytes } from "node:crypto";
import type { SshConnection } from "../ssh/client.ts";
import { HostUpload, maxParts } from "./host-upload.ts";
import type { EntryTable } from "./entry-table.ts";
import { diffTrees, dropOrphans, entryFields, snapshotId, stats, type EntryFields, type Manifest, type Positions, type TreeChanges } from "./manifest.ts";
import { ParentMerge, ParentOutOfOrder } from "./parent-merge.ts";
import { RoundListing } from "./read-rounds.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import type { SnapshotStore, SnapshotSummary } from "./store.ts";
import { readTarReport } from "./tar-messages.ts";
import { ensurePackHelper } from "./pack-helper.ts";
import { scanWorkspaceTable } from "./workspace-scan.ts";
import { PathList } from "./string-column.ts";
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

/** A strict upper bound of tar + lz4 output for these entries of a tree (LZ4 grows incompressible data by < 0.4%). */
export function archiveUpperBound(tree: EntryFields, positions: Iterable<number> = Array.from({ length: tree.length }, (_, i) => i)): number {
  let bytes = 1024 * 1024;
  for (const i of positions) bytes += 3 * 512 + Math.ceil(tree.sizeAt(i) / 512) * 512 + tree.pathAt(i).length * 2 + (tree.targetAt(i)?.length ?? 0) * 2;
  return Math.ceil(bytes * 1.01);
}

/** The parent to compare with, as the store lists it: the newest snapshot ("auto"), the one named, or none. */
async function chooseParent(store: SnapshotStore, parent: CreateSnapshotOptions["parent"]): Promise<SnapshotSummary | undefined> {
  if (parent === "full") return undefined;
  if (parent && parent !== "auto") return store.summary(parent);
  return (await store.list()).at(-1);
}

/**
 * Of a parent's manifest (its header: the whole manifest need not have arrived), what makes it no
 * parent: another stack's (an incremental on it would chain to it), refused; a chain already
 * `fullEvery` long (`auto` only), true: the snapshot is a full one.
 */
function endsChain(manifest: { id: string; stack?: string; chain?: unknown }, stack: string, fullEvery: number | undefined): boolean {
  checkSnapshotOwner(manifest, stack);
  return fullEvery !== undefined && Array.isArray(manifest.chain) && manifest.chain.length >= fullEvery;
}

export async function createSnapshot(options: CreateSnapshotOptions): Promise<CreateSnapshotResult> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;

  let t = performance.now();
  const installed = await ensureHostTools(ssh, gpuTools);
  if (installed.length > 0) progress(`installed ${installed.join(", ")} on ${ssh.label} (its image lacked them)`);
  // The helper's check, and the scan with the comparison with the parent, at once. Each is awaited
  // before any failure is thrown, so nothing still runs on the connection once this fails.
  const [pack, scanned] = await allSettledOrThrow([ensurePackHelper(ssh), scanAgainstParent(ssh, store, options)]);
  // The tree from here on: each round writes its MD5s into it, and what it read again as it was then.
  const { tree, changes, parent } = scanned;
  collectGarbage(); // the parent's entries, parsed
  if (scanned.skipped.length) progress(`skipping ${scanned.skipped.length} special files (sockets, fifos, devices)`);
  const scanSeconds = since(t);
  progress(parent
    ? `incremental on ${parent.id}: ${changes.changed.filter((i) => tree.typeAt(i) !== "dir").length} changed, ${changes.deleted.length} deleted, ${changes.unchanged} unchanged`
    : `full: ${tree.length} entries`);

  const id = snapshotId(options.name, new Date());
  const concurrency = options.concurrency ?? 6;
  const upperBound = archiveUpperBound(tree, changes.changed);
  const plan = planParts(upperBound, options.partSize ?? defaultPartSize(upperBound, concurrency));
  const uploadId = await store.startUpload(id);
  const spool = `/tmp/dumont-snapshot-${randomBytes(6).toString("hex")}`;
  let upload: HostUpload | undefined;
  try {
    t = performance.now();
    let changedBytes = 0;
    for (const i of changes.changed) changedBytes += tree.sizeAt(i);
    progress(`uploading ${(changedBytes / mib).toFixed(1)} MiB in parts of ${(plan.partSize / mib).toFixed(0)} MiB, ${concurrency} at a time`);
    upload = await HostUpload.start({
      ssh, store, id, uploadId, spool, partSize: plan.partSize, parts: plan.parts, concurrency, progress, firstRound: pathsOf(tree, changes.changed), pack,
    });
    const vanished = await readInRounds(ssh, upload, tree, changes.changed, plan.partSize, progress);
    collectGarbage(); // the rounds' listings, parsed
    const uploaded = await upload.finish();
    const uploadSeconds = since(t);
    await store.completeUpload(id, uploadId, uploaded.parts);

    const { entries, included, discarded, deleted } = recordedTree(tree, changes, vanished);
    const manifest: Manifest = {
      format: "dumont-snapshot/1", id, name: options.name, createdAt: new Date().toISOString(),
      kind: parent ? "incremental" : "full", parent: parent?.id ?? null, chain: [...(parent?.chain ?? []), id],
      source: { host: ssh.label, label: options.sourceLabel }, stack: store.settings.stack,
      archive: { key: store.archiveKey(id), bytes: uploaded.bytes, parts: uploaded.parts.length, partSize: plan.partSize, compression: "lz4" },
      entries, included, deleted, discarded, stats: stats(entries),
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

interface ScannedChanges {
  readonly tree: EntryTable;
  readonly skipped: string[];
  readonly changes: TreeChanges;
  /** Of the parent, what the new manifest names (its tree is never held, or let go after the comparison). */
  readonly parent: Pick<Manifest, "id" | "chain"> | undefined;
}

/**
 * The workspace's tree, and what changed in it since the parent's. The parent's manifest is read
 * once the scan is done, and compared with it as it arrives (compareWithParent): read while the host
 * scanned and held, it made an incremental of a million files peak at 248–269 MiB and take
 * 11.2–13.7 s (8.7 s now, scratch runs); at 100k files both took 1.5–1.7 s.
 */
async function scanAgainstParent(ssh: SshConnection, store: SnapshotStore, options: CreateSnapshotOptions): Promise<ScannedChanges> {
  // An explicitly named parent is one whatever its chain's length.
  const fullEvery = options.parent === "auto" || options.parent === undefined ? options.fullEvery ?? settingDefaults.snapshotFullEvery : undefined;
  const [scanned, chosen] = await allSettledOrThrow([scanWorkspaceTable(ssh), chooseParent(store, options.parent)]);
  const tree = scanned.entries;
  collectGarbage(); // the scan's listing, parsed, and the sort's order
  const { changes, of } = chosen ? await compareWithParent(store, chosen.id, tree, fullEvery) : { changes: diffTrees(undefined, tree) };
  return { tree, skipped: scanned.skipped, changes, parent: of && { id: of.id, chain: of.chain } };
}

/**
 * The parent compared with the scan: walked with it as its manifest is read (parent-merge.ts) when
 * both are in strict path order (a scan listing a path twice is not; nor is a manifest Dumont did
 * not write), else read whole and compared by lookups. None (a full snapshot) when its chain ends
 * (endsChain).
 */
export async function compareWithParent(
  store: Pick<SnapshotStore, "settings" | "streamManifest" | "readTree">, id: string, tree: EntryTable, fullEvery: number | undefined,
): Promise<{ changes: TreeChanges; of?: Pick<Manifest, "id" | "chain"> }> {
  const stack = store.settings.stack;
  const full = () => {
    tree.clearMd5s(); // what a walk cut short carried over
    return { changes: diffTrees(undefined, tree) };
  };
  if (tree.strictlyInPathOrder()) {
    const merge = new ParentMerge(tree);
    // Its header says its chain ends: the rest of it is not read. (Named as it was asked for: the
    // header may not have its id yet.)
    const chainEnds = new Error("the parent's chain ends");
    const read = await store.streamManifest(id, merge, (first) => {
      if (endsChain({ ...first, id }, stack, fullEvery)) throw chainEnds;
    }).then((header) => ({ header }), (error: unknown) => {
      if (error === chainEnds) return { chainEnds: true };
      if (error instanceof ParentOutOfOrder) return { outOfOrder: true };
      throw error;
    });
    if ("header" in read) return endsChain(read.header, stack, fullEvery) ? full() : { changes: merge.changes(), of: read.header };
    if ("chainEnds" in read) return full();
    tree.clearMd5s(); // out of order: what the walk carried over does not count
  }
  const whole = await store.readTree(id);
  if (endsChain(whole, stack, fullEvery)) return full();
  return { changes: diffTrees(whole.entries, tree), of: whole };
}

export interface RecordedTree {
  readonly entries: EntryTable;
  /** The archive's members still in the tree (as their positions in it). */
  readonly included: PathList;
  /** The archive's members no longer in the tree. */
  readonly discarded: string[];
  /** The parent's paths the tree no longer has. */
  readonly deleted: string[];
}

/**
 * What the manifest records once the rounds are done: whatever vanished while it was read
 * (`vanished`, positions in the scanned tree) leaves the tree, and so does anything below it; every
 * changed entry was archived, and is included or discarded.
 */
export function recordedTree(tree: EntryTable, changes: TreeChanges, vanished: readonly number[]): RecordedTree {
  const dropped = new Uint8Array(tree.length);
  for (const i of vanished) dropped[i] = 1;
  dropOrphans(tree, dropped);
  const { entries, positions } = dropped.includes(1) ? withoutDropped(tree, dropped) : { entries: tree, positions: undefined };
  const included = new PathList(entries);
  const discarded: string[] = [];
  for (const i of changes.changed) {
    if (dropped[i]) discarded.push(tree.pathAt(i));
    else included.pushPosition(positions ? positions[i]! : i);
  }
  included.trim();
  return { entries, included, discarded, deleted: deletedFromParent(changes, tree, dropped) };
}

/**
 * The parent's paths the new tree does not have: those the scan did not find, and those it found
 * that vanished as they were read (`dropped`), in path order as the parent has them.
 */
function deletedFromParent(changes: TreeChanges, tree: EntryTable, dropped: Uint8Array): string[] {
  const vanished: string[] = [];
  for (let i = 0; i < tree.length; i++) if (dropped[i] && changes.inParent?.[i]) vanished.push(tree.pathAt(i));
  if (vanished.length === 0) return changes.deleted;
  return [...changes.deleted, ...vanished].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The tree without what `dropped` marks (rare: something vanished as it was read), and where each kept entry went. */
function withoutDropped(tree: EntryTable, dropped: Uint8Array): { entries: EntryTable; positions: Uint32Array } {
  const positions = new Uint32Array(tree.length);
  let kept = 0;
  for (let i = 0; i < tree.length; i++) if (!dropped[i]) positions[i] = kept++;
  return { entries: tree.filtered((i) => !dropped[i]), positions };
}

/** The paths at these positions, as often as they are asked for (the upload measures them, then sends them). */
function pathsOf(tree: EntryTable, positions: Positions): Iterable<string> {
  return { *[Symbol.iterator]() { for (const i of positions) yield tree.pathAt(i); } };
}

/**
 * Round 1 reads the tree's entries at `first`, archiving each file and hashing the same bytes for
 * the manifest. Each entry as the reader saw it is compared with the tree; any that changed since,
 * or as it was read, is read again in another round, appended to the same archive, until all hold
 * still or maxReads is reached: those still changing are recorded as they were last read (the MD5 of
 * their last archive copy) and marked unstable. The tree ends as the manifest records it; returns
 * the positions of what was gone when a round read it.
 */
export async function readInRounds(
  ssh: Pick<SshConnection, "label">, upload: Pick<HostUpload, "roundRead" | "roundSums" | "roundSeen" | "startRound">,
  tree: EntryTable, first: Positions, partSize: number, progress: (line: string) => void,
): Promise<number[]> {
  const vanished: number[] = [];
  let reading: Positions = first;
  let plannedBytes = archiveUpperBound(tree, first);
  for (let round = 1; ; round++) {
    const roundRead = await upload.roundRead(round);
    const tar = readTarReport(roundRead.notes);
    // The reader exits 1 when a file changed as it read it, 2 also when one vanished first: both are
    // handled below. Anything else it says with a 2 (or worse) means the archive cannot be trusted
    // (and its lists may be cut short: they are not read then).
    if (roundRead.status > 2 || (roundRead.status === 2 && tar.others.length)) {
      throw new DumontError(`reading the workspace failed on ${ssh.label} (exit ${roundRead.status}): ${tar.others[0] ?? "no message"}`);
    }
    const listing = new RoundListing(tree, reading);
    await Promise.all([upload.roundSums(round, listing.summed), upload.roundSeen(round, listing.seen)]);
    const outcome = listing.settle(tar);
    // One at a time: a spread of a round's positions (a million files) passes the engine's limit on
    // a call's arguments ("Maximum call stack size exceeded" from about 130,000).
    for (const i of outcome.vanished) vanished.push(i);
    if (outcome.vanished.length) progress(`${outcome.vanished.length} path(s) vanished while read, left out: ${quoted(outcome.vanished.map((i) => tree.pathAt(i)))}`);
    if (outcome.changing.length === 0) break;
    const again = outcome.changing.map((c) => c.position);
    const paths = again.map((i) => tree.pathAt(i));
    const againBytes = archiveUpperBound(entryFields(outcome.changing.map((c) => c.now)));
    if (round === maxReads || Math.ceil((plannedBytes + againBytes) / partSize) > maxParts) {
      // Recorded as they were last read: the tree has them as this round began, with its MD5s.
      for (const i of again) tree.markUnstable(i);
      progress(`${again.length} file(s) changed during each of ${round} reads, recorded as unstable: ${quoted(paths)}`);
      break;
    }
    for (const { position, now } of outcome.changing) tree.update(position, now);
    plannedBytes += againBytes;
    progress(`${again.length} file(s) changed while read, reading again (round ${round + 1}): ${quoted(paths)}`);
    await upload.startRound(round + 1, paths);
    reading = again;
  }
  return vanished;
}

/** A few paths for a progress line. */
function quoted(paths: readonly string[]): string {
  return paths.slice(0, 5).map((p) => JSON.stringify(p)).join(", ") + (paths.length > 5 ? `, … (${paths.length - 5} more)` : "");
}
