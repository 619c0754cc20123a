// The journey: the seed guide's real-failover test, run against the local cloud or the real ones.
// Each step does what a user would do (through the same library the `dumont` commands use, and the
// CLI itself where the guide types a command), is timed, and reports its progress. Whatever happens —
// a failed step, Ctrl-C, the cost cap — the `finally` releases every instance, sweeps the cloud by
// label and checks nothing of the run is left; the snapshot stays for audit.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { $ } from "zx";
import { offerQuery, rankOffers } from "../../components/vast/gpu-query.ts";
import { failover } from "../../stacks/failover/apply.ts";
import { withStackLock } from "../../stacks/failover/lock.ts";
import { loadStackContext, type SlotState, type StackContext } from "../../stacks/stack-context.ts";
import { syncStandby } from "../../stacks/standby/sync.ts";
import { currentGeneration, generationPath } from "../../harness/standby/generations.ts";
import { b2MonthlyStorage, standbyRate, totalUsd, vastHourlyRate, type StandbyRate, type VastRates } from "../cost/model.ts";
import { CostMeter } from "../cost/meter.ts";
import { DumontError, SettingError } from "../errors.ts";
import { createTestFiles, validateTestFiles, type TestFile, type TestFilesRecord } from "../files/test-files.ts";
import { LocalCloudAdmin } from "../local-cloud/admin-client.ts";
import { up as localCloudUp } from "../local-cloud/control.ts";
import { readEndpoints } from "../local-cloud/endpoints.ts";
import { createSnapshot } from "../snapshot/create.ts";
import type { SshConnection } from "../ssh/client.ts";
import { quickCommandMs } from "../ssh/command-bounds.ts";
import { repoRoot } from "../tools/paths.ts";
import { VastClient } from "../vast/client.ts";
import { budgetExceeded, describeWorstCase, worstCase } from "./budget.ts";
import { cleanUp, vastBill } from "./cleanup.ts";
import { createJourneyStack } from "./journey-stack.ts";
import { firstLine, StepRunner } from "./progress.ts";
import type { FileCheck, JourneyReport, StepRecord } from "./report.ts";
import { journeySteps, usesStandby, type StepId, type Variant } from "./steps.ts";
import { createWorkspaceData } from "./workspace-data.ts";
import { engineProgress } from "../../stacks/engine-output.ts";

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
  /** Called before each step; tests inject faults there. */
  readonly beforeStep?: (step: StepId, journey: { stack: string }) => Promise<void>;
}

/** Aborts the journey with a reason the report shows. */
export class JourneyStopped extends DumontError {}

const dumontCli = path.join(repoRoot, "bin", "dumont.ts");

function ratesOf(state: SlotState): VastRates {
  return {
    dphBase: state.dphBase, storageCostPerGbMonth: state.storageCostPerGbMonth, diskGb: state.diskGb,
    inetUpCostPerGb: state.inetUpCostPerGb, inetDownCostPerGb: state.inetDownCostPerGb,
  };
}

function check(files: readonly TestFile[], results: Awaited<ReturnType<typeof validateTestFiles>>): FileCheck {
  const failures = results.results.filter((r) => !r.ok).map((r) => ({ path: r.path, problem: r.problem ?? "?" }));
  if (results.total !== files.length) throw new DumontError(`validated ${results.total} files, expected ${files.length}`);
  return { validated: results.validated, total: results.total, failures };
}

function requireAllValid(where: string, c: FileCheck): void {
  if (c.validated === c.total) return;
  const shown = c.failures.slice(0, 3).map((f) => `${f.path}: ${f.problem}`).join("; ");
  throw new DumontError(`${c.total - c.validated} of ${c.total} files failed validation on ${where}: ${shown}`);
}

