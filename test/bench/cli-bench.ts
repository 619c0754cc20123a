// Command-line benchmark: how long `dumont` takes to answer, against the issue-15 targets (`--help`
// and a usage error under 0.3 s; commands that only read a stack under 1.5 s on the local cloud).
//   npm run bench:cli
// Brings up a local cloud of its own and a stack on it (`dumont up`), then runs each command
// several times as a user does (`node bin/dumont.ts …`, a fresh process each time) and prints the
// median, the target and the ratio; the baseline for the stack reads is the engine reading the same
// outputs (`pulumi stack output --json --show-secrets`, what every read cost before). Writes
// test/bench/results/cli.json and cli.md (the README's performance section quotes it). Tears the
// stack and the cloud down, also when a step fails.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { down, up } from "../../local-cloud/control.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";
import { repoRoot } from "../../lib/tools/paths.ts";
import { createTestStack } from "../support/test-stack.ts";

applyToolEnvironment();
const cloud = "bcli";
const stackName = "it-bench-cli";
const runs = 7;

interface Row {
  readonly command: string;
  readonly medianSeconds: number;
  readonly targetSeconds: number;
  readonly baseline?: { readonly what: string; readonly medianSeconds: number };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median wall time of `runs` fresh processes; a run that fails (other than by `expectCode`) stops the bench. */
function time(argv: readonly string[], expectCode = 0): number {
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(argv[0]!, argv.slice(1), { cwd: repoRoot, env: process.env, encoding: "utf8" });
    seconds.push((performance.now() - started) / 1000);
    if (result.status !== expectCode) throw new Error(`${argv.join(" ")} exited ${result.status}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  }
  return median(seconds);
}

async function main() {
  const dumont = (...args: string[]) => ["node", path.join(repoRoot, "bin", "dumont.ts"), ...args];
  console.log(`local cloud ${cloud} and stack ${stackName}…`);
  await up({ cloud });
  const stack = await createTestStack(stackName, {
    cloud: "local", localCloud: cloud, gpuNames: ["RTX 4090", "RTX 3090"], diskGb: 16, maxPricePerHour: 0.6, readyTimeoutSeconds: 60, autoStandbyEnabled: true,
  });
  try {
    const [node, ...upArgs] = dumont("up", "--stack", stackName);
    execFileSync(node!, upArgs, { cwd: repoRoot, stdio: ["ignore", "ignore", "inherit"] });
    const engineRead = time(["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stackName, "--cwd", repoRoot]);
    const rows: Row[] = [
      { command: "dumont --help", medianSeconds: time(dumont("--help")), targetSeconds: 0.3 },
      { command: "dumont snapshot lst (a usage error)", medianSeconds: time(dumont("snapshot", "lst"), 2), targetSeconds: 0.3 },
      ...[["snapshot", "list"], ["instance", "list"], ["standby", "status"], ["cost"]].map(([...cmd]) => ({
        command: `dumont ${cmd.join(" ")}`, medianSeconds: time(dumont(...cmd, "--stack", stackName)), targetSeconds: 1.5,
        baseline: { what: "`pulumi stack output` alone", medianSeconds: engineRead },
      })),
    ];
    report(rows);
  } finally {
    await stack.cleanup();
    await down(cloud);
  }
}

function report(rows: readonly Row[]) {
  const lines = [
    `# dumont command line: time to answer (${new Date().toISOString().slice(0, 10)}, median of ${runs} fresh processes, \`npm run bench:cli\`)`,
    "",
    "`node bin/dumont.ts …` on the local cloud (`npx` adds its own start, about 0.5 s here). Target ratio = target / median (≥ 1: met).",
    "",
    "| command | median | target | target ratio | before: the engine's read of the outputs alone |",
    "|---|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.command} | ${r.medianSeconds.toFixed(2)} s | ${r.targetSeconds.toFixed(1)} s | ${(r.targetSeconds / r.medianSeconds).toFixed(2)}× | ${r.baseline ? `${r.baseline.medianSeconds.toFixed(2)} s` : "—"} |`),
    "",
  ];
  console.log(lines.join("\n"));
  const dir = path.join(repoRoot, "test", "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "cli.json"), `${JSON.stringify({ date: new Date().toISOString(), runs, rows }, null, 2)}\n`);
  writeFileSync(path.join(dir, "cli.md"), lines.join("\n"));
}

await main();
