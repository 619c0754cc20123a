// A stack's instances are matched by their exact label, never by prefix (stack x vs stack x-2).
import { describe, expect, it } from "vitest";
import { isStackLabel, rentLabel, slotLabel } from "../../../../components/vast/labels.ts";

describe("instance labels", () => {
  it("a rent's label is the slot's base label and a hex suffix", () => {
    expect(rentLabel(slotLabel("prod", "a"), "0f3c")).toBe("dumont-prod-a.0f3c");
  });

  it.each([
    ["x", "dumont-x-a.0f3c", true],
    ["x", "dumont-x-b.ffffffff", true],
    ["x", "dumont-x-2-a.0f3c", false],
    ["x-2", "dumont-x-2-a.0f3c", true],
    ["x", "dumont-x-c.0f3c", false],
    ["x", "dumont-x-a", false],
    ["x", "dumont-x-a.0f3c.extra", false],
    ["a.b", "dumont-aXb-a.00", false],
    ["x", undefined, false],
  ])("stack %s owns %s: %s", (stack, label, owned) => {
    expect(isStackLabel(stack, label)).toBe(owned);
  });
});
