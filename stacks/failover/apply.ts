// Running a failover: under the stack's lock, plan from the stack's state, then for each step change
// the stack's config and run `up` (provision, swap, retire) or move the data (restore + verify).
// Each step records its progress in the stack, so re-running after a crash resumes; at the end,
// instances labelled for this stack that the state does not know (a crash mid-create) are destroyed.
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { compareTrees } from "../../harness/snapshot/manifest.ts";
import { restoreSnapshot } from "../../harness/snapshot/restore.ts";
import { scanWithHashes } from "../../harness/snapshot/workspace-scan.ts";
import { mirrorWorkspace } from "../../harness/standby/rsync.ts";
import { connect } from "../../harness/ssh/client.ts";
import type { Slot } from "../settings.ts";
import { loadStackContext, type StackContext } from "../stack-context.ts";
import { SettingError } from "../../harness/errors.ts";
import { readStatus, updateStatus } from "../standby/status-file.ts";
import { withStackLock } from "./lock.ts";
import { planFailover, type FailoverRecord, type FailoverStep, type FailoverView, type RestoreSource } from "./plan.ts";
import { whenStackFree } from "../concurrent-update.ts";
import { engineProgress } from "../engine-output.ts";

export interface FailoverOptions {
  readonly stack: string;
  /** Where the data comes from; default: the standby if it has a completed sync, else the newest snapshot. */
  readonly source?: RestoreSource;
  readonly fromInstanceId?: number;
  readonly onProgress?: (line: string) => void;
  /** Called after each step, with its name (tests stop the controller there). */
  readonly afterStep?: (step: FailoverStep) => void | Promise<void>;
  /** Stops the failover between steps and cancels a running `up` (the journey's Ctrl-C and cost cap). */
  readonly signal?: AbortSignal;
}

export interface FailoverResult {
  readonly outcome: "failed-over" | "nothing-to-do";
  readonly reason?: string;
  readonly from?: { slot: Slot; instanceId: number };
  readonly to?: { slot: Slot; instanceId: number };
  readonly source?: RestoreSource;
  readonly snapshotId?: string;
  /** Seconds per step: provision, restore (with verify), swap, retire. */
  readonly seconds: Record<string, number>;
  readonly orphansDestroyed: readonly number[];
}

const recordKey = "dumont:failover";
/** How many failed machines stay excluded from new rentals. */
const rememberedFailedMachines = 5;

/**
 * Whether a slot's GPU still runs a command over SSH. Vast is asked first: an instance it no longer
 * lists, or lists as not running, is dead without waiting out an SSH connect timeout (seconds of RTO).
 */
async function answers(ctx: StackContext, slot: Slot): Promise<boolean> {
  const state = ctx.outputs.slots[slot];
  if (!state) return false;
  const listed = await (await ctx.vast()).showInstance(state.instanceId).catch(() => undefined);
  if (listed === null || (listed && listed.actual_status !== "running")) return false;
  const ssh = await connect({ ...ctx.sshTarget(state), connectTimeoutMs: 5000 }).catch(() => undefined);
  if (!ssh) return false;
  try {
    return (await ssh.run(["true"], { timeoutMs: 5000, allowFailure: true })).code === 0;
  } catch {
    return false;
  } finally {
    ssh.close();
  }
}

function view(ctx: StackContext, record?: FailoverRecord): FailoverView {
  const instances: FailoverView["instances"] = {};
  for (const slot of ["a", "b"] as const) {
    const s = ctx.outputs.slots[slot];
    if (s) instances[slot] = { instanceId: s.instanceId, machineId: s.machineId };
  }
  return { activeSlot: ctx.outputs.activeSlot, provisionedSlots: ctx.outputs.provisionedSlots, instances, record };
}

async function readRecord(stack: Stack): Promise<FailoverRecord | undefined> {
  const all = await stack.getAllConfig();
  return all[recordKey] ? (JSON.parse(all[recordKey].value) as FailoverRecord) : undefined;
}

/** `up`, waiting out another update of the same stack instead of breaking its lock. */
async function upWaiting(stack: Stack, progress: (line: string) => void, signal?: AbortSignal): Promise<void> {
  await whenStackFree(() => stack.up({ signal, onOutput: engineProgress(progress) }), { progress, signal });
}

