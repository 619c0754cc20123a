// The Pulumi program of every Dumont stack: `pulumi up --stack local` (or dev, prod …) runs it, and
// so do Dumont's Automation API operations. It reads and checks the stack's settings, then
// declares the environment and exports what the operations need.
import * as pulumi from "@pulumi/pulumi";
import { Environment } from "../components/environment.ts";
import type { GpuInstance } from "../components/gpu-instance.ts";
import type { Standby } from "../components/standby/standby.ts";
import type { DeclaredStackOutputs, Declared, SlotOutputs, StandbyOutputs } from "../contract/stack-outputs.ts";
import { environmentArgs } from "./environment-args.ts";
import { programSettingSource } from "./program-settings.ts";
import { readSettings } from "./settings.ts";
import { readSlotRecord, withSlotRecord } from "./slot-record.ts";

// Slots, the active slot and excluded machines come from the stack's record once a failover wrote one.
const record = readSlotRecord(pulumi.getStack());
const settings = withSlotRecord(readSettings(programSettingSource(), pulumi.getStack()), record);
// A GPU a failover rented is taken into the state as it is (stacks/failover/rent.ts).
const env = new Environment("env", environmentArgs(settings, new pulumi.Config("dumont"), undefined, record?.adopted && { slot: record.adopted.slot, instance: record.adopted.instance }));

// The outputs are declared in contract/stack-outputs.ts and made here from the environment's parts.
const slotOutputs = (gpu: GpuInstance | undefined): Declared<SlotOutputs | null> => {
  if (!gpu) return null;
  const { instance } = gpu;
  const fields: { readonly [K in keyof SlotOutputs]: pulumi.Output<SlotOutputs[K]> } = {
    instanceId: instance.instanceId, host: instance.sshHost, port: instance.sshPort, hostKey: instance.hostKey, machineId: instance.machineId,
    gpuName: instance.gpuName, dphTotal: instance.dphTotal, dphBase: instance.dphBase, storageCostPerGbMonth: instance.storageCostPerGbMonth,
    inetUpCostPerGb: instance.inetUpCostPerGb, inetDownCostPerGb: instance.inetDownCostPerGb, diskGb: instance.diskGb,
    rentRequestedAt: instance.rentRequestedAt, runningAt: instance.runningAt, sshReadyAt: instance.sshReadyAt, onDemandPerHour: instance.onDemandPerHour,
  };
  return pulumi.output(fields);
};
const standbyOutputs = (s: Standby): Declared<StandbyOutputs> => pulumi.output({ host: s.host, port: s.port, user: s.user, hostKey: s.hostKey });

const outputs: DeclaredStackOutputs = {
  cloud: settings.cloud,
  localCloud: settings.localCloud,
  activeSlot: env.activeSlot,
  provisionedSlots: settings.provisionedSlots,
  slots: { a: slotOutputs(env.gpus.a), b: slotOutputs(env.gpus.b) },
  standby: env.standby ? standbyOutputs(env.standby) : null,
  bucket: pulumi.output({
    name: env.bucket.bucketName, endpoint: env.bucket.endpoint, region: env.bucket.region, prefix: env.bucket.prefix, keyId: env.bucket.scopedKeyId,
  }),
  /** The application key limited to the bucket and prefix that operations use (empty when dumont:bucketScopedKey is off). */
  bucketKey: pulumi.secret(env.bucket.scopedKey),
  sshPublicKey: env.sshPublicKey,
  sshPrivateKey: env.sshPrivateKey,
};

export const { cloud, localCloud, activeSlot, provisionedSlots, slots, standby, bucket, bucketKey, sshPublicKey, sshPrivateKey } = outputs;
