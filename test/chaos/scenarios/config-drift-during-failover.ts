// Settings and the environment change while the environment runs: an `up` keeps the rented GPU,
// and a failover under watch neither replaces nor deletes the standby; only the new GPU follows
// the new settings.
import { openProjectStack } from "../../../stacks/workspace.ts";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { killActiveGpu, names } from "./common.ts";

const drift = { GPU_NAMES: "RTX 3090", GPU_IMAGE: "pytorch/pytorch:2.5.0-drifted" } as const;

export const configDriftDuringFailover: Scenario = {
  id: "config-drift-during-failover",
  fault: "settings edited and variables exported",
  where: "between up and a failover under watch",
  async run(world) {
    const s = await world.stack({ gpuNames: ["RTX 4090"] });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("work/f", 12)));
    await s.sync();
    const before = await s.context();
    const gpu = before.slot().state;
    const standby = before.outputs.standby!;
    const stack = await openProjectStack(s.name);
    await stack.setConfig("dumont:image", { value: "pytorch/pytorch:2.6.0-edited" });
    await stack.setConfig("dumont:gpuNames", { value: JSON.stringify(["RTX 3090"]) });
    Object.assign(process.env, drift);
    let watching: Watching | undefined;
    try {
      // A user's plain `up` with the drifted settings: the rented GPU stays (its settings were fixed at rent).
      await stack.up();
      const afterUp = await s.context();
      expectThat(afterUp.slot().state.instanceId === gpu.instanceId, `an up with changed settings replaced GPU ${gpu.instanceId} by ${afterUp.slot().state.instanceId}`);
      // Now an exported variable would delete the standby if a failover's update obeyed it.
      process.env.AUTO_STANDBY_ENABLED = "false";
      watching = new Watching(s.name);
      await watching.next((e) => e.event === "sync", 30_000);
      const victim = await killActiveGpu(world, s);
      const killedAt = Date.now();
      const done = await watching.next((e) => e.event === "failover-done" || e.event === "failover-failed", 180_000);
      expectThat(done.event === "failover-done", `watch: ${JSON.stringify(done).slice(0, 300)}`);
      const after = await s.context();
      expectThat(!!after.outputs.standby && after.outputs.standby.hostKey === standby.hostKey, "the failover under AUTO_STANDBY_ENABLED=false kept the standby");
      expectThat(after.slot().state.instanceId !== victim, "a new GPU is active");
      expectThat(after.slot().state.gpuName === "RTX 3090", `the new GPU follows the edited settings (got ${after.slot().state.gpuName})`);
      return {
        rtoSeconds: (done.t - killedAt) / 1000, rpoSeconds: done.rpoSeconds,
        detail: `up kept GPU ${gpu.instanceId}; the failover kept the standby and rented a ${after.slot().state.gpuName} as the edited settings say`,
      };
    } finally {
      await watching?.stop();
      for (const k of [...Object.keys(drift), "AUTO_STANDBY_ENABLED"]) delete process.env[k];
    }
  },
};
