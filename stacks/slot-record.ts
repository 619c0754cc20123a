// Which GPU slots a stack has, which one is active, which machines a failover excluded, and the
// failover in progress: Dumont's own state of a stack. It is kept next to the stack's Pulumi state,
// never in the settings file people commit (a `git checkout`, `pull` or `stash` of that file would
// revert it, and the next `up` would rent a GPU for the old slot and delete the live one), and it
// is replaced whole by rename on every write, so a reader never sees half of it.
//
// A stack without a record (a new one) takes these values from its settings (dumont:activeSlot,
// dumont:slots, dumont:excludeMachineIds); the first failover writes the record.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../lib/errors.ts";
import { stateDir } from "../lib/tools/paths.ts";
import { makePrivateDir, privateFileMode } from "../lib/tools/private-dir.ts";
import type { FailoverRecord, RestoredCopy } from "./failover/plan.ts";
import type { RentedInstance } from "../components/vast/rented-instance.ts";
import type { SlotOutputs } from "../contract/stack-outputs.ts";
import { recordWritten } from "./lease/shared-records.ts";
import type { Settings, Slot } from "./settings.ts";

/** A GPU a failover rented for a slot, with the disk it was rented with (an input, so not in RentedInstance). */
export interface AdoptedGpu {
  readonly slot: Slot;
  readonly instance: RentedInstance;
  readonly diskGb: number;
}

/** The slot's outputs for an adopted GPU: what the stack will export once an update took it in (stacks/program.ts). */
export function adoptedSlotOutputs(adopted: AdoptedGpu): SlotOutputs {
  const i = adopted.instance;
  return {
    instanceId: i.instanceId, host: i.sshHost, port: i.sshPort, hostKey: i.hostKey, machineId: i.machineId, gpuName: i.gpuName,
    dphTotal: i.dphTotal, dphBase: i.dphBase, storageCostPerGbMonth: i.storageCostPerGbMonth, inetUpCostPerGb: i.inetUpCostPerGb,
    inetDownCostPerGb: i.inetDownCostPerGb, diskGb: adopted.diskGb, rentRequestedAt: i.rentRequestedAt, runningAt: i.runningAt, sshReadyAt: i.sshReadyAt,
    ...(i.onDemandPerHour !== undefined && { onDemandPerHour: i.onDemandPerHour }),
  };
}

export interface SlotRecord {
  readonly format: "dumont-slots/1";
  readonly activeSlot: Slot;
  readonly slots: readonly Slot[];
  readonly excludeMachineIds: readonly number[];
  readonly failover?: FailoverRecord;
  /** What the active GPU was restored from by the last failover (a standby sync keeps a newer copy it did not get). */
  readonly lastRestore?: { readonly instanceId: number; readonly copy: RestoredCopy };
  /**
   * A GPU a failover rented outside the engine, until an update takes it into the state: the
   * stack's GPU for that slot meanwhile (stack-context.ts), never an orphan.
   */
  readonly adopted?: AdoptedGpu;
  readonly updatedAt: string;
}

/**
 * Where a stack's record lives: beside a file backend's state (so it moves with it), or in
 * Dumont's state folder for other backends.
 */
export function slotRecordFile(stack: string, backendUrl = process.env.PULUMI_BACKEND_URL): string {
  let folder = path.join(stateDir, "records");
  try {
    if (backendUrl?.startsWith("file://")) folder = path.join(fileURLToPath(backendUrl), ".dumont");
  } catch {
    // a file URL Node cannot read as a path (file://~/…): the state folder holds the record
  }
  return path.join(folder, `${stack}.slots.json`);
}

export function readSlotRecord(stack: string): SlotRecord | undefined {
  let text: string;
  try {
    text = readFileSync(slotRecordFile(stack), "utf8");
  } catch {
    return undefined;
  }
  const record = JSON.parse(text) as SlotRecord;
  if (record.format !== "dumont-slots/1") {
    throw new UserError(`${slotRecordFile(stack)} is not a Dumont slot record`, "restore Dumont's record from a backup, or move the file aside: the stack's settings then say which slots exist, and `dumont up` still refuses to drop the active GPU");
  }
  return record;
}

/**
 * The record for a stack that has none yet: what its outputs say exists (the truth once it was
 * deployed), else what its settings ask for.
 */
export function seedRecord(settings: Pick<Settings, "activeSlot" | "provisionedSlots" | "gpu">, outputs?: { readonly activeSlot?: Slot; readonly provisionedSlots?: readonly Slot[] }): SlotRecord {
  const deployed = outputs?.activeSlot && outputs.provisionedSlots?.length;
  return {
    format: "dumont-slots/1", activeSlot: deployed ? outputs.activeSlot! : settings.activeSlot,
    slots: [...(deployed ? outputs.provisionedSlots! : settings.provisionedSlots)],
    excludeMachineIds: [...settings.gpu.excludeMachineIds], updatedAt: new Date(0).toISOString(),
  };
}

/** Changes the record (starting from `seed` if there is none) and replaces the file by rename. */
export function updateSlotRecord(stack: string, seed: SlotRecord, change: (record: SlotRecord) => Omit<SlotRecord, "updatedAt" | "format">): SlotRecord {
  const current = readSlotRecord(stack) ?? seed;
  const next: SlotRecord = { ...change(current), format: "dumont-slots/1", updatedAt: new Date().toISOString() };
  if (!next.slots.includes(next.activeSlot)) throw new Error(`slot record of ${stack}: the active slot ${next.activeSlot} is not among [${next.slots.join(", ")}]`);
  const file = slotRecordFile(stack);
  makePrivateDir(path.dirname(file));
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: privateFileMode });
  renameSync(temporary, file);
  recordWritten(stack, "slots");
  return next;
}

/** Drops the record's rented GPU (destroyed with the stack: it is then an orphan, swept by label). */
export function forgetAdoptedGpu(stack: string): void {
  const record = readSlotRecord(stack);
  if (record?.adopted) updateSlotRecord(stack, record, ({ adopted: _, format: __, updatedAt: ___, ...rest }) => rest);
}

/** The settings with the record's slots, active slot and excluded machines, which win over the settings file. */
export function withSlotRecord(settings: Settings, record: SlotRecord | undefined): Settings {
  if (!record) return settings;
  return {
    ...settings, activeSlot: record.activeSlot, provisionedSlots: [...record.slots],
    gpu: { ...settings.gpu, excludeMachineIds: [...record.excludeMachineIds] },
  };
}
