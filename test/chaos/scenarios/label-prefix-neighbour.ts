// Two stacks whose names share a prefix (x and x-2): a failover of x, with its orphan sweep,
// leaves x-2's GPU running.
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

export const labelPrefixNeighbour: Scenario = {
  id: "label-prefix-neighbour",
  fault: "a neighbour stack named x-2",
  where: "during x's failover and orphan sweep",
  async run(world) {
    const x = await world.stack({ autoStandbyEnabled: false });
    const neighbour = await world.stack({ autoStandbyEnabled: false }, "-2");
    for (const s of [x, neighbour]) {
      await s.onGpu((ssh) => s.ledger.write(ssh, names("n", 4)));
      await s.snapshot("base");
    }
    const theirs = (await neighbour.context()).slot().state.instanceId;
    const result = await failover({ stack: x.name, source: "snapshot", onProgress: world.log });
    expectThat(result.outcome === "failed-over", `failover of ${x.name}: ${result.outcome}`);
    expectThat(!result.orphansDestroyed.includes(theirs), `${x.name}'s sweep destroyed ${neighbour.name}'s GPU ${theirs}`);
    const still = (await neighbour.instances()).find((i) => i.id === theirs);
    expectThat(still?.actual_status === "running", `${neighbour.name}'s GPU is ${still?.actual_status ?? "gone"}`);
    return { detail: `${x.name} failed over; ${neighbour.name}'s GPU ${theirs} still running` };
  },
};
