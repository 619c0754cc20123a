// The journey's steps: one declared list, in order, each with the variants that run it and its work.
// The first six are the seed guide's Test 1 (find offer … validate); the standby steps are its Test 3
// (GPU → CPU standby → new GPU); "both" runs Test 1, then Test 3 on the GPU Test 1 failed over to.
// The cleanup is the list's final stage: it runs whatever happened before it (runner.ts).
// Each step does what a user would do, through the same library the `dumont` commands use, and the
// CLI itself where the guide types a command.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { $ } from "zx";
import { dumontNodeEnvironment, dumontNodeFlags } from "../lib/tools/node-flags.ts";
import { offerQuery, rankOffers } from "../components/vast/gpu-query.ts";
import { failover, type FailoverResult } from "../stacks/failover/apply.ts";
import { withStackLock } from "../stacks/failover/lock.ts";
import { loadStackContext, type SlotState, type StackContext } from "../stacks/stack-context.ts";
import { syncStandby, type SyncResult } from "../stacks/standby/sync.ts";
import { currentGeneration, generationPath } from "../dataplane/standby/generations.ts";
import { engineProgress } from "../stacks/engine-output.ts";
import { b2MonthlyStorage, standbyRate, totalUsd, vastHourlyRate, type StandbyRate } from "../clouds/cost/model.ts";
import type { CostMeter } from "../clouds/cost/meter.ts";
import { DumontError, SettingError } from "../lib/errors.ts";
import { createTestFiles, validateTestFiles, type TestFile, type TestFilesRecord } from "../dataplane/files/test-files.ts";
import type { LocalCloudAdmin } from "../local-cloud/admin-client.ts";
import { createSnapshot } from "../dataplane/snapshot/create.ts";
import type { Manifest } from "../dataplane/snapshot/manifest.ts";
import type { CommandRunner, SshConnection } from "../dataplane/ssh/client.ts";
import { quickCommandMs } from "../dataplane/ssh/command-bounds.ts";
import { repoRoot } from "../lib/tools/paths.ts";
import type { Offer, VastClient } from "../clouds/vast/client.ts";
import { describeWorstCase, worstCase } from "./budget.ts";
import { cleanUp } from "./cleanup.ts";
import type { FileCheck, JourneyReport } from "./report.ts";
import type { JourneyOptions } from "./run.ts";
import { stepsOf, type Step } from "./runner.ts";
import { variants, type Variant } from "./variants.ts";
export { variants, type Variant };
import { createWorkspaceData } from "./workspace-data.ts";


export type StepId =
  | "find-offer" | "create-gpu" | "create-files" | "create-snapshot" | "failover" | "validate"
  | "standby-sync" | "gpu-lost" | "standby-associations" | "standby-failover" | "standby-validate"
  | "cleanup";

export function usesStandby(variant: Variant): boolean {
  return variant !== "snapshot";
}

/** What the steps share: the run's settings and report, and what each step leaves for the next ones. */
export interface JourneyContext {
  readonly options: JourneyOptions;
  readonly report: JourneyReport;
  readonly meter: CostMeter;
  /** The journey's abort: Ctrl-C, the cost cap, the time limit. */
  readonly signal: AbortSignal;
  /** A line of progress inside the current step. */
  readonly progress: (line: string) => void;
  /** From the setup (each absent if the setup failed before it). */
  stack?: Stack;
  vast?: VastClient;
  admin?: LocalCloudAdmin;
  /** The stack as last loaded: by the setup, after `pulumi up`, after each failover. */
  ctx?: StackContext;
  standbyPrice?: StandbyRate;
  offer?: Offer;
  /** The GPU `pulumi up` created. */
  firstGpu?: SlotState;
  files?: TestFilesRecord;
  snapshot?: Manifest;
  synced?: SyncResult;
}

export type JourneyStep = Step<JourneyContext>;

const dumontCli = path.join(repoRoot, "bin", "dumont.ts");

