// The chaos scenarios that fit in `npm test` (the full set, with the minute-long API outage and the
// other controller kills, is `npm run chaos`): each on its own stack of one local cloud, measured
// like the chaos runner does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../chaos/runner.ts";
import { scenarios } from "../chaos/scenarios/index.ts";
import { ChaosCloud } from "../chaos/world.ts";

const inTests = [
  "gpu-dies-mid-sync", "old-gpu-returns", "planned-move-final-sync", "dir-becomes-symlink", "file-changes-during-snapshot",
  "non-utf8-names", "corrupt-newest-snapshot", "standby-stopped-at-failover", "label-prefix-neighbour",
  "kill-mid-swap", "rent-then-key-attach-fails", "git-reverts-settings", "two-controllers",
  "agent-abuse", "poisoned-chain", "foreign-bucket",
];
const cloud = new ChaosCloud("chs");

beforeAll(async () => {
  await cloud.start();
});
afterAll(async () => {
  await cloud.stop();
});

describe("chaos scenarios", () => {
  it.each(inTests)("%s: nothing lost, nothing leaked, one active GPU", async (id) => {
    const scenario = scenarios.find((s) => s.id === id)!;
    const lines: string[] = [];
    const result = await runScenario(cloud, scenario, (line) => lines.push(line));
    expect(result, `${result.detail}\n${lines.slice(-40).join("\n")}`).toMatchObject({ passed: true, filesLost: 0, instancesLeaked: 0, activeGpus: 1 });
  });
});
