// A GPU killed while a sync of a changing workspace runs: the standby keeps its last complete copy
// and the failover restores exactly that.
import { setTimeout as sleep } from "node:timers/promises";
import { generationPath } from "../../../dataplane/standby/generations.ts";
import { mirrorHome } from "../../../dataplane/standby/mirror-user.ts";
import { syncStandby } from "../../../stacks/standby/sync.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat, until } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names, standbyGeneration } from "./common.ts";

export const gpuDiesMidSync: Scenario = {
  id: "gpu-dies-mid-sync",
  fault: "GPU host killed",
  where: "during a standby sync of a changing workspace",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("data/file", 30), 64 * 1024));
    const first = await s.sync();
    // The workspace changes (rewrites, deletions, a large new file) and the next sync is cut off.
    await s.onGpu(async (ssh) => {
      await s.ledger.write(ssh, names("data/file", 10), 64 * 1024);
      await ssh.run(["bash", "-c", "rm -f /workspace/data/file-2[0-9].bin; head -c 1G /dev/urandom > /workspace/big.bin"]);
      s.ledger.forget(names("data/file", 30).slice(20));
    });
    const ctx = await s.context();
    let settled: string | undefined;
    const syncing = syncStandby(ctx).then(() => "completed", (e: Error) => `failed: ${e.message.split("\n")[0]}`).then((o) => (settled = o));
    const standby = await ctx.connectStandby();
    try {
      await until("the second sync to be under way", async () => {
        if (settled) throw new Error(`the second sync ${settled} before it could be cut off`);
        const r = await standby.run(["sh", "-c", `du -sk ${mirrorHome}/${generationPath(2)} 2>/dev/null | cut -f1`], { allowFailure: true });
        return Number(r.stdout.trim() || 0) > 5_000;
      }, 60_000);
    } finally {
      standby.close();
    }
    const victim = await killActiveGpu(world, s);
    const killedAt = Date.now();
    const outcome = await syncing;
    expectThat(outcome.startsWith("failed"), `the sync ${outcome} before the GPU was killed`);
    const kept = await standbyGeneration(s);
    expectThat(kept === first.generation.generation, `the standby's current copy is generation ${kept}, expected the last complete one (${first.generation.generation})`);
    await sleep(100);
    const result = await automaticFailover(world, s, victim);
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "standby" && result.restored.generation === kept, `restored from ${describeRestore(result)}`);
    return {
      rtoSeconds: (Date.now() - killedAt) / 1000, rpoSeconds: result.rpoSeconds,
      detail: `sync ${outcome.slice(0, 60)}; the standby kept generation ${kept}; restored from ${describeRestore(result)}`,
    };
  },
};
