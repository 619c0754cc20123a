// A GPU instance on Vast.ai: the requirements in, a running host with pinned SSH out.
import * as pulumi from "@pulumi/pulumi";
import { settingDefaults } from "../contract/settings-schema.ts";
import { VastInstance } from "./vast/instance-provider.ts";
import type { RentedInstance } from "./vast/rented-instance.ts";

export interface GpuInstanceArgs {
  /** Acceptable GPU models as Vast spells them, e.g. ["RTX 4090"]. */
  readonly gpuNames: pulumi.Input<string[]>;
  /** GPUs per instance. Default: dumont:gpuCount's (contract/settings-schema.ts, as every default here). */
  readonly gpuCount?: pulumi.Input<number>;
  /** Disk in GB, fixed for the instance's life. Default: dumont:diskGb's. */
  readonly diskGb?: pulumi.Input<number>;
  /** Docker image with a tag. Default: dumont:image's. */
  readonly image?: pulumi.Input<string>;
  /** Highest total price in $/h (compute and storage). Default: dumont:maxPricePerHour's. */
  readonly maxPricePerHour?: pulumi.Input<number>;
  /** Lowest host reliability (0-1). Default: dumont:minReliability's. */
  readonly minReliability?: pulumi.Input<number>;
  /** Only Vast-verified hosts. Default: dumont:verifiedOnly's. */
  readonly verifiedOnly?: pulumi.Input<boolean>;
  /** Only datacenter ("secure cloud") hosts. Default: dumont:datacenterOnly's. */
  readonly datacenterOnly?: pulumi.Input<boolean>;
  /** On-demand, or interruptible (a bid). Default: dumont:rentType's. */
  readonly rentType?: pulumi.Input<"on-demand" | "interruptible">;
  /** An interruptible rent's bid above the offer's minimum, as a fraction. Default: dumont:bidMargin's. */
  readonly bidMargin?: pulumi.Input<number>;
  /** Country codes the host may be in, e.g. ["US", "CA"]. Default: dumont:geolocation's (anywhere). */
  readonly geolocation?: pulumi.Input<string[]>;
  /** Prefer a direct SSH port over Vast's proxy. Default: dumont:directSsh's. */
  readonly directSsh?: pulumi.Input<boolean>;
  /** Machines never to rent (e.g. one that just failed). Default: dumont:excludeMachineIds's (none). */
  readonly excludeMachineIds?: pulumi.Input<number[]>;
  /** Script run after the instance starts. Default: dumont:onstart's (none). A secret in the state (vast/instance-provider.ts: secretInstanceInputs). */
  readonly onstart?: pulumi.Input<string>;
  /** Environment of the onstart script. Default: dumont:env's (none). A secret in the state, like onstart. */
  readonly env?: pulumi.Input<Record<string, string>>;
  /** Label on Vast, to find the instance by (a unique suffix is added per rent). */
  readonly label: pulumi.Input<string>;
  /** Public key allowed to log in as root. */
  readonly sshPublicKey: pulumi.Input<string>;
  /** Private key to prove the login works before the instance counts as ready. Optional. */
  readonly sshPrivateKey?: pulumi.Input<string>;
  /** Seconds to wait for running and SSH before the instance is destroyed. Default: dumont:readyTimeoutSeconds's. */
  readonly readyTimeoutSeconds?: pulumi.Input<number>;
  /** Seconds between status polls. Default 5. */
  readonly pollIntervalSeconds?: pulumi.Input<number>;
  /** An instance a failover rented with these args: taken into the state instead of renting one (vast/rented-instance.ts). */
  readonly adopt?: pulumi.Input<RentedInstance>;
}

export class GpuInstance extends pulumi.ComponentResource {
  /**
   * The rented instance, with every output its provider keeps (vast/instance-operations.ts:
   * VastInstanceOutputs): its address and pinned host key, machine, GPU, rates and disk as rented.
   */
  readonly instance: VastInstance;

  constructor(name: string, args: GpuInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dumont:index:GpuInstance", name, {}, opts);
    this.instance = createGpuInstance(name, this, args);
    const { instanceId, sshHost, sshPort, hostKey } = this.instance;
    this.registerOutputs({ instanceId, sshHost, sshPort, hostKey });
  }
}

/**
 * What a rented instance keeps for life, whatever the settings say later: a changed requirement,
 * image or key applies to the next GPU rented (a failover is the data-safe way to move now), never
 * by replacing the running instance and the /workspace on it. Only the label updates in place.
 */
export const fixedAtRent = [
  "gpuNames", "gpuCount", "diskGb", "image", "maxPricePerHour", "minReliability", "verifiedOnly", "datacenterOnly", "rentType", "bidMargin", "geolocation",
  "directSsh", "excludeMachineIds", "onstart", "env", "sshPublicKey", "sshPrivateKey", "readyTimeoutSeconds", "pollIntervalSeconds", "adopt",
];

export function createGpuInstance(name: string, parent: pulumi.Resource, args: GpuInstanceArgs): VastInstance {
  return new VastInstance(`${name}-instance`, {
    gpuNames: args.gpuNames,
    gpuCount: args.gpuCount ?? settingDefaults.gpuCount,
    diskGb: args.diskGb ?? settingDefaults.diskGb,
    image: args.image ?? settingDefaults.image,
    maxPricePerHour: args.maxPricePerHour ?? settingDefaults.maxPricePerHour,
    minReliability: args.minReliability ?? settingDefaults.minReliability,
    verifiedOnly: args.verifiedOnly ?? settingDefaults.verifiedOnly,
    datacenterOnly: args.datacenterOnly ?? settingDefaults.datacenterOnly,
    rentType: args.rentType ?? settingDefaults.rentType,
    bidMargin: args.bidMargin ?? settingDefaults.bidMargin,
    geolocation: args.geolocation ?? [...settingDefaults.geolocation],
    directSsh: args.directSsh ?? settingDefaults.directSsh,
    excludeMachineIds: args.excludeMachineIds ?? [...settingDefaults.excludeMachineIds],
    onstart: args.onstart ?? settingDefaults.onstart,
    env: args.env ?? { ...settingDefaults.env },
    label: args.label,
    sshPublicKey: args.sshPublicKey,
    sshPrivateKey: args.sshPrivateKey,
    readyTimeoutSeconds: args.readyTimeoutSeconds ?? settingDefaults.readyTimeoutSeconds,
    pollIntervalSeconds: args.pollIntervalSeconds ?? 5,
    adopt: args.adopt,
  }, { parent, ignoreChanges: fixedAtRent });
}
