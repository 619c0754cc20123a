// The dynamic provider behind the snapshot bucket. Like the Vast provider it captures only module
// paths; the object-store credentials come from the stack (or the local cloud) in `configure`.
// Whether Dumont created the bucket or adopted it is an output (createdByDumont), kept through
// updates and refreshes: it decides on delete whether the bucket itself may go.
import * as pulumi from "@pulumi/pulumi";
import { accessSource, cloudAccess, goneWithLocalCloud, keepConfig, type ConfiguredProvider } from "../provider-config.ts";
import type { BucketInputs, BucketOutputs } from "./bucket-operations.ts";

const operationsModule = new URL("./bucket-operations.ts", import.meta.url).pathname;

async function access(provider: ConfiguredProvider) {
  return (await cloudAccess()).objectStoreAccess(await accessSource(provider));
}

/** B2's key API (or the local cloud's), resolved only when a scoped key is made or deleted. */
async function keyAccess(provider: ConfiguredProvider) {
  return (await cloudAccess()).b2KeyAccess(await accessSource(provider));
}

export const snapshotBucketProvider: pulumi.dynamic.ResourceProvider<BucketInputs, BucketOutputs> & ConfiguredProvider = {
  configure: keepConfig,

  async check(_olds, news) {
    const { checkBucketInputs } = await import(operationsModule);
    return { inputs: news, failures: checkBucketInputs(news) };
  },

  async diff(_id, olds, news) {
    const keys = ["bucketName", "prefix", "expireNoncurrentDays", "forceDestroy", "createScopedKey", "enableVersioning"] as const;
    const changed = keys.filter((k) => olds[k] !== news[k]);
    const replaces = changed.filter((k) => k === "bucketName" || k === "createScopedKey");
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
  },

  async create(inputs) {
    const { createBucket } = await import(operationsModule);
    const outs: BucketOutputs = await createBucket(await access(this), inputs, inputs.createScopedKey ? await keyAccess(this) : undefined);
    return { id: inputs.bucketName, outs };
  },

  async read(id, props) {
    if (await goneWithLocalCloud(this)) return { id: "" };
    const { readBucket } = await import(operationsModule);
    const current = await readBucket(await access(this), props!);
    return current ? { id, props: current } : { id: "" };
  },

  async update(_id, olds, news) {
    const { updateLifecycle } = await import(operationsModule);
    await updateLifecycle(await access(this), news, olds);
    return { outs: { ...olds, ...news } };
  },

  async delete(_id, props) {
    if (await goneWithLocalCloud(this)) return;
    const { deleteBucket } = await import(operationsModule);
    await deleteBucket(await access(this), props, props.scopedKeyId ? await keyAccess(this) : undefined);
  },
};

export type SnapshotBucketArgs = { readonly [K in keyof BucketInputs]: pulumi.Input<BucketInputs[K]> };

export class SnapshotBucketResource extends pulumi.dynamic.Resource {
  declare readonly bucketName: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string>;
  declare readonly region: pulumi.Output<string>;
  declare readonly prefix: pulumi.Output<string>;
  declare readonly scopedKeyId: pulumi.Output<string>;
  declare readonly scopedKey: pulumi.Output<string>;
  declare readonly createdByDumont: pulumi.Output<boolean>;

  constructor(name: string, args: SnapshotBucketArgs, opts?: pulumi.CustomResourceOptions) {
    super(snapshotBucketProvider, name, { ...args, endpoint: undefined, region: undefined, scopedKeyId: undefined, scopedKey: undefined, createdByDumont: undefined },
      { ...opts, additionalSecretOutputs: ["scopedKey"] }, "dumont", "SnapshotBucket");
  }
}
