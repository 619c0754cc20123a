// The B2 key path against the local cloud: Dumont's own client (components/bucket/b2-keys.ts) makes
// application keys through the emulated native API, and MinIO's policies hold each key to its
// bucket and name prefix. A key of one stack's prefix reads, writes and lists its own and is
// refused everything of the other's and of other buckets; a deleted key stops working; the bucket
// component makes and deletes its key the same way.
import {
  AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command,
  ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, bucketId, createScopedKey, deleteKey, type B2Session, type ScopedKey } from "../../../components/bucket/b2-keys.ts";
import { createBucket, deleteBucket } from "../../../components/bucket/bucket-operations.ts";
import { b2KeyAccess, objectStoreAccess, processAccessSource, type B2KeyAccess } from "../../../clouds/cloud-access.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { objectStoreClient, type ObjectStoreSettings } from "../../../dataplane/object-store/client.ts";
import { snapshotId } from "../../../dataplane/snapshot/manifest.ts";
import { SnapshotStore } from "../../../dataplane/snapshot/store.ts";
import { honoursConditionalWrites } from "../../../stacks/lease/conditional-object.ts";

const cloud = "bkey";
const bucket = "dumont-b2keys";
const otherBucket = "dumont-b2other";
const prefixA = "snapshots/alpha/";
const prefixB = "snapshots/beta/";

let endpoints: Endpoints;
let access: ObjectStoreSettings;
let keys: B2KeyAccess;
let session: B2Session;
let keyA: ScopedKey;
let keyB: ScopedKey;

const clientOf = (key: ScopedKey): S3Client => objectStoreClient({ ...access, accessKeyId: key.keyId, secretAccessKey: key.applicationKey, maxAttempts: 1 });
const root = () => objectStoreClient(access);

