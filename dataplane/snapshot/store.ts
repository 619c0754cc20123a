// Snapshots in the bucket, as plain objects (object-keys.ts):
//   <prefix><id>/archive.tar.lz4   the tar stream, LZ4 frames (restorable with `lz4 -d | tar -x`)
//   <prefix><id>/manifest.json     written last; its metadata carries the summary `list` shows
// A store belongs to one stack: it lists only that stack's snapshots (snapshot-owner.ts), so prune,
// delete and the choice of a parent or of a copy to restore never reach another stack's.
// The controller only creates/completes uploads, presigns URLs and reads/writes manifests; the data
// itself goes between the GPU host and the bucket.
import { manifestJson, manifestJsonBytes, manifestJsonParts } from "./manifest-json.ts";
import { readManifestJson, type ArraySink } from "./manifest-read.ts";
import { compactManifestLists } from "./entry-table.ts";
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, ListMultipartUploadsCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { DumontError, EnvironmentError, UserError } from "../../lib/errors.ts";
import { objectStoreClient, type ObjectStoreSettings } from "../object-store/client.ts";
import type { Manifest, ManifestTree } from "./manifest.ts";
import { archiveKey, manifestKey, snapshotIdOfKey } from "./object-keys.ts";
import { belongsToStack } from "./snapshot-owner.ts";

export interface SnapshotStoreSettings extends ObjectStoreSettings {
  readonly bucket: string;
  readonly prefix: string;
  /** The stack whose snapshots these are: written into each manifest, and the only one listed. */
  readonly stack: string;
}

/** A snapshot's name as its metadata holds it (URI-encoded); one that does not decode, as it is. */
function decodedName(name: string | undefined, id: string): string {
  try {
    return decodeURIComponent(name ?? id);
  } catch {
    return name!;
  }
}

export interface SnapshotSummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly kind: "full" | "incremental";
  readonly parent: string | null;
  readonly files: number;
  readonly bytes: number;
  readonly archiveBytes: number;
  /** The stack that made it; undefined for snapshots from before snapshots named one. */
  readonly stack?: string;
}

/**
 * How long a part's upload URL lives. Parts are presigned in batches as the upload goes (see
 * HostUpload), so a URL is used minutes after it was made whatever the archive's size; an hour
 * covers a slow part and its retries, and a host keeps nothing that works for long.
 */
export const partUrlSeconds = 3600;
/**
 * How long a restore's download URL lives: dumont-pack fetch asks for the archive a range at a
 * time, each a request of its own, so the URL must outlive the whole download (a host without the
 * helper makes one GET with curl).
 */
export const downloadUrlSeconds = 12 * 3600;
/** A manifest's part size when it goes up in parts (S3 and B2 take parts of 5 MiB and more). */
export const manifestPartBytes = 16 * 1024 * 1024;

export class SnapshotStore {
  readonly settings: SnapshotStoreSettings;
  readonly s3: S3Client;

  constructor(settings: SnapshotStoreSettings) {
    this.settings = settings;
    this.s3 = objectStoreClient(settings);
  }

  archiveKey(id: string): string {
    return archiveKey(this.settings.prefix, id);
  }

  manifestKey(id: string): string {
    return manifestKey(this.settings.prefix, id);
  }

