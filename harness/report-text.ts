// The journey's report as the seed guide printed it (journey times, resources, estimated cost,
// validation, success), extended with every step, the cost line items with their rates, and cleanup.
import { formatUsd } from "../clouds/cost/model.ts";
import { describePhases, overheadSeconds, type RtoReport } from "../stacks/failover/rto.ts";
import { meterAgreement, stepSeconds, type JourneyReport } from "./report.ts";

const rule = "=".repeat(70);
const secs = (s: number | undefined) => (s === undefined ? "—" : `${s.toFixed(1)}s`);

export function formatReport(r: JourneyReport): string {
  const lines: string[] = [rule, `FAILOVER JOURNEY REPORT — ${r.cloud === "local" ? "local cloud" : "real clouds"}, stack ${r.stack}`, rule, ""];
  const main: Array<[string, number | undefined]> = r.variant === "standby"
    ? [["Create files", stepSeconds(r, "create-files")], ["Sync to standby", stepSeconds(r, "standby-sync")], ["Failover from standby", stepSeconds(r, "standby-failover")], ["Validate", stepSeconds(r, "standby-validate")]]
    : [["Create files", stepSeconds(r, "create-files")], ["Create snapshot", stepSeconds(r, "create-snapshot")], ["Failover + Restore", stepSeconds(r, "failover")], ["Validate", stepSeconds(r, "validate")]];
  lines.push("Journey:");
  main.forEach(([name, s], i) => lines.push(`  ${i + 1}. ${`${name}:`.padEnd(24)}${secs(s).padStart(9)}`));
  if (r.timeTotalSeconds !== undefined) lines.push(`  ${"TOTAL (all steps):".padEnd(27)}${secs(r.timeTotalSeconds).padStart(9)} (${(r.timeTotalSeconds / 60).toFixed(1)} min)`);
  lines.push("", "Every step:");
  r.steps.forEach((s) => {
    const mark = s.status === "ok" ? "✓" : s.status === "not run" ? "·" : "✗";
    lines.push(`  ${mark} ${s.title.padEnd(58)}${secs(s.seconds).padStart(9)}${s.status !== "ok" && s.status !== "not run" ? `  ${s.status}` : ""}`);
  });

  const rtoLines = (["snapshot", "standby"] as const).flatMap((source) => {
    const rto = r.rto[source];
    return rto ? [`  from the ${source}: ${secs(rto.seconds)} to an active, verified GPU (${describePhases(rto)}); ${secs(overheadSeconds(rto))} besides the provider and the data`] : [];
  });
  if (rtoLines.length) lines.push("", "Recovery time (RTO), by phase:", ...rtoLines);

  lines.push("", "Resources:");
  lines.push(`  Original GPU:    ${r.resources.gpuInstanceId ?? "—"}${r.offer ? `  (${r.offer.gpuName}, offer ${r.offer.id})` : ""}`);
  lines.push(`  Snapshot:        ${r.resources.snapshotId ?? "—"}${r.resources.snapshotId && r.cleanup.snapshotKept ? "  (kept for audit)" : ""}`);
  lines.push(`  Failover GPU:    ${r.resources.failoverGpuId ?? "—"}`);
  if (r.variant !== "snapshot") {
    lines.push(`  CPU standby:     ${r.resources.standby ?? "—"}`);
    lines.push(`  Standby → GPU:   ${r.resources.standbyFailoverGpuId ?? "—"}`);
  }

  lines.push("", `Estimated cost${r.cloud === "local" ? " (what this run would cost at these rates on Vast/GCP/B2; the local cloud charges nothing)" : ""}:`);
  lines.push(`  GPU hourly:      ${r.cost.gpuCostPerHour === undefined ? "—" : `${formatUsd(r.cost.gpuCostPerHour)}/hr`}`);
  for (const item of r.cost.items.filter((i) => i.usd > 0 || i.what.startsWith("compute"))) {
    lines.push(`  ${`${item.resource}, ${item.what}:`.padEnd(40)} ${item.quantity.toFixed(4)} ${item.unit} × ${formatUsd(item.rate)}${item.rateUnit.slice(1)} = ${formatUsd(item.usd)}`);
  }
  lines.push(`  Total:           ${formatUsd(r.cost.total)}`);
  const bids = r.cost.interruptible;
  if (bids && bids.onDemandUsd > 0) {
    lines.push(`  Interruptible GPUs' compute: ${formatUsd(bids.atBidsUsd)} at the bids; ${formatUsd(bids.onDemandUsd)} on demand at the same offers (${(100 * (1 - bids.atBidsUsd / bids.onDemandUsd)).toFixed(0)}% saved)`);
  }
  const agreement = meterAgreement(r);
  if (agreement) {
    lines.push(`  Vast's own meter for these instances: ${formatUsd(agreement.billedUsd)}; the model's Vast items: ${formatUsd(agreement.modelUsd)} (${(agreement.apart * 100).toFixed(1)}% apart:`);
    lines.push("    storage from each rent request, compute from when Vast showed it running until it was stopped, by the provider's own clocks)");
  }
  if (r.cost.snapshotPerMonth !== undefined && r.cleanup.snapshotKept) lines.push(`  Keeping the snapshot: ${formatUsd(r.cost.snapshotPerMonth)}/month in B2`);
  if (r.cost.maxCost !== undefined) lines.push(`  Cost cap (--max-cost): ${formatUsd(r.cost.maxCost)}`);

  lines.push("", "Validation:");
  const v = r.validation ?? r.standbyValidation;
  lines.push(`  Files OK:        ${v ? `${v.validated}/${v.total}` : "—"}${r.validation && r.standbyValidation ? `  (standby path: ${r.standbyValidation.validated}/${r.standbyValidation.total})` : ""}`);
  for (const f of [...(r.validation?.failures ?? []), ...(r.standbyValidation?.failures ?? [])].slice(0, 10)) lines.push(`    ✗ ${f.path}: ${f.problem}`);
  lines.push(`  Cleanup:         ${r.cleanup.leaks.length === 0 && r.cleanup.errors.length === 0 ? "every instance destroyed; nothing left (checked by label)" : `PROBLEM — ${[...r.cleanup.errors, ...r.cleanup.leaks].join("; ")}`}`);
  lines.push(`  Success:         ${r.success ? "✓ YES" : "✗ NO"}`);
  if (r.failure) lines.push(`  Reason:          ${r.failure.step}: ${r.failure.reason}`);
  lines.push("", rule);
  return lines.join("\n");
}

