// `dumont watch` is killed (with its engine) in the middle of a failover, after the swap; a watch
// started again finishes it: the old slot is retired, nothing is left billing.
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { killActiveGpu, names } from "./common.ts";

export const watchRestartResumes: Scenario = {
  id: "watch-restart-resumes",
  fault: "watch SIGKILLed (with its engine), GPU dead",
  where: "after the swap, during the retire",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("r", 8)));
    await s.sync();
    const first = new Controller(["watch", "--stack", s.name]);
    await first.waitFor(/"event":"sync"/, 60_000);
    const victim = await killActiveGpu(world, s);
    const killedAt = Date.now();
    await first.waitFor(/Updating/, 180_000, /\[retire\]/);
    await first.killGroup();
    const again = new Watching(s.name);
    try {
      const done = await again.next((e) => e.event === "failover-done" || e.event === "failover-failed", 180_000);
      expectThat(done.event === "failover-done", `the restarted watch: ${JSON.stringify(done).slice(0, 300)}`);
      expectThat(again.events.some((e) => e.event === "failover-pending"), "the restarted watch did not see the pending failover");
      const instances = (await s.instances()).map((i) => i.id);
      expectThat(!instances.includes(victim), `the dead GPU ${victim} is still listed`);
      return { rtoSeconds: (Date.now() - killedAt) / 1000, detail: `the first watch died retiring GPU ${victim}; the second finished the failover (${done.stepSeconds ? Object.keys(done.stepSeconds).join(", ") : "?"})` };
    } finally {
      await again.stop();
    }
  },
};
