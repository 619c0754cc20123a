// The bucket snapshots go to: Backblaze B2 through its S3 API, or the local cloud's MinIO; with,
// when asked, an application key that reaches only its prefix.
import * as pulumi from "@pulumi/pulumi";
import { SnapshotBucketResource } from "./bucket/bucket-provider.ts";

export interface SnapshotBucketArgs {
  /** Bucket name (global on B2). */
  readonly bucketName: pulumi.Input<string>;
  /** Key prefix of snapshots, ending in "/". Default "snapshots/". */
  readonly prefix?: pulumi.Input<string>;
  /** Days until hidden versions and unfinished uploads are really deleted. Default 1. */
  readonly expireNoncurrentDays?: pulumi.Input<number>;
  /** Empty the bucket on destroy instead of refusing. Default false. */
  readonly forceDestroy?: pulumi.Input<boolean>;
  /**
   * Make an application key limited to this bucket and prefix, through B2's native key API (on the
   * local cloud its emulation, where MinIO enforces the limits). Default false.
   */
  readonly createScopedKey?: pulumi.Input<boolean>;
  /** Turn on versioning (MinIO; B2 buckets always keep versions). Default false. */
  readonly enableVersioning?: pulumi.Input<boolean>;
}

export class SnapshotBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly prefix: pulumi.Output<string>;
  readonly scopedKeyId: pulumi.Output<string>;
  readonly scopedKey: pulumi.Output<string>;

  constructor(name: string, args: SnapshotBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dumont:index:SnapshotBucket", name, {}, opts);
    const bucket = createSnapshotBucket(name, this, args);
    this.bucketName = bucket.bucketName;
    this.endpoint = bucket.endpoint;
    this.region = bucket.region;
    this.prefix = bucket.prefix;
    this.scopedKeyId = bucket.scopedKeyId;
    this.scopedKey = bucket.scopedKey;
    this.registerOutputs({ bucketName: this.bucketName, endpoint: this.endpoint, prefix: this.prefix });
  }
}

export function createSnapshotBucket(name: string, parent: pulumi.Resource, args: SnapshotBucketArgs): SnapshotBucketResource {
  return new SnapshotBucketResource(`${name}-bucket`, {
    bucketName: args.bucketName,
    prefix: args.prefix ?? "snapshots/",
    expireNoncurrentDays: args.expireNoncurrentDays ?? 1,
    forceDestroy: args.forceDestroy ?? false,
    createScopedKey: args.createScopedKey ?? false,
    enableVersioning: args.enableVersioning ?? false,
  }, { parent });
}
