// One standby sync of a stack: the active GPU's /workspace pushed to the standby in one hop, the
// result recorded in the stack's status (what `standby status` shows, RPO included).
import { mirrorWorkspace, type RsyncResult } from "../../harness/standby/rsync.ts";
import { connect } from "../../harness/ssh/client.ts";
import type { StackContext } from "../stack-context.ts";
import { updateStatus } from "./status-file.ts";

export async function syncStandby(ctx: StackContext): Promise<RsyncResult> {
  const { state } = ctx.slot();
  const standby = ctx.outputs.standby;
  if (!standby) throw new Error(`stack ${ctx.stack.name} has no standby (dumont:autoStandbyEnabled is false)`);
  const name = ctx.stack.name;
  try {
    const gpu = await connect({ ...ctx.sshTarget(state), forwardAgent: true, connectTimeoutMs: 10_000 });
    try {
      const result = await mirrorWorkspace(gpu, standby);
      updateStatus(name, (s) => {
        s.lastSync = { ...result, fromInstanceId: state.instanceId, toStandby: `${standby.user}@${standby.host}:${standby.port}` };
        s.consecutiveSyncFailures = 0;
        delete s.lastSyncError;
      });
      return result;
    } finally {
      gpu.close();
    }
  } catch (error) {
    updateStatus(name, (s) => {
      s.lastSyncError = { at: new Date().toISOString(), message: (error as Error).message.slice(0, 2000) };
      s.consecutiveSyncFailures += 1;
    });
    throw error;
  }
}
