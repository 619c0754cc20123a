// The journey's bulk workspace: the size asked for, in files no bigger than 64 MiB, half of them
// incompressible.
import { describe, expect, it } from "vitest";
import { planWorkspaceData } from "../../../harness/workspace-data.ts";

describe("workspace data", () => {
  it("1 GiB: exactly 1 GiB in 64 MiB files, alternating random and text", () => {
    const plan = planWorkspaceData(2 ** 30);
    expect(plan.reduce((s, f) => s + f.bytes, 0)).toBe(2 ** 30);
    expect(Math.max(...plan.map((f) => f.bytes))).toBe(64 * 2 ** 20);
    expect(plan.filter((f) => f.kind === "random")).toHaveLength(8);
    expect(new Set(plan.map((f) => f.path)).size).toBe(plan.length);
  });

  it("a size that is not a multiple of 64 MiB ends with a smaller file; 0 means none", () => {
    const plan = planWorkspaceData(100e6);
    expect(plan.map((f) => f.bytes)).toEqual([64 * 2 ** 20, 100e6 - 64 * 2 ** 20]);
    expect(planWorkspaceData(0)).toEqual([]);
  });
});
