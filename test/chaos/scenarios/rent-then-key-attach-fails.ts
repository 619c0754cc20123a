// Vast rents the instance but attaching the SSH key fails: the new instance is destroyed at once
// (it would bill with nothing recording it), the failover stops with the old GPU still active, and
// running it again finishes.
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

export const rentThenKeyAttachFails: Scenario = {
  id: "rent-then-key-attach-fails",
  fault: "Vast answers 500 to the key attach",
  where: "right after a failover's rent",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("a", 6)));
    await s.sync();
    const old = (await s.context()).slot().state.instanceId;
    await world.cloud.admin.fault({ kind: "key-attach-fails", count: 1 });
    const failed = await failover({ stack: s.name, onProgress: world.log }).then(() => "completed", (e: Error) => e.message.split("\n")[0]!);
    expectThat(failed !== "completed", "the failover went through despite the failed key attach");
    const alive = (await s.instances()).map((i) => i.id);
    expectThat(alive.length === 1 && alive[0] === old, `after the failed attach these instances are alive: ${alive.join(", ")} (only ${old} should be)`);
    const t0 = Date.now();
    const result = await failover({ stack: s.name, onProgress: world.log });
    expectThat(result.outcome === "failed-over", `the second run ended ${result.outcome}`);
    return { rtoSeconds: (Date.now() - t0) / 1000, detail: `first run failed (${failed.slice(0, 80)}), nothing leaked; the re-run failed over to ${result.to?.instanceId}` };
  },
};
