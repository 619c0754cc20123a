// planFailover: every state a crash can leave the stack in, and what a re-run does from there.
import { describe, expect, it } from "vitest";
import { planFailover, type FailoverRecord, type FailoverView } from "../../../../stacks/failover/plan.ts";

const a = { instanceId: 11, machineId: 101 };
const b = { instanceId: 22, machineId: 202 };
const record: FailoverRecord = { from: "a", to: "b", fromInstanceId: 11, fromMachineId: 101, trigger: "automatic", startedAt: "2026-11-30T09:00:00.000Z" };
const kinds = (view: FailoverView, request = {}) => {
  const plan = planFailover(view, request);
  return plan.kind === "steps" ? plan.steps.map((s) => s.kind) : plan.reason;
};

describe("planFailover", () => {
  it.each<[string, FailoverView, string[] | RegExp]>([
    ["a fresh failover", { activeSlot: "a", provisionedSlots: ["a"], instances: { a } }, ["provision", "restore", "fence", "swap", "retire"]],
    ["killed before the new slot existed", { activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a }, record }, ["provision", "restore", "fence", "swap", "retire"]],
    ["killed after provision", { activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record }, ["restore", "fence", "swap", "retire"]],
    ["killed after a restore of this very instance", { activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record: { ...record, restoredInstanceId: 22 } }, ["fence", "swap", "retire"]],
    ["restored into an instance that was replaced since", { activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record: { ...record, restoredInstanceId: 99 } }, ["restore", "fence", "swap", "retire"]],
    ["killed after the swap", { activeSlot: "b", provisionedSlots: ["a", "b"], instances: { a, b }, record }, ["retire"]],
  ])("%s", (_, view, expected) => {
    expect(kinds(view)).toEqual(expected);
  });

  it("an abandoned failover releases its new slot, then clears its record", () => {
    const abandoned = { ...record, abandoned: true };
    expect(kinds({ activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record: abandoned })).toEqual(["release"]);
    expect(planFailover({ activeSlot: "a", provisionedSlots: ["a"], instances: { a }, record: abandoned }, {})).toMatchObject({ kind: "nothing", clearRecord: true });
  });

  it("a finished failover clears its record", () => {
    expect(planFailover({ activeSlot: "b", provisionedSlots: ["b"], instances: { b }, record }, {})).toMatchObject({ kind: "nothing", clearRecord: true });
  });

  it("an instance the caller saw fail that is no longer active: already failed over, nothing to do", () => {
    expect(kinds({ activeSlot: "b", provisionedSlots: ["b"], instances: { b } }, { fromInstanceId: 11 })).toMatch(/already failed over/);
  });

  it("the new record says who asked, excludes the failed machine, and keeps the requested source", () => {
    const plan = planFailover({ activeSlot: "a", provisionedSlots: ["a"], instances: { a } }, { trigger: "automatic", source: "standby", now: new Date(0) });
    expect(plan).toMatchObject({ kind: "steps", record: { from: "a", to: "b", trigger: "automatic", source: "standby", fromInstanceId: 11, startedAt: "1970-01-01T00:00:00.000Z" } });
    expect(plan.kind === "steps" && plan.steps[0]).toEqual({ kind: "provision", slot: "b", excludeMachineId: 101 });
  });

  it("a manual failover by default, from the freshest copy", () => {
    const plan = planFailover({ activeSlot: "b", provisionedSlots: ["b"], instances: { b } }, {});
    expect(plan.kind === "steps" && plan.record).toMatchObject({ from: "b", to: "a", trigger: "manual" });
    expect(plan.kind === "steps" && "source" in plan.record).toBe(false);
  });
});

