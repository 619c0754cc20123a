// `dumont:Environment` for programs in any Pulumi language: the same Environment component Dumont's
// own stacks declare (components/environment.ts), made from plain settings. Its arguments are
// Dumont's settings by the same names (the README's settings table is their reference); where the
// environment runs (dumont:cloud, dumont:localCloud) and the credentials stay in the stack's config,
// where the providers read them. Operations (failover, snapshots, watch) run on Dumont's own stacks.
// No `onstart` or `env`: a stack keeps them as secrets of the instance, but a component's arguments
// are plain values in the caller's state.
import * as pulumi from "@pulumi/pulumi";
import { Environment as StackEnvironment } from "../components/environment.ts";
import type { SettingKey, SettingValue } from "../contract/settings-schema.ts";
import { slug, stackNamePattern, standbyNetworkTag } from "../contract/stack-names.ts";
import { UserError } from "../lib/errors.ts";
import { environmentArgs } from "../stacks/environment-args.ts";
import { readSettings } from "../stacks/settings.ts";
import { componentSettingSource } from "./settings-source.ts";

export interface EnvironmentArgs {
  /** Acceptable GPU models, as Vast spells them (default ["RTX 4090"]). */
  gpuNames?: string[];
  /** GPUs per instance (default 1). */
  gpuCount?: number;
  /** Disk of the GPU instance in GB, fixed for its life (default 32). */
  diskGb?: number;
  /** The Docker image the GPU instance runs, with its tag. */
  image?: string;
  /** Highest total price of the GPU in $/h, compute and storage (default 1.0). */
  maxPricePerHour?: number;
  /** Lowest reliability of the GPU's host, 0 to 1 (default 0.95). */
  minReliability?: number;
  /** Only Vast-verified hosts (default true). */
  verifiedOnly?: boolean;
  /** Only datacenter hosts (default false). */
  datacenterOnly?: boolean;
  /** "on-demand" (default) or "interruptible": a bid at the offer's minimum plus bidMargin. */
  rentType?: string;
  /** An interruptible GPU's bid above the offer's minimum bid, as a fraction of it (default 0.25). */
  bidMargin?: number;
  /** Acceptable host countries, ISO codes; empty for any (default). */
  geolocation?: string[];
  /** Prefer a host with a direct SSH port over Vast's proxy (default true). */
  directSsh?: boolean;
  /** Seconds to wait for the GPU to run and answer SSH before trying the next offer. */
  readyTimeoutSeconds?: number;
  /** Keep a CPU standby that mirrors /workspace (default false). */
  autoStandbyEnabled?: boolean;
  /** The GCP project of the standby (cloud real). */
  gcpProject?: string;
  /** The standby's GCP zone (default europe-west1-b). */
  gcpZone?: string;
  /** The standby's GCP machine type. */
  gcpMachineType?: string;
  /** The standby's boot disk in GB (default 100). */
  gcpDiskSize?: number;
  /** A Spot VM for the standby (default true). */
  gcpSpot?: boolean;
  /** Address ranges the standby's SSH port is open to (default ["0.0.0.0/0"], keys only). */
  standbySshSourceRanges?: string[];
  /** The snapshot bucket (default dumont-<project>-<stack>-<resource name>). */
  bucketName?: string;
  /** The bucket's S3 endpoint. */
  bucketEndpoint?: string;
  /** The bucket's region (default: from the endpoint). */
  bucketRegion?: string;
  /** Destroy the bucket with its snapshots on `pulumi destroy` (default false). */
  bucketForceDestroy?: boolean;
  /** Give operations a key limited to the bucket and prefix. */
  bucketScopedKey?: boolean;
  /** The prefix of snapshots in the bucket. */
  snapshotPrefix?: string;
}

// Each argument is the setting of the same name and accepts its values: a rename or a new type in
// contract/settings-schema.ts fails type checking here.
type Accepts<K extends keyof EnvironmentArgs> = K extends SettingKey ? (SettingValue<K> extends NonNullable<EnvironmentArgs[K]> | undefined ? true : false) : false;
type EveryArgumentIsASetting = { [K in keyof Required<EnvironmentArgs>]: Accepts<K> }[keyof EnvironmentArgs] extends true ? true : false;
const everyArgumentIsASetting: EveryArgumentIsASetting = true;
void everyArgumentIsASetting;

/** The arguments, at run time: a setting given that is not one of them is refused (settings-source.ts). */
export const environmentArgumentNames = [
  "gpuNames", "gpuCount", "diskGb", "image", "maxPricePerHour", "minReliability", "verifiedOnly", "datacenterOnly", "rentType",
  "bidMargin", "geolocation", "directSsh", "readyTimeoutSeconds", "autoStandbyEnabled", "gcpProject", "gcpZone", "gcpMachineType",
  "gcpDiskSize", "gcpSpot", "standbySshSourceRanges", "bucketName", "bucketEndpoint", "bucketRegion", "bucketForceDestroy",
  "bucketScopedKey", "snapshotPrefix",
] as const satisfies ReadonlyArray<keyof EnvironmentArgs & SettingKey>;
type Unlisted = Exclude<keyof EnvironmentArgs, (typeof environmentArgumentNames)[number]>;
const everyArgumentIsListed: [Unlisted] extends [never] ? true : false = true;
void everyArgumentIsListed;

