// `dumont watch`: the long-running loop that keeps an environment safe (the seed's
// StandbyManager). Every HEALTH_CHECK_INTERVAL it checks the active GPU two ways (an SSH command
// and Vast's own status); after FAILOVER_THRESHOLD failures in a row (never fewer: no flapping) it
// fails over (AUTO_FAILOVER), provisioning a new GPU and restoring it (AUTO_RECOVERY). Every
// SYNC_INTERVAL, while the GPU is healthy, it mirrors /workspace to the standby. It logs one JSON
// object per line and keeps its state in the stack's status file.
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../harness/ssh/client.ts";
import { failover, type FailoverResult } from "./failover/apply.ts";
import { loadStackContext, type StackContext } from "./stack-context.ts";
import { rpoSeconds, updateStatus, type HealthCheckRecord, type StackStatus } from "./standby/status-file.ts";
import { syncStandby } from "./standby/sync.ts";

export interface WatchOptions {
  readonly stack: string;
  readonly log?: (event: Record<string, unknown>) => void;
  readonly signal?: AbortSignal;
}

type WatchState = NonNullable<StackStatus["watch"]>["state"];

/** One health check: SSH runs a command, and Vast says the instance is running. */
export async function checkHealth(ctx: StackContext, timeoutMs = 5000): Promise<HealthCheckRecord> {
  const { state } = ctx.slot();
  const at = new Date().toISOString();
  const [ssh, vastStatus] = await Promise.all([
    (async () => {
      const connection = await connect({ ...ctx.sshTarget(state), connectTimeoutMs: timeoutMs });
      try {
        await connection.run(["true"], { timeoutMs });
        return "ok" as const;
      } finally {
        connection.close();
      }
    })().catch((error: Error) => ({ error: error.message })),
    (async () => (await (await ctx.vast()).showInstance(state.instanceId))?.actual_status ?? "gone")().catch((error: Error) => `unknown (${error.message})`),
  ]);
  const sshOk = ssh === "ok";
  const ok = sshOk && vastStatus === "running";
  const error = !sshOk ? `ssh: ${(ssh as { error: string }).error}` : vastStatus !== "running" ? `vast status: ${vastStatus}` : undefined;
  return { at, ok, ssh: sshOk ? "ok" : "failed", vastStatus: String(vastStatus), ...(error && { error }) };
}

/** Consecutive failures after this check: a success resets the count (two failures then a success is not a failover). */
export function nextFailureCount(previous: number, check: Pick<HealthCheckRecord, "ok">): number {
  return check.ok ? 0 : previous + 1;
}

export async function watch(options: WatchOptions): Promise<void> {
  const log = options.log ?? ((event) => console.log(JSON.stringify(event)));
  const signal = options.signal;
  let ctx = await loadStackContext(options.stack);
  const health = ctx.settings.health;
  let failures = 0;
  let firstFailureAt: number | undefined;
  // Widened on purpose: setState changes it from inside a closure, which TypeScript cannot see.
  let state = "healthy" as WatchState;
  let nextSync = Date.now();
  const setState = (s: WatchState, extra: Partial<NonNullable<StackStatus["watch"]>> = {}) => {
    state = s;
    updateStatus(options.stack, (status) => {
      status.watch = { ...(status.watch ?? { pid: process.pid, startedAt: new Date().toISOString(), consecutiveFailures: 0 }), pid: process.pid, updatedAt: new Date().toISOString(), state: s, consecutiveFailures: failures, ...extra };
    });
  };
  setState("healthy");
  log({ event: "watch-started", stack: options.stack, ...health, activeInstance: ctx.slot().state.instanceId, standby: !!ctx.outputs.standby });

  while (!signal?.aborted) {
    const check = await checkHealth(ctx, Math.min(5000, health.healthCheckIntervalSeconds * 1000));
    failures = nextFailureCount(failures, check);
    if (failures === 1) firstFailureAt = Date.parse(check.at);
    if (failures === 0) firstFailureAt = undefined;
    log({ event: "health", at: check.at, ok: check.ok, ssh: check.ssh, vastStatus: check.vastStatus, consecutiveFailures: failures, ...(check.error && { error: check.error }) });
    if (state !== "on-standby") setState(check.ok ? "healthy" : "degraded", { lastCheck: check });

    if (failures >= health.failoverThreshold && state !== "on-standby") {
      const status = updateStatus(options.stack, () => {});
      const rpo = firstFailureAt !== undefined && status.lastSync ? (firstFailureAt - Date.parse(status.lastSync.startedAt)) / 1000 : rpoSeconds(status);
      const from = ctx.slot().state.instanceId;
      if (!health.autoFailover) {
        log({ event: "failover-needed", instance: from, reason: check.error, hint: `run: dumont failover --stack ${options.stack}` });
        setState("degraded");
      } else if (!health.autoRecovery) {
        // The data is safe on the standby (its last sync); a new GPU waits for a person.
        log({ event: "on-standby", instance: from, rpoSeconds: rpo, hint: `run: dumont failover --stack ${options.stack} --from standby` });
        setState("on-standby");
      } else {
        setState("failing-over");
        log({ event: "failover-started", instance: from, consecutiveFailures: failures });
        let result: FailoverResult | undefined;
        try {
          result = await failover({ stack: options.stack, fromInstanceId: from, onProgress: (line) => log({ event: "failover-progress", line }) });
          const rto = firstFailureAt !== undefined ? (Date.now() - firstFailureAt) / 1000 : undefined;
          failures = 0;
          firstFailureAt = undefined;
          ctx = await loadStackContext(options.stack);
          // Status first, then the log line: whoever reacts to the line finds the status up to date.
          setState("recovered", { lastFailover: { at: new Date().toISOString(), from, to: result.to?.instanceId, rpoSeconds: rpo, rtoSeconds: rto } });
          log({ event: "failover-done", from, to: result.to?.instanceId, source: result.source, rpoSeconds: rpo, rtoSeconds: rto, stepSeconds: result.seconds, detectSeconds: health.healthCheckIntervalSeconds * health.failoverThreshold });
          nextSync = Date.now();
        } catch (error) {
          log({ event: "failover-failed", from, error: (error as Error).message });
          setState("degraded", { lastFailover: { at: new Date().toISOString(), from, error: (error as Error).message } });
        }
      }
    }

    if (ctx.outputs.standby && state !== "on-standby" && failures === 0 && Date.now() >= nextSync) {
      nextSync = Date.now() + health.syncIntervalSeconds * 1000;
      try {
        const sync = await syncStandby(ctx);
        log({ event: "sync", startedAt: sync.startedAt, seconds: sync.seconds, bytesSent: sync.bytesSent, filesTransferred: sync.filesTransferred, filesTotal: sync.filesTotal });
      } catch (error) {
        // The GPU keeps working; the next sync tries again.
        log({ event: "sync-failed", error: (error as Error).message.split("\n")[0] });
      }
    }
    await sleep(health.healthCheckIntervalSeconds * 1000, undefined, { signal }).catch(() => undefined);
  }
  setState("stopped");
  log({ event: "watch-stopped", stack: options.stack });
}
