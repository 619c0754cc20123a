// Errors that carry what the user should read and the exit code. Deep code throws these; the CLI
// entry (bin/dumont.ts) is the one place that turns them into a message and an exit status.

export class DumontError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, options: { exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** The command line was wrong: unknown command, flag or argument. */
export class UsageError extends DumontError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 2, hint });
  }
}

/** A setting has a bad value. The message names the setting, so the user knows what to fix. */
export class SettingError extends DumontError {
  readonly setting: string;
  constructor(setting: string, problem: string, hint?: string) {
    super(`${setting}: ${problem}`, { exitCode: 2, hint });
    this.setting = setting;
  }
}

/** Something this machine lacks (a tool, root, a kernel feature). */
export class EnvironmentError extends DumontError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 3, hint });
  }
}
