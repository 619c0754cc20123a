// `npm run chaos [ID…]`: fault scenarios on a local cloud of their own, through the real engine.
// Prints a table (scenario, fault, where injected, outcome, files lost, instances leaked, active
// GPUs at the end, RTO, RPO) and writes .state/chaos/results.json. Exits 1 if any scenario failed.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";
import { makePrivateDir } from "../../lib/tools/private-dir.ts";
import { resultsTable, runScenario } from "./runner.ts";
import type { ScenarioResult } from "./scenario.ts";
import { scenarios } from "./scenarios/index.ts";
import { ChaosCloud, chaosDir } from "./world.ts";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((id) => !scenarios.some((s) => s.id === id));
if (unknown.length > 0) {
  console.error(`chaos: no scenario ${unknown.join(", ")}; known: ${scenarios.map((s) => s.id).join(", ")}`);
  process.exit(2);
}
const chosen = wanted.length ? scenarios.filter((s) => wanted.includes(s.id)) : scenarios;
applyToolEnvironment();
const cloud = new ChaosCloud();
const results: ScenarioResult[] = [];
const file = path.join(chaosDir, "results.json");
/** Written after every scenario, so a run cut short keeps what it measured. */
const writeResults = () => {
  makePrivateDir(chaosDir);
  writeFileSync(file, `${JSON.stringify(results.map(({ id, passed, filesLost, instancesLeaked, activeGpus, rtoSeconds, rpoSeconds, detail, fault, where, seconds }) => ({ id, passed, filesLost, instancesLeaked, activeGpus, rtoSeconds, rpoSeconds, detail, fault, where, seconds })), null, 2)}\n`);
};
console.log(`chaos: ${chosen.length} scenario(s) on local cloud '${cloud.name}'`);
await cloud.start();
try {
  for (const scenario of chosen) {
    console.log(`\n▶ ${scenario.id}: ${scenario.fault} (${scenario.where})`);
    const t0 = Date.now();
    const result = await runScenario(cloud, scenario, (line) => console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s ${line}`));
    results.push(result);
    writeResults();
    console.log(`${result.passed ? "✓" : "✗"} ${scenario.id} in ${result.seconds.toFixed(0)} s: ${result.detail}`);
  }
} finally {
  await cloud.stop();
}
console.log(`\n${resultsTable(results)}\n\n${results.filter((r) => r.passed).length} passed, ${results.filter((r) => !r.passed).length} failed; results in ${path.relative(process.cwd(), file)}`);
process.exit(results.every((r) => r.passed) ? 0 : 1);
