// Failover as a plan computed from the stack's state alone, so that a controller killed at any
// point re-runs `dumont failover` and finishes the same failover: provision the idle slot, restore
// into it, swap the active slot, retire the old one. Pure; apply.ts does the steps.
import type { Slot } from "../settings.ts";

export type RestoreSource = "standby" | "snapshot";

/** Progress of a failover, kept in the stack's config (dumont:failover) until it is done. */
export interface FailoverRecord {
  readonly from: Slot;
  readonly to: Slot;
  readonly fromInstanceId: number;
  readonly fromMachineId: number;
  readonly source: RestoreSource;
  readonly startedAt: string;
  /** Set once the new GPU's /workspace has been restored and verified. */
  readonly restoredInstanceId?: number;
}

export interface FailoverView {
  readonly activeSlot: Slot;
  readonly provisionedSlots: readonly Slot[];
  readonly instances: Partial<Record<Slot, { readonly instanceId: number; readonly machineId: number }>>;
  readonly record?: FailoverRecord;
}

export type FailoverStep =
  | { readonly kind: "provision"; readonly slot: Slot; readonly excludeMachineId: number }
  | { readonly kind: "restore"; readonly slot: Slot; readonly source: RestoreSource }
  | { readonly kind: "swap"; readonly to: Slot }
  | { readonly kind: "retire"; readonly slot: Slot };

export type FailoverPlan =
  | { readonly kind: "steps"; readonly record: FailoverRecord; readonly steps: readonly FailoverStep[] }
  | { readonly kind: "nothing"; readonly reason: string; readonly clearRecord: boolean };

export interface FailoverRequest {
  readonly source: RestoreSource;
  /** The instance the caller saw fail: if another is active by now, a failover already happened. */
  readonly fromInstanceId?: number;
  readonly now?: Date;
}

const other = (slot: Slot): Slot => (slot === "a" ? "b" : "a");

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
      from, to, fromInstanceId: active.instanceId, fromMachineId: active.machineId, source: request.source,
      startedAt: (request.now ?? new Date()).toISOString(),
    };
    return {
      kind: "steps", record: fresh,
      steps: [
        { kind: "provision", slot: to, excludeMachineId: active.machineId },
        { kind: "restore", slot: to, source: fresh.source },
        { kind: "swap", to },
        { kind: "retire", slot: from },
      ],
    };
  }
  const { from, to } = record;
  if (view.activeSlot === to) {
    return view.provisionedSlots.includes(from)
      ? { kind: "steps", record, steps: [{ kind: "retire", slot: from }] }
      : { kind: "nothing", reason: `failover to slot ${to} is complete`, clearRecord: true };
  }
  const next = view.instances[to];
  if (!view.provisionedSlots.includes(to) || !next) {
    return {
      kind: "steps", record,
      steps: [
        { kind: "provision", slot: to, excludeMachineId: record.fromMachineId },
        { kind: "restore", slot: to, source: record.source },
        { kind: "swap", to },
        { kind: "retire", slot: from },
      ],
    };
  }
  const restored = record.restoredInstanceId === next.instanceId;
  return {
    kind: "steps", record,
    steps: [...(restored ? [] : [{ kind: "restore", slot: to, source: record.source } as const]), { kind: "swap", to }, { kind: "retire", slot: from }],
  };
}
