// The errors Dumont explains. Deep code throws these; the CLI entry (bin/dumont.ts) is the one place
// that turns them into a message, a hint and an exit status. Which class an error is says who can
// fix it, and so which exit status it ends with:
//
//   DumontError        1  an operation failed for a reason the message states (a verification that
//                         failed, a lease lost, a copy that could not be made); re-running may help
//   ├─ UserError       2  what the user asked for or can fix: their input, a stack, snapshot or
//   │  │                  standby that does not exist, a lock someone else holds, a bad setting
//   │  ├─ UsageError      the command line (an unknown option, a missing value, a bad argument)
//   │  └─ SettingError    a setting's value (the message names the setting)
//   └─ EnvironmentError 3 this machine or a provider is at fault, and the user can act on it: a tool
//                         missing, no root, a cloud or host that refuses or does not answer
//
// Any other error is a bug in Dumont: the CLI says so and prints its stack (exit 70).

export interface DumontErrorOptions {
  readonly exitCode?: number;
  readonly hint?: string;
  readonly cause?: unknown;
}

export class DumontError extends Error {
  readonly exitCode: number;
  /** What to do about it, printed on the line after the message. */
  readonly hint?: string;
  constructor(message: string, options: DumontErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** What the user caused or can fix. */
export class UserError extends DumontError {
  constructor(message: string, hint?: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: 2, hint, cause: options.cause });
  }
}

/** The command line was wrong: unknown command, flag or argument. */
export class UsageError extends UserError {}

/** A setting has a bad value. The message names the setting, so the user knows what to fix. */
export class SettingError extends UserError {
  readonly setting: string;
  constructor(setting: string, problem: string, hint?: string) {
    super(`${setting}: ${problem}`, hint);
    this.setting = setting;
  }
}

/** Something this machine lacks (a tool, root, a kernel feature), or a provider or host that refuses or does not answer. */
export class EnvironmentError extends DumontError {
  constructor(message: string, hint?: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, { exitCode: options.exitCode ?? 3, hint, cause: options.cause });
  }
}