describe("planFailover, step by step", () => {
  const fresh = (view: FailoverView, request: Parameters<typeof planFailover>[1] = {}) => planFailover(view, request);

  it("a dead GPU with a standby: a new GPU away from the dead machine, restored from the standby, the old one fenced before the swap", () => {
    const plan = fresh({ activeSlot: "a", provisionedSlots: ["a"], instances: { a } }, { trigger: "automatic", source: "standby", fromInstanceId: 11, now: new Date(0) });
    expect(plan).toEqual({
      kind: "steps",
      record: { from: "a", to: "b", fromInstanceId: 11, fromMachineId: 101, trigger: "automatic", source: "standby", startedAt: "1970-01-01T00:00:00.000Z" },
      steps: [
        { kind: "provision", slot: "b", excludeMachineId: 101 },
        { kind: "restore", slot: "b" },
        { kind: "fence", slot: "a" },
        { kind: "swap", to: "b" },
        { kind: "retire", slot: "a" },
      ],
    });
  });

  it("fails over from slot b to slot a just as well, away from b's machine", () => {
    const plan = fresh({ activeSlot: "b", provisionedSlots: ["b"], instances: { b } }, { fromInstanceId: 22 });
    expect(plan.kind === "steps" && plan.steps).toEqual([
      { kind: "provision", slot: "a", excludeMachineId: 202 },
      { kind: "restore", slot: "a" },
      { kind: "fence", slot: "b" },
      { kind: "swap", to: "a" },
      { kind: "retire", slot: "b" },
    ]);
  });

  it.each<[string, FailoverView, Parameters<typeof planFailover>[1], RegExp]>([
    ["an active slot with no GPU", { activeSlot: "a", provisionedSlots: [], instances: {} }, {}, /the active slot a has no GPU/],
    ["an active slot with no GPU, asked by a watch", { activeSlot: "b", provisionedSlots: ["a"], instances: { a } }, { trigger: "automatic", fromInstanceId: 22 }, /the active slot b has no GPU/],
    ["a watch that saw an instance that was replaced since", { activeSlot: "a", provisionedSlots: ["a"], instances: { a } }, { fromInstanceId: 99 }, /instance 99 is no longer active \(slot a runs 11\)/],
  ])("refuses with a reason, and writes no record: %s", (_, view, request, reason) => {
    const plan = fresh(view, request);
    expect(plan).toMatchObject({ kind: "nothing", clearRecord: false });
    expect(plan.kind === "nothing" && plan.reason).toMatch(reason);
  });

  it("a watch that saw the active instance fail goes ahead", () => {
    expect(fresh({ activeSlot: "a", provisionedSlots: ["a"], instances: { a } }, { fromInstanceId: 11 }).kind).toBe("steps");
  });

  it("a re-run finishes the failover it started, whatever it asks this time", () => {
    const started = { ...record, source: "snapshot" as const };
    const plan = fresh({ activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record: started }, { source: "standby", trigger: "manual", fromInstanceId: 99, now: new Date(0) });
    expect(plan.kind === "steps" && plan.record).toBe(started);
  });

  it("a re-run that must provision again still keeps away from the machine that failed first", () => {
    // Slot a now runs on another machine than the one recorded: the record's machine is the one excluded.
    const plan = fresh({ activeSlot: "a", provisionedSlots: ["a"], instances: { a: { instanceId: 11, machineId: 303 } }, record });
    expect(plan.kind === "steps" && plan.steps[0]).toEqual({ kind: "provision", slot: "b", excludeMachineId: 101 });
  });

  it.each<[string, FailoverView, string[] | RegExp]>([
    ["an abandoned failover whose slot is still held: released, never swapped", { activeSlot: "a", provisionedSlots: ["a", "b"], instances: { a, b }, record: { ...record, abandoned: true } }, ["release"]],
    ["an abandoned failover never releases the slot that is active", { activeSlot: "b", provisionedSlots: ["a", "b"], instances: { a, b }, record: { ...record, abandoned: true } }, /released/],
    ["a swap that happened with the old slot already retired: complete", { activeSlot: "b", provisionedSlots: ["b"], instances: { b }, record }, /failover to slot b is complete/],
  ])("%s", (_, view, expected) => {
    expect(kinds(view)).toEqual(expected instanceof RegExp ? expect.stringMatching(expected) : expected);
  });
});
