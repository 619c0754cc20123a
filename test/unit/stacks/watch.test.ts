// The watch's decisions: what counts as a failed check, and how failed failovers back off.
import { describe, expect, it } from "vitest";
import { failoverBackoffSeconds, healthVerdict, isOutbid, nextFailureCount } from "../../../stacks/watch.ts";

describe("health verdict", () => {
  it("SSH decides: an API error or an odd status with working SSH is healthy", () => {
    expect(healthVerdict("ok", "unknown (429 rate_limited)")).toEqual({ ok: true });
    expect(healthVerdict("ok", "offline")).toEqual({ ok: true });
  });

  it("SSH failing is a failure, explained by Vast's status when it has one", () => {
    expect(healthVerdict({ error: "timed out" }, "running")).toEqual({ ok: false, error: "ssh: timed out" });
    expect(healthVerdict({ error: "refused" }, "offline")).toEqual({ ok: false, error: "ssh: refused (vast status: offline)" });
  });

  it("a good check resets the count", () => {
    expect([false, false, true, false].reduce((n, ok) => nextFailureCount(n, { ok }), 0)).toBe(1);
  });

  it("failed failovers back off, capped at ten minutes", () => {
    expect([0, 1, 2, 3, 10].map(failoverBackoffSeconds)).toEqual([0, 15, 30, 60, 600]);
  });
});

// Read from Vast at once: an interruptible instance Vast still intends to run but stopped.
describe("isOutbid", () => {
  it.each([
    [{ is_bid: true, intended_status: "running", actual_status: "stopped" }, true],
    [{ is_bid: true, intended_status: "running", actual_status: "exited" }, false],
    [{ is_bid: true, intended_status: "stopped", actual_status: "stopped" }, false],
    [{ is_bid: true, intended_status: "running", actual_status: "running" }, false],
    [{ is_bid: false, intended_status: "running", actual_status: "stopped" }, false],
    [{ intended_status: "running", actual_status: "offline" }, false],
  ])("%j: %s", (listed, outbid) => {
    expect(isOutbid(listed)).toBe(outbid);
  });
});

