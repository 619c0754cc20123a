// What the snapshot-bucket provider does, through the S3 API that both Backblaze B2 and MinIO
// speak: create the bucket or adopt one this account already owns (recording which), add Dumont's
// lifecycle rule to the bucket's rules (lifecycle-rules.ts), and, when asked, make an application
// key limited to the bucket and prefix through B2's native API (b2-keys.ts; on the local cloud its
// emulation, where MinIO enforces the key). A bucket may hold other people's objects and rules, so deleting
// touches only what Dumont put there (object-keys.ts: its snapshots and control objects under its
// prefix, and its rule), refuses while snapshots remain unless forceDestroy says to delete them,
// and deletes the bucket itself only when Dumont created it and nothing else is left in it.
import {
  AbortMultipartUploadCommand, CreateBucketCommand, DeleteBucketCommand, DeleteBucketLifecycleCommand, DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand, HeadBucketCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand, type LifecycleRule, type ObjectIdentifier, type S3Client,
} from "@aws-sdk/client-s3";
import type { B2KeyAccess } from "../../clouds/cloud-access.ts";
import { UserError } from "../../lib/errors.ts";
import { dumontPrefix } from "../../contract/stack-names.ts";
import { objectStoreClient, type ObjectStoreSettings } from "../../dataplane/object-store/client.ts";
import { dumontObjectKind } from "../../dataplane/snapshot/object-keys.ts";
import { settingFailures } from "../../contract/setting-check.ts";
import { authorize, bucketId, createScopedKey, deleteKey } from "./b2-keys.ts";
import { isDumontRule, rulesOverlapping, withDumontRule, withoutDumontRule } from "./lifecycle-rules.ts";

export interface BucketInputs {
  readonly bucketName: string;
  readonly prefix: string;
  /** Days after which hidden (non-current) versions and unfinished uploads are deleted. */
  readonly expireNoncurrentDays: number;
  readonly forceDestroy: boolean;
  /** Make an application key limited to this bucket and prefix (B2, or the local cloud's emulation of its key API). */
  readonly createScopedKey: boolean;
  /** MinIO needs versioning switched on to behave like B2, whose buckets always keep versions. */
  readonly enableVersioning: boolean;
}

export interface BucketOutputs extends BucketInputs {
  readonly endpoint: string;
  readonly region: string;
  readonly scopedKeyId: string;
  readonly scopedKey: string;
  /**
   * Whether Dumont created the bucket (false: it existed and was adopted). Only a bucket Dumont
   * created is ever deleted; states from before this was recorded count as adopted.
   */
  readonly createdByDumont: boolean;
}

/** The provider's `check`: one failure per bad input; the bucket's name by the rule of dumont:bucketName. */
export function checkBucketInputs(news: Partial<Record<keyof BucketInputs, unknown>>): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = settingFailures({ bucketName: news.bucketName }, ["bucketName"]);
  const days = news.expireNoncurrentDays;
  if (!(typeof days === "number" && Number.isInteger(days) && days >= 1)) failures.push({ property: "expireNoncurrentDays", reason: "a whole number of days ≥ 1" });
  return failures;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** True when the bucket exists, false when the store says it does not; any other failure is thrown. */
async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (httpStatus(error) === 404) return false;
    throw error;
  }
}

/** Creates the bucket; false when this account already owns one of that name (adopted, not created). */
async function createOrAdopt(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    const name = (error as Error).name;
    if (name === "BucketAlreadyExists") {
      throw new UserError(`bucket name '${bucket}' belongs to another account (B2 bucket names are global): choose another dumont:bucketName`);
    }
    if (name === "BucketAlreadyOwnedByYou") return false;
    throw error;
  }
}

/** The bucket's lifecycle rules; none when it has no configuration. Any other failure is thrown, so rules never read are never overwritten. */
async function readRules(s3: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    return (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if ((error as Error).name === "NoSuchLifecycleConfiguration") return [];
    throw error;
  }
}

async function writeRules(s3: S3Client, bucket: string, rules: readonly LifecycleRule[], prefix: string): Promise<void> {
  if (rules.length === 0) {
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
    return;
  }
  try {
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...rules] } }));
  } catch (error) {
    const overlapping = rulesOverlapping(rules, prefix);
    if (overlapping.length === 0) throw error;
    const named = overlapping.map((r) => `'${r.ID ?? "(no id)"}' (prefix '${r.Filter?.Prefix ?? r.Prefix ?? ""}')`).join(", ");
    throw new UserError(`bucket '${bucket}' refused Dumont's lifecycle rule for '${prefix}' next to its rule ${named}, which covers the same files (B2 allows one rule per file): choose another dumont:snapshotPrefix or dumont:bucketName`, undefined, { cause: error });
  }
}

/** Adds or replaces Dumont's rule (also one for a former prefix); every other rule stays as it was. */
async function putDumontRule(s3: S3Client, inputs: BucketInputs, formerPrefixes: readonly string[] = []): Promise<void> {
  const rules = await readRules(s3, inputs.bucketName);
  await writeRules(s3, inputs.bucketName, withDumontRule(rules, inputs.prefix, inputs.expireNoncurrentDays, formerPrefixes), inputs.prefix);
}

async function removeDumontRule(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const rules = await readRules(s3, bucket);
  const kept = withoutDumontRule(rules, [prefix]);
  if (kept.length !== rules.length) await writeRules(s3, bucket, kept, prefix);
}

