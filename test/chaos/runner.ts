// Runs chaos scenarios one after another on one local cloud: each on its own stack, measured the
// same way (files lost, instances leaked, GPUs taking writes), its stack destroyed whatever
// happened. Used by `npm run chaos` (run.ts) and by the integration tests that run a few of them.
import type { Scenario, ScenarioResult, ScenarioWorld } from "./scenario.ts";
import { ChaosStack, type ChaosCloud } from "./world.ts";

export async function runScenario(cloud: ChaosCloud, scenario: Scenario, log: (line: string) => void = () => {}): Promise<ScenarioResult> {
  const stacks: ChaosStack[] = [];
  const started = performance.now();
  const world: ScenarioWorld = {
    cloud,
    log: (line) => log(`  ${line}`),
    async stack(settings = {}, suffix = "", backendUrl?: string) {
      const name = `it-ch-${scenario.id}${suffix}`.slice(0, 40);
      const made = await ChaosStack.create(cloud, name, settings, backendUrl);
      stacks.push(made);
      return made;
    },
  };
  let passed = true;
  let detail = "";
  let rto: number | null = null;
  let rpo: number | null = null;
  try {
    const outcome = await scenario.run(world);
    detail = outcome.detail;
    rto = outcome.rtoSeconds ?? null;
    rpo = outcome.rpoSeconds ?? null;
  } catch (error) {
    passed = false;
    const message = (error as Error).message;
    detail = message.split("\n").slice(0, 4).join(" / ");
    // The whole message (a controller's tail, say) goes to the log: the table keeps four lines.
    for (const line of message.split("\n").slice(4)) log(`  ${line}`);
  }
  let filesLost = 0;
  let instancesLeaked = 0;
  // GPUs taking writes, per stack: the scenario's own stack's count is reported; every stack must have one.
  const activeGpusPerStack: number[] = [];
  for (const stack of stacks) {
    try {
      const m = await stack.measure();
      filesLost += m.filesLost;
      instancesLeaked += m.instancesLeaked;
      activeGpusPerStack.push(m.activeGpus);
      if (m.filesLost > 0) detail += ` | lost on ${stack.name}: ${m.lostFiles.slice(0, 5).join(", ")}`;
    } catch (error) {
      passed = false;
      detail += ` | could not measure ${stack.name}: ${(error as Error).message.split("\n")[0]}`;
    }
  }
  const activeGpus = activeGpusPerStack[0] ?? 0;
  // Every stack ends with exactly one GPU taking writes, nothing else of it alive, nothing lost.
  if (filesLost > 0 || instancesLeaked > 0 || activeGpusPerStack.length !== stacks.length || activeGpusPerStack.some((n) => n !== 1)) passed = false;
  for (const stack of stacks) {
    const swept = await stack.destroy();
    if (swept.length > 0) log(`  cleanup swept instances ${swept.join(", ")} of ${stack.name} that its destroy left`);
  }
  return {
    id: scenario.id, fault: scenario.fault, where: scenario.where, passed, filesLost, instancesLeaked, activeGpus,
    rtoSeconds: rto, rpoSeconds: rpo, seconds: (performance.now() - started) / 1000, detail,
  };
}

/** The results as the table `npm run chaos` prints. */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const header = ["scenario", "fault", "injected", "outcome", "files lost", "leaked", "active GPUs", "RTO s", "RPO s"];
  const rows = results.map((r) => [
    r.id, r.fault, r.where, r.passed ? "PASS" : "FAIL", String(r.filesLost), String(r.instancesLeaked), String(r.activeGpus),
    r.rtoSeconds === null ? "—" : r.rtoSeconds.toFixed(1), r.rpoSeconds === null ? "—" : r.rpoSeconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}
