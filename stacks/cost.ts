// What an environment costs while it stands: each GPU's compute and storage at the rate it was
// rented at (from the stack's outputs), the standby at its machine and disk rate, and the snapshots
// kept in the bucket. Bandwidth is billed per GB moved, so it is listed as a rate, not a burn.
import { formatUsd, standbyRate, vastStoragePerHour, b2MonthlyStorage } from "../clouds/cost/model.ts";
import { hoursPerMonth } from "../clouds/cost/rates.ts";
import { columns } from "../lib/text-table.ts";
import { slots, type Settings } from "./settings.ts";
import type { StackContext, StackOutputs } from "./stack-context.ts";

export interface BurnLine {
  readonly resource: string;
  readonly what: string;
  readonly rate: string;
  readonly perHour: number;
}

export interface BurnRate {
  readonly stack: string;
  readonly cloud: string;
  readonly lines: readonly BurnLine[];
  readonly perHour: number;
  readonly perMonth: number;
  /** $/GB moved in and out of each GPU, which the hourly figure leaves out. */
  readonly bandwidth: ReadonlyArray<{ resource: string; upPerGb: number; downPerGb: number }>;
  readonly snapshotBytes: number;
}

/** The burn rate from a stack's outputs and settings; `snapshotBytes` is what the bucket holds. */
export function burnRate(stack: string, settings: Settings, outputs: StackOutputs, snapshotBytes: number): BurnRate {
  const lines: BurnLine[] = [];
  const bandwidth: BurnRate["bandwidth"][number][] = [];
  for (const slot of slots) {
    const gpu = outputs.slots[slot];
    if (!gpu) continue;
    const resource = `GPU ${gpu.instanceId} (slot ${slot}${slot === outputs.activeSlot ? ", active" : ""}, ${gpu.gpuName})`;
    lines.push({ resource, what: "compute", rate: `${formatUsd(gpu.dphBase)}/h`, perHour: gpu.dphBase });
    lines.push({
      resource, what: `storage ${gpu.diskGb} GB`, rate: `${formatUsd(gpu.storageCostPerGbMonth)}/GB/month`,
      perHour: vastStoragePerHour({ storageCostPerGbMonth: gpu.storageCostPerGbMonth, diskGb: gpu.diskGb }),
    });
    bandwidth.push({ resource: `GPU ${gpu.instanceId}`, upPerGb: gpu.inetUpCostPerGb, downPerGb: gpu.inetDownCostPerGb });
  }
  if (outputs.standby) {
    const s = settings.standby;
    const rate = standbyRate({ machineType: s.gcpMachineType, diskGb: s.gcpDiskSize, spot: s.gcpSpot, hourlyOverride: s.hourlyRate });
    const resource = settings.cloud === "local" ? `standby (local host, priced as GCP ${rate.machineType})` : `standby (GCP ${rate.machineType})`;
    lines.push({ resource, what: rate.spot ? "machine, Spot" : "machine", rate: `${formatUsd(rate.machinePerHour)}/h (${rate.source})`, perHour: rate.machinePerHour });
    lines.push({ resource, what: `disk ${rate.diskGb} GB`, rate: `${formatUsd(rate.diskPerHour)}/h`, perHour: rate.diskPerHour });
  }
  if (snapshotBytes > 0) {
    const perMonth = b2MonthlyStorage(snapshotBytes);
    lines.push({ resource: "snapshots (B2)", what: `${(snapshotBytes / 1e9).toFixed(3)} GB stored`, rate: "$6.95/TB/month", perHour: perMonth / hoursPerMonth.b2 });
  }
  const perHour = lines.reduce((sum, l) => sum + l.perHour, 0);
  return { stack, cloud: settings.cloud, lines, perHour, perMonth: perHour * hoursPerMonth.b2, bandwidth, snapshotBytes };
}

export async function environmentBurnRate(ctx: StackContext): Promise<BurnRate> {
  const store = await ctx.snapshotStore();
  const stored = (await store.list()).reduce((sum, s) => sum + s.archiveBytes, 0);
  return burnRate(ctx.name, ctx.settings, ctx.outputs, stored);
}

export function formatBurnRate(b: BurnRate): string {
  const rows = b.lines.map((l) => [l.resource, l.what, l.rate, `${formatUsd(l.perHour)}/h`]);
  const lines = [
    `stack ${b.stack} (${b.cloud === "local" ? "local cloud: figures are what the same environment would cost on Vast/GCP/B2" : "real clouds"})`,
    columns(["RESOURCE", "ITEM", "RATE", "BURN"], rows),
    "",
    `burn rate: ${formatUsd(b.perHour)}/h  (${formatUsd(b.perMonth)} per 30 days)`,
  ];
  for (const bw of b.bandwidth) lines.push(`bandwidth, billed per GB moved: ${bw.resource} up ${formatUsd(bw.upPerGb)}/GB, down ${formatUsd(bw.downPerGb)}/GB`);
  return lines.join("\n");
}
