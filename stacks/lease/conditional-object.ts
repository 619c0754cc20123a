// One small JSON object in the bucket changed only by conditional writes: created if absent
// (If-None-Match: *), replaced only if it is still the version this controller read (If-Match:
// <etag>). Two controllers on two machines that race on it cannot both win: the store decides.
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export interface Versioned<T> {
  readonly body: T;
  readonly etag: string;
}

/** The store refused the write because the object is not (or no longer) what the writer expected. */
export function isConflict(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  // 412: the condition failed; 409: another conditional write to the same key was in flight.
  return status === 412 || status === 409 || e.name === "PreconditionFailed" || e.name === "ConditionalRequestConflict";
}

export class ConditionalObject<T> {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;

  constructor(s3: S3Client, bucket: string, key: string) {
    this.s3 = s3;
    this.bucket = bucket;
    this.key = key;
  }

  async read(signal?: AbortSignal): Promise<Versioned<T> | undefined> {
    try {
      const reply = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }), { abortSignal: signal });
      return { body: JSON.parse(await reply.Body!.transformToString()) as T, etag: reply.ETag ?? "" };
    } catch (error) {
      if ((error as Error).name === "NoSuchKey" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  /** Writes `body` if the object does not exist; its new etag, or undefined if it already existed. */
  create(body: T, signal?: AbortSignal): Promise<string | undefined> {
    return this.put(body, { IfNoneMatch: "*" }, signal);
  }

  /** Writes `body` if the object is still version `etag`; its new etag, or undefined if it changed. */
  replace(body: T, etag: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.put(body, { IfMatch: etag }, signal);
  }

  private async put(body: T, condition: { IfNoneMatch?: string; IfMatch?: string }, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const reply = await this.s3.send(new PutObjectCommand({
        Bucket: this.bucket, Key: this.key, Body: JSON.stringify(body), ContentType: "application/json", ...condition,
      }), { abortSignal: signal });
      return reply.ETag ?? "";
    } catch (error) {
      if (isConflict(error)) return undefined;
      throw error;
    }
  }
}

const honoured = new Map<string, Promise<boolean>>();

/**
 * Whether the store honours both conditions (S3 and MinIO do; a store that ignores them would let
 * two controllers both take a lease): a create of an existing object and a replace of a version
 * that is not the current one must both be refused. Asked once per bucket and process: one create
 * may win (the probe object was new), a second create of the same key must then lose.
 */
export function honoursConditionalWrites(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  const id = `${bucket}/${key}`;
  let answer = honoured.get(id);
  if (!answer) {
    const probe = new ConditionalObject<{ probe: string }>(s3, bucket, key);
    answer = (async () => {
      const body = { probe: "dumont checks that this store honours If-None-Match" };
      const created = await probe.create(body);
      if (created !== undefined && (await probe.create(body)) !== undefined) return false;
      return (await probe.replace(body, '"00000000000000000000000000000000"')) === undefined;
    })();
    honoured.set(id, answer);
    answer.catch(() => honoured.delete(id));
  }
  return answer;
}
