// Failover as a plan computed from the stack's state alone, so that a controller killed at any
// point re-runs `dumont failover` and finishes the same failover: provision the idle slot, restore
// into it, fence the old GPU (stopped, so two GPUs never both take writes), swap the active slot,
// retire the old one. Pure; apply.ts does the steps.
import type { Slot } from "../settings.ts";

/** Where the data may come from: the standby's last complete copy, a snapshot, or the freshest of both. */
export type RestoreSource = "standby" | "snapshot";

/**
 * Who asked: a watch that saw the GPU fail (abandoned if the GPU answers again before the swap), or
 * a person (a planned move: the old GPU's last changes are copied first, or nothing is swapped).
 */
export type FailoverTrigger = "automatic" | "manual";

/** The copy a new GPU was restored from, and when its data was captured (the true recovery point). */
export type RestoredCopy =
  | { readonly kind: "standby"; readonly generation: number; readonly capturedAt: string }
  | { readonly kind: "snapshot"; readonly id: string; readonly capturedAt: string };

/** Progress of a failover, kept in the stack's config (dumont:failover) until it is done. */
export interface FailoverRecord {
  readonly from: Slot;
  readonly to: Slot;
  readonly fromInstanceId: number;
  readonly fromMachineId: number;
  /** Undefined: the freshest complete copy, standby or snapshot. */
  readonly source?: RestoreSource;
  readonly trigger: FailoverTrigger;
  readonly startedAt: string;
  /** Set once the new GPU's /workspace has been restored and verified. */
  readonly restoredInstanceId?: number;
  readonly restored?: RestoredCopy;
  /** The old GPU answered again before the swap: the new slot is being released. */
  readonly abandoned?: boolean;
  /** Why the old GPU went: "outbid" (an interruptible GPU stopped for a higher bid) does not count against its machine. */
  readonly cause?: "outbid";
}

export interface FailoverView {
  readonly activeSlot: Slot;
  readonly provisionedSlots: readonly Slot[];
  readonly instances: Partial<Record<Slot, { readonly instanceId: number; readonly machineId: number }>>;
  readonly record?: FailoverRecord;
}

export type FailoverStep =
  | { readonly kind: "provision"; readonly slot: Slot; readonly excludeMachineId: number }
  | { readonly kind: "restore"; readonly slot: Slot }
  | { readonly kind: "fence"; readonly slot: Slot }
  | { readonly kind: "swap"; readonly to: Slot }
  | { readonly kind: "retire"; readonly slot: Slot }
  | { readonly kind: "release"; readonly slot: Slot };

export type FailoverPlan =
  | { readonly kind: "steps"; readonly record: FailoverRecord; readonly steps: readonly FailoverStep[] }
  | { readonly kind: "nothing"; readonly reason: string; readonly clearRecord: boolean };

export interface FailoverRequest {
  readonly source?: RestoreSource;
  readonly cause?: FailoverRecord["cause"];
  readonly trigger?: FailoverTrigger;
  /** The instance the caller saw fail: if another is active by now, a failover already happened. */
  readonly fromInstanceId?: number;
  readonly now?: Date;
}

const other = (slot: Slot): Slot => (slot === "a" ? "b" : "a");

function fromRestore(record: FailoverRecord): FailoverStep[] {
  return [{ kind: "restore", slot: record.to }, ...fromFence(record)];
}

function fromFence(record: FailoverRecord): FailoverStep[] {
  return [{ kind: "fence", slot: record.from }, { kind: "swap", to: record.to }, { kind: "retire", slot: record.from }];
}

export function planFailover(view: FailoverView, request: FailoverRequest): FailoverPlan {
  const record = view.record;
  if (!record) {
    const from = view.activeSlot;
    const active = view.instances[from];
    if (!active) return { kind: "nothing", reason: `the active slot ${from} has no GPU`, clearRecord: false };
    if (request.fromInstanceId !== undefined && active.instanceId !== request.fromInstanceId) {
      return { kind: "nothing", reason: `instance ${request.fromInstanceId} is no longer active (slot ${from} runs ${active.instanceId}): it was already failed over`, clearRecord: false };
    }
    const to = other(from);
    const fresh: FailoverRecord = {
      from, to, fromInstanceId: active.instanceId, fromMachineId: active.machineId, trigger: request.trigger ?? "manual",
      startedAt: (request.now ?? new Date()).toISOString(), ...(request.source && { source: request.source }), ...(request.cause && { cause: request.cause }),
    };
    return { kind: "steps", record: fresh, steps: [{ kind: "provision", slot: to, excludeMachineId: active.machineId }, ...fromRestore(fresh)] };
  }
  const { from, to } = record;
  if (record.abandoned) {
    return view.provisionedSlots.includes(to) && view.activeSlot === from
      ? { kind: "steps", record, steps: [{ kind: "release", slot: to }] }
      : { kind: "nothing", reason: `the abandoned failover's slot ${to} is released`, clearRecord: true };
  }
  if (view.activeSlot === to) {
    return view.provisionedSlots.includes(from)
      ? { kind: "steps", record, steps: [{ kind: "retire", slot: from }] }
      : { kind: "nothing", reason: `failover to slot ${to} is complete`, clearRecord: true };
  }
  const next = view.instances[to];
  if (!view.provisionedSlots.includes(to) || !next) {
    return { kind: "steps", record, steps: [{ kind: "provision", slot: to, excludeMachineId: record.fromMachineId }, ...fromRestore(record)] };
  }
  const restored = record.restoredInstanceId === next.instanceId;
  return { kind: "steps", record, steps: restored ? fromFence(record) : fromRestore(record) };
}
