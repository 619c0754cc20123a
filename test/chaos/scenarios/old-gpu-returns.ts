// A partition: the controller loses the GPU and fails over; the old GPU comes back. After the swap
// it is fenced (stopped, then destroyed) and never active again; before the swap, the automatic
// failover is abandoned and the old GPU stays the only active one.
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";
import { runsCommands } from "../../../stacks/failover/apply.ts";
import type { ChaosStack } from "../world.ts";

/** Whether an instance of the stack (by id, whichever slot) runs a command over SSH. */
async function answersOverSsh(s: ChaosStack, id: number): Promise<boolean> {
  const ctx = await s.context();
  const state = Object.values(ctx.outputs.slots).find((x) => x?.instanceId === id);
  return state ? runsCommands(ctx, state) : false;
}

export const oldGpuReturns: Scenario = {
  id: "old-gpu-returns",
  fault: "GPU link cut, restored later",
  where: "after the swap; then before the swap",
  async run(world) {
    const s = await world.stack();
    await s.onGpu((ssh) => s.ledger.write(ssh, names("p", 10)));
    await s.sync();
    const old = (await s.context()).slot().state.instanceId;
    const watching = new Watching(s.name);
    let done;
    let cutAt = 0;
    try {
      await watching.next((e) => e.event === "sync", 30_000);
      await world.cloud.admin.fault({ kind: "link-cut", target: String(old) });
      cutAt = Date.now();
      // The old GPU's link comes back as the new GPU becomes active: it must already be fenced.
      await watching.next((e) => e.event === "failover-progress" && String(e.line).startsWith("[swap]"), 180_000);
      await world.cloud.admin.fault({ kind: "link-restored", target: String(old) });
      const status = (await s.instances()).find((i) => i.id === old)?.actual_status;
      expectThat(status !== "running", `the old GPU ${old} is ${status} when the new one becomes active`);
      expectThat(!(await answersOverSsh(s, old)), `the old GPU ${old} still runs commands when the new one becomes active`);
      done = await watching.next((e) => e.event === "failover-done" || e.event === "failover-failed", 180_000);
    } finally {
      await watching.stop();
    }
    expectThat(done.event === "failover-done", `watch: ${JSON.stringify(done).slice(0, 300)}`);
    const listed = (await s.instances()).find((i) => i.id === old);
    expectThat(!listed, `the old GPU ${old} is still listed (${listed?.actual_status}) after it came back`);
    const active = (await s.context()).slot().state.instanceId;
    expectThat(active !== old, "the old GPU is active again");

    // Before the swap: the failed GPU answers again while the new one is being provisioned.
    await world.cloud.admin.fault({ kind: "link-cut", target: String(active) });
    const abandoned = await failover({
      stack: s.name, trigger: "automatic", fromInstanceId: active, onProgress: world.log,
      afterStep: async (step) => {
        if (step.kind === "provision") await world.cloud.admin.fault({ kind: "link-restored", target: String(active) });
      },
    });
    expectThat(abandoned.outcome === "abandoned", `the failover was not abandoned: ${abandoned.outcome}`);
    const after = await s.context();
    expectThat(after.slot().state.instanceId === active && after.outputs.provisionedSlots.length === 1, "the returning GPU stays the only slot");
    return {
      rtoSeconds: (done.t - cutAt) / 1000, rpoSeconds: done.rpoSeconds,
      detail: `after the swap: old GPU ${old} fenced and destroyed, ${active} active; before the swap: failover abandoned, ${active} kept`,
    };
  },
};
