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
