// The README, followed as a newcomer follows it: a fresh clone of this checkout, and every command
// of the blocks marked `<!-- readme-test: run -->`, in the README's order, in one shell session
// (what one command exports, like `eval "$(npx dumont env)"`, the next one sees). Blocks marked
// skip are listed with their reason. A command that fails stops the test with its output's tail.
//
// The clone is HEAD plus this checkout's uncommitted changes (so what is about to be committed is
// what is tested; DUMONT_README_TEST_SOURCE=head tests HEAD alone). It lives under /var/tmp, not
// /tmp: the local cloud's hosts have a /tmp of their own. Its setup runs for real (npm ci from
// npm's cache included), but the Go-built tools and the local cloud's images are this checkout's,
// linked read-only into a tools folder of the clone's own (DUMONT_TOOLS_DIR): building the engine
// from scratch would take most of an hour on 2 cores and test nothing the setup suite does not.
// Its local cloud has a name of its own (DUMONT_LOCAL_CLOUD), so a developer's `main` is untouched.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, toolsDir } from "../../lib/tools/paths.ts";
import { shellBlocks, type ShellBlock } from "../support/readme-blocks.ts";

const cloud = "rdme";
const defaultTimeoutSeconds = 300;
let work: string;
let clone: string;
let sessionFile: string;
let baseEnv: NodeJS.ProcessEnv;

interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly seconds: number;
  readonly timedOut: boolean;
}

function git(args: readonly string[], cwd = repoRoot): string {
  const result = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** HEAD, then the working tree's changes on top: modified and new files copied, deleted ones removed. */
function makeClone(into: string): string[] {
  git(["clone", "--quiet", repoRoot, into]);
  if (process.env.DUMONT_README_TEST_SOURCE === "head") return [];
  const changed = git(["ls-files", "-z", "--modified", "--others", "--exclude-standard"]).split("\0").filter(Boolean);
  for (const file of new Set(changed)) {
    const from = path.join(repoRoot, file);
    const to = path.join(into, file);
    if (existsSync(from)) {
      mkdirSync(path.dirname(to), { recursive: true });
      cpSync(from, to);
    } else rmSync(to, { force: true });
  }
  return [...new Set(changed)];
}

/**
 * A tools folder for the clone whose built tools and images are links to this checkout's (read
 * only: setup finds each one present and builds nothing); the clone's setup makes its own bin/
 * links and plugin cache.
 */
function linkedTools(into: string): string {
  mkdirSync(into, { recursive: true });
  for (const name of readdirSync(toolsDir)) {
    const from = path.join(toolsDir, name);
    if (name === "bin" || name === "pulumi-home" || name.startsWith(".") || !statSync(from).isDirectory()) continue;
    symlinkSync(from, path.join(into, name));
  }
  return into;
}

/** The environment a person's shell has: none of this checkout's tool settings, nothing of the test runner. */
function personEnvironment(tools: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(PULUMI_|DUMONT_|npm_|VITEST|NODE_|TEST$|INIT_CWD$)/.test(key)) continue;
    env[key] = value;
  }
  const ownPaths = [path.join(repoRoot, "node_modules"), toolsDir];
  env.PATH = (process.env.PATH ?? "").split(path.delimiter).filter((p) => p && !ownPaths.some((own) => p.startsWith(own)) && !p.includes("@npmcli")).join(path.delimiter);
  return { ...env, DUMONT_TOOLS_DIR: tools, DUMONT_LOCAL_CLOUD: cloud };
}

/**
 * One command in the session: the exports of the commands before it are loaded first, its own are
 * kept after it. It runs in its own process group, killed whole when it overruns its time.
 */
function runInSession(command: string, timeoutSeconds: number): Promise<Ran> {
  const script = [
    `[ -f "$README_SESSION" ] && . "$README_SESSION" 2>/dev/null`,
    `cd "$README_CLONE"`,
    command,
    "status=$?",
    // Read-only variables cannot be declared again when the next command loads the file.
    `export -p | grep -v '^declare -[a-z]*r' > "$README_SESSION"`,
    "exit $status",
  ].join("\n");
  const started = performance.now();
  return new Promise((resolve) => {
    const proc = spawn("bash", ["-c", script], {
      cwd: clone, detached: true, stdio: ["ignore", "pipe", "pipe"],
      env: { ...baseEnv, README_SESSION: sessionFile, README_CLONE: clone },
    });
    let output = "";
    let timedOut = false;
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutSeconds * 1000);
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, seconds: (performance.now() - started) / 1000, timedOut });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

let blocks: ShellBlock[] = [];

beforeAll(() => {
  work = mkdtempSync("/var/tmp/dumont-readme-");
  clone = path.join(work, "clone");
  sessionFile = path.join(work, "session.env");
  const overlaid = makeClone(clone);
  baseEnv = personEnvironment(linkedTools(path.join(work, "tools")));
  blocks = shellBlocks(readFileSync(path.join(clone, "README.md"), "utf8"));
  console.log(`README test: clone of ${repoRoot} at ${clone} (HEAD ${git(["rev-parse", "--short", "HEAD"]).trim()}${overlaid.length ? ` + ${overlaid.length} uncommitted files` : ""}), local cloud '${cloud}'`);
  for (const block of blocks) {
    if (block.decision?.kind === "skip") console.log(`  skipped: README line ${block.line} (${block.section}, ${block.commands.length} commands): ${block.decision.reason}`);
  }
});

afterAll(async () => {
  // Whatever the README left running (a failed step may leave a stack or a GPU): the cloud's down removes it all.
  if (clone && existsSync(path.join(clone, "node_modules"))) {
    const down = await runInSession(`npx dumont local-cloud down --cloud ${cloud}`, 300);
    if (down.code !== 0) console.log(`local-cloud down failed:\n${tail(down.output)}`);
  }
  if (work && !process.env.DUMONT_README_TEST_KEEP) rmSync(work, { recursive: true, force: true });
}, 10 * 60_000);

describe("the README on a fresh clone", () => {
  it("every command of its run blocks succeeds, in order", async () => {
    const unmarked = blocks.filter((b) => b.decision === undefined).map((b) => `README line ${b.line} (${b.section})`);
    expect(unmarked, "every ```sh block needs <!-- readme-test: run --> or <!-- readme-test: skip: why --> before it").toEqual([]);
    const steps = blocks.flatMap((block) => {
      const decision = block.decision;
      if (decision?.kind !== "run") return [];
      return block.commands.map((command) => ({ command, block, timeout: decision.timeoutSeconds ?? defaultTimeoutSeconds }));
    });
    expect(steps.length).toBeGreaterThan(0);
    const timings: string[] = [];
    const started = performance.now();
    for (const step of steps) {
      const ran = await runInSession(step.command, step.timeout);
      timings.push(`${ran.seconds.toFixed(1).padStart(7)} s  ${step.command}`);
      const failure = ran.timedOut ? `did not finish within ${step.timeout} s` : ran.code !== 0 ? `exited with ${ran.code ?? ran.signal}` : undefined;
      if (failure) {
        console.log(timings.join("\n"));
        throw new Error(`README line ${step.block.line} (${step.block.section}): \`${step.command}\` ${failure}; its output ends with:\n${tail(ran.output)}`);
      }
    }
    console.log(`README commands, ${((performance.now() - started) / 1000).toFixed(0)} s in all:\n${timings.join("\n")}`);
  }, 90 * 60_000);
});
