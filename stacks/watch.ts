// `dumont watch`: the long-running loop that keeps an environment safe (the seed's
// StandbyManager). Every HEALTH_CHECK_INTERVAL it checks the active GPU; after FAILOVER_THRESHOLD
// failed checks in a row (never fewer: no flapping) it fails over (AUTO_FAILOVER), provisioning a
// new GPU and restoring it (AUTO_RECOVERY). Every SYNC_INTERVAL, while the GPU is healthy, it
// mirrors /workspace to the standby. It logs one JSON object per line and keeps its state in the
// stack's status file.
//
// SSH decides health: a GPU that runs a command is healthy whatever the provider's API says (an API
// outage must not fail over and destroy a working GPU with the user's job on it). The stack is read
// again at every tick, so a failover made by someone else, a retired slot or a new standby is seen.
//
// Any number of watches, on any machines, may run for one stack: the one holding the stack's watch
// lease in the bucket acts ("role":"active" on every line); the others wait ("role":"waiting") and
// the first to see the lease expire or released takes over. A watch that loses the lease (cut off
// from the bucket) stops acting and waits again.
import { setTimeout as sleep } from "node:timers/promises";
import { StepClock } from "./step-clock.ts";
import { connect } from "../dataplane/ssh/client.ts";
import { failover, quickApi, readFailoverRecord, type FailoverResult } from "./failover/apply.ts";
import { StackBusy, withStackLock } from "./failover/lock.ts";
import { describeHolder, LeaseBusy, type ControllerLease } from "./lease/controller-lease.ts";
import { stackLease, stackRecords } from "./lease/stack-leases.ts";
import { holdRecords } from "./lease/shared-records.ts";
import { untilAborted } from "../lib/abortable.ts";
import { loadStackContext, type StackContext } from "./stack-context.ts";
import { updateStatus, type HealthCheckRecord, type StackStatus } from "./standby/status-file.ts";
import { syncStandby } from "./standby/sync.ts";
import { destroyOrphans } from "./orphans.ts";

export interface WatchOptions {
  readonly stack: string;
  readonly log?: (event: Record<string, unknown>) => void;
  readonly signal?: AbortSignal;
}

type WatchState = NonNullable<StackStatus["watch"]>["state"];

/** Health from its two witnesses: SSH decides; Vast's status only explains a failure. */
export function healthVerdict(ssh: "ok" | { error: string }, vastStatus: string): Pick<HealthCheckRecord, "ok" | "error"> {
  if (ssh === "ok") return { ok: true };
  return { ok: false, error: `ssh: ${ssh.error}${vastStatus === "running" ? "" : ` (vast status: ${vastStatus})`}` };
}

/** One health check: SSH runs a command; Vast is asked (briefly) what it thinks of the instance. */
export async function checkHealth(ctx: StackContext, timeoutMs = 5000): Promise<HealthCheckRecord> {
  const { state } = ctx.slot();
  const at = new Date().toISOString();
  const [ssh, listed] = await Promise.all([
    (async () => {
      const connection = await connect({ ...ctx.sshTarget(state), connectTimeoutMs: timeoutMs });
      try {
        await connection.run(["true"], { timeoutMs });
        return "ok" as const;
      } finally {
        connection.close();
      }
    })().catch((error: Error) => ({ error: error.message })),
    (async () => (await (await ctx.vast(quickApi)).showInstance(state.instanceId)) ?? ("gone" as const))().catch((error: Error) => `unknown (${error.message.split("\n")[0]})`),
  ]);
  const vastStatus = typeof listed === "string" ? listed : String(listed.actual_status);
  return {
    at, ...healthVerdict(ssh, vastStatus), ssh: ssh === "ok" ? "ok" : "failed", vastStatus,
    ...(typeof listed !== "string" && isOutbid(listed) && { outbid: true }),
  };
}

/**
 * Vast stopped an interruptible GPU for a higher bid: it still intends it to run, but it is not
 * running. Read from the API at once, rather than after `failoverThreshold` failed checks.
 */
export function isOutbid(listed: Readonly<Record<string, unknown>>): boolean {
  // Only stopped: an exited container crashed, which the threshold of failed checks handles (and
  // that machine is excluded).
  return listed.is_bid === true && listed.intended_status === "running" && listed.actual_status === "stopped";
}

/** Consecutive failures after this check: a success resets the count (two failures then a success is not a failover). */
export function nextFailureCount(previous: number, check: Pick<HealthCheckRecord, "ok">): number {
  return check.ok ? 0 : previous + 1;
}

/** A step of the watch's loop that runs this long is said, and again each time as long again. */
const slowStepSeconds = 60;

/** Seconds to wait before another automatic failover attempt after `failed` attempts failed in a row. */
export function failoverBackoffSeconds(failed: number): number {
  return failed === 0 ? 0 : Math.min(600, 15 * 2 ** (failed - 1));
}

