// Which copy of /workspace a new GPU gets: the freshest complete one. Candidates are the standby's
// last complete generation (read from the standby the stack declares, never from a status file)
// and the stack's snapshots, newest first; each is restored and verified in turn until one
// verifies. What was restored and when its data was captured (the true recovery point) is returned.
import { trustedGeneration } from "../standby/generation-trust.ts";
import { readStatus } from "../standby/status-file.ts";
import { compareTrees } from "../../dataplane/snapshot/tree-verification.ts";
import { restoreSnapshot } from "../../dataplane/snapshot/restore.ts";
import { scanWithHashes } from "../../dataplane/snapshot/workspace-scan.ts";
import { currentGeneration, generationPath, type GenerationRecord } from "../../dataplane/standby/generations.ts";
import { mirrorWorkspace } from "../../dataplane/standby/rsync.ts";
import { withRunKey } from "../../dataplane/standby/run-key.ts";
import { readyMirrorUser } from "../../dataplane/standby/mirror-user.ts";
import { ensureHostTools, gpuTools, standbyTools } from "../../dataplane/ssh/host-tools.ts";
import { connect, type SshConnection } from "../../dataplane/ssh/client.ts";
import { DumontError } from "../../lib/errors.ts";
import type { Slot } from "../settings.ts";
import type { SlotState, StackContext } from "../stack-context.ts";
import { reviveStandby } from "../standby/revive.ts";
import type { RestoredCopy, RestoreSource } from "./plan.ts";

/** How many snapshots are tried, newest first, before a restore gives up. */
const snapshotsTried = 3;

/** When a snapshot's data was captured: its id starts with the time its scan ended (manifest.ts: snapshotId). */
export function snapshotCapturedAt(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(id);
  if (!m) throw new Error(`'${id}' is not a snapshot id`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`;
}

export type Candidate = RestoredCopy;

/** Freshest first; on a tie the standby (a plain copy restores faster than an archive chain). */
export function orderCandidates(candidates: readonly Candidate[]): Candidate[] {
  return [...candidates].sort((a, b) => Date.parse(b.capturedAt) - Date.parse(a.capturedAt) || (a.kind === "standby" ? -1 : b.kind === "standby" ? 1 : 0));
}

/** The standby's last complete copy, starting a stopped standby once; undefined (with the reason said) if there is none. */
async function standbyCandidate(ctx: StackContext, progress: (line: string) => void, signal?: AbortSignal): Promise<{ ctx: StackContext; copy?: GenerationRecord }> {
  if (!ctx.outputs.standby) return { ctx };
  const read = async (c: StackContext) => {
    const ssh = await connect({ ...c.sshTarget(c.outputs.standby!), connectTimeoutMs: 10_000 });
    try {
      const copy = await currentGeneration(c.standbyMirror(ssh), c.name);
      const trusted = copy && trustedGeneration(copy, readStatus(c.name));
      if (copy && !trusted) progress(`  the standby's record of generation ${copy.generation} claims a time in the future; its copy is not used`);
      return trusted;
    } finally {
      ssh.close();
    }
  };
  try {
    return { ctx, copy: await read(ctx) };
  } catch (error) {
    progress(`  standby unreachable (${(error as Error).message.split("\n")[0]})`);
  }
  try {
    await reviveStandby(ctx, progress, signal);
    const { loadStackContext } = await import("../stack-context.ts");
    const revived = await loadStackContext(ctx.name);
    return { ctx: revived, copy: await read(revived) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    progress(`  the standby could not be started again (${(error as Error).message.split("\n")[0]}); going on without it`);
    return { ctx };
  }
}

export interface RestoreOutcome {
  readonly ctx: StackContext;
  readonly restored: RestoredCopy;
  /** Verifying the copy that restored; restoring it (and any copy tried before it that failed). */
  readonly seconds: { readonly restore: number; readonly verify: number };
}

/**
 * Restores the freshest complete copy into a slot's new GPU and verifies it; tries older copies when
 * one fails. With `only` (a planned move's last copy of the old GPU), that copy or nothing: falling
 * back to an older one would drop what the old GPU wrote since.
 */
