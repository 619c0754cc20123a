// The journey's runner: a declared list of steps, run in order. The variant picks the steps it runs;
// the first failure (or the abort) ends the steps, and says where and why the journey ended; the
// list's final stages (the cleanup) then run whatever happened before them, each recorded like any
// step. How a step is shown and timed is progress.ts.
import { firstLine, type StepRunner } from "./progress.ts";
import type { StepRecord } from "./report.ts";
import type { StepId, Variant } from "./steps.ts";

export interface Step<C> {
  readonly id: StepId;
  readonly title: string;
  /** The seed metric that holds this step's seconds, where the seed had one. */
  readonly metric?: string;
  /** The journey variants that run this step. */
  readonly variants: readonly Variant[];
  /**
   * A final stage: runs after the steps whatever happened to them (a failure, Ctrl-C, the cost cap),
   * is not cut short by the abort, and is labelled by its id ("[cleanup]") rather than numbered.
   * Final stages end the list.
   */
  readonly final?: boolean;
  /** The step's work; resolves to the one line shown after its time. */
  run(context: C): Promise<string>;
  /** A remark once the step has succeeded, shown under its result line. */
  after?(context: C): void;
}

/** Where the journey ended and why ("setup" when no step had started). */
export interface StepsFailure {
  readonly step: string;
  readonly reason: string;
}

export interface RunStepsOptions {
  readonly records: readonly StepRecord[];
  readonly progress: StepRunner;
  /** The journey's abort: no step starts once it fired, and a running step is cut short. */
  readonly signal: AbortSignal;
  /** Before the first step (endpoints, the stack); a failure there ends the journey at "setup". */
  readonly setup?: () => Promise<void>;
  /** Before each step, final stages aside. */
  readonly beforeStep?: (id: StepId) => Promise<void>;
  /** Once the steps have ended, before the final stages: undefined when every step succeeded. */
  readonly stepsEnded?: (failure: StepsFailure | undefined) => void;
}

/** The steps a variant runs, in the list's order. */
export function stepsOf<C>(steps: readonly Step<C>[], variant: Variant): Step<C>[] {
  return steps.filter((s) => s.variants.includes(variant));
}

/** A step's record before it runs. */
export function notRun(step: Pick<Step<unknown>, "id" | "title" | "metric">): StepRecord {
  return { id: step.id, title: step.title, ...(step.metric === undefined ? {} : { metric: step.metric }), status: "not run" };
}

/** Runs the steps in order, then the final stages; returns where the steps ended, if they failed. */
export async function runSteps<C>(steps: readonly Step<C>[], context: C, options: RunStepsOptions): Promise<StepsFailure | undefined> {
  const firstFinal = steps.findIndex((s) => s.final);
  if (firstFinal >= 0 && steps.slice(firstFinal).some((s) => !s.final)) throw new Error(`the final stage '${steps[firstFinal]!.id}' must end the list`);
  const ordinary = steps.filter((s) => !s.final);
  const finals = steps.filter((s) => s.final);
  const recordOf = (step: Step<C>) => {
    const record = options.records.find((r) => r.id === step.id);
    if (!record) throw new Error(`no step '${step.id}' in this journey`);
    return record;
  };
  const { progress, signal } = options;

  let failure: StepsFailure | undefined;
  try {
    try {
      await options.setup?.();
      for (const [i, step] of ordinary.entries()) {
        await options.beforeStep?.(step.id);
        await progress.run(recordOf(step), `[${i + 1}/${ordinary.length}]`, () => step.run(context), { abortable: true });
        step.after?.(context);
      }
    } catch (error) {
      const records = ordinary.map(recordOf);
      const failed = records.find((r) => r.status === "failed" || r.status === "interrupted");
      const reason = signal.aborted ? firstLine(signal.reason) : firstLine(error);
      // Stopped between steps: the step that did not get to start is where the journey ended.
      const next = signal.aborted ? records.find((r) => r.status === "not run") : undefined;
      failure = { step: failed?.id ?? next?.id ?? "setup", reason };
      if (!failed) progress.note(`journey failed before its first step: ${reason}`);
    }
    options.stepsEnded?.(failure);
  } finally {
    // A final stage's failure is on its record; the stage itself reports what it could not do.
    for (const stage of finals) await progress.run(recordOf(stage), `[${stage.id}]`, () => stage.run(context), { abortable: false }).catch(() => undefined);
  }
  return failure;
}
