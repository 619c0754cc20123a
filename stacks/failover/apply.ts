// Running a failover: under the stack's lock, plan from the stack's state, then for each step change
// the stack's config and run `up` (provision, swap, retire), move the data (restore + verify) or
// fence the old GPU. Each step records its progress in the stack, so re-running after a crash
// resumes; at the end, instances labelled for this stack that the state does not know (a crash
// mid-create) are destroyed.
//
// What keeps the data: a planned move swaps only after the old GPU's last changes reached a copy;
// the new GPU gets the freshest complete copy, verified file by file; the old GPU is stopped before
// the new one becomes active, so two GPUs never both take writes; an automatic failover whose old
// GPU answers again before the swap is abandoned; the updates it runs never replace the standby.
import { slots } from "../../contract/settings-schema.ts";
import { DumontError, SettingError } from "../../lib/errors.ts";
import { pollUntil } from "../../lib/retry.ts";
import { createSnapshot } from "../../dataplane/snapshot/create.ts";
import { connect } from "../../dataplane/ssh/client.ts";
import { VastApiError } from "../../clouds/vast/client.ts";
import { pinnedUp } from "../pinned-update.ts";
import type { Slot } from "../settings.ts";
import { loadStackContext, outputValues, type SlotState, type StackContext } from "../stack-context.ts";
import { syncStandby } from "../standby/sync.ts";
import { destroyOrphans } from "../orphans.ts";
import { readSlotRecord, seedRecord, updateSlotRecord, type SlotRecord } from "../slot-record.ts";
import { restoreFreshest, snapshotCapturedAt } from "./copies.ts";
import { rentForSlot } from "./rent.ts";
import { destroyAndConfirm } from "../../components/vast/instance-operations.ts";
import { withStackLock } from "./lock.ts";
import { anySignal, untilAborted } from "../../lib/abortable.ts";
import { recordsSettled } from "../lease/shared-records.ts";
import { describePhases, overheadSeconds, RtoClock, type RtoReport } from "./rto.ts";
import { planFailover, type FailoverRecord, type FailoverStep, type FailoverTrigger, type FailoverView, type RestoredCopy, type RestoreSource } from "./plan.ts";

export interface FailoverOptions {
  readonly stack: string;
  /** Where the data comes from; default: the freshest complete copy (standby or snapshot). */
  readonly source?: RestoreSource;
  /** "automatic" (watch): abandoned if the old GPU answers again before the swap. Default "manual". */
  readonly trigger?: FailoverTrigger;
  /** "outbid": the watch saw Vast stop an interruptible GPU for a higher bid; its machine is not excluded. */
  readonly cause?: FailoverRecord["cause"];
  readonly fromInstanceId?: number;
  readonly onProgress?: (line: string) => void;
  /** Called after each step, with its name (tests stop the controller there). */
  readonly afterStep?: (step: FailoverStep) => void | Promise<void>;
  /** Stops the failover between steps and cancels a running `up` (the journey's Ctrl-C and cost cap). */
  readonly signal?: AbortSignal;
}

export interface FailoverResult {
  readonly outcome: "failed-over" | "nothing-to-do" | "abandoned";
  readonly reason?: string;
  readonly from?: { slot: Slot; instanceId: number };
  readonly to?: { slot: Slot; instanceId: number };
  readonly source?: RestoreSource;
  /** The copy the new GPU got; for a snapshot, its id is also `snapshotId`. */
  readonly restored?: RestoredCopy;
  readonly snapshotId?: string;
  /** How much older than the failover's start the restored data was (0 for a planned move's last copy). */
  readonly rpoSeconds?: number;
  /** Seconds per step: provision, restore (with verify), fence, swap, retire. */
  readonly seconds: Record<string, number>;
  /** From the call to the new GPU active (the swap), by phase; the retire comes after it. */
  readonly rto?: RtoReport;
  /** The old GPU this run stopped, and when it was told to (its compute stops billing there). */
  readonly fenced?: { readonly instanceId: number; readonly at: string };
  readonly orphansDestroyed: readonly number[];
}