/** Every file of the record, every MD5, on `where`; throws unless all are intact. */
async function validateFiles(ssh: CommandRunner, record: TestFilesRecord, where: string, root?: string): Promise<FileCheck> {
  const results = await validateTestFiles(ssh, record, { root });
  const failures = results.results.filter((r) => !r.ok).map((r) => ({ path: r.path, problem: r.problem ?? "?" }));
  if (results.total !== record.files.length) throw new DumontError(`validated ${results.total} files, expected ${record.files.length}`);
  if (results.validated !== results.total) {
    const shown = failures.slice(0, 3).map((f) => `${f.path}: ${f.problem}`).join("; ");
    throw new DumontError(`${results.total - results.validated} of ${results.total} files failed validation on ${where}: ${shown}`);
  }
  return { validated: results.validated, total: results.total, failures };
}

/** The `dumont` CLI as the seed's guide types it; output shown as the step's progress. */
async function dumont(args: readonly string[], progress: (line: string) => void): Promise<string> {
  const result = await $({ cwd: repoRoot, quiet: true, nothrow: true, env: { ...process.env, ...dumontNodeEnvironment } })`${process.execPath} ${dumontNodeFlags} ${dumontCli} ${args}`;
  progress(`$ dumont ${args.join(" ")}`);
  if (result.exitCode !== 0) throw new DumontError(`dumont ${args.join(" ")} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout;
}

/** Work over SSH on the stack's active GPU. */
function onActive<T>(j: JourneyContext, work: (ssh: SshConnection, state: SlotState) => Promise<T>): Promise<T> {
  return j.ctx!.withSlot({}, (ssh, s) => work(ssh, s.state));
}

/** A GPU on the meter by the provider's own times (rent request, running), else from `fallback` (ms). */
function meterGpu(j: JourneyContext, state: SlotState, fallback: number): void {
  const since = state.rentRequestedAt ? Date.parse(state.rentRequestedAt) : fallback;
  j.meter.gpu(state.instanceId, state, since, state.runningAt ? Date.parse(state.runningAt) : since);
}

const stepTimes = (r: FailoverResult) => Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ");

// The cheapest offer, its price, and the worst case against --max-cost — nothing rented yet.
async function findOffer(j: JourneyContext): Promise<string> {
  const { options, report } = j;
  const gpu = j.ctx!.settings.gpu;
  const offers = rankOffers(await j.vast!.searchOffers(offerQuery(gpu)), gpu);
  if (offers.length === 0) {
    throw new SettingError("dumont:gpuNames / dumont:maxPricePerHour", `no Vast offer has ${gpu.gpuCount}× ${gpu.gpuNames.join(" or ")} at ≤ $${gpu.maxPricePerHour}/h with ≥ ${gpu.diskGb} GB disk and reliability ≥ ${gpu.minReliability}`,
      "widen GPU_NAMES or raise GPU_MAX_PRICE");
  }
  const cheapest = offers[0]!;
  report.offer = { id: cheapest.id, gpuName: cheapest.gpu_name, machineId: cheapest.machine_id, dphTotal: cheapest.dph_total, dphBase: cheapest.dph_base };
  j.progress(`${offers.length} offers match; cheapest: offer ${cheapest.id}, ${cheapest.num_gpus}× ${cheapest.gpu_name} on machine ${cheapest.machine_id}, $${cheapest.dph_total.toFixed(4)}/h (compute $${cheapest.dph_base.toFixed(4)}/h + ${gpu.diskGb} GB storage)`);
  const s = j.ctx!.settings.standby;
  j.standbyPrice = usesStandby(options.variant) ? standbyRate({ machineType: s.gcpMachineType, diskGb: s.gcpDiskSize, spot: s.gcpSpot, hourlyOverride: s.hourlyRate }) : undefined;
  const inet = (key: string) => Math.max(0, ...offers.map((o) => Number(o[key] ?? 0)));
  report.cost.worstCase = worstCase({
    variant: options.variant, timeLimitSeconds: options.timeLimitSeconds, maxPricePerHour: gpu.maxPricePerHour, standby: j.standbyPrice,
    workspaceBytes: options.workspaceBytes + options.files * 200, maxInetUpPerGb: inet("inet_up_cost"), maxInetDownPerGb: inet("inet_down_cost"),
  });
  const worst = totalUsd(report.cost.worstCase);
  j.progress(`worst case within the ${options.timeLimitSeconds} s time limit: ${describeWorstCase(report.cost.worstCase)}`);
  if (options.maxCostUsd !== undefined && worst > options.maxCostUsd) {
    throw new SettingError("--max-cost", `the worst case of this journey is $${worst.toFixed(4)}, above --max-cost $${options.maxCostUsd}; nothing was rented`,
      "raise --max-cost, shorten --time-limit, or lower dumont:maxPricePerHour (env GPU_MAX_PRICE)");
  }
  j.offer = cheapest;
  return `$${cheapest.dph_total.toFixed(4)}/h for ${cheapest.gpu_name}`;
}

// pulumi up: SSH key, GPU (waits for SSH login with a pinned host key), bucket, standby.
async function createGpu(j: JourneyContext): Promise<string> {
  const t0 = Date.now();
  await j.stack!.up({ signal: j.signal, onOutput: engineProgress(j.progress, "") });
  j.ctx = await loadStackContext(j.options.stack);
  const { state } = j.ctx.slot();
  meterGpu(j, state, t0);
  if (j.standbyPrice) j.meter.standby("standby", j.standbyPrice, t0);
  j.report.resources.gpuInstanceId = state.instanceId;
  j.report.cost.gpuCostPerHour = vastHourlyRate(state);
  if (j.ctx.outputs.standby) j.report.resources.standby = `${j.ctx.outputs.standby.user}@${j.ctx.outputs.standby.host}:${j.ctx.outputs.standby.port}`;
  const uname = await onActive(j, async (ssh) => (await ssh.run(["uname", "-sr"], { timeoutMs: quickCommandMs })).stdout.trim());
  j.progress(`SSH answers on ${state.host}:${state.port} (host key pinned): ${uname}`);
  j.firstGpu = state;
  return `GPU ${state.instanceId}: ${state.gpuName}, $${vastHourlyRate(state).toFixed(4)}/h`;
}

function notePrice(j: JourneyContext): void {
  if (j.offer!.dph_total !== j.firstGpu!.dphTotal) j.progress(`note: rented at $${j.firstGpu!.dphTotal}/h (the cheapest offer was taken meanwhile)`);
}

// The seed's unique files (and the optional bulk data), every MD5 recorded.
function createFiles(j: JourneyContext): Promise<string> {
  return onActive(j, async (ssh, state) => {
    const data = await createWorkspaceData(ssh, j.options.workspaceBytes, j.progress);
    const created = await createTestFiles(ssh, j.options.files, { instanceId: state.instanceId });
    const all: TestFilesRecord = { ...created, files: [...created.files, ...data] };
    mkdirSync(j.options.outputDir, { recursive: true });
    const file = path.join(j.options.outputDir, `failover_files_${state.instanceId}.json`);
    writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
    for (const f of created.files) j.progress(`${f.path}  ${f.md5}  ${f.size} B`);
    j.progress(`metadata: ${path.relative(process.cwd(), file) || file}`);
    j.report.testFiles = all.files as TestFile[];
    j.files = all;
    return `${all.files.length} files, ${(all.files.reduce((s, f) => s + f.size, 0) / 2 ** 20).toFixed(1)} MiB`;
  });
}

// Full snapshot to the bucket.
async function createFullSnapshot(j: JourneyContext): Promise<string> {
  const store = await j.ctx!.snapshotStore();
  const result = await onActive(j, (ssh, state) => createSnapshot({
    ssh, store, name: `test-snapshot-${Math.floor(Date.now() / 1000)}`, parent: "full", sourceLabel: `${j.options.stack}/${state.instanceId}`, onProgress: j.progress,
  }));
  const m = result.manifest;
  j.meter.transfer(j.firstGpu!.instanceId, "up", m.archive.bytes);
  j.meter.snapshotStored(m.archive.bytes, m.archive.parts + 3);
  j.report.resources.snapshotId = m.id;
  j.report.cost.snapshotPerMonth = b2MonthlyStorage(m.archive.bytes);
  j.snapshot = m;
  return `${m.id}: ${m.stats.files} files, ${(m.archive.bytes / 2 ** 20).toFixed(1)} MiB LZ4`;
}

/** Which report field holds the new GPU, and which its validation, after each kind of failover. */
const newGpuOf = { snapshot: "failoverGpuId", standby: "standbyFailoverGpuId" } as const;
const validationOf = { snapshot: "validation", standby: "standbyValidation" } as const;

// Provision a new GPU, restore the copy (the snapshot, or the standby's) and verify it, swap,
// retire the old GPU.
function failoverFrom(source: "snapshot" | "standby"): (j: JourneyContext) => Promise<string> {
  return async (j) => {
    const t0 = Date.now();
    const result = await failover({ stack: j.options.stack, source, signal: j.signal, onProgress: j.progress });
    if (result.outcome !== "failed-over" || !result.to) throw new DumontError(`failover did not happen: ${result.reason ?? "?"}`);
    j.ctx = await loadStackContext(j.options.stack);
    const to = result.to.instanceId;
    meterGpu(j, j.ctx.slot().state, t0);
    if (result.fenced) j.meter.gpuStopped(result.fenced.instanceId, Date.parse(result.fenced.at));
    if (source === "snapshot") {
      const { bytes, parts } = j.snapshot!.archive;
      j.meter.gpuGone(j.firstGpu!.instanceId);
      j.meter.transfer(to, "down", bytes);
      j.meter.snapshotDownloaded(bytes, parts + 2);
    } else {
      // The GPU it replaces was metered gone when it was lost.
      j.meter.transfer(to, "down", j.synced!.bytesSent);
    }
    j.report.resources[newGpuOf[source]] = to;
    if (result.rto) j.report.rto[source] = result.rto;
    const route = source === "snapshot" ? `GPU ${result.from!.instanceId} → ${to}` : `standby → GPU ${to}`;
    return `${route} (${stepTimes(result)})${result.rto ? `; active after ${result.rto.seconds.toFixed(1)} s` : ""}`;
  };
}

// Every file, every MD5, on the GPU the failover (from the snapshot, or from the standby) made.
function validateAfter(source: "snapshot" | "standby"): (j: JourneyContext) => Promise<string> {
  return (j) => onActive(j, async (ssh) => {
    const c = await validateFiles(ssh, j.files!, `GPU ${j.report.resources[newGpuOf[source]]}`);
    // The report holds the validation of a step that finished, not of one the abort cut short.
    if (!j.signal.aborted) j.report[validationOf[source]] = c;
    return `${c.validated}/${c.total} files OK`;
  });
}

// The guide's Test 3: the standby mirrors the GPU; the GPU is lost; a new GPU gets the standby's copy.
async function standbySync(j: JourneyContext): Promise<string> {
  const ctx = j.ctx!;
  const result = await withStackLock(j.options.stack, "standby sync", (lockLost, _held, current) => syncStandby(current, { signal: lockLost }), { context: ctx });
  j.meter.transfer(ctx.slot().state.instanceId, "up", result.bytesSent);
  j.synced = result;
  return `${result.filesTransferred} files, ${(result.bytesSent / 1e6).toFixed(1)} MB sent`;
}

async function loseGpu(j: JourneyContext): Promise<string> {
  const lost = j.ctx!.slot().state.instanceId;
  const out = await dumont(["instance", "destroy", String(lost), "--stack", j.options.stack], j.progress);
  j.progress(out.trim());
  j.meter.gpuGone(lost);
  return `GPU ${lost} destroyed`;
}

async function standbyAssociations(j: JourneyContext): Promise<string> {
  const association = JSON.parse(await dumont(["standby", "associations", "--stack", j.options.stack, "--json"], j.progress)) as { gpuInstanceId: number; standby: unknown };
  j.progress(`the stack still maps GPU ${association.gpuInstanceId} → standby ${JSON.stringify(association.standby)}`);
  // The standby "took over" only if it really holds the data: check every file of its last
  // complete copy.
  const standbySsh = await j.ctx!.connectStandby();
  try {
    // The copies belong to the standby's mirror user: read as it.
    const mirror = j.ctx!.standbyMirror(standbySsh);
    const copy = await currentGeneration(mirror, j.options.stack);
    if (!copy) throw new DumontError("the standby holds no complete copy");
    const c = await validateFiles(mirror, j.files!, "the standby", generationPath(copy.generation));
    return `the standby holds ${c.validated}/${c.total} files intact`;
  } finally {
    standbySsh.close();
  }
}

// Whatever happened: release every instance, sweep the cloud by label, check nothing of the run is
// left; the snapshot stays for audit unless asked otherwise.
async function cleanup(j: JourneyContext): Promise<string> {
  await cleanUp({ stack: j.options.stack, keepSnapshot: j.options.keepSnapshot, write: j.options.write }, j.report, { stack: j.stack, vast: j.vast, admin: j.admin, meter: j.meter });
  return j.report.cleanup.leaks.length ? `LEAKS: ${j.report.cleanup.leaks.join("; ")}` : "nothing of the run is left";
}

const everyVariant = variants;
const test1: readonly Variant[] = ["snapshot", "both"];
const test3: readonly Variant[] = ["standby", "both"];

/** Every step of every variant, in the order they run. */
export const allSteps: readonly JourneyStep[] = [
  { id: "find-offer", title: "Find the cheapest matching GPU offer", metric: "time_find_offer", variants: everyVariant, run: findOffer },
  { id: "create-gpu", title: "Create the GPU environment and wait for SSH", metric: "time_create_gpu", variants: everyVariant, run: createGpu, after: notePrice },
  { id: "create-files", title: "Create test files and record their MD5s", metric: "time_create_files", variants: everyVariant, run: createFiles },
  { id: "create-snapshot", title: "Snapshot /workspace to the bucket (LZ4)", metric: "time_create_snapshot", variants: test1, run: createFullSnapshot },
  { id: "failover", title: "Fail over to a new GPU and restore the snapshot", metric: "time_failover", variants: test1, run: failoverFrom("snapshot") },
  { id: "validate", title: "Validate every MD5 on the new GPU", metric: "time_validate", variants: test1, run: validateAfter("snapshot") },
  { id: "standby-sync", title: "Sync /workspace to the CPU standby", metric: "time_standby_sync", variants: test3, run: standbySync },
  { id: "gpu-lost", title: "Lose the GPU (destroy it, as the seed's Test 3 does)", metric: "time_gpu_lost", variants: test3, run: loseGpu },
  { id: "standby-associations", title: "Check the standby holds the GPU's data", variants: test3, run: standbyAssociations },
  { id: "standby-failover", title: "Fail over from the CPU standby to a new GPU", metric: "time_standby_failover", variants: test3, run: failoverFrom("standby") },
  { id: "standby-validate", title: "Validate every MD5 on the standby's new GPU", metric: "time_standby_validate", variants: test3, run: validateAfter("standby") },
  { id: "cleanup", title: "Release every instance, sweep by label, check for leaks", variants: everyVariant, final: true, run: cleanup },
];

/** The steps a variant runs, in order, the cleanup last. */
export function journeySteps(variant: Variant): JourneyStep[] {
  return stepsOf(allSteps, variant);
}
