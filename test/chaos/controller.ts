// A `dumont` command run as a separate controller process (its own process group, like a terminal
// session): its output is collected line by line, and the scenario can wait for a line and then
// SIGKILL the whole group — the controller and the engine it started — as a dying machine would.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../../lib/tools/paths.ts";
import { dumontNodeEnvironment, dumontNodeFlags } from "../../lib/tools/node-flags.ts";
import { until } from "./world.ts";

export class Controller {
  readonly lines: string[] = [];
  /** When each line arrived (Date.now()), in the same order: every controller is seen by this one clock. */
  readonly times: number[] = [];
  private readonly child: ChildProcess;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(process.execPath, [...dumontNodeFlags, path.join(repoRoot, "bin", "dumont.ts"), ...args], {
      cwd: repoRoot, env: { ...env, ...dumontNodeEnvironment }, detached: true, stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    const take = (d: Buffer) => {
      const parts = (partial + d.toString("utf8")).split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const _ of parts) this.times.push(Date.now());
    };
    this.child.stdout!.on("data", take);
    this.child.stderr!.on("data", take);
    this.done = new Promise((resolve) => this.child.on("close", (code, signal) => resolve((this.exit = { code, signal }))));
  }

  /** The JSON events it printed (other lines skipped). */
  events(): Array<Record<string, any>> {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
  }

  /** Waits until a line matches `pattern` after the first line that matches `after` (if given). */
  async waitFor(pattern: RegExp, timeoutMs: number, after?: RegExp): Promise<string> {
    let found: string | undefined;
    await until(() => `a line matching ${pattern} from dumont (last: ${this.lines.at(-1) ?? "nothing"})`, () => {
      if (this.exit) throw new Error(`dumont exited (${this.exit.code ?? this.exit.signal}) before printing ${pattern}:\n${this.lines.slice(-15).join("\n")}`);
      const start = after ? this.lines.findIndex((l) => after.test(l)) : 0;
      found = start < 0 ? undefined : this.lines.slice(start).find((l) => pattern.test(l));
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  /** SIGKILL to the controller's whole process group (the engine and its plugins die with it). */
  async killGroup(): Promise<void> {
    try {
      process.kill(-this.child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    await this.done;
  }
}
