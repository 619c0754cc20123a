// The standby's machine stopped (a Spot VM preempted) when the GPU dies: the failover starts it
// again and restores its last complete copy.
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names } from "./common.ts";

export const standbyStoppedAtFailover: Scenario = {
  id: "standby-stopped-at-failover",
  fault: "standby machine stopped, then the GPU killed",
  where: "before a failover",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("s", 10)));
    const synced = await s.sync();
    await world.cloud.admin.fault({ kind: "host-killed", target: s.name });
    const victim = await killActiveGpu(world, s);
    const t0 = Date.now();
    const result = await automaticFailover(world, s, victim);
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "standby" && result.restored.generation === synced.generation.generation, `restored from ${describeRestore(result)}`);
    return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: result.rpoSeconds, detail: `standby started again; restored ${describeRestore(result)}` };
  },
};