/** How many failed machines stay excluded from new rentals. */
const rememberedFailedMachines = 5;
/** A health or liveness question to Vast must be answered in seconds, not after minutes of retries. */
export const quickApi = { attempts: 2, timeoutMs: 10_000, backoffMs: 500 } as const;

/**
 * Whether a slot's GPU still runs a command over SSH. Vast is asked first: an instance it no longer
 * lists, or lists as not running, is dead without waiting out an SSH connect timeout (seconds of RTO).
 * An API that does not answer decides nothing: SSH does.
 */
export async function answers(ctx: StackContext, state: SlotState | null | undefined): Promise<boolean> {
  if (!state) return false;
  const listed = await (await ctx.vast(quickApi)).showInstance(state.instanceId).catch(() => undefined);
  if (listed === null || (listed && listed.actual_status !== "running")) return false;
  return runsCommands(ctx, state);
}

/** Whether a host runs a command over SSH within a few seconds. */
export async function runsCommands(ctx: StackContext, state: { host: string; port: number; hostKey: string }): Promise<boolean> {
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
  for (const slot of slots) {
    const s = ctx.outputs.slots[slot];
    if (s) instances[slot] = { instanceId: s.instanceId, machineId: s.machineId };
  }
  return { activeSlot: ctx.outputs.activeSlot, provisionedSlots: ctx.outputs.provisionedSlots, instances, record };
}

/** The failover in progress on a stack, if any (kept in its slot record). */
export function readFailoverRecord(stack: string): FailoverRecord | undefined {
  return readSlotRecord(stack)?.failover;
}


export async function failover(options: FailoverOptions): Promise<FailoverResult> {
  const progress = options.onProgress ?? (() => {});
  // The recovery time counts from the call: waiting for the stack's lock is part of it.
  const clock = new RtoClock();
  return withStackLock(options.stack, "failover", (lockLost, assertHeld, context) => runFailover({ ...options, signal: anySignal(options.signal, lockLost)! }, progress, assertHeld, clock, context), {
    onWait: (holder) => progress(`waiting: stack ${options.stack} is busy with ${holder.operation} (pid ${holder.pid}) since ${holder.since}`),
    // A watch's failover stops waiting once its watch lease is lost: the watch that holds it acts.
    waitSignal: options.signal,
  });
}

/** The old GPU is the one the failover started from, and it still runs commands. */
async function originalAnswers(ctx: StackContext, record: FailoverRecord): Promise<boolean> {
  const old = ctx.outputs.slots[record.from];
  return old?.instanceId === record.fromInstanceId && (await answers(ctx, old));
}

/**
 * A planned move: the old GPU's last changes go to a copy first, and that copy is the only one the
 * new GPU may get; if either fails, nothing is swapped and the old GPU stays active.
 */
async function lastCopyFromOldGpu(ctx: StackContext, record: FailoverRecord, progress: (line: string) => void, signal?: AbortSignal): Promise<RestoredCopy> {
  const old = ctx.outputs.slots[record.from]!;
  const toStandby = record.source === "standby" || (record.source === undefined && ctx.outputs.standby);
  try {
    if (toStandby) {
      const sync = await syncStandby(ctx, { from: old, signal });
      progress(`  the old GPU answers: its last changes are on the standby (generation ${sync.generation.generation}, ${sync.filesTransferred} files sent)`);
      return { kind: "standby", generation: sync.generation.generation, capturedAt: sync.generation.startedAt };
    }
    const store = await ctx.snapshotStore();
    const made = await ctx.withSlot({ slot: record.from }, (ssh) => createSnapshot({ ssh, store, name: "failover-last", sourceLabel: `instance ${old.instanceId}`, onProgress: (l) => progress(`    ${l}`) }));
    progress(`  the old GPU answers: its last changes are in snapshot ${made.manifest.id}`);
    return { kind: "snapshot", id: made.manifest.id, capturedAt: snapshotCapturedAt(made.manifest.id) };
  } catch (error) {
    throw new DumontError(`the old GPU ${old.instanceId} still answers, but copying its last changes failed: ${(error as Error).message.split("\n")[0]}`, {
      hint: "nothing was swapped and the old GPU is still active; fix the cause and re-run dumont failover",
      cause: error,
    });
  }
}

