// What a journey produced: every step with its time and outcome, the resources it used, the files it
// validated, and what it cost. The text report, the metrics JSON and the HTML page are all views of
// this one record.
import type { RtoReport } from "../stacks/failover/rto.ts";
import type { LineItem } from "../clouds/cost/model.ts";
import type { TestFile } from "../dataplane/files/test-files.ts";
import type { StepId, Variant } from "./steps.ts";

export type StepStatus = "ok" | "failed" | "interrupted" | "not run";

export interface StepRecord {
  readonly id: StepId;
  readonly title: string;
  readonly metric?: string;
  /** ms since the epoch. */
  startedAt?: number;
  seconds?: number;
  status: StepStatus;
  /** One line of what happened (or why it failed). */
  detail?: string;
}

export interface FileCheck {
  readonly validated: number;
  readonly total: number;
  /** Files that failed, with the problem. */
  readonly failures: ReadonlyArray<{ path: string; problem: string }>;
}

export interface JourneyReport {
  readonly cloud: "local" | "real";
  readonly variant: Variant;
  readonly stack: string;
  readonly startedAt: string;
  finishedAt?: string;
  readonly steps: StepRecord[];
  offer?: { id: number; gpuName: string; machineId: number; dphTotal: number; dphBase: number };
  resources: {
    gpuInstanceId?: number;
    snapshotId?: string;
    failoverGpuId?: number;
    standbyFailoverGpuId?: number;
    standby?: string;
  };
  testFiles: TestFile[];
  /** Each failover's recovery time, from its start to the new GPU active, by phase (stacks/failover/rto.ts). */
  rto: { snapshot?: RtoReport; standby?: RtoReport };
  workspaceBytes: number;
  validation?: FileCheck;
  standbyValidation?: FileCheck;
  cost: {
    items: LineItem[];
    total: number;
    gpuCostPerHour?: number;
    worstCase: LineItem[];
    maxCost?: number;
    /** What Vast's own charges API billed for the run's instances, where it answers. */
    vastBilled?: number;
    /** Interruptible GPUs' compute at their bids, and the same hours on demand at the same offers. */
    interruptible?: { readonly atBidsUsd: number; readonly onDemandUsd: number };
    /** $/month to keep the audit snapshot. */
    snapshotPerMonth?: number;
  };
  cleanup: { destroyedBySweep: number[]; leaks: string[]; snapshotKept: boolean; errors: string[] };
  success: boolean;
  failure?: { step: string; reason: string };
  /** From the start to the end of the last step, cleanup excluded. */
  timeTotalSeconds?: number;
}

/**
 * The model's Vast items against Vast's own meter for the same instances, where the meter answered:
 * the model bills storage from each rent request and compute from when Vast showed the instance
 * running until it was stopped (the provider's own times), as Vast does.
 */
export function meterAgreement(report: JourneyReport): { modelUsd: number; billedUsd: number; apart: number } | undefined {
  const billedUsd = report.cost.vastBilled;
  if (billedUsd === undefined) return undefined;
  const modelUsd = report.cost.items.filter((i) => i.provider === "vast").reduce((sum, i) => sum + i.usd, 0);
  return { modelUsd, billedUsd, apart: billedUsd > 0 ? Math.abs(modelUsd - billedUsd) / billedUsd : 0 };
}

export function stepSeconds(report: JourneyReport, id: StepRecord["id"]): number | undefined {
  return report.steps.find((s) => s.id === id)?.seconds;
}
