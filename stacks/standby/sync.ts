// One standby sync of a stack: a GPU's /workspace pulled by the standby in one hop (with a key made
// for the run; the GPU is handed nothing) into a new generation, which becomes the standby's current copy only once complete (dataplane/standby/
// generations.ts); the result recorded in the stack's status (what `standby status` shows).
import { commitGeneration, mirrorLock, stageGeneration, type GenerationRecord } from "../../dataplane/standby/generations.ts";
import { mirrorWorkspace, type RsyncResult } from "../../dataplane/standby/rsync.ts";
import { withRunKey } from "../../dataplane/standby/run-key.ts";
import { readyMirrorUser } from "../../dataplane/standby/mirror-user.ts";
import { ensureHostTools, gpuTools, standbyTools } from "../../dataplane/ssh/host-tools.ts";
import { connect } from "../../dataplane/ssh/client.ts";
import { EnvironmentError, SettingError } from "../../lib/errors.ts";
import type { SlotState, StackContext } from "../stack-context.ts";
import { readStatus, updateStatus } from "./status-file.ts";
import { trustedGeneration } from "./generation-trust.ts";
import { readSlotRecord } from "../slot-record.ts";

export interface SyncOptions {
  /** The GPU to copy from; default the active slot's. A failover's last sync names the old GPU. */
  readonly from?: SlotState;
  /** Accept a copy that has less than half the entries of the previous one. */
  readonly allowShrink?: boolean;
  readonly timeoutMs?: number;
  /** The lock's signal: a sync stops at once when the stack's lease is lost. */
  readonly signal?: AbortSignal;
  /** Told as each of its steps begins (the watch names the step of a sync that runs long). */
  readonly onStep?: (step: string) => void;
}

export interface SyncResult extends RsyncResult {
  readonly generation: GenerationRecord;
  /** A previous copy kept on the standby as ~/dumont-mirror/kept-gen-N (see commitGeneration). */
  readonly keptPrevious?: number;
}

export async function syncStandby(ctx: StackContext, options: SyncOptions = {}): Promise<SyncResult> {
  const source = options.from ?? ctx.slot().state;
  const standby = ctx.outputs.standby;
  if (!standby) throw new SettingError("dumont:autoStandbyEnabled", `stack ${ctx.name} has no standby`, "set it to true and run dumont up");
  const name = ctx.name;
  const step = options.onStep ?? (() => {});
  try {
    step("connecting to the standby");
    const admin = await ctx.connectStandby().catch((error: Error) => {
      const flag = name === "local" ? "" : ` --stack ${name}`;
      throw new EnvironmentError(`cannot connect to the standby ${standby.user}@${standby.host}:${standby.port} over ssh: ${error.message}`,
        `npx dumont standby status${flag}; a stopped standby is started again by the next failover or \`npx dumont up${flag}\``, { cause: error });
    });
    try {
      step("the standby's tools");
      await ensureHostTools(admin, standbyTools);
      // The copy is received by the standby's unprivileged mirror user, none of whose processes
      // (from a copy cut off earlier) is left to read this copy's run key.
      step("the standby's mirror user");
      await readyMirrorUser(admin, standby.user);
      const mirror = ctx.standbyMirror(admin);
      step("staging a generation on the standby");
      const found = await stageGeneration(mirror, name);
      // The standby's record of its current copy, as this controller recorded it when it made it.
      const current = found.current && trustedGeneration(found.current, readStatus(name));
      const staged = { ...found, current };
      step("connecting to the GPU");
      const gpu = await connect({ ...ctx.sshTarget(source), connectTimeoutMs: 10_000 });
      let result: RsyncResult;
      try {
        step("the GPU's tools");
        await ensureHostTools(gpu, gpuTools);
        step("rsync from the GPU, with a run key");
        result = await withRunKey(mirror, gpu, (identityFile) => mirrorWorkspace(mirror, { host: source.host, port: source.port, user: "root", hostKey: source.hostKey, identityFile }, "pull", {
          destination: staged.destination, linkDest: staged.linkDest, lock: mirrorLock, timeoutMs: options.timeoutMs, signal: options.signal,
        }));
      } finally {
        gpu.close();
      }
      const generation: GenerationRecord = {
        format: "dumont-mirror/1", stack: name, generation: staged.generation, sourceInstanceId: source.instanceId,
        startedAt: result.startedAt, finishedAt: result.finishedAt, entries: result.filesTotal, bytes: result.bytesTotal,
      };
      // The first sync from a GPU that was not restored from the standby's current copy (a failover
      // that fell back to an older snapshot) keeps that copy aside instead of deleting it.
      const restored = readSlotRecord(name)?.lastRestore;
      step("committing the generation");
      const keepPrevious = !!staged.current && staged.current.sourceInstanceId !== source.instanceId
        && !(restored?.instanceId === source.instanceId && restored.copy.kind === "standby" && restored.copy.generation === staged.current.generation);
      await commitGeneration(mirror, staged, generation, { allowShrink: options.allowShrink, keepPrevious });
      updateStatus(name, (s) => {
        s.lastSync = { ...result, generation: generation.generation, fromInstanceId: source.instanceId, toStandby: `${standby.user}@${standby.host}:${standby.port}` };
        s.consecutiveSyncFailures = 0;
        delete s.lastSyncError;
      });
      return { ...result, generation, ...(keepPrevious && { keptPrevious: staged.current!.generation }) };
    } finally {
      admin.close();
    }
  } catch (error) {
    updateStatus(name, (s) => {
      s.lastSyncError = { at: new Date().toISOString(), message: (error as Error).message.slice(0, 2000) };
      s.consecutiveSyncFailures += 1;
    });
    throw error;
  }
}
