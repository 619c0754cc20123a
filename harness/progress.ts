// Running and showing the journey's steps: "[3/6] Create test files …", the step's own progress
// indented under it, a heartbeat when a step has been quiet for a while (so a long provision never
// looks hung), and "✓ 2.4 s" or "✗ reason" at its end. Each abortable step is raced against the
// journey's abort signal, so Ctrl-C or the cost cap moves on to cleanup at once even if the step
// cannot be cancelled. Which steps run, in what order and under which label is runner.ts.
import { chalk } from "zx";
import type { StepRecord } from "./report.ts";

const heartbeatMs = 15_000;

export class StepRunner {
  private readonly write: (line: string) => void;
  private readonly signal: AbortSignal;
  private lastLineAt = Date.now();

  constructor(write: (line: string) => void, signal: AbortSignal) {
    this.write = write;
    this.signal = signal;
  }

  /** A line of progress inside the current step. */
  readonly detail = (line: string): void => {
    this.lastLineAt = Date.now();
    this.write(chalk.dim(`      ${line}`));
  };

  note(line: string): void {
    this.lastLineAt = Date.now();
    this.write(line);
  }

  /**
   * Runs one step under its label ("[3/6]"), timing it into its record; the work resolves to the
   * step's one-line summary. An abortable step does not start once the journey is aborted and is cut
   * short when it is; one that is not (the cleanup) runs to its end either way.
   */
  async run(record: StepRecord, label: string, work: () => Promise<string>, options: { abortable: boolean }): Promise<void> {
    if (options.abortable) this.signal.throwIfAborted();
    this.note(chalk.bold(`\n${label} ${record.title}`));
    const startedAt = Date.now();
    record.startedAt = startedAt;
    const heartbeat = setInterval(() => {
      if (Date.now() - this.lastLineAt >= heartbeatMs) this.detail(`… still working (${Math.round((Date.now() - startedAt) / 1000)} s)`);
    }, 1000);
    try {
      const summary = await (options.abortable ? raceAbort(work(), this.signal) : work());
      record.seconds = (Date.now() - startedAt) / 1000;
      record.status = "ok";
      record.detail = summary;
      this.note(chalk.green(`  ✓ ${record.seconds.toFixed(1)} s${record.detail ? ` — ${record.detail}` : ""}`));
    } catch (error) {
      record.seconds = (Date.now() - startedAt) / 1000;
      record.status = this.signal.aborted ? "interrupted" : "failed";
      record.detail = firstLine(error);
      this.note(chalk.red(`  ✗ ${record.seconds.toFixed(1)} s — ${record.status}: ${record.detail}`));
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((l) => l.trim())?.trim() ?? "unknown error";
}

/** The work's result, or the abort reason as soon as the signal fires (the work goes on unobserved). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
