// A planned move while the GPU works: files written right before it all arrive on the new GPU,
// through a last sync to the standby, then through a last snapshot.
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { describeRestore, names } from "./common.ts";

export const plannedMoveFinalSync: Scenario = {
  id: "planned-move-final-sync",
  fault: "none (planned move)",
  where: "files written just before the move",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("early", 10)));
    await s.sync();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("late", 5)));
    // The move promises the files as they are when it starts.
    s.ledger.acknowledge(s.ledger.state());
    const t0 = Date.now();
    const viaStandby = await failover({ stack: s.name, source: "standby", onProgress: world.log });
    const rto = (Date.now() - t0) / 1000;
    expectThat(viaStandby.outcome === "failed-over" && viaStandby.restored?.kind === "standby", `first move restored from ${describeRestore(viaStandby)}`);
    const lost = await s.onGpu((ssh) => s.ledger.lostOn(ssh));
    expectThat(lost.length === 0, `after the move through the standby, missing: ${lost.join(", ")}`);

    await s.snapshot("before-move");
    await s.onGpu((ssh) => s.ledger.write(ssh, names("later", 5)));
    s.ledger.acknowledge(s.ledger.state());
    const viaSnapshot = await failover({ stack: s.name, source: "snapshot", onProgress: world.log });
    expectThat(viaSnapshot.outcome === "failed-over" && viaSnapshot.restored?.kind === "snapshot" && viaSnapshot.restored.id.includes("failover-last"), `second move restored from ${describeRestore(viaSnapshot)}`);
    return { rtoSeconds: rto, rpoSeconds: viaStandby.rpoSeconds, detail: `through the standby: ${describeRestore(viaStandby)}; through a snapshot: ${describeRestore(viaSnapshot)}; every late file arrived` };
  },
};
