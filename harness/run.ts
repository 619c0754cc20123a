// The journey: the seed guide's real-failover test, run against the local cloud or the real ones.
// Its steps are one declared list (steps.ts), run in order by runner.ts, each timed and reporting its
// progress. Whatever happens — a failed step, Ctrl-C, the cost cap — the list's final stage, the
// cleanup, releases every instance, sweeps the cloud by label and checks nothing of the run is left;
// the snapshot stays for audit.
import { CostMeter } from "../clouds/cost/meter.ts";
import { DumontError } from "../lib/errors.ts";
import { LocalCloudAdmin } from "../local-cloud/admin-client.ts";
import { up as localCloudUp } from "../local-cloud/control.ts";
import { readEndpoints } from "../local-cloud/endpoints.ts";
import { loadStackContext } from "../stacks/stack-context.ts";
import { budgetExceeded } from "./budget.ts";
import { vastBill } from "./cleanup.ts";
import { createJourneyStack } from "./journey-stack.ts";
import { StepRunner } from "./progress.ts";
import type { JourneyReport } from "./report.ts";
import { notRun, runSteps } from "./runner.ts";
import { journeySteps, usesStandby, type JourneyContext, type StepId, type Variant } from "./steps.ts";

export interface JourneyOptions {
  readonly cloud: "local" | "real";
  readonly variant: Variant;
  /** The seed's unique test files (3 in its guide). */
  readonly files: number;
  /** Extra data written to /workspace before the test files, in bytes. */
  readonly workspaceBytes: number;
  /** Refuse to start if the worst case exceeds it; stop when the running cost reaches it. */
  readonly maxCostUsd?: number;
  /** The whole journey's time limit; also the horizon of the worst case. */
  readonly timeLimitSeconds: number;
  readonly stack: string;
  /** Local cloud name (cloud: local); started if it is not running. */
  readonly localCloud: string;
  /** Keep the bucket with the snapshot (the seed keeps it for audit). */
  readonly keepSnapshot: boolean;
  /** Folder for failover_files_<id>.json. */
  readonly outputDir: string;
  readonly signal: AbortSignal;
  readonly write: (line: string) => void;
  /** Called before each step (the final cleanup aside); tests inject faults there. */
  readonly beforeStep?: (step: StepId, journey: { stack: string }) => Promise<void>;
}

/** Aborts the journey with a reason the report shows. */
export class JourneyStopped extends DumontError {}

export async function runJourney(options: JourneyOptions): Promise<JourneyReport> {
  const started = Date.now();
  const plan = journeySteps(options.variant);
  const report: JourneyReport = {
    cloud: options.cloud, variant: options.variant, stack: options.stack, startedAt: new Date(started).toISOString(), steps: plan.map(notRun),
    resources: {}, rto: {}, testFiles: [], workspaceBytes: options.workspaceBytes,
    cost: { items: [], total: 0, worstCase: [], maxCost: options.maxCostUsd },
    cleanup: { destroyedBySweep: [], leaks: [], snapshotKept: options.keepSnapshot, errors: [] }, success: false,
  };
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const runner = new StepRunner(options.write, signal);
  const meter = new CostMeter();
  const journey: JourneyContext = { options, report, meter, signal, progress: runner.detail };

  // The cost cap and the time limit, checked every second while the steps run (not the cleanup).
  const guard = setInterval(() => {
    const reason = budgetExceeded({ spentUsd: meter.total(), maxCostUsd: options.maxCostUsd, elapsedSeconds: (Date.now() - started) / 1000, timeLimitSeconds: options.timeLimitSeconds });
    if (reason && !stop.signal.aborted) {
      runner.note(`stopping: ${reason}`);
      stop.abort(new JourneyStopped(reason));
    }
  }, 1000);

  // The local cloud (started if need be), the journey's stack, and the clouds' clients.
  const setup = async () => {
    if (options.cloud === "local") {
      let endpoints = await readEndpoints(options.localCloud);
      if (!endpoints) {
        runner.note(`starting the local cloud '${options.localCloud}' (it stays up afterwards: it holds the audit snapshot)`);
        endpoints = await localCloudUp({ cloud: options.localCloud });
      }
      journey.admin = new LocalCloudAdmin(endpoints);
    }
    journey.stack = await createJourneyStack(options.stack, {
      cloud: options.cloud, localCloud: options.localCloud, standby: usesStandby(options.variant),
      diskGb: Math.max(16, Math.ceil((options.workspaceBytes * 2.5) / 1e9) + 8),
    });
    journey.ctx = await loadStackContext(options.stack, { requireOutputs: false });
    journey.vast = await journey.ctx.vast();
  };

  runner.note(`Dumont journey: ${options.variant === "both" ? "snapshot failover, then standby failover" : `${options.variant} failover`} on the ${options.cloud === "local" ? `local cloud '${options.localCloud}'` : "real clouds (THIS SPENDS MONEY)"}; stack ${options.stack}`);
  try {
    await runSteps(plan, journey, {
      records: report.steps, progress: runner, signal, setup,
      beforeStep: async (id: StepId) => options.beforeStep?.(id, { stack: options.stack }),
      stepsEnded: (failure) => {
        clearInterval(guard);
        if (failure) {
          report.failure = failure;
        } else {
          report.timeTotalSeconds = (Date.now() - started) / 1000;
          report.success = true;
        }
      },
    });
  } finally {
    clearInterval(guard);
  }
  report.cost.items = meter.items();
  report.cost.total = meter.total();
  report.cost.interruptible = meter.interruptibleCompute();
  report.cost.vastBilled = await vastBill(journey.vast, meter.gpuIds()).catch(() => undefined);
  report.finishedAt = new Date().toISOString();
  if (report.cleanup.leaks.length > 0 || report.cleanup.errors.length > 0) {
    report.success = false;
    report.failure ??= { step: "cleanup", reason: [...report.cleanup.errors, ...report.cleanup.leaks.map((l) => `left behind: ${l}`)].join("; ") };
  }
  return report;
}
