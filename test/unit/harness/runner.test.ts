// The journey's runner: the variant's steps in their declared order, the first failure ending them
// with its step and reason, and the cleanup last whatever happened before it.
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { DumontError } from "../../../lib/errors.ts";
import { StepRunner } from "../../../harness/progress.ts";
import { metricsJson } from "../../../harness/report-text.ts";
import { notRun, runSteps, stepsOf, type Step, type StepsFailure } from "../../../harness/runner.ts";
import type { StepId, Variant } from "../../../harness/steps.ts";
import { sampleReport } from "../../support/journey-report.ts";

interface Context {
  readonly log: string[];
}

const test1: Variant[] = ["snapshot", "both"];
const test3: Variant[] = ["standby", "both"];
const all: Variant[] = ["snapshot", "standby", "both"];

function step(id: StepId, variants: Variant[], extra: Partial<Step<Context>> = {}): Step<Context> {
  return {
    id, title: `title of ${id}`, metric: `time_${id.replace(/-/g, "_")}`, variants,
    run: async (c) => {
      c.log.push(id);
      return `${id} done`;
    },
    ...extra,
  };
}

const cleanup = (extra: Partial<Step<Context>> = {}) => step("cleanup", all, { metric: undefined, final: true, ...extra });

const steps = [
  step("find-offer", all),
  step("create-snapshot", test1),
  step("failover", test1),
  step("standby-sync", test3),
  step("validate", test1),
  cleanup(),
];