export async function restoreFreshest(ctx: StackContext, slot: Slot, source: RestoreSource | undefined, progress: (line: string) => void, only?: Candidate, signal?: AbortSignal): Promise<RestoreOutcome> {
  const candidates: Candidate[] = [];
  if (only) candidates.push(only);
  else if (source !== "snapshot") {
    const found = await standbyCandidate(ctx, progress, signal);
    ctx = found.ctx;
    if (found.copy) candidates.push({ kind: "standby", generation: found.copy.generation, capturedAt: found.copy.startedAt });
    else if (ctx.outputs.standby) progress("  the standby holds no complete copy");
  }
  const store = await ctx.snapshotStore();
  if (!only && source !== "standby") {
    try {
      for (const s of (await store.list()).reverse().slice(0, snapshotsTried)) candidates.push({ kind: "snapshot", id: s.id, capturedAt: snapshotCapturedAt(s.id) });
    } catch (error) {
      // A bucket that does not answer must not stop a restore from a good standby copy.
      progress(`  the snapshots cannot be listed (${(error as Error).message.split("\n")[0]})`);
    }
  }
  const failures: string[] = [];
  const started = performance.now();
  for (const candidate of orderCandidates(candidates)) {
    const name = candidate.kind === "standby" ? `the standby's copy (generation ${candidate.generation})` : `snapshot ${candidate.id}`;
    // Stopped (the lease was lost): no further copy is tried, whatever the last one did.
    signal?.throwIfAborted();
    progress(`  restoring ${name}, captured ${candidate.capturedAt}`);
    try {
      const verifySeconds = candidate.kind === "standby"
        ? await restoreFromStandby(ctx, slot, candidate.generation, progress, signal)
        : (await ctx.withSlot({ slot }, (gpu) => restoreSnapshot({ ssh: gpu, store, id: candidate.id, onProgress: (l) => progress(`    ${l}`), signal }))).seconds.verify;
      return { ctx, restored: candidate, seconds: { restore: (performance.now() - started) / 1000 - verifySeconds, verify: verifySeconds } };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = (error as Error).message.split("\n").slice(0, 3).join("; ");
      failures.push(`${name}: ${reason}`);
      progress(`  ${name} did not restore (${reason}); trying the next copy`);
    }
  }
  if (only) {
    throw new DumontError(`the old GPU's last copy did not restore onto the new GPU: ${failures.join(" | ")}`, {
      hint: "nothing was swapped and the old GPU is still active; re-run dumont failover",
    });
  }
  throw new DumontError(
    candidates.length === 0
      ? `stack ${ctx.name} has no complete copy to restore from${source ? ` (--from ${source})` : ""}`
      : `no copy of stack ${ctx.name} restored and verified: ${failures.join(" | ")}`,
    { hint: "the old GPU is untouched; take a snapshot (dumont snapshot create) or sync the standby, then re-run dumont failover" },
  );
}

/** rsync from the standby's generation straight into the new GPU, then compare both trees file by file; resolves to the seconds the comparison took. */
async function restoreFromStandby(ctx: StackContext, slot: Slot, generation: number, progress: (line: string) => void, signal?: AbortSignal): Promise<number> {
  const target: SlotState = ctx.slot({ slot }).state;
  const root = generationPath(generation);
  const standby = await connect(ctx.sshTarget(ctx.outputs.standby!));
  let gpu: SshConnection | undefined;
  try {
    gpu = await connect(ctx.sshTarget(target));
    await Promise.all([ensureHostTools(standby, standbyTools), ensureHostTools(gpu, gpuTools)]);
    // Pushed by the standby's unprivileged mirror user, none of whose processes (whatever a hostile
    // GPU made of an earlier copy) is left to read the new GPU's run key.
    await readyMirrorUser(standby, ctx.outputs.standby!.user);
    const mirror = ctx.standbyMirror(standby);
    const result = await withRunKey(mirror, gpu, (identityFile) => mirrorWorkspace(mirror, { host: target.host, port: target.port, user: "root", hostKey: target.hostKey, identityFile }, "push", { source: root, signal }));
    progress(`    copied ${result.filesTransferred} files (${(result.bytesSent / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(1)} s`);
    progress("    verifying every file of the new GPU against the standby's copy");
    const verifyStarted = performance.now();
    const [expected, actual] = await Promise.all([scanWithHashes(mirror, { root, signal }), scanWithHashes(gpu, { signal })]);
    const { failures: mismatches, failureCount } = compareTrees(expected, actual);
    if (failureCount > 0) {
      throw new DumontError(`the new GPU's /workspace differs from the standby's copy in ${failureCount} entries: ${mismatches.slice(0, 5).map((m) => `${JSON.stringify(m.path)} ${m.problem}`).join("; ")}`);
    }
    progress(`    ${expected.filter((e) => e.type === "file").length} files verified`);
    return (performance.now() - verifyStarted) / 1000;
  } finally {
    standby.close();
    gpu?.close();
  }
}
