// A Dumont environment: two GPU slots (a, b) of which one is active and one or both exist, the
// CPU standby that mirrors /workspace, the snapshot bucket, and the SSH key Dumont's operations
// log in with. Failover is a sequence of changes to these args (see stacks/failover).
import * as pulumi from "@pulumi/pulumi";
import { UserError } from "../harness/errors.ts";
import type { Slot } from "../stacks/settings-schema.ts";
import { GpuInstance, type GpuInstanceArgs } from "./gpu-instance.ts";
import { stackBaseName } from "./stack-names.ts";
import { slotLabel } from "./vast/labels.ts";
import { SnapshotBucket, type SnapshotBucketArgs } from "./snapshot-bucket.ts";
import { SshKeyPair } from "./ssh-key/key-pair.ts";
import { Standby, type StandbyArgs } from "./standby/standby.ts";

export interface EnvironmentArgs {
  /** Stack name, for labels and names. */
  readonly stack: string;
  /** The slot whose GPU is in use. Plain: it decides the outputs' shape. */
  readonly activeSlot: Slot;
  /** Slots that have a GPU now (the active one, and during a failover the next). Plain: it decides which instances exist. */
  readonly provisionedSlots: readonly Slot[];
  /** GPU requirements shared by both slots. */
  readonly gpu: Omit<GpuInstanceArgs, "label" | "sshPublicKey" | "sshPrivateKey">;
  /** The standby, or undefined for none. Plain: it decides whether the standby exists. */
  readonly standby?: Omit<StandbyArgs, "sshPublicKey">;
  readonly bucket: SnapshotBucketArgs;
}

export interface SlotOutputs {
  readonly instanceId: pulumi.Output<number>;
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly hostKey: pulumi.Output<string>;
  readonly machineId: pulumi.Output<number>;
  readonly gpuName: pulumi.Output<string>;
  readonly dphTotal: pulumi.Output<number>;
  readonly dphBase: pulumi.Output<number>;
  readonly storageCostPerGbMonth: pulumi.Output<number>;
  readonly inetUpCostPerGb: pulumi.Output<number>;
  readonly inetDownCostPerGb: pulumi.Output<number>;
  readonly diskGb: pulumi.Output<number>;
}

/** Rules between the args that decide what exists; errors name the field. */
export function checkEnvironmentArgs(args: Pick<EnvironmentArgs, "activeSlot" | "provisionedSlots">): void {
  if (args.provisionedSlots.some((s) => s !== "a" && s !== "b")) throw new UserError(`provisionedSlots: slots are 'a' and 'b', got ${args.provisionedSlots.join(", ")}`, "fix dumont:slots");
  if (!args.provisionedSlots.includes(args.activeSlot)) {
    throw new UserError(`activeSlot: '${args.activeSlot}' has no GPU; provisionedSlots is [${args.provisionedSlots.join(", ")}]`, "fix dumont:activeSlot or dumont:slots");
  }
}

export class Environment extends pulumi.ComponentResource {
  readonly activeSlot: pulumi.Output<Slot>;
  readonly slots: Partial<Record<Slot, SlotOutputs>>;
  readonly standby?: { host: pulumi.Output<string>; port: pulumi.Output<number>; user: pulumi.Output<string>; hostKey: pulumi.Output<string> };
  readonly bucket: SnapshotBucket;
  readonly sshPublicKey: pulumi.Output<string>;
  readonly sshPrivateKey: pulumi.Output<string>;

  constructor(name: string, args: EnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("dumont:index:Environment", name, {}, opts);
    checkEnvironmentArgs(args);
    const key = new SshKeyPair(`${name}-ssh`, { comment: stackBaseName(args.stack) }, { parent: this });
    this.sshPublicKey = key.publicKey;
    // Secret by construction, not only because the engine marks the output so.
    this.sshPrivateKey = pulumi.secret(key.privateKey);
    this.slots = {};
    for (const slot of [...args.provisionedSlots].sort()) {
      const gpu = new GpuInstance(`${name}-gpu-${slot}`, {
        ...args.gpu, label: slotLabel(args.stack, slot), sshPublicKey: key.publicKey, sshPrivateKey: this.sshPrivateKey,
      }, { parent: this });
      this.slots[slot] = {
        instanceId: gpu.instanceId, host: gpu.sshHost, port: gpu.sshPort, hostKey: gpu.hostKey, machineId: gpu.machineId,
        gpuName: gpu.gpuName, dphTotal: gpu.dphTotal, dphBase: gpu.dphBase, storageCostPerGbMonth: gpu.storageCostPerGbMonth,
        inetUpCostPerGb: gpu.inetUpCostPerGb, inetDownCostPerGb: gpu.inetDownCostPerGb, diskGb: gpu.diskGb,
      };
    }
    if (args.standby) {
      const standby = new Standby(`${name}-standby`, { ...args.standby, sshPublicKey: key.publicKey }, { parent: this });
      this.standby = { host: standby.host, port: standby.port, user: standby.user, hostKey: standby.hostKey };
    }
    this.bucket = new SnapshotBucket(`${name}-snapshots`, args.bucket, { parent: this });
    this.activeSlot = pulumi.output(args.activeSlot);
    this.registerOutputs({ activeSlot: this.activeSlot, sshPublicKey: this.sshPublicKey });
  }
}
