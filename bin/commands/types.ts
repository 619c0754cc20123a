// The shape of one `dumont` subcommand.
export interface Command {
  /** Words after `dumont`, e.g. ["local-cloud", "up"]. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Usage line after the command path, e.g. "[--json]". */
  readonly usage: string;
  run(args: string[]): Promise<number | void>;
}