type Log = (event: Record<string, unknown>) => void;

/** Whether another operation holds the stack now (its lock here, or its lease in the bucket). */
async function operationBusy(stack: string, ctx: StackContext, signal?: AbortSignal): Promise<boolean> {
  try {
    await withStackLock(stack, "watch probe", async () => undefined, { timeoutMs: 0, context: ctx, signal });
    return false;
  } catch (error) {
    if (error instanceof StackBusy || error instanceof LeaseBusy) return true;
    throw error;
  }
}

export async function watch(options: WatchOptions): Promise<void> {
  const print = options.log ?? ((event) => console.log(JSON.stringify(event)));
  const name = options.stack;
  const signal = options.signal;
  let ctx = await loadStackContext(name);
  while (!signal?.aborted) {
    const lease = await stackLease(ctx, "watch", "watch", (line) => print({ event: "warning", role: "waiting", line })).catch((error: Error) => {
      print({ event: "watch-error", role: "waiting", error: `lease: ${error.message.split("\n")[0]}` });
      return null;
    });
    if (lease === null) {
      await sleep(ctx.settings.health.healthCheckIntervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
      continue;
    }
    if (lease && !(await waitForLease(lease, name, print, signal))) break;
    let letGo = () => {};
    try {
      // The active watch keeps the stack's status where every controller reads it (shared-records.ts).
      const records = lease ? await stackRecords(ctx, lease.signal) : undefined;
      // A watch that could not read the records others wrote does not act on its own old copy.
      const pulled = records ? await untilAborted(records.pull(), lease?.signal).then((changed) => ({ changed }), (error: Error) => ({ error })) : { changed: false };
      if ("error" in pulled) {
        print({ event: "watch-error", role: "waiting", error: `records: ${pulled.error.message.split("\n")[0]}` });
        await sleep(Math.min(5_000, ctx.settings.health.controllerLeaseSeconds * 1000), undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (pulled.changed) ctx = await loadStackContext(name).catch(() => ctx);
      if (records) letGo = holdRecords(name, records);
      await actAsWatcher(name, ctx, (event) => print({ ...event, role: "active" }), lease ? AbortSignal.any([...(signal ? [signal] : []), lease.signal]) : signal, lease?.signal);
      await untilAborted(records?.flush() ?? Promise.resolve(), lease?.signal).catch((error: Error) => print({ event: "warning", role: "active", line: error.message }));
    } finally {
      letGo();
      await lease?.release();
    }
    if (lease?.signal.aborted && !signal?.aborted) print({ event: "watch-lease-lost", role: "waiting", error: (lease.signal.reason as Error).message });
    ctx = await loadStackContext(name).catch(() => ctx);
  }
  print({ event: "watch-stopped", role: "waiting", stack: name });
}

/** Waits for the watch lease, printing who holds it and when this watch may take over. False if stopped first. */
async function waitForLease(lease: ControllerLease, stack: string, print: Log, signal?: AbortSignal): Promise<boolean> {
  const waitingSince = Date.now();
  let lastHolder = "";
  let lastPrinted = 0;
  while (!signal?.aborted) {
    try {
      const attempt = await lease.tryAcquire();
      if (attempt.acquired) {
        print({ event: "watch-active", role: "active", stack, waitedSeconds: (Date.now() - waitingSince) / 1000 });
        return true;
      }
      const holder = attempt.holder ? describeHolder(attempt.holder) : "another controller";
      if (holder !== lastHolder || Date.now() - lastPrinted > 60_000) {
        print({ event: "watch-waiting", role: "waiting", stack, holder, takeoverInSeconds: Math.ceil(attempt.takeoverInMs / 1000) });
        lastHolder = holder;
        lastPrinted = Date.now();
      }
      await sleep(Math.max(250, Math.min(2000, attempt.takeoverInMs)), undefined, { signal }).catch(() => undefined);
    } catch (error) {
      print({ event: "watch-error", role: "waiting", error: `lease: ${(error as Error).message.split("\n")[0]}` });
      await sleep(2000, undefined, { signal }).catch(() => undefined);
    }
  }
  return false;
}

/**
 * The watch loop proper, while this watch holds the lease (or no lease can be kept); ends when
 * `signal` aborts. A failover in progress finishes when the watch is stopped, but stops between
 * steps if the lease is lost (`leaseLost`): another watch may act by then.
 */
async function actAsWatcher(name: string, loaded: StackContext, log: Log, signal: AbortSignal | undefined, leaseLost: AbortSignal | undefined): Promise<void> {
  let ctx = loaded;
  const health = ctx.settings.health;
  let failures = 0;
  let firstFailureAt: number | undefined;
  let failedFailovers = 0;
  let nextFailoverAt = 0;
  let state = "healthy" as WatchState;
  let activeInstance = ctx.slot().state.instanceId;
  let nextSync = Date.now();
  let failoverSeenElsewhere = false;
  /** Since when an outbid GPU is waited for (dumont:onOutbid wait), until it answers again. */
  let outbidWaitingSince: number | undefined;
  const setState = (s: WatchState, extra: Partial<NonNullable<StackStatus["watch"]>> = {}) => {
    state = s;
    try {
      updateStatus(name, (status) => {
        status.watch = { ...(status.watch ?? { pid: process.pid, startedAt: new Date().toISOString(), consecutiveFailures: 0 }), pid: process.pid, updatedAt: new Date().toISOString(), state: s, consecutiveFailures: failures, ...extra };
      });
    } catch (error) {
      log({ event: "status-not-written", error: (error as Error).message });
    }
  };

  const steps = new StepClock(slowStepSeconds);
  const enter = (name: string) => steps.enter(name);

  /** Runs an automatic failover and reports it; the loop goes on whatever happens. */
  const runFailover = async (from?: number, cause?: "outbid"): Promise<void> => {
    setState("failing-over");
    enter("a failover");
    log({ event: "failover-started", instance: from, consecutiveFailures: failures, ...(cause && { cause }) });
    let result: FailoverResult;
    try {
      result = await failover({ stack: name, trigger: "automatic", fromInstanceId: from, cause, signal: leaseLost, onProgress: (line) => log({ event: "failover-progress", line }) });
    } catch (error) {
      failedFailovers += 1;
      nextFailoverAt = Date.now() + failoverBackoffSeconds(failedFailovers) * 1000;
      log({ event: "failover-failed", from, error: (error as Error).message, retryInSeconds: failoverBackoffSeconds(failedFailovers) });
      setState("degraded", { lastFailover: { at: new Date().toISOString(), from: from ?? 0, error: (error as Error).message } });
      return;
    }
    failedFailovers = 0;
    nextFailoverAt = 0;
    const failedAt = firstFailureAt;
    failures = 0;
    firstFailureAt = undefined;
    if (result.outcome === "abandoned") {
      log({ event: "failover-abandoned", from, reason: result.reason });
      setState("healthy");
      return;
    }
    const rto = failedAt !== undefined ? (Date.now() - failedAt) / 1000 : undefined;
    const rpo = result.restored && failedAt !== undefined ? Math.max(0, (failedAt - Date.parse(result.restored.capturedAt)) / 1000) : result.rpoSeconds;
    // Status first, then the log line: whoever reacts to the line finds the status up to date.
    setState("recovered", { lastFailover: { at: new Date().toISOString(), from: from ?? result.from?.instanceId ?? 0, to: result.to?.instanceId, rpoSeconds: rpo, rtoSeconds: rto } });
    log({ event: result.outcome === "failed-over" ? "failover-done" : "failover-nothing-to-do", from: result.from?.instanceId ?? from, to: result.to?.instanceId, source: result.source, restored: result.restored, rpoSeconds: rpo, rtoSeconds: rto, stepSeconds: result.seconds, detectSeconds: health.healthCheckIntervalSeconds * health.failoverThreshold, reason: result.reason });
    nextSync = Date.now();
  };

  // A step that runs long is said (watch-slow, each minute it goes on): a watch that seems stuck
  // names where. (Session 16: in a CI run a watch printed nothing for 300 s after its GPU was
  // killed, and nothing said what it awaited.)
  const slowWatch = setInterval(() => {
    const slow = steps.slow();
    if (slow) log({ event: "watch-slow", ...slow });
  }, 5_000);
  slowWatch.unref();
  try {
    await watchLoop();
  } finally {
    clearInterval(slowWatch);
  }

  async function watchLoop(): Promise<void> {
    setState("healthy");
    log({ event: "watch-started", stack: name, ...health, activeInstance, standby: !!ctx.outputs.standby });
    // Instances a killed controller rented without recording them are destroyed before anything else.
    try {
      // Under the lock (skipped if busy): a failover's rent in progress is no orphan.
      const swept = await withStackLock(name, "watch orphan sweep", (_lost, _held, current) => destroyOrphans(current, (line) => log({ event: "orphan", line })), { timeoutMs: 0, context: ctx, signal: leaseLost }).catch(() => []);
      for (const id of swept) log({ event: "orphan-destroyed", instance: id });
    } catch (error) {
      log({ event: "watch-error", error: `orphan sweep: ${(error as Error).message.split("\n")[0]}` });
    }
    while (!signal?.aborted) {
      try {
        enter("reading the stack");
        ctx = await loadStackContext(name);
        const current = ctx.slot().state.instanceId;
        if (current !== activeInstance) {
          // Someone else (a person, another controller) failed over: watch the new GPU from scratch.
          log({ event: "active-gpu-changed", from: activeInstance, to: current });
          activeInstance = current;
          failures = 0;
          firstFailureAt = undefined;
          outbidWaitingSince = undefined;
          nextSync = Date.now();
          if (state === "on-standby") setState("healthy");
        }
        // A failover in progress (someone else's, or one a dead controller left): while another
        // controller runs it, the GPU it fences is no reason to start a second one; left by a dead one,
        // this watch finishes it.
        const inProgress = readFailoverRecord(name);
        if (inProgress) {
          enter("a failover in progress");
          if (await operationBusy(name, ctx, leaseLost)) {
            if (!failoverSeenElsewhere) log({ event: "failover-elsewhere", from: inProgress.fromInstanceId, hint: "another controller is failing over; health checks wait for it" });
            failoverSeenElsewhere = true;
            failures = 0;
            firstFailureAt = undefined;
          } else {
            log({ event: "failover-pending", hint: "resuming the failover a previous controller left" });
            await runFailover(inProgress.fromInstanceId);
          }
          await sleep(health.healthCheckIntervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
          continue;
        }
        failoverSeenElsewhere = false;
        enter("the health check");
        const check = await checkHealth(ctx, Math.min(5000, health.healthCheckIntervalSeconds * 1000));
        failures = nextFailureCount(failures, check);
        if (failures === 1) firstFailureAt = Date.parse(check.at);
        if (failures === 0) firstFailureAt = undefined;
        log({ event: "health", at: check.at, ok: check.ok, ssh: check.ssh, vastStatus: check.vastStatus, consecutiveFailures: failures, ...(check.error && { error: check.error }), ...(check.outbid && { outbid: true }) });
        if (state !== "on-standby") setState(check.ok ? "healthy" : "degraded", { lastCheck: check });

        // Outbid: Vast says so at once, so the watch does not wait out its threshold.
        if (check.ok) outbidWaitingSince = undefined;
        const resuming = outbidWaitingSince !== undefined && ["stopped", "scheduling", "loading"].includes(check.vastStatus);
        if ((check.outbid || resuming) && !check.ok && state !== "on-standby") {
          if (health.onOutbid === "wait") {
            // The data stays on the machine; the GPU starts again when its bid is the highest again
            // (scheduled, loading: still the same wait). Nothing is synced from it meanwhile.
            if (outbidWaitingSince === undefined) log({ event: "outbid-waiting", instance: current, hint: `dumont:onOutbid is wait; to move now: dumont failover --stack ${name}` });
            outbidWaitingSince ??= Date.now();
            failures = 0;
            firstFailureAt = undefined;
          } else if (check.outbid && health.autoFailover && health.autoRecovery && Date.now() >= nextFailoverAt) {
            log({ event: "outbid", instance: current });
            await runFailover(current, "outbid");
            ctx = await loadStackContext(name);
            activeInstance = ctx.slot().state.instanceId;
          }
        }

        if (failures >= health.failoverThreshold && state !== "on-standby" && Date.now() >= nextFailoverAt) {
          if (!health.autoFailover) {
            log({ event: "failover-needed", instance: current, reason: check.error, hint: `run: dumont failover --stack ${name}` });
            setState("degraded");
          } else if (!health.autoRecovery) {
            // The data is safe on the standby (its last complete copy); a new GPU waits for a person.
            log({ event: "on-standby", instance: current, hint: `run: dumont failover --stack ${name} --from standby` });
            setState("on-standby");
          } else {
            await runFailover(current);
            ctx = await loadStackContext(name);
            activeInstance = ctx.slot().state.instanceId;
          }
        }

        if (ctx.outputs.standby && state !== "on-standby" && failures === 0 && outbidWaitingSince === undefined && Date.now() >= nextSync) {
          nextSync = Date.now() + health.syncIntervalSeconds * 1000;
          try {
            // Under the stack's lock: never while a failover restores from the standby.
            enter("a standby sync");
            const sync = await withStackLock(name, "watch sync", (lockLost, _held, current) => syncStandby(current, { signal: lockLost, onStep: (s) => enter(`a standby sync: ${s}`) }), { timeoutMs: 0, context: ctx, signal: leaseLost });
            log({ event: "sync", startedAt: sync.startedAt, seconds: sync.seconds, bytesSent: sync.bytesSent, filesTransferred: sync.filesTransferred, filesTotal: sync.filesTotal, generation: sync.generation.generation });
          } catch (error) {
            // The GPU keeps working; the next sync tries again.
            log({ event: "sync-failed", error: (error as Error).message.split("\n")[0] });
          }
        }
      } catch (error) {
        // A transient error (the engine, the status file, a network call) must not end the watch.
        log({ event: "watch-error", error: (error as Error).message.split("\n")[0] });
      }
      enter("waiting for the next check");
      await sleep(health.healthCheckIntervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
    }
    setState("stopped");
  }
}
