// The end of every journey, whatever happened before: three layers, each run even if the one
// before failed — Pulumi destroys the GPUs and standby, the cloud is swept by label for anything the
// engine never recorded, and a leak check lists what is still alive. Then what Vast itself billed.
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import type { CostMeter } from "../clouds/cost/meter.ts";
import type { LocalCloudAdmin } from "../local-cloud/admin-client.ts";
import type { VastClient } from "../clouds/vast/client.ts";
import { findLeaks, localStandbyName, releaseInstances, removeJourneyStack, sweepInstances } from "./journey-stack.ts";
import { firstLine } from "./progress.ts";
import type { JourneyReport } from "./report.ts";

export interface CleanupParts {
  readonly stack?: Stack;
  readonly vast?: VastClient;
  readonly admin?: LocalCloudAdmin;
  readonly meter: CostMeter;
}

/** Three layers, each run even if the one before failed: Pulumi destroy, sweep by label, leak check. */
export async function cleanUp(options: { stack: string; keepSnapshot: boolean; write: (line: string) => void }, report: JourneyReport, parts: CleanupParts): Promise<void> {
  const progress = (line: string) => options.write(`      ${line}`);
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      report.cleanup.errors.push(`${what}: ${firstLine(error)}`);
      progress(`${what} failed: ${firstLine(error)}`);
    }
  };
  if (parts.stack) await attempt("pulumi destroy of the GPUs and standby", () => releaseInstances(parts.stack!, progress));
  if (parts.vast) await attempt("sweep by label", async () => { report.cleanup.destroyedBySweep = await sweepInstances(parts.vast!, options.stack, progress); });
  if (parts.admin && (await parts.admin.standby(localStandbyName(options.stack)))) {
    await attempt("local standby", () => parts.admin!.destroyStandby(localStandbyName(options.stack)));
  }
  for (const id of parts.meter.gpuIds()) parts.meter.gpuGone(id);
  parts.meter.standbyGone("standby");
  if (parts.vast) await attempt("leak check", async () => { report.cleanup.leaks = await findLeaks({ vast: parts.vast!, stackName: options.stack, stack: parts.stack, admin: parts.admin }); });
  if (!options.keepSnapshot && parts.stack) {
    await attempt("removing the stack and its bucket", () => removeJourneyStack(parts.stack!, progress));
    report.cleanup.snapshotKept = false;
  }
}

/** What Vast's charges API bills for these instances (the emulator's meter locally). */
export async function vastBill(vast: VastClient | undefined, ids: readonly number[]): Promise<number | undefined> {
  if (!vast || ids.length === 0) return undefined;
  const charges = await vast.charges();
  const ours = charges.filter((c) => ids.includes(Number(c.instance_id)));
  return ours.length === 0 ? undefined : ours.reduce((sum, c) => sum + Number(c.amount ?? 0), 0);
}
