// A Dumont environment: two GPU slots (a, b) of which one is active and one or both exist, the
// CPU standby that mirrors /workspace, the snapshot bucket, and the SSH key Dumont's operations
// log in with. Failover is a sequence of changes to these args (see stacks/failover).
import * as pulumi from "@pulumi/pulumi";
import { UserError } from "../lib/errors.ts";
import { slots, type Slot } from "../contract/settings-schema.ts";
import { GpuInstance, type GpuInstanceArgs } from "./gpu-instance.ts";
import { stackBaseName } from "../contract/stack-names.ts";
import { slotLabel } from "./vast/labels.ts";
import { SnapshotBucket, type SnapshotBucketArgs } from "./snapshot-bucket.ts";
import { SshKeyPair } from "./ssh-key/key-pair.ts";
import { Standby, type StandbyArgs } from "./standby/standby.ts";
import type { RentedInstance } from "./vast/rented-instance.ts";

export interface EnvironmentArgs {
  /** Stack name, for labels and names. */
  readonly stack: string;
  /** The slot whose GPU is in use. Plain: it decides the outputs' shape. */
  readonly activeSlot: Slot;
  /** Slots that have a GPU now (the active one, and during a failover the next). Plain: it decides which instances exist. */
  readonly provisionedSlots: readonly Slot[];
  /** GPU requirements shared by both slots. */
  readonly gpu: Omit<GpuInstanceArgs, "label" | "sshPublicKey" | "sshPrivateKey" | "adopt">;
  /** A GPU a failover rented for a slot, to be taken into the state rather than rented again. */
  readonly adopted?: { readonly slot: Slot; readonly instance: RentedInstance };
  /** The standby, or undefined for none. Plain: it decides whether the standby exists. */
  readonly standby?: Omit<StandbyArgs, "sshPublicKey">;
  readonly bucket: SnapshotBucketArgs;
}

/** Rules between the args that decide what exists; errors name the field. */
export function checkEnvironmentArgs(args: Pick<EnvironmentArgs, "activeSlot" | "provisionedSlots">): void {
  if (args.provisionedSlots.some((s) => !slots.includes(s))) throw new UserError(`provisionedSlots: slots are ${slots.map((s) => `'${s}'`).join(" and ")}, got ${args.provisionedSlots.join(", ")}`, "fix dumont:slots");
  if (!args.provisionedSlots.includes(args.activeSlot)) {
    throw new UserError(`activeSlot: '${args.activeSlot}' has no GPU; provisionedSlots is [${args.provisionedSlots.join(", ")}]`, "fix dumont:activeSlot or dumont:slots");
  }
}

/**
 * Its parts are its child components, as they are: a stack's outputs are made from them
 * (stacks/program.ts, by contract/stack-outputs.ts), not from copies of their outputs.
 */
export class Environment extends pulumi.ComponentResource {
  readonly activeSlot: pulumi.Output<Slot>;
  /** The GPU of each slot that has one. */
  readonly gpus: Partial<Record<Slot, GpuInstance>>;
  /** The standby, when the environment has one. */
  readonly standby?: Standby;
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
    this.gpus = {};
    for (const slot of [...args.provisionedSlots].sort()) {
      this.gpus[slot] = new GpuInstance(`${name}-gpu-${slot}`, {
        ...args.gpu, label: slotLabel(args.stack, slot), sshPublicKey: key.publicKey, sshPrivateKey: this.sshPrivateKey,
        ...(args.adopted?.slot === slot && { adopt: args.adopted.instance }),
      }, { parent: this });
    }
    if (args.standby) {
      this.standby = new Standby(`${name}-standby`, { ...args.standby, sshPublicKey: key.publicKey }, { parent: this });
    }
    this.bucket = new SnapshotBucket(`${name}-snapshots`, args.bucket, { parent: this });
    this.activeSlot = pulumi.output(args.activeSlot);
    this.registerOutputs({ activeSlot: this.activeSlot, sshPublicKey: this.sshPublicKey });
  }
}
