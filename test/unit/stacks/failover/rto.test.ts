// A failover's recovery time by phase: an engine run that rented a GPU is split by the provider's own
// times, whatever no phase accounts for is "other", and the overhead is what is left besides the
// provider's wait and the data.
import { describe, expect, it } from "vitest";
import { describePhases, overheadSeconds, RtoClock } from "../../../../stacks/failover/rto.ts";

const at = (ms: number) => new Date(ms).toISOString();

describe("RtoClock", () => {
  it("splits the rent at the rent request and at SSH's first answer", () => {
    const clock = new RtoClock(1_000_000);
    clock.addProvision(1_000_500, 1_010_000, { rentRequestedAt: at(1_003_000), sshReadyAt: at(1_008_000) });
    const report = clock.report(1_010_000);
    expect(report.seconds).toBe(10);
    expect(report.phases).toEqual({ offer_search: 2.5, provider_wait: 5, host_tools: 2, other: 0.5 });
  });

  it("a provider without times (or times outside the run) leaves the run whole, as provision", () => {
    const clock = new RtoClock(0);
    clock.addProvision(0, 4000, {});
    clock.addProvision(4000, 6000, { rentRequestedAt: at(1000), sshReadyAt: at(5000) });
    expect(clock.report(6000).phases).toEqual({ provision: 6, other: 0 });
  });

  it("the overhead is the RTO less the provider's wait and the data", async () => {
    const clock = new RtoClock(0);
    clock.add("provider_wait", 5);
    clock.add("restore", 1.5);
    clock.add("verify", 0.5);
    clock.add("last_copy", 1);
    clock.add("fence", 1);
    const report = clock.report(10_000);
    expect(report.phases.other).toBe(1);
    expect(overheadSeconds(report)).toBe(2);
    expect(describePhases(report)).toBe("provider_wait 5.0 s, restore 1.5 s, verify 0.5 s, last_copy 1.0 s, fence 1.0 s, other 1.0 s");
  });

  it("time() counts a phase even when its work fails", async () => {
    const clock = new RtoClock();
    await expect(clock.time("fence", async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error("stuck");
    })).rejects.toThrow("stuck");
    expect(clock.report().phases.fence).toBeGreaterThanOrEqual(0.02);
  });
});
