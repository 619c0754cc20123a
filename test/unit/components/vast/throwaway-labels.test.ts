// A GPU rented outside any stack (`dumont instance create --name …`) keeps the seed's name as its
// label, and can never be taken for a stack's instance: no sweep, cleanup or leak check of any
// stack matches it, and the seed's `--pattern 'test-failover-*'` still does.
import { describe, expect, it } from "vitest";
import { isStackLabel, rentLabel } from "../../../../components/vast/labels.ts";
import { defaultThrowawayName, throwawayNameProblem } from "../../../../components/vast/throwaway-labels.ts";
import { matchesPattern } from "../../../../lib/name-pattern.ts";

describe("throwaway instance names", () => {
  it.each(["test-failover-1", "gpu-20261122T131844Z", "a", "My_Test_2"])("accepts %s", (name) => {
    expect(throwawayNameProblem(name)).toBeUndefined();
  });

  it.each([
    ["dumont-local-a", /labels the instances of stacks/],
    ["Dumont-x", /labels the instances of stacks/],
    ["", /is not a name/],
    ["has space", /is not a name/],
    ["dotted.name", /is not a name/],
    ["-leading-dash", /is not a name/],
    ["x".repeat(64), /is not a name/],
  ])("refuses %s", (name, problem) => {
    expect(throwawayNameProblem(name)).toMatch(problem);
  });

  it("an accepted name's rent label belongs to no stack, whatever the stack is called", () => {
    const names = ["test-failover-1", "local-a", "x-a", "journey-1-a", defaultThrowawayName(new Date("2026-11-22T13:18:44.614Z"))];
    const stacks = ["local", "x", "test", "test-failover", "journey-1", "a", ""];
    for (const name of names) {
      expect(throwawayNameProblem(name)).toBeUndefined();
      for (const stack of stacks) expect(isStackLabel(stack, rentLabel(name, "0f3c9a1b"))).toBe(false);
    }
  });

  it("the seed's cleanup pattern finds it", () => {
    expect(matchesPattern(rentLabel("test-failover-1", "0f3c9a1b"), "test-failover-*")).toBe(true);
  });

  it("a default name is unique to the second and valid", () => {
    expect(defaultThrowawayName(new Date("2026-11-22T13:18:44.614Z"))).toBe("gpu-20261122T131844Z");
  });
});
