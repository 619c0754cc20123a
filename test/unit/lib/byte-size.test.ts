// Sizes as a user types them on the command line.
import { describe, expect, it } from "vitest";
import { parseSize } from "../../../lib/byte-size.ts";

describe("parseSize", () => {
  it("reads sizes as people write them, and names what it cannot read", () => {
    expect(parseSize("1GiB")).toBe(2 ** 30);
    expect(parseSize("500MiB")).toBe(500 * 2 ** 20);
    expect(parseSize("100MB")).toBe(100e6);
    expect(parseSize("0")).toBe(0);
    expect(() => parseSize("lots")).toThrow(/'lots' is not a size/);
  });
});