  async startUpload(id: string): Promise<string> {
    const created = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.settings.bucket, Key: this.archiveKey(id), ContentType: "application/x-lz4" }));
    if (!created.UploadId) throw new EnvironmentError("the object store returned no upload id", "it is not behaving as S3 does: check dumont:bucketEndpoint");
    return created.UploadId;
  }

  /** Presigned PUT URLs for `count` parts of an upload from part `first` on: what the host may write, and only that. */
  async presignParts(id: string, uploadId: string, count: number, first = 1): Promise<string[]> {
    const urls: string[] = [];
    for (let part = first; part < first + count; part++) {
      urls.push(await getSignedUrl(this.s3, new UploadPartCommand({ Bucket: this.settings.bucket, Key: this.archiveKey(id), UploadId: uploadId, PartNumber: part }), { expiresIn: partUrlSeconds }));
    }
    return urls;
  }

  async completeUpload(id: string, uploadId: string, parts: ReadonlyArray<{ part: number; etag: string }>): Promise<void> {
    await this.s3.send(new CompleteMultipartUploadCommand({
      Bucket: this.settings.bucket, Key: this.archiveKey(id), UploadId: uploadId,
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.part, ETag: `"${p.etag}"` })) },
    }));
  }

  async abortUpload(id: string, uploadId: string): Promise<void> {
    await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: this.archiveKey(id), UploadId: uploadId })).catch(() => undefined);
  }

  async presignDownload(id: string): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.archiveKey(id) }), { expiresIn: downloadUrlSeconds });
  }

  /**
   * The manifest goes last and makes the snapshot exist; its metadata is the list summary. One
   * larger than `partBytes` (a hundred thousand files or so) goes up in parts made as they are sent,
   * so its bytes are never whole on the controller.
   */
  async writeManifest(manifest: Manifest, partBytes = manifestPartBytes): Promise<void> {
    const summary: Record<string, string> = {
      kind: manifest.kind, parent: manifest.parent ?? "", created: manifest.createdAt, files: String(manifest.stats.files),
      bytes: String(manifest.stats.bytes), archive: String(manifest.archive.bytes), name: encodeURIComponent(manifest.name),
      ...(manifest.stack !== undefined && { stack: manifest.stack }),
    };
    const object = { Bucket: this.settings.bucket, Key: this.manifestKey(manifest.id) };
    if (manifestJsonBytes(manifest, partBytes) <= partBytes) {
      await this.s3.send(new PutObjectCommand({ ...object, Body: manifestJson(manifest), ContentType: "application/json", Metadata: summary }));
      return;
    }
    const created = await this.s3.send(new CreateMultipartUploadCommand({ ...object, ContentType: "application/json", Metadata: summary }));
    if (!created.UploadId) throw new EnvironmentError("the object store returned no upload id", "it is not behaving as S3 does: check dumont:bucketEndpoint");
    const upload = { ...object, UploadId: created.UploadId };
    try {
      const parts: Array<{ PartNumber: number; ETag: string | undefined }> = [];
      // Each part is made in the buffer of the one before: it is sent before the next is made.
      for (const body of manifestJsonParts(manifest, partBytes)) {
        const part = parts.length + 1;
        const sent = await this.s3.send(new UploadPartCommand({ ...upload, PartNumber: part, Body: body }));
        parts.push({ PartNumber: part, ETag: sent.ETag });
      }
      await this.s3.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      // Nothing half-written is left to bill (collectAbandoned would abort it later too).
      await this.s3.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
      throw error;
    }
  }

  /**
   * `onHeader`: the manifest's fields before its entries, once they have arrived (manifest-read.ts).
   * `md5s: false`: its entries without their MD5s (a restore's earlier links: only the newest's
   * are verified).
   */
  readManifest(id: string, onHeader?: (header: Record<string, unknown>) => void, { md5s = true } = {}): Promise<Manifest> {
    return this.fetchManifest(id, onHeader, compactManifestLists({ md5s }));
  }

  /**
   * A manifest without its path lists: what an incremental's diff needs of a parent it cannot
   * compare as it reads it (one out of path order). A full snapshot's archive members are a
   * position per entry (4 MB at a million entries).
   */
  async readTree(id: string): Promise<ManifestTree> {
    const { included: _included, deleted: _deleted, discarded: _discarded, ...tree } = await this.fetchManifest(id, undefined, compactManifestLists({ pathLists: false }));
    return tree;
  }

  /**
   * A manifest whose entries go to `entries` one by one as they are parsed (none is kept here), its
   * path lists dropped: the rest of it is returned. One whose entries are not one list is refused.
   */
  async streamManifest(id: string, entries: ArraySink, onHeader?: (header: Record<string, unknown>) => void): Promise<Omit<ManifestTree, "entries">> {
    const refuse = (problem: string) => new DumontError(`the manifest of snapshot ${id} ${problem}: it is not one Dumont made`);
    let given = false;
    const withoutPathLists = compactManifestLists({ pathLists: false });
    const collect = (key: string): ArraySink | undefined => {
      if (key !== "entries") return withoutPathLists(key);
      if (given) throw refuse("lists its entries twice");
      given = true;
      return entries;
    };
    const { entries: read, included: _included, deleted: _deleted, discarded: _discarded, ...rest } = await this.fetchManifest(id, onHeader, collect);
    if ((read as unknown) !== entries) throw refuse("has no list of entries");
    return rest;
  }

  private async fetchManifest(id: string, onHeader: ((header: Record<string, unknown>) => void) | undefined, collect: (key: string) => ArraySink | undefined): Promise<Manifest> {
    const reply = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.manifestKey(id) })).catch((error: Error) => {
      if (error.name === "NoSuchKey") throw this.missing(id);
      throw error;
    });
    // Parsed as it downloads: at a million entries the text alone is some 150 MB (manifest-read.ts).
    return await readManifestJson(reply.Body as AsyncIterable<Uint8Array>, `the manifest of ${id}`, onHeader, collect) as unknown as Manifest;
  }

  /**
   * This stack's snapshots with a manifest, oldest first. Archives without one (interrupted) are not
   * listed, nor are keys below the prefix that are not a snapshot's (another stack's prefix inside
   * this one, other people's objects) or snapshots another stack made under the same prefix.
   */
  async list(): Promise<SnapshotSummary[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.settings.prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const id = snapshotIdOfKey(this.settings.prefix, object.Key ?? "");
        if (id !== undefined && object.Key === this.manifestKey(id)) ids.push(id);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // One deleted since the listing (a prune) is not listed.
    const summaries = (await Promise.all(ids.map((id) => this.headSummary(id)))).filter((s) => s !== undefined);
    return summaries.filter((s) => belongsToStack(s.stack, this.settings.stack)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** A snapshot's summary, from its manifest's metadata (no manifest: no snapshot, said in one line). */
  async summary(id: string): Promise<SnapshotSummary> {
    const summary = await this.headSummary(id);
    if (!summary) throw this.missing(id);
    return summary;
  }

  private async headSummary(id: string): Promise<SnapshotSummary | undefined> {
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.manifestKey(id) })).catch((error: Error) => {
      if (error.name === "NotFound" || error.name === "NoSuchKey") return undefined;
      throw error;
    });
    if (!head) return undefined;
    const m = head.Metadata ?? {};
    return {
      id, name: decodedName(m.name, id), createdAt: m.created ?? "", kind: (m.kind as "full" | "incremental") ?? "full",
      parent: m.parent || null, files: Number(m.files ?? 0), bytes: Number(m.bytes ?? 0), archiveBytes: Number(m.archive ?? 0),
      ...(m.stack !== undefined && { stack: m.stack }),
    };
  }

  private missing(id: string): UserError {
    return new UserError(`no snapshot '${id}' in s3://${this.settings.bucket}/${this.settings.prefix} (a snapshot without a manifest does not exist)`, "see `npx dumont snapshot list`");
  }

  /**
   * What interrupted snapshots left: archives whose manifest was never written and multipart
   * uploads never completed or aborted (a controller killed mid-snapshot), older than `olderThanMs`
   * (a day by default, so a snapshot being made right now is never touched). They bill storage and
   * are never listed, so they are deleted here.
   */
  async collectAbandoned(olderThanMs = 24 * 3600_000, now = Date.now()): Promise<{ archives: string[]; uploads: number }> {
    const archives = new Map<string, Date | undefined>();
    const manifests = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.settings.prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? "";
        const id = snapshotIdOfKey(this.settings.prefix, key);
        if (id === undefined) continue;
        if (key === this.manifestKey(id)) manifests.add(id);
        else archives.set(id, object.LastModified);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const abandoned = [...archives].filter(([id, at]) => !manifests.has(id) && at !== undefined && now - at.getTime() >= olderThanMs).map(([id]) => id);
    for (const id of abandoned) await this.delete(id);
    let uploads = 0;
    const pending = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.settings.bucket, Prefix: this.settings.prefix }));
    for (const upload of pending.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || !upload.Initiated || now - upload.Initiated.getTime() < olderThanMs) continue;
      if (snapshotIdOfKey(this.settings.prefix, upload.Key) === undefined) continue;
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.settings.bucket, Key: upload.Key, UploadId: upload.UploadId }));
      uploads++;
    }
    return { archives: abandoned, uploads };
  }

  /** Deletes every version of a snapshot's objects, manifest first, so a half-deleted one is never listed. */
  async delete(id: string): Promise<number> {
    let removed = 0;
    for (const key of [this.manifestKey(id), this.archiveKey(id)]) {
      const versions = await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.settings.bucket, Prefix: key }));
      const objects = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]
        .filter((v) => v.Key === key)
        .map((v) => ({ Key: key, VersionId: v.VersionId }));
      if (objects.length === 0) continue;
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: objects, Quiet: true } }));
      removed += objects.length;
    }
    return removed;
  }
}
