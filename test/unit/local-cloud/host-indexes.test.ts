// Host indexes go round: a freed index is not handed out again until the others have been.
import { describe, expect, it } from "vitest";
import { HostIndexes } from "../../../local-cloud/host-indexes.ts";
import { maxHostsPerCloud } from "../../../local-cloud/names.ts";
import { VastError } from "../../../local-cloud/vast/error.ts";

describe("host indexes", () => {
  it("hands out 1, 2, 3… and does not reuse a freed index at once", () => {
    const indexes = new HostIndexes(4);
    expect([indexes.allocate(), indexes.allocate(), indexes.allocate()]).toEqual([1, 2, 3]);
    indexes.release(1);
    expect(indexes.allocate()).toBe(4);
    // Wrapped around: the freed 1 is next; 2 and 3 are still used.
    expect(indexes.allocate()).toBe(1);
    indexes.release(3);
    expect(indexes.allocate()).toBe(3);
  });

  it("refuses past its capacity with Vast's 503, and allocates again once one is freed", () => {
    const indexes = new HostIndexes(2);
    indexes.allocate();
    indexes.allocate();
    const refused = (() => {
      try {
        indexes.allocate();
      } catch (error) {
        return error as VastError;
      }
    })();
    expect(refused).toBeInstanceOf(VastError);
    expect(refused!.status).toBe(503);
    expect(refused!.body).toEqual({ success: false, error: "no_capacity", msg: "the local cloud holds at most 2 hosts" });
    indexes.release(2);
    expect(indexes.allocate()).toBe(2);
  });

  it("holds as many hosts as a cloud's subnet has room for by default", () => {
    const indexes = new HostIndexes();
    const all = Array.from({ length: maxHostsPerCloud }, () => indexes.allocate());
    expect(new Set(all).size).toBe(maxHostsPerCloud);
    expect(Math.min(...all)).toBe(1);
    expect(Math.max(...all)).toBe(maxHostsPerCloud);
    expect(() => indexes.allocate()).toThrow(`at most ${maxHostsPerCloud} hosts`);
  });
});
