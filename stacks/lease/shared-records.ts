// Dumont's own records of a stack (the slot record: which GPU slot is active, the failover in
// progress; the status: syncs and the watch) where every controller of the stack finds them. A
// file backend keeps them beside its state already. Any other backend (Pulumi's S3 backend in a
// B2 or MinIO bucket, Pulumi Cloud) lives on no one machine, so the records live in the stack's
// bucket next to its leases: `<prefix>.dumont/<stack>/{slots,status}.json`.
//
// They are read and written through the controller's local files (code reads them synchronously,
// the Pulumi program among it), kept equal to the bucket under the lease: whoever takes the stack's
// lease first pulls the bucket's copies over its local files; every write while it holds the lease
// is pushed at once, in order; and a failover step waits for its record to be in the bucket before
// it goes on, so a controller that takes over after a crash resumes from where this one was.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { makePrivateDir, privateFileMode } from "../../lib/tools/private-dir.ts";
import { isConflict } from "./conditional-object.ts";

export type RecordKind = "slots" | "status";

export function recordKey(prefix: string, stack: string, kind: RecordKind): string {
  return `${prefix}.dumont/${stack}/${kind}.json`;
}

/** Whether the stack's records belong in its bucket: its state is not in a folder on this machine. */
export function recordsLiveInBucket(backendUrl = process.env.PULUMI_BACKEND_URL): boolean {
  return !!backendUrl && !backendUrl.startsWith("file://");
}

/** The local file each record is read from and written to. */
export type LocalRecordFiles = Readonly<Record<RecordKind, string>>;

export class SharedRecords {
  private queue: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /**
   * The slot record's version this controller last read or wrote (null: none in the bucket). It
   * is replaced only if still that version: a controller cut off while holding the stack, whose
   * write lands after another took over, changes nothing. (The status is informational: last
   * writer wins.)
   */
  private slotsEtag: string | null | undefined;
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly stack: string;
  private readonly files: LocalRecordFiles;
  private readonly signal?: AbortSignal;

  /** `signal`: the lease the records are kept under; once it is lost, nothing more is written. */
  constructor(s3: S3Client, bucket: string, prefix: string, stack: string, files: LocalRecordFiles, signal?: AbortSignal) {
    this.s3 = s3;
    this.bucket = bucket;
    this.prefix = prefix;
    this.stack = stack;
    this.files = files;
    this.signal = signal;
  }

  /**
   * Replaces the local records by the bucket's; a record the bucket lacks but this machine has
   * (the stack's first controller, or one from before records moved) is uploaded instead, unless
   * `readOnly` (a reader that holds no lease writes nothing). Returns whether a local record changed.
   */
  async pull(options: { readOnly?: boolean } = {}): Promise<boolean> {
    // Writes queued before (a watch's status, just before its sync takes the stack) land first:
    // the bucket's copy then includes them, and no older copy replaces them here.
    await this.queue;
    let changed = false;
    for (const kind of ["slots", "status"] as const) {
      const remote = await this.read(kind);
      if (kind === "slots") this.slotsEtag = remote?.etag ?? null;
      const local = readLocal(this.files[kind]);
      if (remote === undefined) {
        if (local !== undefined && !options.readOnly) await this.write(kind, local);
      } else if (remote.text !== local) {
        writeLocal(this.files[kind], remote.text);
        changed = true;
      }
    }
    return changed;
  }

  /** The bucket's copy of a record, for a reader: nothing local is read or written. */
  async peek(kind: RecordKind): Promise<string | undefined> {
    return (await this.read(kind))?.text;
  }

  /** Uploads the local record of `kind` after every upload queued before it. */
  push(kind: RecordKind): void {
    this.queue = this.queue.then(async () => {
      if (this.failure) return;
      this.signal?.throwIfAborted();
      const text = readLocal(this.files[kind]);
      if (text !== undefined) await this.write(kind, text);
    }).catch((error: Error) => {
      this.failure ??= error;
    });
  }

  /** Waits until every write so far is in the bucket; throws the first upload that failed. */
  async flush(): Promise<void> {
    await this.queue;
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      throw new Error(`the records of stack ${this.stack} could not be written to bucket ${this.bucket}: ${failure.message}`, { cause: failure });
    }
  }

  private async read(kind: RecordKind): Promise<{ text: string; etag: string } | undefined> {
    try {
      const reply = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: recordKey(this.prefix, this.stack, kind) }), { abortSignal: this.signal });
      return { text: await reply.Body!.transformToString(), etag: reply.ETag ?? "" };
    } catch (error) {
      if ((error as Error).name === "NoSuchKey" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  private async write(kind: RecordKind, text: string): Promise<void> {
    const condition = kind !== "slots" || this.slotsEtag === undefined ? {} : this.slotsEtag === null ? { IfNoneMatch: "*" } : { IfMatch: this.slotsEtag };
    try {
      const reply = await this.s3.send(new PutObjectCommand({
        Bucket: this.bucket, Key: recordKey(this.prefix, this.stack, kind), Body: text, ContentType: "application/json", ...condition,
      }), { abortSignal: this.signal });
      if (kind === "slots") this.slotsEtag = reply.ETag ?? null;
    } catch (error) {
      if (!isConflict(error)) throw error;
      // The SDK retries a request whose reply was lost: the first try may have landed, and the
      // retry then finds its own write. That is this write, not another controller's.
      const now = await this.read(kind);
      if (now?.text === text) {
        this.slotsEtag = now.etag;
        return;
      }
      throw new Error("another controller changed the slot record since this one read it (this one no longer holds the stack)", { cause: error });
    }
  }
}

function readLocal(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function writeLocal(file: string, text: string): void {
  makePrivateDir(path.dirname(file));
  const temporary = `${file}.${process.pid}.pull.tmp`;
  writeFileSync(temporary, text, { mode: privateFileMode });
  renameSync(temporary, file);
}

/**
 * The records of stacks whose lease this process holds, innermost last (a watch that holds its
 * stack's watch lease runs a sync under the operation lease): where a local write is pushed.
 */
const held = new Map<string, SharedRecords[]>();

export function holdRecords(stack: string, records: SharedRecords): () => void {
  held.set(stack, [...(held.get(stack) ?? []), records]);
  return () => {
    const rest = (held.get(stack) ?? []).filter((r) => r !== records);
    if (rest.length > 0) held.set(stack, rest);
    else held.delete(stack);
  };
}

function innermost(stack: string): SharedRecords | undefined {
  return held.get(stack)?.at(-1);
}

/** Called after a record of `stack` was written locally: pushed if this process holds the stack. */
export function recordWritten(stack: string, kind: RecordKind): void {
  innermost(stack)?.push(kind);
}

/** Waits until the stack's records written so far are in its bucket (nothing to wait for without one). */
export async function recordsSettled(stack: string): Promise<void> {
  await innermost(stack)?.flush();
}

/** The records this process already keeps for `stack` (a watch's, when its sync takes the stack). */
export function heldRecords(stack: string): SharedRecords | undefined {
  return innermost(stack);
}
