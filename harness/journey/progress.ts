// Running and showing the journey's steps: "[3/6] Create test files …", the step's own progress
// indented under it, a heartbeat when a step has been quiet for a while (so a long provision never
// looks hung), and "✓ 2.4 s" or "✗ reason" at its end. Each step is raced against the journey's abort
// signal, so Ctrl-C or the cost cap moves on to cleanup at once even if the step cannot be cancelled.
import { chalk } from "zx";
import type { StepRecord } from "./report.ts";

const heartbeatMs = 15_000;

export class StepRunner {
  private readonly steps: StepRecord[];
  private readonly write: (line: string) => void;
  private readonly signal: AbortSignal;
  private lastLineAt = Date.now();

  constructor(steps: StepRecord[], write: (line: string) => void, signal: AbortSignal) {
    this.steps = steps;
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

  async run<T>(id: StepRecord["id"], work: () => Promise<T>, summarize?: (value: T) => string): Promise<T> {
    const record = this.steps.find((s) => s.id === id);
    if (!record) throw new Error(`no step '${id}' in this journey`);
    // Cleanup runs after an abort too; every other step stops the journey once it is aborted.
    if (id !== "cleanup") this.signal.throwIfAborted();
    const index = this.steps.filter((s) => s.id !== "cleanup").indexOf(record) + 1;
    const count = this.steps.filter((s) => s.id !== "cleanup").length;
    const label = id === "cleanup" ? "[cleanup]" : `[${index}/${count}]`;
    this.note(chalk.bold(`\n${label} ${record.title}`));
    record.startedAt = Date.now();
    const heartbeat = setInterval(() => {
      if (Date.now() - this.lastLineAt >= heartbeatMs) this.detail(`… still working (${Math.round((Date.now() - record.startedAt!) / 1000)} s)`);
    }, 1000);
    try {
      const value = await (id === "cleanup" ? work() : raceAbort(work(), this.signal));
      record.seconds = (Date.now() - record.startedAt) / 1000;
      record.status = "ok";
      record.detail = summarize?.(value);
      this.note(chalk.green(`  ✓ ${record.seconds.toFixed(1)} s${record.detail ? ` — ${record.detail}` : ""}`));
      return value;
    } catch (error) {
      record.seconds = (Date.now() - record.startedAt) / 1000;
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
