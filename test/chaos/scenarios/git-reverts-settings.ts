// The settings file is checked out to its state before a failover (git checkout, pull or stash):
// an up keeps the active GPU, because slots live in the stack's record, not in that file. With the
// record lost too, `dumont up` refuses to destroy the active GPU instead of renting for the old slot.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { upCommand } from "../../../bin/commands/stack.ts";
import { failover } from "../../../stacks/failover/apply.ts";
import { slotRecordFile } from "../../../stacks/slot-record.ts";
import { openProjectStack } from "../../../stacks/workspace.ts";
import { stackConfigFile } from "../../../stacks/stack-files.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

export const gitRevertsSettings: Scenario = {
  id: "git-reverts-settings",
  fault: "settings file checked out to before a failover",
  where: "after the failover, before an up",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false, activeSlot: "a", slots: ["a"] });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("g", 6)));
    await s.snapshot("base");
    const committed = readFileSync(stackConfigFile(s.name));
    const result = await failover({ stack: s.name, source: "snapshot", onProgress: world.log });
    expectThat(result.outcome === "failed-over" && result.to?.slot === "b", `failover: ${result.outcome} to ${result.to?.slot}`);
    writeFileSync(stackConfigFile(s.name), committed);
    await (await openProjectStack(s.name)).up();
    const after = await s.context();
    expectThat(after.outputs.activeSlot === "b" && after.slot().state.instanceId === result.to!.instanceId, `after the up slot ${after.outputs.activeSlot} runs ${after.slot().state.instanceId}, expected b with ${result.to!.instanceId}`);
    // The record lost as well (a deleted state folder): `dumont up` stops before the engine runs.
    const record = slotRecordFile(s.name);
    renameSync(record, `${record}.aside`);
    let refusal = "";
    try {
      await upCommand.run(["--stack", s.name]);
    } catch (error) {
      refusal = (error as Error).message;
    } finally {
      renameSync(`${record}.aside`, record);
    }
    expectThat(/would destroy it/.test(refusal), `dumont up without the record did not refuse: ${refusal || "it ran"}`);
    return { detail: `after the checkout an up kept slot b (instance ${result.to!.instanceId}); without the record dumont up refused: ${refusal.slice(0, 90)}` };
  },
};
