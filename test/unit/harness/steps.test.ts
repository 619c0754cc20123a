// The journey's declared steps: per variant, the ids, titles and seed metrics the progress output,
// the reports and failover_test_metrics.json rely on, in order, the cleanup last.
import { describe, expect, it } from "vitest";
import { notRun } from "../../../harness/runner.ts";
import { allSteps, journeySteps, usesStandby, variants } from "../../../harness/steps.ts";

const test1 = [
  ["find-offer", "Find the cheapest matching GPU offer", "time_find_offer"],
  ["create-gpu", "Create the GPU environment and wait for SSH", "time_create_gpu"],
  ["create-files", "Create test files and record their MD5s", "time_create_files"],
  ["create-snapshot", "Snapshot /workspace to the bucket (LZ4)", "time_create_snapshot"],
  ["failover", "Fail over to a new GPU and restore the snapshot", "time_failover"],
  ["validate", "Validate every MD5 on the new GPU", "time_validate"],
];
const test3 = [
  ["standby-sync", "Sync /workspace to the CPU standby", "time_standby_sync"],
  ["gpu-lost", "Lose the GPU (destroy it, as the seed's Test 3 does)", "time_gpu_lost"],
  ["standby-associations", "Check the standby holds the GPU's data", undefined],
  ["standby-failover", "Fail over from the CPU standby to a new GPU", "time_standby_failover"],
  ["standby-validate", "Validate every MD5 on the standby's new GPU", "time_standby_validate"],
];
const cleanup = ["cleanup", "Release every instance, sweep by label, check for leaks", undefined];

const shown = (variant: (typeof variants)[number]) => journeySteps(variant).map((s) => [s.id, s.title, s.metric]);

describe("the journey's steps", () => {
  it("snapshot: the guide's Test 1, then the cleanup", () => {
    expect(shown("snapshot")).toEqual([...test1, cleanup]);
  });

  it("standby: the GPU and its files, the guide's Test 3, then the cleanup", () => {
    expect(shown("standby")).toEqual([...test1.slice(0, 3), ...test3, cleanup]);
  });

  it("both: Test 1, then Test 3 on the GPU Test 1 failed over to, then the cleanup", () => {
    expect(shown("both")).toEqual([...test1, ...test3, cleanup]);
  });

  it("the cleanup is the list's only final stage, and its last; every step belongs to a variant", () => {
    expect(allSteps.filter((s) => s.final).map((s) => s.id)).toEqual(["cleanup"]);
    expect(allSteps.at(-1)!.id).toBe("cleanup");
    expect(allSteps.at(-1)!.variants).toEqual(variants);
    expect(allSteps.every((s) => s.variants.length > 0)).toBe(true);
    expect(new Set(allSteps.map((s) => s.id)).size).toBe(allSteps.length);
  });

  it("records carry a metric only where the seed had one", () => {
    expect(journeySteps("both").map(notRun).filter((r) => !("metric" in r)).map((r) => r.id)).toEqual(["standby-associations", "cleanup"]);
  });

  it("only the snapshot variant runs without a standby", () => {
    expect(variants.filter(usesStandby)).toEqual(["standby", "both"]);
  });
});
