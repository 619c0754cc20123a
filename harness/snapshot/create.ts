// Making a snapshot of a host's /workspace: scan, decide full or incremental, hash what changed,
// let the host stream tar | lz4 straight to presigned part URLs, complete the upload, and write the
// manifest last. Anything that fails aborts the upload: no manifest, no snapshot.
import { randomBytes } from "node:crypto";
import type { SshConnection } from "../ssh/client.ts";
import { diffTrees, snapshotId, stats, withMd5, type Entry, type Manifest } from "./manifest.ts";
import { uploadScript } from "./scripts.ts";
import type { SnapshotStore } from "./store.ts";
import { hashFiles, scanWorkspace } from "./workspace-scan.ts";

export interface CreateSnapshotOptions {
  readonly ssh: SshConnection;
  readonly store: SnapshotStore;
  readonly name: string;
  /** "auto": incremental on the newest snapshot unless its chain is fullEvery long; "full"; or a parent id. */
  readonly parent?: "auto" | "full" | string;
  /** A chain of this many snapshots ends with a full one. Default 7. */
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
  readonly seconds: { readonly scan: number; readonly hash: number; readonly upload: number; readonly total: number };
}

const mib = 1024 * 1024;
/** S3 wants parts of 5 MiB at least (B2 says 5 MB): 5 MiB satisfies both. */
export const minPartSize = 5 * mib;
export const maxParts = 10_000;

/**
 * Parts small enough that compressing and uploading overlap (at least two rounds of `concurrency`
 * parts) and large enough for B2's throughput per stream: between 5 and 64 MiB.
 */
export function defaultPartSize(upperBound: number, concurrency: number): number {
  return Math.min(64 * mib, Math.max(minPartSize, Math.ceil(upperBound / (2 * concurrency))));
}

/**
 * Part size and count for an archive of at most `upperBound` bytes: the requested size, raised so
 * that the parts stay well under B2's 10,000 (the estimate must never run out of URLs).
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

async function chooseParent(store: SnapshotStore, parent: CreateSnapshotOptions["parent"], fullEvery: number): Promise<Manifest | undefined> {
  if (parent === "full") return undefined;
  if (parent && parent !== "auto") return store.readManifest(parent);
  const newest = (await store.list()).at(-1);
  if (!newest) return undefined;
  const manifest = await store.readManifest(newest.id);
  return manifest.chain.length >= fullEvery ? undefined : manifest;
}

export async function createSnapshot(options: CreateSnapshotOptions): Promise<CreateSnapshotResult> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const since = (t: number) => (performance.now() - t) / 1000;

  let t = performance.now();
  const scan = await scanWorkspace(ssh);
  if (scan.skipped.length) progress(`skipping ${scan.skipped.length} special files (sockets, fifos, devices)`);
  const parent = await chooseParent(store, options.parent, options.fullEvery ?? 7);
  const changes = parent ? diffTrees(parent.entries, scan.entries) : { changed: scan.entries, deleted: [], unchanged: [] };
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
  try {
    // Hashing (one core, MD5 is serial) and tar | lz4 | upload (the other) read the same files at
    // the same time, so the page cache serves the second reader.
    t = performance.now();
    const hashing = hashFiles(ssh, changes.changed.filter((e) => e.type === "file").map((e) => e.path)).then((sums) => ({ sums, seconds: since(t) }));
    const uploading = upload(ssh, store, id, uploadId, spool, changes.changed, plan, concurrency, progress).then((r) => ({ ...r, seconds: since(t) }));
    const [hashed, uploaded] = await Promise.all([hashing, uploading]);
    const changed = withMd5(changes.changed, hashed.sums);
    const entries = [...changed, ...changes.unchanged].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await store.completeUpload(id, uploadId, uploaded.parts);

    const manifest: Manifest = {
      format: "dumont-snapshot/1", id, name: options.name, createdAt: new Date().toISOString(),
      kind: parent ? "incremental" : "full", parent: parent?.id ?? null, chain: [...(parent?.chain ?? []), id],
      source: { host: ssh.label, label: options.sourceLabel },
      archive: { key: store.archiveKey(id), bytes: uploaded.bytes, md5: uploaded.md5, parts: uploaded.parts.length, partSize: plan.partSize, compression: "lz4" },
      entries, included: changed.map((e) => e.path), deleted: changes.deleted, stats: stats(entries),
    };
    await store.writeManifest(manifest);
    progress(`snapshot ${id}: ${manifest.stats.files} files, ${(uploaded.bytes / mib).toFixed(1)} MiB compressed, ${uploaded.seconds.toFixed(1)} s upload`);
    return { manifest, seconds: { scan: scanSeconds, hash: hashed.seconds, upload: uploaded.seconds, total: since(started) } };
  } catch (error) {
    await store.abortUpload(id, uploadId);
    throw error;
  } finally {
    await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
  }
}

interface Uploaded {
  readonly md5: string;
  readonly bytes: number;
  readonly parts: Array<{ part: number; etag: string; bytes: number }>;
}

/** Sends the presigned URLs and the entry list to the host, runs the upload there, reads its report. */
async function upload(
  ssh: SshConnection, store: SnapshotStore, id: string, uploadId: string, spool: string, entries: readonly Entry[],
  plan: { partSize: number; parts: number }, concurrency: number, progress: (line: string) => void,
): Promise<Uploaded> {
  const urls = await store.presignParts(id, uploadId, plan.parts);
  // The URL list and the file list reach the host on stdin, never on a command line.
  await ssh.run(["bash", "-c", 'umask 077 && mkdir -p "$1" && cat > "$1/urls"', "prepare", spool], { stdin: `${urls.join("\n")}\n` });
  await ssh.run(["bash", "-c", 'cat > "$1/list"', "list", spool], { stdin: Buffer.from(entries.map((e) => `./${e.path}\0`).join(""), "utf8") });
  progress(`uploading ${(entries.reduce((s, e) => s + e.size, 0) / mib).toFixed(1)} MiB in parts of ${(plan.partSize / mib).toFixed(0)} MiB, ${concurrency} at a time`);
  const result = await ssh.run(["bash", "-c", uploadScript(), "upload", spool, String(plan.partSize), String(concurrency)], {
    onStderrLine: (line) => {
      const parts = /^progress (\d+)$/.exec(line)?.[1];
      if (parts) progress(`  ${parts} part(s) uploaded`);
    },
  });
  const lines = result.stdout.trim().split("\n");
  const stream = /^stream ([0-9a-f]{32}) (\d+)$/.exec(lines[0] ?? "");
  if (!stream) throw new Error(`unexpected upload report from ${ssh.label}: ${result.stdout.slice(0, 200)}`);
  const parts = lines.slice(1).map((line) => {
    const match = /^part (\d+) (\S+) (\d+)$/.exec(line);
    if (!match) throw new Error(`unexpected part report: ${line}`);
    return { part: Number(match[1]), etag: match[2]!, bytes: Number(match[3]) };
  });
  const bytes = Number(stream[2]);
  if (parts.reduce((s, p) => s + p.bytes, 0) !== bytes) throw new Error("the uploaded parts do not add up to the archive");
  return { md5: stream[1]!, bytes, parts };
}