/** The `dumont` CLI as the seed's guide types it; output shown as the step's progress. */
async function dumont(args: readonly string[], progress: (line: string) => void): Promise<string> {
  const result = await $({ cwd: repoRoot, quiet: true, nothrow: true })`${process.execPath} --disable-warning=ExperimentalWarning ${dumontCli} ${args}`;
  progress(`$ dumont ${args.join(" ")}`);
  if (result.exitCode !== 0) throw new DumontError(`dumont ${args.join(" ")} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

export async function runJourney(options: JourneyOptions): Promise<JourneyReport> {
  const started = Date.now();
  const steps: StepRecord[] = [...journeySteps(options.variant).map((s) => ({ ...s, status: "not run" as const })), { id: "cleanup", title: "Release every instance, sweep by label, check for leaks", status: "not run" }];
  const report: JourneyReport = {
    cloud: options.cloud, variant: options.variant, stack: options.stack, startedAt: new Date(started).toISOString(), steps,
    resources: {}, testFiles: [], workspaceBytes: options.workspaceBytes,
    cost: { items: [], total: 0, worstCase: [], maxCost: options.maxCostUsd },
    cleanup: { destroyedBySweep: [], leaks: [], snapshotKept: options.keepSnapshot, errors: [] }, success: false,
  };
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const runner = new StepRunner(steps, options.write, signal);
  const meter = new CostMeter();
  let stack: Stack | undefined;
  let admin: LocalCloudAdmin | undefined;
  let vast: VastClient | undefined;
  let standbyPrice: StandbyRate | undefined;

  // The cost cap and the time limit, checked every second while the journey runs.
  const guard = setInterval(() => {
    const reason = budgetExceeded({ spentUsd: meter.total(), maxCostUsd: options.maxCostUsd, elapsedSeconds: (Date.now() - started) / 1000, timeLimitSeconds: options.timeLimitSeconds });
    if (reason && !stop.signal.aborted) {
      runner.note(`stopping: ${reason}`);
      stop.abort(new JourneyStopped(reason));
    }
  }, 1000);

  const step = async <T>(id: StepId, work: () => Promise<T>, summarize?: (value: T) => string): Promise<T> => {
    await options.beforeStep?.(id, { stack: options.stack });
    return runner.run(id, work, summarize);
  };
  const context = () => loadStackContext(options.stack);
  const onActive = <T>(ctx: StackContext, work: (ssh: SshConnection, state: SlotState) => Promise<T>) => ctx.withSlot({}, (ssh, s) => work(ssh, s.state));

  try {
    runner.note(`Dumont journey: ${options.variant === "both" ? "snapshot failover, then standby failover" : `${options.variant} failover`} on the ${options.cloud === "local" ? `local cloud '${options.localCloud}'` : "real clouds (THIS SPENDS MONEY)"}; stack ${options.stack}`);
    if (options.cloud === "local") {
      let endpoints = await readEndpoints(options.localCloud);
      if (!endpoints) {
        runner.note(`starting the local cloud '${options.localCloud}' (it stays up afterwards: it holds the audit snapshot)`);
        endpoints = await localCloudUp({ cloud: options.localCloud });
      }
      admin = new LocalCloudAdmin(endpoints);
    }
    stack = await createJourneyStack(options.stack, {
      cloud: options.cloud, localCloud: options.localCloud, standby: usesStandby(options.variant),
      diskGb: Math.max(16, Math.ceil((options.workspaceBytes * 2.5) / 1e9) + 8),
    });
    let ctx = await loadStackContext(options.stack, { requireOutputs: false });
    vast = await ctx.vast();

    // [1] The cheapest offer, its price, and the worst case against --max-cost — nothing rented yet.
    const offer = await step("find-offer", async () => {
      const gpu = ctx.settings.gpu;
      const offers = rankOffers(await vast!.searchOffers(offerQuery(gpu)), gpu);
      if (offers.length === 0) {
        throw new SettingError("dumont:gpuNames / dumont:maxPricePerHour", `no Vast offer has ${gpu.gpuCount}× ${gpu.gpuNames.join(" or ")} at ≤ $${gpu.maxPricePerHour}/h with ≥ ${gpu.diskGb} GB disk and reliability ≥ ${gpu.minReliability}`,
          "widen GPU_NAMES or raise GPU_MAX_PRICE");
      }
      const cheapest = offers[0]!;
      report.offer = { id: cheapest.id, gpuName: cheapest.gpu_name, machineId: cheapest.machine_id, dphTotal: cheapest.dph_total, dphBase: cheapest.dph_base };
      runner.detail(`${offers.length} offers match; cheapest: offer ${cheapest.id}, ${cheapest.num_gpus}× ${cheapest.gpu_name} on machine ${cheapest.machine_id}, $${cheapest.dph_total.toFixed(4)}/h (compute $${cheapest.dph_base.toFixed(4)}/h + ${gpu.diskGb} GB storage)`);
      const s = ctx.settings.standby;
      standbyPrice = usesStandby(options.variant) ? standbyRate({ machineType: s.gcpMachineType, diskGb: s.gcpDiskSize, spot: s.gcpSpot, hourlyOverride: s.hourlyRate }) : undefined;
      const inet = (key: string) => Math.max(0, ...offers.map((o) => Number(o[key] ?? 0)));
      report.cost.worstCase = worstCase({
        variant: options.variant, timeLimitSeconds: options.timeLimitSeconds, maxPricePerHour: gpu.maxPricePerHour, standby: standbyPrice,
        workspaceBytes: options.workspaceBytes + options.files * 200, maxInetUpPerGb: inet("inet_up_cost"), maxInetDownPerGb: inet("inet_down_cost"),
      });
      const worst = totalUsd(report.cost.worstCase);
      runner.detail(`worst case within the ${options.timeLimitSeconds} s time limit: ${describeWorstCase(report.cost.worstCase)}`);
      if (options.maxCostUsd !== undefined && worst > options.maxCostUsd) {
        throw new SettingError("--max-cost", `the worst case of this journey is $${worst.toFixed(4)}, above --max-cost $${options.maxCostUsd}; nothing was rented`,
          "raise --max-cost, shorten --time-limit, or lower dumont:maxPricePerHour (env GPU_MAX_PRICE)");
      }
      return cheapest;
    }, (o) => `$${o.dph_total.toFixed(4)}/h for ${o.gpu_name}`);

    // [2] pulumi up: SSH key, GPU (waits for SSH login with a pinned host key), bucket, standby.
    const first = await step("create-gpu", async () => {
      const t0 = Date.now();
      await stack!.up({ signal, onOutput: engineProgress(runner.detail, "") });
      ctx = await context();
      const { state } = ctx.slot();
      meter.gpu(state.instanceId, ratesOf(state), t0);
      if (standbyPrice) meter.standby("standby", standbyPrice, t0);
      report.resources.gpuInstanceId = state.instanceId;
      report.cost.gpuCostPerHour = vastHourlyRate(ratesOf(state));
      if (ctx.outputs.standby) report.resources.standby = `${ctx.outputs.standby.user}@${ctx.outputs.standby.host}:${ctx.outputs.standby.port}`;
      const uname = await onActive(ctx, async (ssh) => (await ssh.run(["uname", "-sr"], { timeoutMs: quickCommandMs })).stdout.trim());
      runner.detail(`SSH answers on ${state.host}:${state.port} (host key pinned): ${uname}`);
      return state;
    }, (s) => `GPU ${s.instanceId}: ${s.gpuName}, $${vastHourlyRate(ratesOf(s)).toFixed(4)}/h`);
    if (offer.dph_total !== first.dphTotal) runner.detail(`note: rented at $${first.dphTotal}/h (the cheapest offer was taken meanwhile)`);

    // [3] The seed's unique files (and the optional bulk data), every MD5 recorded.
    const record = await step("create-files", () => onActive(ctx, async (ssh, state) => {
      const data = await createWorkspaceData(ssh, options.workspaceBytes, runner.detail);
      const created = await createTestFiles(ssh, options.files, { instanceId: state.instanceId });
      const all: TestFilesRecord = { ...created, files: [...created.files, ...data] };
      mkdirSync(options.outputDir, { recursive: true });
      const file = path.join(options.outputDir, `failover_files_${state.instanceId}.json`);
      writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
      for (const f of created.files) runner.detail(`${f.path}  ${f.md5}  ${f.size} B`);
      runner.detail(`metadata: ${path.relative(process.cwd(), file) || file}`);
      report.testFiles = all.files as TestFile[];
      return all;
    }), (r) => `${r.files.length} files, ${(r.files.reduce((s, f) => s + f.size, 0) / 2 ** 20).toFixed(1)} MiB`);

    if (options.variant !== "standby") {
      // [4] Full snapshot to the bucket.
      const snapshot = await step("create-snapshot", async () => {
        const store = await ctx.snapshotStore();
        const result = await onActive(ctx, (ssh, state) => createSnapshot({
          ssh, store, name: `test-snapshot-${Math.floor(Date.now() / 1000)}`, parent: "full", sourceLabel: `${options.stack}/${state.instanceId}`, onProgress: runner.detail,
        }));
        const archive = result.manifest.archive;
        meter.transfer(first.instanceId, "up", archive.bytes);
        meter.snapshotStored(archive.bytes, archive.parts + 3);
        report.resources.snapshotId = result.manifest.id;
        report.cost.snapshotPerMonth = b2MonthlyStorage(archive.bytes);
        return result.manifest;
      }, (m) => `${m.id}: ${m.stats.files} files, ${(m.archive.bytes / 2 ** 20).toFixed(1)} MiB LZ4`);

      // [5] Provision a new GPU, restore the snapshot and verify it, swap, retire the old one.
      const moved = await step("failover", async () => {
        const t0 = Date.now();
        const result = await failover({ stack: options.stack, source: "snapshot", signal, onProgress: runner.detail });
        if (result.outcome !== "failed-over" || !result.to) throw new DumontError(`failover did not happen: ${result.reason ?? "?"}`);
        ctx = await context();
        meter.gpu(result.to.instanceId, ratesOf(ctx.slot().state), t0);
        meter.gpuGone(first.instanceId);
        meter.transfer(result.to.instanceId, "down", snapshot.archive.bytes);
        meter.snapshotDownloaded(snapshot.archive.bytes, snapshot.archive.parts + 2);
        report.resources.failoverGpuId = result.to.instanceId;
        return result;
      }, (r) => `GPU ${r.from!.instanceId} → ${r.to!.instanceId} (${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`);

      // [6] Every file, every MD5, on the new GPU.
      report.validation = await step("validate", () => onActive(ctx, async (ssh) => {
        const c = check(record.files, await validateTestFiles(ssh, record));
        requireAllValid(`GPU ${moved.to!.instanceId}`, c);
        return c;
      }), (c) => `${c.validated}/${c.total} files OK`);
    }

    if (usesStandby(options.variant)) {
      // The guide's Test 3: the standby mirrors the GPU; the GPU is lost; a new GPU gets the standby's copy.
      const synced = await step("standby-sync", async () => {
        const result = await withStackLock(options.stack, "standby sync", (lockLost) => syncStandby(ctx, { signal: lockLost }), { context: ctx });
        meter.transfer(ctx.slot().state.instanceId, "up", result.bytesSent);
        return result;
      }, (r) => `${r.filesTransferred} files, ${(r.bytesSent / 1e6).toFixed(1)} MB sent`);

      const lost = ctx.slot().state.instanceId;
      await step("gpu-lost", async () => {
        const out = await dumont(["instance", "destroy", String(lost), "--stack", options.stack], runner.detail);
        runner.detail(out.trim());
        meter.gpuGone(lost);
        return lost;
      }, (id) => `GPU ${id} destroyed`);

      await step("standby-associations", async () => {
        const association = JSON.parse(await dumont(["standby", "associations", "--stack", options.stack, "--json"], runner.detail)) as { gpuInstanceId: number; standby: unknown };
        runner.detail(`the stack still maps GPU ${association.gpuInstanceId} → standby ${JSON.stringify(association.standby)}`);
        // The standby "took over" only if it really holds the data: check every file of its last
        // complete copy.
        const standbySsh = await ctx.connectStandby();
        try {
          const copy = await currentGeneration(standbySsh, options.stack);
          if (!copy) throw new DumontError("the standby holds no complete copy");
          const c = check(record.files, await validateTestFiles(standbySsh, record, { root: generationPath(copy.generation) }));
          requireAllValid("the standby", c);
          return c;
        } finally {
          standbySsh.close();
        }
      }, (c) => `the standby holds ${c.validated}/${c.total} files intact`);

      const moved = await step("standby-failover", async () => {
        const t0 = Date.now();
        const result = await failover({ stack: options.stack, source: "standby", signal, onProgress: runner.detail });
        if (result.outcome !== "failed-over" || !result.to) throw new DumontError(`failover did not happen: ${result.reason ?? "?"}`);
        ctx = await context();
        meter.gpu(result.to.instanceId, ratesOf(ctx.slot().state), t0);
        meter.transfer(result.to.instanceId, "down", synced.bytesSent);
        report.resources.standbyFailoverGpuId = result.to.instanceId;
        return result;
      }, (r) => `standby → GPU ${r.to!.instanceId} (${Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`);

      report.standbyValidation = await step("standby-validate", () => onActive(ctx, async (ssh) => {
        const c = check(record.files, await validateTestFiles(ssh, record));
        requireAllValid(`GPU ${moved.to!.instanceId}`, c);
        return c;
      }), (c) => `${c.validated}/${c.total} files OK`);
    }
    report.timeTotalSeconds = (Date.now() - started) / 1000;
    report.success = true;
  } catch (error) {
    const failed = steps.find((s) => s.status === "failed" || s.status === "interrupted");
    const reason = signal.aborted ? firstLine(signal.reason) : firstLine(error);
    // Stopped between steps: the step that did not get to start is where the journey ended.
    const next = signal.aborted ? steps.find((s) => s.status === "not run" && s.id !== "cleanup") : undefined;
    report.failure = { step: failed?.id ?? next?.id ?? "setup", reason };
    if (!failed) runner.note(`journey failed before its first step: ${reason}`);
  } finally {
    clearInterval(guard);
    await runner.run("cleanup", () => cleanUp({ stack: options.stack, keepSnapshot: options.keepSnapshot, write: options.write }, report, { stack, vast, admin, meter }), () =>
      report.cleanup.leaks.length ? `LEAKS: ${report.cleanup.leaks.join("; ")}` : "nothing of the run is left").catch(() => undefined);
    report.cost.items = meter.items();
    report.cost.total = meter.total();
    report.cost.vastBilled = await vastBill(vast, meter.gpuIds()).catch(() => undefined);
    report.finishedAt = new Date().toISOString();
    if (report.cleanup.leaks.length > 0 || report.cleanup.errors.length > 0) {
      report.success = false;
      report.failure ??= { step: "cleanup", reason: [...report.cleanup.errors, ...report.cleanup.leaks.map((l) => `left behind: ${l}`)].join("; ") };
    }
  }
  return report;
}