export async function failover(options: FailoverOptions): Promise<FailoverResult> {
  const progress = options.onProgress ?? (() => {});
  return withStackLock(options.stack, "failover", () => runFailover(options, progress), {
    onWait: (holder) => progress(`waiting: stack ${options.stack} is busy with ${holder.operation} (pid ${holder.pid}) since ${holder.since}`),
  });
}

async function runFailover(options: FailoverOptions, progress: (line: string) => void): Promise<FailoverResult> {
  let ctx = await loadStackContext(options.stack);
  const stack = ctx.stack;
  const record = await readRecord(stack);
  const synced = readStatus(options.stack).lastSync !== undefined;
  const source = options.source ?? (ctx.outputs.standby && synced ? "standby" : "snapshot");
  if (source === "standby" && !ctx.outputs.standby) {
    throw new SettingError("--from", `stack ${options.stack} has no standby`, "use --from snapshot, or enable dumont:autoStandbyEnabled");
  }
  const plan = planFailover(view(ctx, record), { source, fromInstanceId: options.fromInstanceId });
  const seconds: Record<string, number> = {};
  if (plan.kind === "nothing") {
    if (plan.clearRecord) await stack.removeConfig(recordKey);
    progress(`nothing to do: ${plan.reason}`);
    return { outcome: "nothing-to-do", reason: plan.reason, seconds, orphansDestroyed: [] };
  }
  const r = plan.record;
  progress(`${record ? "resuming" : "starting"} failover of stack ${options.stack}: slot ${r.from} (instance ${r.fromInstanceId}) → slot ${r.to}, data from the ${r.source}`);
  await stack.setConfig(recordKey, { value: JSON.stringify(r) });
  let snapshotId: string | undefined;

  for (const step of plan.steps) {
    options.signal?.throwIfAborted();
    const t0 = performance.now();
    switch (step.kind) {
      case "provision": {
        // A machine that failed is not rented again (for a while: the last few are remembered);
        // a planned move away from a healthy one does not blacklist it.
        const oldAnswers = await answers(ctx, r.from);
        progress(`[provision] a GPU for slot ${step.slot}${oldAnswers ? "" : `, avoiding machine ${step.excludeMachineId}`}`);
        if (!oldAnswers) {
          const excluded = [...ctx.settings.gpu.excludeMachineIds.filter((m) => m !== step.excludeMachineId), step.excludeMachineId].slice(-rememberedFailedMachines);
          await stack.setConfig("dumont:excludeMachineIds", { value: JSON.stringify(excluded) });
        }
        await stack.setConfig("dumont:slots", { value: JSON.stringify([r.from, r.to].sort()) });
        await upWaiting(stack, progress, options.signal);
        break;
      }
      case "restore": {
        ctx = await loadStackContext(options.stack);
        const target = ctx.slot({ slot: step.slot }).state;
        progress(`[restore] slot ${step.slot} (instance ${target.instanceId}) from the ${step.source}`);
        if (step.source === "standby") await restoreFromStandby(ctx, step.slot, r.from, progress);
        else snapshotId = await restoreFromSnapshot(ctx, step.slot, progress);
        await stack.setConfig(recordKey, { value: JSON.stringify({ ...r, restoredInstanceId: target.instanceId }) });
        break;
      }
      case "swap":
        progress(`[swap] slot ${step.to} becomes active`);
        await stack.setConfig("dumont:activeSlot", { value: step.to });
        await upWaiting(stack, progress, options.signal);
        break;
      case "retire":
        progress(`[retire] slot ${step.slot}: its instance is destroyed`);
        await stack.setConfig("dumont:slots", { value: JSON.stringify([r.to]) });
        await upWaiting(stack, progress, options.signal);
        await stack.removeConfig(recordKey);
        break;
    }
    seconds[step.kind] = (performance.now() - t0) / 1000;
    await options.afterStep?.(step);
  }
  ctx = await loadStackContext(options.stack);
  const orphans = await destroyOrphans(ctx, progress);
  const to = ctx.slot().state;
  progress(`failover done: slot ${r.to} (instance ${to.instanceId}) is active`);
  return {
    outcome: "failed-over", from: { slot: r.from, instanceId: r.fromInstanceId }, to: { slot: r.to, instanceId: to.instanceId },
    source: r.source, snapshotId, seconds, orphansDestroyed: orphans,
  };
}

