import { describe, expect, it } from "vitest";
import type { GenerationRecord } from "../../../../dataplane/standby/generations.ts";
import { trustedGeneration } from "../../../../stacks/standby/generation-trust.ts";
import type { StackStatus } from "../../../../stacks/standby/status-file.ts";

const now = Date.parse("2026-11-30T12:00:00Z");
const record = (fields: Partial<GenerationRecord> = {}): GenerationRecord => ({
  format: "dumont-mirror/1", stack: "s", generation: 4, sourceInstanceId: 7,
  startedAt: "2026-11-30T11:00:00Z", finishedAt: "2026-11-30T11:01:00Z", entries: 120, bytes: 9000, ...fields,
});
const status = (lastSync?: Partial<NonNullable<StackStatus["lastSync"]>>): StackStatus => ({
  stack: "s", consecutiveSyncFailures: 0,
  ...(lastSync && { lastSync: {
    startedAt: "2026-11-30T11:00:00Z", finishedAt: "2026-11-30T11:01:00Z", seconds: 60, bytesSent: 1, filesTransferred: 1, filesTotal: 120, bytesTotal: 9000,
    fromInstanceId: 7, toStandby: "root@h:22", generation: 4, ...lastSync,
  } }),
});

describe("trustedGeneration", () => {
  it("takes what the controller recorded for that generation over the standby's record", () => {
    const forged = record({ startedAt: "2026-11-30T11:59:00Z", entries: 10_000_000 });
    expect(trustedGeneration(forged, status({}), now)).toMatchObject({ startedAt: "2026-11-30T11:00:00Z", entries: 120 });
  });

  it("refuses a record of another generation that claims to come from the future", () => {
    expect(trustedGeneration(record({ generation: 9, startedAt: "2027-01-01T00:00:00Z" }), status({}), now)).toBeUndefined();
    expect(trustedGeneration(record({ startedAt: "not a date" }), status(), now)).toBeUndefined();
  });

  it("believes a plausible record it has no note of (another controller's sync)", () => {
    const theirs = record({ generation: 9, startedAt: "2026-11-30T11:30:00Z", finishedAt: "2026-11-30T11:31:00Z" });
    expect(trustedGeneration(theirs, status({ generation: 4 }), now)).toEqual(theirs);
  });
});
