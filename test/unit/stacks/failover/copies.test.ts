// Which copy a failover restores: the freshest complete one, and the time its data was captured.
import { describe, expect, it } from "vitest";
import { orderCandidates, snapshotCapturedAt } from "../../../../stacks/failover/copies.ts";

describe("restore candidates", () => {
  it("a snapshot's capture time comes from its id", () => {
    expect(snapshotCapturedAt("20261122T131844614Z-test-snapshot-1")).toBe("2026-11-22T13:18:44.614Z");
    expect(() => snapshotCapturedAt("latest")).toThrow(/not a snapshot id/);
  });

  it("freshest first; a standby copy as fresh as a snapshot goes first", () => {
    const standby = { kind: "standby", generation: 4, capturedAt: "2026-11-30T09:00:00.000Z" } as const;
    const newer = { kind: "snapshot", id: "n", capturedAt: "2026-11-30T09:05:00.000Z" } as const;
    const older = { kind: "snapshot", id: "o", capturedAt: "2026-11-30T08:00:00.000Z" } as const;
    const tie = { kind: "snapshot", id: "t", capturedAt: "2026-11-30T09:00:00.000Z" } as const;
    expect(orderCandidates([older, standby, newer])).toEqual([newer, standby, older]);
    expect(orderCandidates([tie, standby])).toEqual([standby, tie]);
  });
});
