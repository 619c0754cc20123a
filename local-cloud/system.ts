// Running system commands (ip, kill, ssh-keygen …) with argument arrays, never a shell string, and
// errors that say which command failed and what it printed.
import { execFile } from "node:child_process";
import { EnvironmentError } from "../lib/errors.ts";

/** A system command the machine refused: its fault (or a missing tool's), not Dumont's. */
export class CommandFailed extends EnvironmentError {
  readonly code: number | null;
  readonly stderr: string;
  constructor(command: string, args: readonly string[], code: number | null, stderr: string) {
    super(`${command} ${args.join(" ")} failed (exit ${code}): ${stderr.trim() || "(no output)"}`);
    this.code = code;
    this.stderr = stderr;
  }
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function run(
  command: string,
  args: readonly string[],
  options: { readonly allowFailure?: boolean; readonly timeoutMs?: number; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: "utf8", timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: options.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        if (error && !options.allowFailure) reject(new CommandFailed(command, args, code, stderr || error.message));
        else resolve({ stdout, stderr, code });
      },
    );
  });
}
