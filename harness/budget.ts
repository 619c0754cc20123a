// The most a journey can cost, known before anything is rented, so that `--max-cost` can refuse to
// start one that might exceed it. The bound: at most two GPUs exist at once (the old one and the
// new one during a failover), each at the price cap for the whole time limit; the standby for the
// whole time limit; every planned transfer of the workspace at the dearest bandwidth price among the
// matching offers; the snapshot kept in B2 for the time limit.
import { b2Cost, formatUsd, standbyCost, totalUsd, type LineItem, type StandbyRate } from "../clouds/cost/model.ts";
import { vastBytesPerGb } from "../clouds/cost/rates.ts";
import type { Variant } from "./steps.ts";

export interface BudgetInputs {
  readonly variant: Variant;
  readonly timeLimitSeconds: number;
  /** dumont:maxPricePerHour: no GPU is rented above it (dph_total, storage included). */
  readonly maxPricePerHour: number;
  readonly standby?: StandbyRate;
  readonly workspaceBytes: number;
  /** The highest $/GB up and down among the offers that match. */
  readonly maxInetUpPerGb: number;
  readonly maxInetDownPerGb: number;
}

/** How many times the workspace crosses a GPU's network link, up and down. */
function transfers(variant: Variant): { up: number; down: number } {
  const snapshot = { up: 1, down: 1 }; // snapshot upload, restore download
  const standby = { up: 1, down: 1 }; // sync to the standby, copy to the new GPU
  if (variant === "snapshot") return snapshot;
  if (variant === "standby") return standby;
  return { up: snapshot.up + standby.up, down: snapshot.down + standby.down };
}

export function worstCase(inputs: BudgetInputs): LineItem[] {
  const hours = inputs.timeLimitSeconds / 3600;
  const gb = inputs.workspaceBytes / vastBytesPerGb;
  const moves = transfers(inputs.variant);
  const items: LineItem[] = [
    {
      provider: "vast", resource: "2 GPUs at once", what: "compute + storage at the price cap", quantity: 2 * hours, unit: "GPU-h",
      rate: inputs.maxPricePerHour, rateUnit: "$/h", usd: 2 * hours * inputs.maxPricePerHour,
    },
    {
      provider: "vast", resource: "GPUs", what: `bandwidth up ×${moves.up}`, quantity: gb * moves.up, unit: "GB",
      rate: inputs.maxInetUpPerGb, rateUnit: "$/GB", usd: gb * moves.up * inputs.maxInetUpPerGb,
    },
    {
      provider: "vast", resource: "GPUs", what: `bandwidth down ×${moves.down}`, quantity: gb * moves.down, unit: "GB",
      rate: inputs.maxInetDownPerGb, rateUnit: "$/GB", usd: gb * moves.down * inputs.maxInetDownPerGb,
    },
  ];
  if (inputs.standby) items.push(...standbyCost("standby", inputs.standby, inputs.timeLimitSeconds));
  items.push(...b2Cost("snapshot bucket", { storedBytes: inputs.workspaceBytes, seconds: inputs.timeLimitSeconds, egressBytes: inputs.workspaceBytes, transactions: 0 }));
  return items.filter((i) => i.usd > 0 || i.provider === "vast");
}

export function describeWorstCase(items: readonly LineItem[]): string {
  return items.map((i) => `${i.resource} ${i.what}: ${i.quantity.toFixed(3)} ${i.unit} × ${formatUsd(i.rate)} ${i.rateUnit.replace("$", "")} = ${formatUsd(i.usd)}`).join("; ")
    + ` — total ${formatUsd(totalUsd(items))}`;
}

/** Why a running journey must stop now (its cost cap or its time limit), or undefined. */
export function budgetExceeded(state: { spentUsd: number; maxCostUsd?: number; elapsedSeconds: number; timeLimitSeconds: number }): string | undefined {
  if (state.maxCostUsd !== undefined && state.spentUsd >= state.maxCostUsd) {
    return `the running cost $${state.spentUsd.toFixed(4)} reached --max-cost $${state.maxCostUsd}`;
  }
  if (state.elapsedSeconds > state.timeLimitSeconds) return `the journey ran past its time limit of ${state.timeLimitSeconds} s (--time-limit)`;
  return undefined;
}