async function journey(declared: readonly Step<Context>[], options: {
  variant?: Variant;
  controller?: AbortController;
  setup?: () => Promise<void>;
  beforeStep?: (id: StepId, c: Context) => Promise<void>;
} = {}) {
  const plan = stepsOf(declared, options.variant ?? "snapshot");
  const records = plan.map(notRun);
  const context: Context = { log: [] };
  const lines: string[] = [];
  const signal = (options.controller ?? new AbortController()).signal;
  const progress = new StepRunner((line) => lines.push(stripVTControlCharacters(line)), signal);
  const ended: Array<StepsFailure | undefined> = [];
  const failure = await runSteps(plan, context, {
    records, progress, signal, setup: options.setup,
    beforeStep: async (id) => {
      context.log.push(`before ${id}`);
      await options.beforeStep?.(id, context);
    },
    stepsEnded: (f) => {
      context.log.push("steps ended");
      ended.push(f);
    },
  });
  const record = (id: StepId) => records.find((r) => r.id === id);
  const headers = lines.filter((l) => /^\n?\[/.test(l)).map((l) => l.trim());
  return { failure, records, record, log: context.log, lines, headers, ended };
}

describe("the journey's runner", () => {
  it("runs the variant's steps in their declared order, numbered, and the cleanup last under its own label", async () => {
    const run = await journey(steps);
    expect(run.failure).toBeUndefined();
    expect(run.ended).toEqual([undefined]);
    expect(run.log).toEqual([
      "before find-offer", "find-offer", "before create-snapshot", "create-snapshot", "before failover", "failover", "before validate", "validate",
      "steps ended", "cleanup",
    ]);
    expect(run.headers).toEqual([
      "[1/4] title of find-offer", "[2/4] title of create-snapshot", "[3/4] title of failover", "[4/4] title of validate", "[cleanup] title of cleanup",
    ]);
    expect(run.records.map((r) => [r.id, r.status, r.detail])).toEqual([
      ["find-offer", "ok", "find-offer done"], ["create-snapshot", "ok", "create-snapshot done"], ["failover", "ok", "failover done"],
      ["validate", "ok", "validate done"], ["cleanup", "ok", "cleanup done"],
    ]);
    expect(run.records.every((r) => r.startedAt !== undefined && r.seconds !== undefined)).toBe(true);
    expect(run.lines).toContain("  ✓ 0.0 s — cleanup done");
  });

  it("a variant runs only its steps, in the list's order, and counts only them", async () => {
    expect(stepsOf(steps, "standby").map((s) => s.id)).toEqual(["find-offer", "standby-sync", "cleanup"]);
    expect(stepsOf(steps, "both").map((s) => s.id)).toEqual(["find-offer", "create-snapshot", "failover", "standby-sync", "validate", "cleanup"]);
    const run = await journey(steps, { variant: "standby" });
    expect(run.headers).toEqual(["[1/2] title of find-offer", "[2/2] title of standby-sync", "[cleanup] title of cleanup"]);
    expect(run.log.filter((l) => !l.startsWith("before"))).toEqual(["find-offer", "standby-sync", "steps ended", "cleanup"]);
  });

  it("a failing step ends the steps with its id and first line; its time is kept under its metric; the cleanup still runs", async () => {
    const failing = steps.map((s) => (s.id === "failover" ? step("failover", test1, { run: async () => {
      await sleep(20);
      throw new DumontError("failover did not happen: no offer\nsecond line");
    } }) : s));
    const run = await journey(failing);
    expect(run.failure).toEqual({ step: "failover", reason: "failover did not happen: no offer" });
    expect(run.ended).toEqual([run.failure]);
    expect(run.log).toEqual(["before find-offer", "find-offer", "before create-snapshot", "create-snapshot", "before failover", "steps ended", "cleanup"]);
    expect(run.record("failover")).toMatchObject({ status: "failed", metric: "time_failover", detail: "failover did not happen: no offer" });
    expect(run.record("failover")!.seconds).toBeGreaterThan(0);
    expect(run.record("validate")).toMatchObject({ status: "not run" });
    expect(run.record("validate")!.startedAt).toBeUndefined();
    expect(run.record("cleanup")).toMatchObject({ status: "ok", detail: "cleanup done" });
    expect(run.lines.some((l) => /^ {2}✗ \d+\.\d s — failed: failover did not happen: no offer$/.test(l))).toBe(true);
    expect(run.lines.join("\n")).not.toContain("journey failed before its first step");

    // As the metrics file shows it: the failed step's seconds under its seed name, and the reason.
    const metrics = metricsJson(sampleReport({ steps: run.records, failure: run.failure, success: false, timeTotalSeconds: undefined }));
    expect(metrics).toMatchObject({
      success: false, failure_reason: "failover: failover did not happen: no offer", time_failover: Number(run.record("failover")!.seconds!.toFixed(3)),
      time_validate: null, time_total: null,
    });
    expect(Object.keys(metrics.step_seconds as object)).toEqual(["time_find_offer", "time_create_snapshot", "time_failover"]);
  });

  it("the abort cuts the running step short (interrupted, with the abort's reason), and the cleanup runs to its end", async () => {
    const controller = new AbortController();
    const hanging = steps.map((s) => {
      if (s.id === "failover") return step("failover", test1, { run: () => new Promise<string>(() => setTimeout(() => controller.abort(new Error("interrupted (Ctrl-C)")), 20)) });
      if (s.id === "cleanup") return cleanup({ run: async (c) => {
        await sleep(30);
        c.log.push("cleanup finished");
        return "nothing left";
      } });
      return s;
    });
    const run = await journey(hanging, { controller });
    expect(run.failure).toEqual({ step: "failover", reason: "interrupted (Ctrl-C)" });
    expect(run.record("failover")).toMatchObject({ status: "interrupted", detail: "interrupted (Ctrl-C)" });
    expect(run.record("cleanup")).toMatchObject({ status: "ok", detail: "nothing left" });
    expect(run.log.slice(-2)).toEqual(["steps ended", "cleanup finished"]);
  });

  it("aborted between steps: the step that did not get to start is where the journey ended", async () => {
    const controller = new AbortController();
    const run = await journey(steps, {
      controller,
      beforeStep: async (id) => {
        if (id === "failover") controller.abort(new Error("stopping: the time limit"));
      },
    });
    expect(run.failure).toEqual({ step: "failover", reason: "stopping: the time limit" });
    expect(run.record("failover")).toMatchObject({ status: "not run" });
    expect(run.headers).toEqual(["[1/4] title of find-offer", "[2/4] title of create-snapshot", "[cleanup] title of cleanup"]);
    expect(run.record("cleanup")).toMatchObject({ status: "ok" });
  });

  it("a setup that fails ends the journey at 'setup' before any step, and the cleanup still runs", async () => {
    const run = await journey(steps, { setup: async () => { throw new Error("no local cloud"); } });
    expect(run.failure).toEqual({ step: "setup", reason: "no local cloud" });
    expect(run.lines).toContain("journey failed before its first step: no local cloud");
    expect(run.log).toEqual(["steps ended", "cleanup"]);
    expect(run.records.filter((r) => r.status !== "not run").map((r) => r.id)).toEqual(["cleanup"]);
  });

  it("a cleanup that fails is recorded like any step and does not change how the steps ended", async () => {
    const run = await journey([...steps.slice(0, -1), cleanup({ run: async () => { throw new Error("sweep failed"); } })]);
    expect(run.failure).toBeUndefined();
    expect(run.record("cleanup")).toMatchObject({ status: "failed", detail: "sweep failed" });
    expect(run.record("cleanup")!.seconds).toBeDefined();
  });

  it("a step's remark comes after its result line, and only when it succeeded", async () => {
    const remark = (c: Context) => void c.log.push("remark");
    const ok = await journey([step("find-offer", all, { after: remark }), cleanup()]);
    expect(ok.log).toEqual(["before find-offer", "find-offer", "remark", "steps ended", "cleanup"]);
    const failed = await journey([step("find-offer", all, { after: remark, run: async () => { throw new Error("no offer"); } }), cleanup()]);
    expect(failed.log).not.toContain("remark");
  });

  it("a final stage must end the list", async () => {
    await expect(journey([cleanup(), step("find-offer", all)])).rejects.toThrow(/final stage 'cleanup' must end the list/);
  });

  it("a step's record before it runs: id, title, its metric if it has one, not run", () => {
    expect(notRun(step("failover", test1))).toEqual({ id: "failover", title: "title of failover", metric: "time_failover", status: "not run" });
    expect(Object.keys(notRun(cleanup()))).toEqual(["id", "title", "status"]);
  });
});
