// "did you mean …?": a word one slip away from a known one is suggested; a word far from all is not.
import { describe, expect, it } from "vitest";
import { nearestWord } from "../../../../bin/cli/nearest-word.ts";

describe("nearestWord", () => {
  const options = ["stack", "stacks", "json", "slot", "instance", "install-service"];

  it.each([
    ["jsno", "json"], // two letters swapped
    ["jso", "json"], // the start of one word only
    ["instnce", "instance"], // a letter left out
    ["slto", "slot"],
    ["stak", "stack"],
  ])("%s → %s", (typed, meant) => {
    expect(nearestWord(typed, options)).toBe(meant);
  });

  it.each(["bogus", "x", "standby"])("%s → nothing", (typed) => {
    expect(nearestWord(typed, options)).toBeUndefined();
  });

  it("a start shared by several words suggests none of them", () => {
    expect(nearestWord("ins", options)).toBeUndefined();
  });
});
