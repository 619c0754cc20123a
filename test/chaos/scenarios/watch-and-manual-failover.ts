// A person fails over by hand while `dumont watch` runs: the two take turns on the stack's lock,
// the watch follows the new GPU (syncs it, starts no failover of its own), and a second manual
// failover queued behind the first finds its GPU already replaced.
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

export const watchAndManualFailover: Scenario = {
  id: "watch-and-manual-failover",
  fault: "two manual failovers while watch runs",
  where: "under watch, GPU healthy",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("h", 8)));
    await s.sync();
    const seen = (await s.context()).slot().state.instanceId;
    const watching = new Watching(s.name);
    try {
      await watching.next((e) => e.event === "sync", 30_000);
      const t0 = Date.now();
      const [first, second] = await Promise.all([
        failover({ stack: s.name, fromInstanceId: seen, onProgress: world.log }),
        failover({ stack: s.name, fromInstanceId: seen, onProgress: world.log }),
      ]);
      const outcomes = [first.outcome, second.outcome].sort();
      expectThat(outcomes.join() === "failed-over,nothing-to-do", `the two queued failovers ended ${outcomes.join(" and ")}`);
      const moved = first.outcome === "failed-over" ? first : second;
      const changed = await watching.next((e) => e.event === "active-gpu-changed", 30_000, t0);
      expectThat(changed.to === moved.to?.instanceId, `watch follows ${changed.to}, the failover made ${moved.to?.instanceId}`);
      await watching.next((e) => e.event === "sync", 30_000, changed.t);
      expectThat(watching.count("failover-started") === 0, "watch started a failover of its own");
      return { rtoSeconds: (changed.t - t0) / 1000, detail: `one failover moved ${seen} → ${moved.to?.instanceId}, the queued one found nothing to do; watch followed and synced the new GPU` };
    } finally {
      await watching.stop();
    }
  },
};
