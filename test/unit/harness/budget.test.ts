// The journey's budget: its worst case before it starts, and where it stops.
import { describe, expect, it } from "vitest";
import { standbyRate, totalUsd } from "../../../clouds/cost/model.ts";
import { budgetExceeded, worstCase } from "../../../harness/budget.ts";

describe("the journey's budget", () => {
  it("worst case: two GPUs at the price cap for the whole time limit, plus standby and bandwidth", () => {
    const items = worstCase({ variant: "snapshot", timeLimitSeconds: 3600, maxPricePerHour: 0.6, workspaceBytes: 2 ** 30, maxInetUpPerGb: 0.02, maxInetDownPerGb: 0.01 });
    expect(totalUsd(items)).toBeCloseTo(2 * 0.6 + 0.02 + 0.01 + (1 / 1000) * 6.95 * (1 / 720) * 1.073741824, 6);
    const withStandby = worstCase({
      variant: "both", timeLimitSeconds: 3600, maxPricePerHour: 0.6, workspaceBytes: 0, maxInetUpPerGb: 0, maxInetDownPerGb: 0,
      standby: standbyRate({ machineType: "e2-medium", diskGb: 100, spot: true }),
    });
    expect(totalUsd(withStandby)).toBeCloseTo(1.2 + 0.02212 + 10 / 730, 6);
  });

  it("stops a journey at its cost cap or its time limit, not before", () => {
    expect(budgetExceeded({ spentUsd: 0.49, maxCostUsd: 0.5, elapsedSeconds: 10, timeLimitSeconds: 60 })).toBeUndefined();
    expect(budgetExceeded({ spentUsd: 0.5, maxCostUsd: 0.5, elapsedSeconds: 10, timeLimitSeconds: 60 })).toMatch(/--max-cost \$0.5/);
    expect(budgetExceeded({ spentUsd: 9, elapsedSeconds: 61, timeLimitSeconds: 60 })).toMatch(/time limit of 60 s/);
  });
});
