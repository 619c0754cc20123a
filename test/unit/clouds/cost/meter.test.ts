// The cost meter: each thing priced for the time it existed, at the rates of the cost model.
import { describe, expect, it } from "vitest";
import { CostMeter } from "../../../../clouds/cost/meter.ts";

const rtx4090 = { dphBase: 0.32, storageCostPerGbMonth: 0, diskGb: 32, inetUpCostPerGb: 0, inetDownCostPerGb: 0 };

describe("the meter", () => {
  it("prices each thing for the time it existed, and closes at destruction", () => {
    let now = 0;
    const meter = new CostMeter(() => now);
    meter.gpu(1, rtx4090, 0);
    now = 1800_000;
    meter.gpu(2, rtx4090);
    now = 3600_000;
    meter.gpuGone(1);
    now = 7200_000;
    // GPU 1: 1 h; GPU 2: 1.5 h so far.
    expect(meter.total()).toBeCloseTo(0.32 * 2.5, 10);
    meter.gpuGone(2);
    now = 10_000_000;
    expect(meter.total()).toBeCloseTo(0.32 * 2.5, 10);
  });

  // As Vast bills: compute only while running (not while the image loads, nor once stopped),
  // storage from the rent until the instance is gone.
  it("bills compute from running until stopped, storage from the rent until gone", () => {
    let now = 0;
    const meter = new CostMeter(() => now);
    const rates = { ...rtx4090, storageCostPerGbMonth: 7.2, diskGb: 10 };
    meter.gpu(1, rates, 0, 600_000);
    meter.gpuStopped(1, 3_000_000);
    now = 3_600_000;
    meter.gpuGone(1);
    const items = meter.items();
    expect(items.find((i) => i.what === "compute (running)")?.quantity).toBeCloseTo(2_400_000 / 3_600_000, 10);
    expect(items.find((i) => i.what.startsWith("storage"))?.quantity).toBeCloseTo(1, 10);
  });

  it("prices interruptible GPUs' compute at their bids against on-demand at the same offers", () => {
    let now = 0;
    const meter = new CostMeter(() => now);
    meter.gpu(1, { ...rtx4090, dphBase: 0.2, onDemandPerHour: 0.32 }, 0);
    meter.gpu(2, rtx4090, 0);
    expect(meter.interruptibleCompute()).toEqual({ atBidsUsd: 0, onDemandUsd: 0 });
    now = 3_600_000;
    expect(meter.interruptibleCompute()!.atBidsUsd).toBeCloseTo(0.2, 10);
    expect(meter.interruptibleCompute()!.onDemandUsd).toBeCloseTo(0.32, 10);
    expect(new CostMeter(() => now).interruptibleCompute()).toBeUndefined();
  });
});

