// The Vast API answers nothing but 429s for a minute while the GPU works: watch keeps syncing and
// never fails over (an API outage is not a dead GPU).
import { setTimeout as sleep } from "node:timers/promises";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

const outageSeconds = 60;

export const apiOutageHealthyGpu: Scenario = {
  id: "api-outage-healthy-gpu",
  fault: `Vast API 429 storm for ${outageSeconds} s`,
  where: "under watch, GPU healthy",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("w", 8)));
    await s.sync();
    const gpu = (await s.context()).slot().state.instanceId;
    const watching = new Watching(s.name);
    try {
      await watching.next((e) => e.event === "sync", 30_000);
      const stormAt = Date.now();
      await world.cloud.admin.fault({ kind: "rate-limit-storm", count: 1_000_000 });
      await sleep(outageSeconds * 1000);
      await world.cloud.admin.clearFaults();
      await sleep(4000);
      const during = watching.events.filter((e) => e.event === "health" && e.t >= stormAt && e.t <= stormAt + outageSeconds * 1000);
      const refused = during.filter((e) => String(e.vastStatus).includes("429") || String(e.vastStatus).startsWith("unknown"));
      expectThat(refused.length >= 3, `the storm reached only ${refused.length} health checks`);
      expectThat(during.every((e) => e.ok), `a check failed during the outage: ${JSON.stringify(during.find((e) => !e.ok))}`);
      expectThat(watching.count("failover-started") === 0, "watch started a failover during an API outage");
      const syncs = watching.events.filter((e) => e.event === "sync" && e.t >= stormAt).length;
      expectThat(syncs >= 2, `only ${syncs} syncs during and after the outage`);
      expectThat((await s.context()).slot().state.instanceId === gpu, "the active GPU changed");
      return { detail: `${during.length} checks during the outage (${refused.length} without an API answer), all healthy by SSH; ${syncs} syncs; no failover` };
    } finally {
      await watching.stop();
    }
  },
};
