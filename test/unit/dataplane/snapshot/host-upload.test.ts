import { describe, expect, it } from "vitest";
import { checkPartSequence } from "../../../../dataplane/snapshot/host-upload.ts";

describe("the parts a host reports uploaded", () => {
  const parts = (...sizes: number[]) => sizes.map((bytes, i) => ({ part: i + 1, bytes }));

  it("add up to the archive when every part but the last is whole", () => {
    expect(checkPartSequence(parts(10, 10, 3), 10, "gpu")).toBe(23);
    expect(checkPartSequence(parts(10), 10, "gpu")).toBe(10);
  });

  it("are refused when one before the last is short: bytes were lost on the host (a full disk)", () => {
    expect(() => checkPartSequence(parts(10, 4, 10, 2), 10, "gpu")).toThrow("the upload from gpu is not whole: part 2 (listed 2) has 4 bytes, parts are 10");
  });

  it("are refused when one is missing, repeated, empty or too large", () => {
    expect(() => checkPartSequence([{ part: 1, bytes: 10 }, { part: 3, bytes: 2 }], 10, "gpu")).toThrow("part 3 (listed 2)");
    expect(() => checkPartSequence([{ part: 1, bytes: 10 }, { part: 1, bytes: 10 }], 10, "gpu")).toThrow("part 1 (listed 2)");
    expect(() => checkPartSequence(parts(10, 0), 10, "gpu")).toThrow("part 2 (listed 2) has 0 bytes");
    expect(() => checkPartSequence(parts(11), 10, "gpu")).toThrow("part 1 (listed 1) has 11 bytes");
    expect(() => checkPartSequence([], 10, "gpu")).toThrow("the upload from gpu reported no parts");
  });
});