/** `keys` manages application keys; needed only when inputs.createScopedKey. */
export async function createBucket(access: ObjectStoreSettings, inputs: BucketInputs, keys?: B2KeyAccess): Promise<BucketOutputs> {
  const s3 = objectStoreClient(access);
  const createdByDumont = await createOrAdopt(s3, inputs.bucketName);
  try {
    // Versioning can never be switched off again (only suspended): an adopted bucket keeps its own.
    if (inputs.enableVersioning && createdByDumont) {
      await s3.send(new PutBucketVersioningCommand({ Bucket: inputs.bucketName, VersioningConfiguration: { Status: "Enabled" } }));
    }
    await putDumontRule(s3, inputs);
    let scoped = { keyId: "", applicationKey: "" };
    if (inputs.createScopedKey) {
      if (!keys) throw new Error("createBucket: a scoped key was asked for without access to B2's key API");
      const session = await authorize(keys);
      scoped = await createScopedKey(session, `${dumontPrefix}${inputs.bucketName}`.slice(0, 100), await bucketId(session, inputs.bucketName), inputs.prefix);
    }
    return { ...inputs, endpoint: access.endpoint, region: access.region, scopedKeyId: scoped.keyId, scopedKey: scoped.applicationKey, createdByDumont };
  } catch (error) {
    // A failed create leaves no state behind: the next attempt would find this (empty) bucket, take
    // it for someone else's and never delete it. So the bucket this call made goes with the failure,
    // and an adopted one loses the rule Dumont may have added.
    if (createdByDumont) await s3.send(new DeleteBucketCommand({ Bucket: inputs.bucketName })).catch(() => undefined);
    else await removeDumontRule(s3, inputs.bucketName, inputs.prefix).catch(() => undefined);
    throw error;
  }
}

export async function readBucket(access: ObjectStoreSettings, props: BucketOutputs): Promise<BucketOutputs | undefined> {
  const s3 = objectStoreClient(access);
  if (!(await bucketExists(s3, props.bucketName))) return undefined;
  const rules = await readRules(s3, props.bucketName).catch(() => []);
  const rule = rules.find((r) => isDumontRule(r, [props.prefix]));
  return { ...props, expireNoncurrentDays: rule?.NoncurrentVersionExpiration?.NoncurrentDays ?? 0 };
}

export async function updateLifecycle(access: ObjectStoreSettings, inputs: BucketInputs, former?: BucketInputs): Promise<void> {
  await putDumontRule(objectStoreClient(access), inputs, former ? [former.prefix] : []);
}

interface DumontVersions {
  readonly snapshots: ObjectIdentifier[];
  readonly control: ObjectIdentifier[];
}

/** Every version and delete marker of Dumont's objects under its prefix; other keys are not even collected. */
async function dumontVersions(s3: S3Client, bucket: string, prefix: string): Promise<DumontVersions> {
  const found: DumontVersions = { snapshots: [], control: [] };
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
      const kind = dumontObjectKind(prefix, v.Key ?? "");
      if (kind === "snapshot") found.snapshots.push({ Key: v.Key!, VersionId: v.VersionId });
      else if (kind === "control") found.control.push({ Key: v.Key!, VersionId: v.VersionId });
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return found;
}

async function deleteVersions(s3: S3Client, bucket: string, versions: readonly ObjectIdentifier[]): Promise<void> {
  for (let i = 0; i < versions.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: versions.slice(i, i + 1000), Quiet: true } }));
  }
}

/**
 * Aborts the unfinished uploads of Dumont's objects (interrupted snapshots), which bill on B2. Best
 * effort: a store that cannot list uploads by prefix (MinIO) has none of them to bill.
 */
async function abortDumontUploads(s3: S3Client, bucket: string, prefix: string): Promise<void> {
  const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix })).catch(() => undefined);
  for (const upload of pending?.Uploads ?? []) {
    if (!upload.Key || !upload.UploadId || dumontObjectKind(prefix, upload.Key) === undefined) continue;
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId })).catch(() => undefined);
  }
}

/** Whether the bucket holds nothing at all: no object, no version, no delete marker, whoever's. */
async function isEmpty(s3: S3Client, bucket: string): Promise<boolean> {
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1 }));
  return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0) === 0;
}

/** `keys` manages application keys: the scoped key, if one was made, is deleted with it. */
export async function deleteBucket(access: ObjectStoreSettings, props: BucketOutputs, keys?: B2KeyAccess): Promise<void> {
  const s3 = objectStoreClient(access);
  const bucket = props.bucketName;
  if (await bucketExists(s3, bucket)) {
    const versions = await dumontVersions(s3, bucket, props.prefix);
    if (versions.snapshots.length > 0 && !props.forceDestroy) {
      throw new UserError(`bucket '${bucket}' still holds ${versions.snapshots.length} object versions of snapshots under '${props.prefix}'; delete them with \`dumont snapshot delete\`, or set dumont:bucketForceDestroy to true`);
    }
    await abortDumontUploads(s3, bucket, props.prefix);
    await deleteVersions(s3, bucket, [...versions.snapshots, ...versions.control]);
    await removeDumontRule(s3, bucket, props.prefix);
    if (props.createdByDumont === true && (await isEmpty(s3, bucket))) {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch((error: Error) => {
        // Something arrived (or an upload is still open) since the look: the bucket stays, with it.
        if (error.name !== "BucketNotEmpty") throw error;
      });
    }
  }
  if (props.scopedKeyId && keys) await deleteKey(await authorize(keys), props.scopedKeyId);
}