/**
 * rsync from the standby straight into the new GPU, then compare both trees file by file. If the
 * old GPU still answers (a planned move), it first sends its latest changes to the standby.
 */
async function restoreFromStandby(ctx: StackContext, slot: Slot, from: Slot, progress: (line: string) => void): Promise<void> {
  const target = ctx.slot({ slot }).state;
  const old = ctx.outputs.slots[from];
  if (old && (await answers(ctx, from))) {
    const alive = await connect({ ...ctx.sshTarget(old), forwardAgent: true, connectTimeoutMs: 5000 }).catch(() => undefined);
    if (alive) {
      try {
        const last = await mirrorWorkspace(alive, ctx.outputs.standby!, { timeoutMs: 3600_000 });
        progress(`  the old GPU still answers: synced its last changes to the standby first (${last.filesTransferred} files)`);
        updateStatus(ctx.stack.name, (s) => {
          s.lastSync = { ...last, fromInstanceId: old.instanceId, toStandby: `${ctx.outputs.standby!.user}@${ctx.outputs.standby!.host}:${ctx.outputs.standby!.port}` };
        });
      } catch (error) {
        progress(`  the old GPU answers but a last sync failed (${(error as Error).message.split("\n")[0]}); using the standby as it is`);
      } finally {
        alive.close();
      }
    }
  }
  const standby = await connect({ ...ctx.sshTarget(ctx.outputs.standby!), forwardAgent: true });
  const gpu = await connect(ctx.sshTarget(target));
  try {
    const result = await mirrorWorkspace(standby, { host: target.host, port: target.port, user: "root", hostKey: target.hostKey });
    progress(`  copied ${result.filesTransferred} files (${(result.bytesSent / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(1)} s`);
    progress("[verify] every file of the new GPU against the standby");
    const [expected, actual] = await Promise.all([scanWithHashes(standby), scanWithHashes(gpu)]);
    const mismatches = compareTrees(expected, actual);
    if (mismatches.length > 0) {
      throw new Error(`the new GPU's /workspace differs from the standby in ${mismatches.length} entries: ${mismatches.slice(0, 5).map((m) => `${JSON.stringify(m.path)} ${m.problem}`).join("; ")}`);
    }
    progress(`  ${expected.filter((e) => e.type === "file").length} files verified`);
  } finally {
    standby.close();
    gpu.close();
  }
}

/** The newest snapshot, restored with its chain and verified against its manifest. */
async function restoreFromSnapshot(ctx: StackContext, slot: Slot, progress: (line: string) => void): Promise<string> {
  const store = await ctx.snapshotStore();
  const newest = (await store.list()).at(-1);
  if (!newest) throw new Error(`stack ${ctx.stack.name} has no snapshot to restore from; use --from standby, or take snapshots (dumont snapshot create)`);
  await ctx.withSlot({ slot }, (gpu) => restoreSnapshot({ ssh: gpu, store, id: newest.id, onProgress: (l) => progress(`  ${l}`) }));
  return newest.id;
}

/** Instances labelled for this stack that its state does not hold: left by a crash mid-create. */
async function destroyOrphans(ctx: StackContext, progress: (line: string) => void): Promise<number[]> {
  const vast = await ctx.vast();
  const known = new Set((["a", "b"] as const).map((s) => ctx.outputs.slots[s]?.instanceId).filter((id): id is number => id !== undefined));
  const prefix = `dumont-${ctx.stack.name}-`;
  const orphans = (await vast.listInstances()).filter((i) => String(i.label ?? "").startsWith(prefix) && !known.has(i.id));
  for (const orphan of orphans) {
    progress(`destroying orphan instance ${orphan.id} (${orphan.label})`);
    await vast.destroyInstance(orphan.id);
  }
  return orphans.map((o) => o.id);
}
