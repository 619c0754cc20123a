// What the snapshot-bucket provider does, through the S3 API that both Backblaze B2 and MinIO
// speak: create the bucket (adopting one this account already owns), set a lifecycle rule that
// really deletes hidden/old versions under the snapshot prefix (B2 only hides deleted files
// otherwise, and keeps billing them), and, on B2, make an application key limited to the bucket
// and prefix. Deleting refuses a non-empty bucket unless forceDestroy says to empty it.
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetBucketLifecycleConfigurationCommand, HeadBucketCommand,
  ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand, type S3Client,
} from "@aws-sdk/client-s3";
import { objectStoreClient, type ObjectStoreSettings } from "../../harness/object-store/client.ts";
import { authorize, bucketId, createScopedKey, deleteKey } from "./b2-keys.ts";

export interface BucketInputs {
  readonly bucketName: string;
  readonly prefix: string;
  /** Days after which hidden (non-current) versions and unfinished uploads are deleted. */
  readonly expireNoncurrentDays: number;
  readonly forceDestroy: boolean;
  /** B2 only: make an application key limited to this bucket and prefix. */
  readonly createScopedKey: boolean;
  /** MinIO needs versioning switched on to behave like B2, whose buckets always keep versions. */
  readonly enableVersioning: boolean;
}

export interface BucketOutputs extends BucketInputs {
  readonly endpoint: string;
  readonly region: string;
  readonly scopedKeyId: string;
  readonly scopedKey: string;
}

export interface B2Credentials {
  readonly keyId: string;
  readonly applicationKey: string;
}

export function lifecycleRules(prefix: string, days: number) {
  return [
    {
      ID: "dumont-delete-hidden-versions",
      Status: "Enabled" as const,
      Filter: { Prefix: prefix },
      NoncurrentVersionExpiration: { NoncurrentDays: days },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
    },
  ];
}

export async function createBucket(access: ObjectStoreSettings, inputs: BucketInputs): Promise<BucketOutputs> {
  const s3 = objectStoreClient(access);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: inputs.bucketName }));
  } catch (error) {
    const name = (error as Error).name;
    if (name === "BucketAlreadyExists") {
      throw new Error(`bucket name '${inputs.bucketName}' belongs to another account (B2 bucket names are global): choose another dumont:bucketName`);
    }
    if (name !== "BucketAlreadyOwnedByYou") throw error;
  }
  if (inputs.enableVersioning) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: inputs.bucketName, VersioningConfiguration: { Status: "Enabled" } }));
  }
  await s3.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: inputs.bucketName, LifecycleConfiguration: { Rules: lifecycleRules(inputs.prefix, inputs.expireNoncurrentDays) },
  }));
  let scoped = { keyId: "", applicationKey: "" };
  if (inputs.createScopedKey) {
    const session = await authorize(access.accessKeyId, access.secretAccessKey);
    scoped = await createScopedKey(session, `dumont-${inputs.bucketName}`.slice(0, 100), await bucketId(session, inputs.bucketName), inputs.prefix);
  }
  return { ...inputs, endpoint: access.endpoint, region: access.region, scopedKeyId: scoped.keyId, scopedKey: scoped.applicationKey };
}

export async function readBucket(access: ObjectStoreSettings, props: BucketOutputs): Promise<BucketOutputs | undefined> {
  const s3 = objectStoreClient(access);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: props.bucketName }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
  const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: props.bucketName })).catch(() => undefined);
  const rule = lifecycle?.Rules?.find((r) => r.ID === "dumont-delete-hidden-versions");
  return { ...props, expireNoncurrentDays: rule?.NoncurrentVersionExpiration?.NoncurrentDays ?? 0 };
}

export async function updateLifecycle(access: ObjectStoreSettings, inputs: BucketInputs): Promise<void> {
  await objectStoreClient(access).send(new PutBucketLifecycleConfigurationCommand({
    Bucket: inputs.bucketName, LifecycleConfiguration: { Rules: lifecycleRules(inputs.prefix, inputs.expireNoncurrentDays) },
  }));
}

/** Every version and delete marker, page by page. */
async function* allVersions(s3: S3Client, bucket: string) {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (entries.length > 0) yield entries;
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
}

export async function deleteBucket(access: ObjectStoreSettings, props: BucketOutputs, credentials?: B2Credentials): Promise<void> {
  const s3 = objectStoreClient(access);
  const exists = await s3.send(new HeadBucketCommand({ Bucket: props.bucketName })).then(() => true, () => false);
  if (exists) {
    let count = 0;
    for await (const batch of allVersions(s3, props.bucketName)) {
      if (!props.forceDestroy) {
        count += batch.length;
        continue;
      }
      for (let i = 0; i < batch.length; i += 1000) {
        await s3.send(new DeleteObjectsCommand({ Bucket: props.bucketName, Delete: { Objects: batch.slice(i, i + 1000), Quiet: true } }));
      }
    }
    if (count > 0) {
      throw new Error(`bucket '${props.bucketName}' still holds ${count} object versions (snapshots); delete them with \`dumont snapshot delete\`, or set dumont:bucketForceDestroy to true`);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: props.bucketName }));
  }
  if (props.scopedKeyId && credentials) await deleteKey(await authorize(credentials.keyId, credentials.applicationKey), props.scopedKeyId);
}