/** A failover's RTO as metrics: its seconds, and seconds by phase (provider_wait, restore, verify, …). */
function rtoMetrics(rto: RtoReport | undefined): { rto_seconds: number | null; rto_phases: Record<string, number> | null } {
  if (!rto) return { rto_seconds: null, rto_phases: null };
  return { rto_seconds: round3(rto.seconds), rto_phases: Object.fromEntries(Object.entries(rto.phases).map(([phase, s]) => [phase, round3(s)])) };
}
const round3 = (n: number) => Number(n.toFixed(3));

/** The seed's metrics file (same names), plus what the seed did not have under extra keys. */
export function metricsJson(r: JourneyReport): Record<string, unknown> {
  const secondsByMetric = Object.fromEntries(r.steps.filter((s) => s.metric && s.seconds !== undefined).map((s) => [s.metric!, Number(s.seconds!.toFixed(3))]));
  const validation = r.validation ?? r.standbyValidation;
  return {
    time_create_files: secondsByMetric.time_create_files ?? null,
    time_create_snapshot: secondsByMetric.time_create_snapshot ?? null,
    time_failover: secondsByMetric.time_failover ?? secondsByMetric.time_standby_failover ?? null,
    time_validate: secondsByMetric.time_validate ?? secondsByMetric.time_standby_validate ?? null,
    time_total: r.timeTotalSeconds === undefined ? null : Number(r.timeTotalSeconds.toFixed(3)),
    files_validated: validation?.validated ?? 0,
    test_files: r.testFiles,
    success: r.success,
    gpu_cost_per_hour: r.cost.gpuCostPerHour ?? null,
    estimated_cost_usd: Number(r.cost.total.toFixed(6)),
    gpu_instance_id: r.resources.gpuInstanceId ?? null,
    snapshot_id: r.resources.snapshotId ?? null,
    failover_gpu_id: r.resources.failoverGpuId ?? r.resources.standbyFailoverGpuId ?? null,
    failure_reason: r.failure ? `${r.failure.step}: ${r.failure.reason}` : null,
    cloud: r.cloud,
    variant: r.variant,
    stack: r.stack,
    started_at: r.startedAt,
    finished_at: r.finishedAt ?? null,
    ...rtoMetrics(r.rto.snapshot ?? r.rto.standby),
    step_seconds: secondsByMetric,
    steps: r.steps,
    standby: r.variant === "snapshot" ? null : {
      time_sync: secondsByMetric.time_standby_sync ?? null,
      time_failover: secondsByMetric.time_standby_failover ?? null,
      time_validate: secondsByMetric.time_standby_validate ?? null,
      files_validated: r.standbyValidation?.validated ?? 0,
      failover_gpu_id: r.resources.standbyFailoverGpuId ?? null,
      ...rtoMetrics(r.rto.standby),
    },
    workspace_bytes: r.workspaceBytes,
    cost: r.cost,
    cleanup: r.cleanup,
  };
}
