import { describe, expect, it } from "vitest";
import { StepClock } from "../../../stacks/step-clock.ts";

describe("StepClock", () => {
  it("names a step once it has run long, then once per period as long again, and starts over with the next step", () => {
    let now = 1_000_000;
    const clock = new StepClock(60, () => now);
    clock.enter("a standby sync: rsync from the GPU");
    now += 59_000;
    expect(clock.slow()).toBeUndefined();
    now += 1_000;
    expect(clock.slow()).toEqual({ step: "a standby sync: rsync from the GPU", seconds: 60 });
    now += 5_000;
    expect(clock.slow()).toBeUndefined();
    now += 55_000;
    expect(clock.slow()).toEqual({ step: "a standby sync: rsync from the GPU", seconds: 120 });
    clock.enter("the health check");
    now += 30_000;
    expect(clock.slow()).toBeUndefined();
  });
});