/** The S3 error name of `request`, or "ok" when it succeeded (DeleteObjects reports per key). */
async function outcome(request: Promise<unknown>): Promise<string> {
  try {
    const reply = (await request) as { Errors?: Array<{ Code?: string }> };
    return reply?.Errors?.[0]?.Code ?? "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

const read = async (s3: S3Client, b: string, key: string) => (await s3.send(new GetObjectCommand({ Bucket: b, Key: key }))).Body!.transformToString();

beforeAll(async () => {
  endpoints = await up({ cloud });
  const source = processAccessSource((key) => ({ cloud: "local", localCloud: cloud })[key]);
  access = await objectStoreAccess(source);
  keys = await b2KeyAccess(source);
  for (const name of [bucket, otherBucket]) await root().send(new CreateBucketCommand({ Bucket: name }));
  await root().send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  for (const [b, key] of [[bucket, `${prefixA}seed`], [bucket, `${prefixB}seed`], [bucket, "outside"], [otherBucket, `${prefixA}seed`]] as const) {
    await root().send(new PutObjectCommand({ Bucket: b, Key: key, Body: `${b}/${key}` }));
  }
  session = await authorize(keys);
  const id = await bucketId(session, bucket);
  keyA = await createScopedKey(session, "dumont-test-alpha", id, prefixA);
  keyB = await createScopedKey(session, "dumont-test-beta", id, prefixB);
});

afterAll(async () => {
  await down(cloud);
});

describe("B2 keys on the local cloud", () => {
  it("publishes the native API and authorizes the master key there", () => {
    expect(keys.authorizeUrl).toBe(endpoints.b2.url);
    expect(session.apiUrl).toBe(endpoints.b2.url);
    expect(session.accountId).toMatch(/^[0-9a-f]{12}$/);
    expect(keyA.keyId).not.toBe(keyB.keyId);
  });

  it("lets each key write, read, list and delete under its own prefix", async () => {
    for (const [key, prefix] of [[keyA, prefixA], [keyB, prefixB]] as const) {
      const s3 = clientOf(key);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}own`, Body: "mine" }));
      expect(await read(s3, bucket, `${prefix}own`)).toBe("mine");
      expect(await read(s3, bucket, `${prefix}seed`)).toBe(`${bucket}/${prefix}seed`);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      expect(listed.Contents?.map((c) => c.Key).sort()).toEqual([`${prefix}own`, `${prefix}seed`]);
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
      expect(versions.Versions?.length).toBe(2);
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}big` }));
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}big`, UploadId: upload.UploadId }));
      expect(await outcome(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `${prefix}own` }] } })))).toBe("ok");
    }
  });

  it("refuses a key everything of the other prefix, the rest of the bucket and other buckets", async () => {
    for (const [key, other] of [[keyA, prefixB], [keyB, prefixA]] as const) {
      const s3 = clientOf(key);
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${other}seed` })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${other}planted`, Body: "x" })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: other })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: other })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `${other}seed` }] } })))).toBe("AccessDenied");
      // A wider listing would show the other prefix too.
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "snapshots/" })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "outside" })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: otherBucket, Key: `${prefixA}seed` })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new PutObjectCommand({ Bucket: otherBucket, Key: `${prefixA}planted`, Body: "x" })))).toBe("AccessDenied");
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: otherBucket, Prefix: prefixA })))).toBe("AccessDenied");
    }
    // Nothing was planted or removed.
    expect(await read(root(), bucket, `${prefixB}seed`)).toBe(`${bucket}/${prefixB}seed`);
    expect(await outcome(root().send(new GetObjectCommand({ Bucket: bucket, Key: `${prefixB}planted` })))).toBe("NoSuchKey");
  });

  it("holds presigned URLs to the signing key's prefix, as hosts use them", async () => {
    const own = await getSignedUrl(clientOf(keyA), new GetObjectCommand({ Bucket: bucket, Key: `${prefixA}seed` }), { expiresIn: 60 });
    const other = await getSignedUrl(clientOf(keyA), new GetObjectCommand({ Bucket: bucket, Key: `${prefixB}seed` }), { expiresIn: 60 });
    expect((await fetch(own)).status).toBe(200);
    expect((await fetch(other)).status).toBe(403);
  });

  it("runs Dumont's snapshot store and lease probe on a scoped key", async () => {
    const store = new SnapshotStore({ ...access, accessKeyId: keyA.keyId, secretAccessKey: keyA.applicationKey, bucket, prefix: prefixA, stack: "alpha" });
    expect(await honoursConditionalWrites(store.s3, bucket, `${prefixA}.dumont/conditional-writes.probe`)).toBe(true);
    const id = snapshotId("scoped", new Date(Date.now() - 3600_000));
    const uploadId = await store.startUpload(id);
    const [url] = await store.presignParts(id, uploadId, 1);
    const put = await fetch(url!, { method: "PUT", body: "archive bytes" });
    expect(put.status).toBe(200);
    await store.completeUpload(id, uploadId, [{ part: 1, etag: put.headers.get("etag")!.replaceAll('"', "") }]);
    expect(await store.list()).toEqual([]);
    // An archive without its manifest is what an interrupted snapshot leaves: prune removes it.
    expect((await store.collectAbandoned(0)).archives).toEqual([id]);
  });

  it("refuses key management to a scoped key on the native API", async () => {
    const own = await authorize({ ...keys, keyId: keyA.keyId, applicationKey: keyA.applicationKey });
    await expect(createScopedKey(own, "dumont-escalate", await bucketId(own, bucket), "")).rejects.toThrow(/401 unauthorized/);
    await expect(deleteKey(own, keyB.keyId)).rejects.toThrow(/401 unauthorized/);
    await expect(authorize({ ...keys, keyId: keyA.keyId, applicationKey: "K004wrong" })).rejects.toThrow(/401 unauthorized/);
  });

  it("answers what it cannot do in B2's error envelope", async () => {
    const call = async (path: string, body: unknown) => {
      const reply = await fetch(`${endpoints.b2.url}${path}`, { method: "POST", headers: { authorization: session.authorizationToken }, body: JSON.stringify(body) });
      return { status: reply.status, body: await reply.json() };
    };
    const create = (extra: object) => call("/b2api/v4/b2_create_key", { accountId: session.accountId, keyName: "dumont-odd", capabilities: ["readFiles"], ...extra });
    expect(await call("/b2api/v3/b2_create_key", {})).toMatchObject({ status: 404, body: { status: 404, code: "not_found" } });
    expect(await create({ bucketIds: ["000000000000000000000000"] })).toMatchObject({ status: 400, body: { code: "bad_request", message: expect.stringMatching(/not a bucket/) } });
    expect(await create({ namePrefix: "snapshots/*/" })).toMatchObject({ status: 400, body: { code: "bad_request", message: expect.stringMatching(/cannot limit a key to a prefix/) } });
    expect(await create({ validDurationInSeconds: 60 })).toMatchObject({ status: 400, body: { code: "bad_request" } });
    expect((await fetch(`${endpoints.b2.url}/b2api/v4/b2_list_buckets`, { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("stops a deleted key at once, on S3 and on the native API, and leaves the other", async () => {
    await deleteKey(session, keyA.keyId);
    expect(await outcome(clientOf(keyA).send(new GetObjectCommand({ Bucket: bucket, Key: `${prefixA}seed` })))).toBe("InvalidAccessKeyId");
    await expect(authorize({ ...keys, keyId: keyA.keyId, applicationKey: keyA.applicationKey })).rejects.toThrow(/401 unauthorized/);
    expect(await read(clientOf(keyB), bucket, `${prefixB}seed`)).toBe(`${bucket}/${prefixB}seed`);
    // Deleting it again is no error: it is gone.
    await deleteKey(session, keyA.keyId);
  });

  it("makes the bucket component's scoped key on create and deletes it with the bucket", async () => {
    const inputs = { bucketName: "dumont-b2keys-op", prefix: "snapshots/gamma/", expireNoncurrentDays: 1, forceDestroy: true, createScopedKey: true, enableVersioning: true };
    const outputs = await createBucket(access, inputs, keys);
    expect(outputs.scopedKeyId).toMatch(/^004[0-9a-f]{22}$/);
    const scoped = clientOf({ keyId: outputs.scopedKeyId, applicationKey: outputs.scopedKey });
    await scoped.send(new PutObjectCommand({ Bucket: inputs.bucketName, Key: `${inputs.prefix}x`, Body: "x" }));
    expect(await outcome(scoped.send(new PutObjectCommand({ Bucket: inputs.bucketName, Key: "snapshots/delta/x", Body: "x" })))).toBe("AccessDenied");
    await deleteBucket(access, outputs, keys);
    expect(await outcome(scoped.send(new ListObjectsV2Command({ Bucket: inputs.bucketName, Prefix: inputs.prefix })))).toBe("InvalidAccessKeyId");
  });
});
