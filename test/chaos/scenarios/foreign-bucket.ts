// The stack's bucket already exists and is someone else's too: it holds their objects (outside the
// snapshot prefix, under it but not snapshots, another stack's snapshot beside it) and a lifecycle
// rule of their own. The stack adopts it, snapshots into it and is destroyed: everything of theirs
// is still there, their rule too, and nothing of Dumont's is left. A new `up` adopts it again.
import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand, GetBucketLifecycleConfigurationCommand, HeadBucketCommand, ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand, PutObjectCommand, type LifecycleRule, type S3Client,
} from "@aws-sdk/client-s3";
import { dumontRuleId } from "../../../components/bucket/lifecycle-rules.ts";
import { objectStoreClient } from "../../../dataplane/object-store/client.ts";
import { dumontObjectKind } from "../../../dataplane/snapshot/object-keys.ts";
import { openProjectStack } from "../../../stacks/workspace.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";

const theirRule: LifecycleRule = { ID: "their-logs-expire", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 30 } };

/** Every key the bucket holds a version or delete marker of. */
async function keysIn(s3: S3Client, bucket: string): Promise<Set<string>> {
  const keys = new Set<string>();
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  do {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) keys.add(v.Key!);
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker);
  return keys;
}

async function rulesOf(s3: S3Client, bucket: string): Promise<LifecycleRule[]> {
  return (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).catch(() => ({ Rules: [] }))).Rules ?? [];
}

async function put(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `not Dumont's: ${key}\n` }));
}

export const foreignBucket: Scenario = {
  id: "foreign-bucket",
  fault: "the bucket exists, with others' objects and rule",
  where: "adopted at up, cleaned at destroy",
  async run(world) {
    const s3 = objectStoreClient(world.cloud.endpoints.s3);
    const bucket = `foreign-${randomBytes(4).toString("hex")}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Versioned, as B2's buckets always are: a destroy that deleted only current versions would leave Dumont's behind.
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [theirRule] } }));
    const theirs = ["data/model.safetensors", "logs/2026-11-30.log", "snapshots/someone-else/20261101T000000000Z-theirs/manifest.json"];
    await put(s3, bucket, theirs);

    const s = await world.stack({ bucketName: bucket, autoStandbyEnabled: false, bucketForceDestroy: true });
    const stack = await openProjectStack(s.name);
    const prefix = (await s.context()).outputs.bucket.prefix;
    expectThat(prefix === `snapshots/${s.name}/`, `the stack's snapshot prefix is '${prefix}', not its own default`);
    const recorded = (await stack.exportStack()).deployment.resources.find((r: { type: string }) => r.type === "pulumi-nodejs:dynamic/dumont:SnapshotBucket");
    expectThat(recorded?.outputs?.createdByDumont === false, `the adopted bucket is recorded as createdByDumont=${recorded?.outputs?.createdByDumont}`);
    const adoptedRules = await rulesOf(s3, bucket);
    expectThat(adoptedRules.some((r) => r.ID === theirRule.ID && r.Expiration?.Days === 30), `adopting the bucket dropped its rule '${theirRule.ID}': ${JSON.stringify(adoptedRules)}`);
    expectThat(adoptedRules.some((r) => r.ID === dumontRuleId && r.Filter?.Prefix === prefix), `no Dumont rule for '${prefix}' after up: ${JSON.stringify(adoptedRules)}`);

    // Theirs under Dumont's prefix too: a note, and something shaped like a snapshot one folder deeper.
    const theirsUnderPrefix = [`${prefix}README.txt`, `${prefix}exports/20261101T000000000Z-export/archive.tar.lz4`];
    await put(s3, bucket, theirsUnderPrefix);
    await s.onGpu((ssh) => ssh.run(["bash", "-c", "head -c 64K /dev/urandom > /workspace/mine.bin"]));
    const mine = await s.snapshot("mine", "full");
    expectThat(mine.stack === s.name, `the snapshot's manifest names stack '${mine.stack}', not '${s.name}'`);
    const before = await keysIn(s3, bucket);
    const dumontKeys = [...before].filter((k) => dumontObjectKind(prefix, k) !== undefined);
    expectThat(dumontKeys.some((k) => k.endsWith("/manifest.json")), `no snapshot of the stack in ${bucket} before destroy: ${[...before].join(", ")}`);

    await stack.destroy();
    await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch(() => {
      throw new Error(`destroy deleted bucket ${bucket}, which Dumont did not create`);
    });
    const after = await keysIn(s3, bucket);
    const lost = [...theirs, ...theirsUnderPrefix].filter((k) => !after.has(k));
    expectThat(lost.length === 0, `destroy deleted objects that were not Dumont's: ${lost.join(", ")}`);
    const left = [...after].filter((k) => dumontObjectKind(prefix, k) !== undefined);
    expectThat(left.length === 0, `destroy left Dumont's objects (or their versions): ${left.join(", ")}`);
    const rulesAfter = await rulesOf(s3, bucket);
    expectThat(rulesAfter.length === 1 && rulesAfter[0]!.ID === theirRule.ID && rulesAfter[0]!.Expiration?.Days === 30,
      `after destroy the bucket's rules are ${JSON.stringify(rulesAfter)}, not only '${theirRule.ID}'`);

    // The runner measures a stack with one GPU: the same stack adopts the bucket again.
    await stack.up();
    const readopted = await rulesOf(s3, bucket);
    expectThat(readopted.some((r) => r.ID === theirRule.ID) && readopted.some((r) => r.ID === dumontRuleId), `a second adoption left rules ${JSON.stringify(readopted)}`);
    return {
      detail: `${bucket} adopted: ${theirs.length + theirsUnderPrefix.length} objects and rule '${theirRule.ID}' of others kept through destroy; `
        + `${dumontKeys.length} object versions of snapshot ${mine.id} and Dumont's rule removed; adopted again by a new up`,
    };
  },
};
