// From checked settings to the Environment component's args: which slots exist, local or GCP
// standby, B2 or local bucket. Pure apart from reading secrets as Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import type { EnvironmentArgs } from "../components/environment.ts";
import { localStandbyName, standbyNetworkTag } from "../contract/stack-names.ts";
import type { Settings } from "./settings.ts";
import type { VastInstanceInputs } from "../components/vast/instance-operations.ts";

/**
 * Set by failover and watch for the updates they run ("1", or "keep" when the state holds a
 * standby): the standby stays as it is, and stays at all, whatever the settings file or the
 * environment say now (see StandbyArgs.pinned).
 */
export const pinnedOperationVariable = "DUMONT_PIN_STANDBY";

/**
 * What each slot's GPU is rented with, from the settings: the program's GpuInstance args, and a
 * failover's own rent (stacks/failover/rent.ts), which must ask for exactly the same.
 */
export function gpuRentArgs(settings: Settings): Omit<VastInstanceInputs, "label" | "sshPublicKey" | "sshPrivateKey" | "adopt"> {
  const g = settings.gpu;
  return {
    gpuNames: [...g.gpuNames], gpuCount: g.gpuCount, diskGb: g.diskGb, image: g.image, maxPricePerHour: g.maxPricePerHour,
    minReliability: g.minReliability, verifiedOnly: g.verifiedOnly, datacenterOnly: g.datacenterOnly, geolocation: [...g.geolocation],
    rentType: g.rentType, bidMargin: g.bidMargin,
    directSsh: g.directSsh, excludeMachineIds: [...g.excludeMachineIds], onstart: g.onstart, env: { ...g.env },
    readyTimeoutSeconds: g.readyTimeoutSeconds,
    // The local cloud answers in milliseconds; Vast asks clients to poll every few seconds.
    pollIntervalSeconds: settings.cloud === "local" ? 0.5 : 5,
  };
}

export function environmentArgs(settings: Settings, config: pulumi.Config, pin = process.env[pinnedOperationVariable], adopted?: EnvironmentArgs["adopted"]): EnvironmentArgs {
  const local = settings.cloud === "local";
  const pinned = pin === "1" || pin === "keep";
  const standbyDeclared = settings.standby.enabled || pin === "keep";
  return {
    stack: settings.stack,
    activeSlot: settings.activeSlot,
    provisionedSlots: settings.provisionedSlots,
    // Readonly only in its type: gpuRentArgs makes fresh arrays.
    gpu: gpuRentArgs(settings) as EnvironmentArgs["gpu"],
    ...(adopted && { adopted }),
    standby: !standbyDeclared ? undefined : local
      ? { kind: "local", localName: localStandbyName(settings.stack), pinned }
      : {
        kind: "gcp",
        pinned,
        gcp: {
          project: settings.standby.gcpProject!,
          zone: settings.standby.gcpZone,
          machineType: settings.standby.gcpMachineType,
          diskGb: settings.standby.gcpDiskSize,
          spot: settings.standby.gcpSpot,
          credentials: process.env.GCP_CREDENTIALS ? pulumi.secret(process.env.GCP_CREDENTIALS) : config.requireSecret("gcpCredentials"),
          sshSourceRanges: [...settings.standby.sshSourceRanges],
          networkTag: standbyNetworkTag(settings.stack),
        },
      },
    bucket: {
      bucketName: settings.bucket.name,
      prefix: settings.bucket.prefix,
      forceDestroy: settings.bucket.forceDestroy,
      createScopedKey: settings.bucket.scopedKey,
      enableVersioning: local,
    },
  };
}
