// A project stack's `dumont:` config, as the engine reads it (`pulumi config --json --show-secrets`:
// its YAML rules, the project's declared defaults, secure values decrypted), without opening the
// stack through the Automation API first. One CLI start instead of two.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { EnvironmentError } from "../lib/errors.ts";
import { repoRoot } from "../lib/tools/paths.ts";

const execFileAsync = promisify(execFile);
/** Far above the CLI's usual second on a busy machine; past it the read fails, naming the command. */
const configReadMs = 120_000;

/** `dumont:` settings as text (lists and maps as JSON), keyed without the namespace. */
export function dumontConfig(all: Readonly<Record<string, { readonly value: string }>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, { value }] of Object.entries(all)) {
    if (key.startsWith("dumont:")) values[key.slice("dumont:".length)] = value;
  }
  return values;
}

/**
 * The stack's config from the engine's CLI, or undefined when the CLI does not answer with it (a
 * stack the backend does not have yet, say): the caller then opens the stack, which explains.
 */
export async function readStackConfig(stack: string, env: NodeJS.ProcessEnv): Promise<Record<string, string> | undefined> {
  try {
    // Bounded: a watch reads the stack at every tick, and a CLI that never answers must not stop it.
    const { stdout } = await execFileAsync("pulumi", ["config", "--json", "--show-secrets", "--stack", stack], { cwd: repoRoot, env, maxBuffer: 64 * 1024 * 1024, timeout: configReadMs, killSignal: "SIGKILL" });
    return dumontConfig(JSON.parse(stdout) as Record<string, { value: string }>);
  } catch (error) {
    // A CLI that did not answer in time would not answer the stack's opening either: said, not retried.
    const failure = error as { killed?: boolean; code?: unknown };
    if (failure.killed && failure.code !== "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
      throw new EnvironmentError(`\`pulumi config\` for stack ${stack} did not answer within ${configReadMs / 1000} s`, `is the Pulumi backend reachable? run \`pulumi config --stack ${stack}\` to see where it waits`);
    }
    return undefined;
  }
}
