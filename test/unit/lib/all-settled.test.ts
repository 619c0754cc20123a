import { describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { allSettledOrThrow } from "../../../lib/all-settled.ts";

describe("allSettledOrThrow", () => {
  it("gives every value, in order", async () => {
    const [a, b] = await allSettledOrThrow([sleep(20).then(() => "slow"), Promise.resolve(2)]);
    expect([a, b]).toEqual(["slow", 2]);
  });

  it("throws the first failure in the order given, only once every step is over", async () => {
    let slowDone = false;
    const slow = sleep(50).then(() => {
      slowDone = true;
    });
    const failure = await allSettledOrThrow([slow, Promise.reject(new Error("first")), Promise.reject(new Error("second"))]).catch((e: Error) => e);
    expect((failure as Error).message).toBe("first");
    expect(slowDone).toBe(true);
  });
});