/**
 * Stops the old GPU through Vast (which reaches it even when the controller cannot) and waits until
 * it is not running; resolves to when the stop was asked for (where Vast stops billing its compute).
 */
async function fence(ctx: StackContext, old: SlotState, progress: (line: string) => void, signal?: AbortSignal): Promise<Date> {
  const vast = await ctx.vast();
  const askedAt = new Date();
  try {
    // The client's retries can last minutes against a slow API: a lost lease stops the wait.
    await untilAborted(vast.setState(old.instanceId, "stopped"), signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof VastApiError && error.isNoSuchInstance) return askedAt;
    throw new DumontError(`could not stop the old GPU ${old.instanceId} before the swap: ${(error as Error).message}`, {
      hint: "the swap waits until the old GPU is fenced (two GPUs must never both take writes); re-run dumont failover",
    });
  }
  await pollUntil(async () => {
    const listed = await vast.showInstance(old.instanceId).catch(() => undefined);
    return listed === null || (listed !== undefined && listed.actual_status !== "running");
  }, {
    intervalMs: 1000,
    timeoutMs: 60_000,
    signal,
    timeoutError: () => new DumontError(`the old GPU ${old.instanceId} is still running a minute after it was told to stop`, { hint: "re-run dumont failover" }),
  });
  progress(`  the old GPU ${old.instanceId} is stopped: it takes no more writes`);
  return askedAt;
}