/** GCP's rule for a network tag (the standby's firewall rule is tied to one). */
const gcpNetworkTag = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The environment's name among Dumont's stacks: `<project>.<stack>.<resource>`, so that its labels,
 * bucket and standby match no stack of Dumont's own project (whose sweeps match labels exactly).
 * Names derived from it (the standby's host and network tag) are lowercase: see claimEnvironmentName.
 */
export function componentStackName(project: string, stack: string, resource: string): string {
  const name = `${project}.${stack}.${resource}`;
  if (!stackNamePattern.test(name)) {
    throw new UserError(`dumont:Environment '${resource}': its name labels the environment's GPUs, so it may hold only letters, digits, '-', '_' and '.'`, "rename the resource");
  }
  if (!gcpNetworkTag.test(standbyNetworkTag(name))) {
    throw new UserError(`dumont:Environment '${resource}': '${standbyNetworkTag(name)}' (the standby's network tag, from project, stack and resource names) is not a GCP network tag: at most 63 characters, ending in a letter or digit`, "use a shorter resource name");
  }
  return name;
}

const claimed = new Set<string>();

/**
 * Two environments of one stack whose names differ only in case or in '.' and '_' against '-' (or
 * that share a name under different parents) would share a standby host, a network tag and a
 * snapshot prefix: the second is refused. This process serves one deployment of one stack.
 */
export function claimEnvironmentName(name: string, dryRun: boolean): void {
  const key = `${dryRun}:${slug(name)}`;
  if (claimed.has(key)) throw new UserError(`two dumont:Environment resources of this stack are both named '${name}' (names are compared in lowercase, with '.' and '_' as '-')`, "give each environment its own name");
  claimed.add(key);
}

/** A Vast.ai GPU whose /workspace is mirrored to a CPU standby and snapshotted to a bucket. */
export class Environment extends pulumi.ComponentResource {
  /** The GPU's Vast instance id. */
  public readonly instanceId: pulumi.Output<number>;
  /** Where the GPU answers SSH. */
  public readonly gpuHost: pulumi.Output<string>;
  public readonly gpuPort: pulumi.Output<number>;
  /** The GPU's SSH host key, installed by Dumont at its start: pin it (known_hosts). */
  public readonly gpuHostKey: pulumi.Output<string>;
  /** The GPU model Vast rented. */
  public readonly gpuName: pulumi.Output<string>;
  /** What the GPU costs in $/h, compute and storage. */
  public readonly dphTotal: pulumi.Output<number>;
  /** Where the standby answers SSH (empty without a standby). */
  public readonly standbyHost: pulumi.Output<string>;
  public readonly standbyPort: pulumi.Output<number>;
  public readonly standbyUser: pulumi.Output<string>;
  public readonly standbyHostKey: pulumi.Output<string>;
  /** The snapshot bucket, its S3 endpoint and the snapshots' prefix. */
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketEndpoint: pulumi.Output<string>;
  public readonly snapshotPrefix: pulumi.Output<string>;
  /** The key that logs in to the GPU and the standby (the private half is a secret). */
  public readonly sshPublicKey: pulumi.Output<string>;
  public readonly sshPrivateKey: pulumi.Output<string>;

  constructor(name: string, args: EnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dumont:index:Environment", name, {}, opts);
    const stack = componentStackName(pulumi.getProject(), pulumi.getStack(), name);
    claimEnvironmentName(stack, pulumi.runtime.isDryRun());
    const settings = readSettings(componentSettingSource({ ...args }, environmentArgumentNames, pulumi.runtime.allConfig()), stack);
    // Not pinned: nothing but this program changes the component's standby.
    const env = new StackEnvironment(name, environmentArgs(settings, new pulumi.Config("dumont"), ""), { parent: this });
    const gpu = env.gpus[settings.activeSlot]!.instance;
    this.instanceId = gpu.instanceId;
    this.gpuHost = gpu.sshHost;
    this.gpuPort = gpu.sshPort;
    this.gpuHostKey = gpu.hostKey;
    this.gpuName = gpu.gpuName;
    this.dphTotal = gpu.dphTotal;
    this.standbyHost = env.standby?.host ?? pulumi.output("");
    this.standbyPort = env.standby?.port ?? pulumi.output(0);
    this.standbyUser = env.standby?.user ?? pulumi.output("");
    this.standbyHostKey = env.standby?.hostKey ?? pulumi.output("");
    this.bucketName = env.bucket.bucketName;
    this.bucketEndpoint = env.bucket.endpoint;
    this.snapshotPrefix = env.bucket.prefix;
    this.sshPublicKey = env.sshPublicKey;
    this.sshPrivateKey = env.sshPrivateKey;
    this.registerOutputs({
      instanceId: this.instanceId, gpuHost: this.gpuHost, gpuPort: this.gpuPort, gpuHostKey: this.gpuHostKey, gpuName: this.gpuName,
      dphTotal: this.dphTotal, standbyHost: this.standbyHost, standbyPort: this.standbyPort, standbyUser: this.standbyUser,
      standbyHostKey: this.standbyHostKey, bucketName: this.bucketName, bucketEndpoint: this.bucketEndpoint, snapshotPrefix: this.snapshotPrefix,
      sshPublicKey: this.sshPublicKey, sshPrivateKey: this.sshPrivateKey,
    });
  }
}
