// Steps several scenarios share.
import { currentGeneration } from "../../../dataplane/standby/generations.ts";
import { failover, type FailoverResult } from "../../../stacks/failover/apply.ts";
import type { ScenarioWorld } from "../scenario.ts";
import type { ChaosStack } from "../world.ts";

export const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}.bin`);

/** Kills the active GPU's host (every process, as a dead machine); returns its instance id. */
export async function killActiveGpu(world: ScenarioWorld, stack: ChaosStack): Promise<number> {
  const id = (await stack.context()).slot().state.instanceId;
  await world.cloud.admin.fault({ kind: "host-killed", target: String(id) });
  return id;
}

/** The failover a watch would start for a GPU it saw fail. */
export function automaticFailover(world: ScenarioWorld, stack: ChaosStack, from: number, source?: "standby" | "snapshot"): Promise<FailoverResult> {
  return failover({ stack: stack.name, trigger: "automatic", fromInstanceId: from, source, onProgress: world.log });
}

/** The standby's last complete generation number, or 0. */
export async function standbyGeneration(stack: ChaosStack): Promise<number> {
  const ctx = await stack.context();
  const ssh = await ctx.connectStandby();
  try {
    return (await currentGeneration(ctx.standbyMirror(ssh), stack.name))?.generation ?? 0;
  } finally {
    ssh.close();
  }
}

export function describeRestore(result: FailoverResult): string {
  const r = result.restored;
  return r ? (r.kind === "standby" ? `standby generation ${r.generation}` : `snapshot ${r.id}`) : "nothing";
}