async function runFailover(options: FailoverOptions, progress: (line: string) => void, assertHeld: () => void, clock: RtoClock, locked: StackContext): Promise<FailoverResult> {
  // The lock read the stack once it held it (again if the lease brought another controller's records).
  let ctx = locked.outputs.activeSlot ? locked : await loadStackContext(options.stack);
  // The engine opens while the failover plans, and is awaited before anything is rented: a backend
  // or engine that cannot open the stack stops the failover there, not at its first update with a
  // GPU already paid for. (The catch only keeps a failure from counting as unhandled meanwhile.)
  const engineOpened = ctx.engineStack();
  engineOpened.catch(() => undefined);
  const record = readFailoverRecord(options.stack);
  /** Changes the stack's slot record (slots, active slot, excluded machines, this failover's progress). */
  // Each change is in the stack's bucket (where it keeps Dumont's records) before the failover goes
  // on: a controller that takes over after a crash resumes from it.
  const setSlots = async (change: (current: SlotRecord) => Omit<SlotRecord, "updatedAt" | "format">) => {
    const next = updateSlotRecord(options.stack, seedRecord(ctx.settings, ctx.outputs), change);
    await recordsSettled(options.stack);
    return next;
  };
  /** An update; the context takes the outputs it returns (no second engine run to read them). */
  const up = async () => {
    ctx = ctx.withOutputs(outputValues(await pinnedUp(await ctx.engineStack(), { progress, signal: options.signal, keepStandby: !!ctx.outputs.standby })));
  };
  if (options.source === "standby" && !ctx.outputs.standby) {
    throw new SettingError("--from", `stack ${options.stack} has no standby`, "use --from snapshot, or enable dumont:autoStandbyEnabled");
  }
  const plan = planFailover(view(ctx, record), { source: options.source, trigger: options.trigger, fromInstanceId: options.fromInstanceId, cause: options.cause });
  const seconds: Record<string, number> = {};
  if (plan.kind === "nothing") {
    let orphansDestroyed: number[] = [];
    if (plan.clearRecord) {
      // A failover that ended without clearing its record (killed right after its last update):
      // its rented GPU is in the state by now, and what it may have left is swept.
      await setSlots(({ failover: _, adopted: __, ...rest }) => rest);
      orphansDestroyed = await destroyOrphans(ctx.withCurrentRecord(), progress);
    }
    progress(`nothing to do: ${plan.reason}`);
    return { outcome: "nothing-to-do", reason: plan.reason, seconds, orphansDestroyed };
  }
  let r = plan.record;
  const save = async (next: FailoverRecord) => {
    r = next;
    await setSlots((current) => ({ ...current, failover: r }));
  };
  progress(`${record ? "resuming" : "starting"} ${r.trigger} failover of stack ${options.stack}: slot ${r.from} (instance ${r.fromInstanceId}) → slot ${r.to}, data from ${r.source ? `the ${r.source}` : "the freshest complete copy"}`);
  await save(r);

  /** The new slot goes and the old one stays active; the record goes only once the update succeeded. */
  const release = async (): Promise<FailoverResult> => {
    progress(`[release] slot ${r.to}: the failover is abandoned, its new GPU is destroyed`);
    // A GPU the engine has not taken in yet is destroyed here; one it has goes with the update.
    const adopted = readSlotRecord(options.stack)?.adopted;
    if (adopted && ctx.stated.slots[adopted.slot]?.instanceId !== adopted.instance.instanceId) {
      await destroyAndConfirm(await ctx.vast(), adopted.instance.instanceId);
    }
    await setSlots(({ adopted: _, ...current }) => ({ ...current, slots: [r.from], activeSlot: r.from }));
    await up();
    await setSlots(({ failover: _, ...current }) => current);
    // A rent a killed controller never recorded carries the stack's label: it goes too.
    const orphansDestroyed = await destroyOrphans(ctx, progress);
    return { outcome: "abandoned", reason: `instance ${r.fromInstanceId} answered again before the swap`, from: { slot: r.from, instanceId: r.fromInstanceId }, seconds, orphansDestroyed };
  };
  /** The old GPU answered again before the swap: it stays, the new slot is released, and its machine is not excluded. */
  const abandon = async (): Promise<FailoverResult> => {
    progress(`[abandon] the old GPU ${r.fromInstanceId} answers again`);
    await save({ ...r, abandoned: true });
    await setSlots((current) => ({ ...current, excludeMachineIds: current.excludeMachineIds.filter((m) => m !== r.fromMachineId) }));
    return release();
  };
  let restoredThisRun = false;
  let rto: RtoReport | undefined;
  let fenced: FailoverResult["fenced"];
  /** Restores the new GPU: from the old GPU's last copy alone in a planned move, else from the freshest complete copy. */
  const restoreInto = async (slot: Slot, oldAnswers: boolean): Promise<void> => {
    const target = ctx.slot({ slot }).state;
    const only = oldAnswers ? await clock.time("last_copy", () => lastCopyFromOldGpu(ctx, r, progress, options.signal)) : undefined;
    const outcome = await restoreFreshest(ctx, slot, r.source, progress, only, options.signal);
    clock.add("restore", outcome.seconds.restore);
    clock.add("verify", outcome.seconds.verify);
    ctx = outcome.ctx;
    restoredThisRun = true;
    await save({ ...r, restoredInstanceId: target.instanceId, restored: outcome.restored });
  };

  // The lock, reading the stack, planning and the first record write.
  clock.add("prepare", clock.report().seconds);
  for (const step of plan.steps) {
    options.signal?.throwIfAborted();
    assertHeld();
    const t0 = performance.now();
    switch (step.kind) {
      case "provision": {
        // A machine that failed is not rented again (for a while: the last few are remembered);
        // a planned move away from a healthy one does not blacklist it. A watch's failover is for
        // a GPU that failed its checks: asking again would cost seconds (an SSH timeout) of the RTO.
        // An outbid says nothing of the machine: a bid took it, it did not fail.
        const oldAnswers = r.trigger !== "automatic" && (await originalAnswers(ctx, r));
        const exclude = !oldAnswers && r.cause !== "outbid";
        progress(`[provision] a GPU for slot ${step.slot}${exclude ? `, avoiding machine ${step.excludeMachineId}` : ""}${r.cause === "outbid" ? " (the old one was outbid)" : ""}`);
        if (exclude) {
          const excluded = [...ctx.settings.gpu.excludeMachineIds.filter((m) => m !== step.excludeMachineId), step.excludeMachineId].slice(-rememberedFailedMachines);
          await setSlots((current) => ({ ...current, excludeMachineIds: excluded }));
        }
        // Rented outside the engine (rent.ts); the slot record holds it until the retire's update.
        ctx = ctx.withCurrentRecord();
        await untilAborted(engineOpened, options.signal);
        const rentStarted = Date.now();
        const rented = await rentForSlot(ctx, step.slot, progress, options.signal);
        assertHeld();
        await setSlots((current) => ({ ...current, slots: [r.from, r.to].sort(), adopted: rented }));
        ctx = ctx.withCurrentRecord();
        clock.addProvision(rentStarted, Date.now(), rented.instance);
        break;
      }
      case "restore": {
        const target = ctx.slot({ slot: step.slot }).state;
        progress(`[restore] slot ${step.slot} (instance ${target.instanceId})`);
        const oldAnswers = await originalAnswers(ctx, r);
        if (r.trigger === "automatic" && oldAnswers) return abandon();
        await restoreInto(step.slot, oldAnswers);
        break;
      }
      case "fence": {
        const old = ctx.outputs.slots[step.slot];
        if (!old || old.instanceId !== r.fromInstanceId) break;
        if (r.trigger === "automatic" && (await answers(ctx, old))) return abandon();
        // A planned move resumed after a crash: the old GPU kept working meanwhile, so its last
        // changes are copied and restored again before it is stopped.
        if (r.trigger !== "automatic" && !restoredThisRun && (await originalAnswers(ctx, r))) await restoreInto(r.to, true);
        progress(`[fence] stopping the old GPU ${old.instanceId} before the new one becomes active`);
        fenced = { instanceId: old.instanceId, at: (await clock.time("fence", () => fence(ctx, old, progress, options.signal))).toISOString() };
        break;
      }
      case "swap": {
        // The active slot is the slot record's (stack-context.ts): from this write on, every
        // controller and command uses the new GPU. The outputs follow with the retire's update; an
        // engine run only to change them would add seconds to the RTO.
        progress(`[swap] slot ${step.to} becomes active`);
        await clock.time("swap", () => setSlots((current) => ({ ...current, activeSlot: step.to })));
        rto = clock.report();
        progress(`  slot ${step.to} (instance ${ctx.outputs.slots[step.to]?.instanceId}) is active ${rto.seconds.toFixed(1)} s after the failover started (${describePhases(rto)}; ${overheadSeconds(rto).toFixed(1)} s besides the provider and the data)`);
        break;
      }
      case "retire":
        progress(`[retire] slot ${step.slot}: its instance is destroyed`);
        await setSlots((current) => ({ ...current, slots: [r.to] }));
        await up();
        await setSlots(({ failover: _, adopted: __, ...current }) => ({
          ...current, ...(r.restored && r.restoredInstanceId !== undefined && { lastRestore: { instanceId: r.restoredInstanceId, copy: r.restored } }),
        }));
        break;
      case "release":
        return release();
    }
    seconds[step.kind] = (performance.now() - t0) / 1000;
    await options.afterStep?.(step);
  }
  const orphans = await destroyOrphans(ctx, progress);
  const to = ctx.slot().state;
  const rpoSeconds = r.restored ? Math.max(0, (Date.parse(r.startedAt) - Date.parse(r.restored.capturedAt)) / 1000) : undefined;
  progress(`failover done: slot ${r.to} (instance ${to.instanceId}) is active${r.restored ? `, with data captured ${r.restored.capturedAt} (${r.restored.kind === "standby" ? `standby generation ${r.restored.generation}` : `snapshot ${r.restored.id}`})` : ""}`);
  return {
    outcome: "failed-over", from: { slot: r.from, instanceId: r.fromInstanceId }, to: { slot: r.to, instanceId: to.instanceId },
    source: r.restored?.kind ?? r.source, restored: r.restored, snapshotId: r.restored?.kind === "snapshot" ? r.restored.id : undefined,
    rpoSeconds, seconds, rto, fenced, orphansDestroyed: orphans,
  };
}
