// The standby's copies: which syncs may replace the last complete copy.
import { describe, expect, it } from "vitest";
import { generationPath, shrinksTooMuch } from "../../../../dataplane/standby/generations.ts";

describe("standby generations", () => {
  it.each([
    [1000, 499, true],
    [1000, 500, false],
    [1000, 1200, false],
    [20, 0, false], // a tiny copy may empty out: a user's deletion, not a broken source
    [21, 0, true],
  ])("a copy of %i entries replaced by one of %i: refused %s", (before, after, refused) => {
    expect(shrinksTooMuch(before, after)).toBe(refused);
  });

  it("generation folders are relative to the standby user's home", () => {
    expect(generationPath(7)).toBe("dumont-mirror/gen-7/");
  });
});
