// The snapshot bucket provider's `check`: the bucket's name by the rule of dumont:bucketName, so a
// name the settings accept is never refused by the provider.
import { describe, expect, it } from "vitest";
import { checkBucketInputs } from "../../../../components/bucket/bucket-operations.ts";

const inputs = { bucketName: "dumont-dev", prefix: "snapshots/dev/", expireNoncurrentDays: 1, forceDestroy: false, createScopedKey: true, enableVersioning: false };

describe("checkBucketInputs", () => {
  it("accepts the bucket the settings make by default", () => {
    expect(checkBucketInputs(inputs)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["a name B2 refuses", { bucketName: "Bad_Name" }, "bucketName", /'Bad_Name' is not 6-63 lowercase letters, digits and dashes/],
    ["a name too short", { bucketName: "ab" }, "bucketName", /'ab' is not 6-63/],
    ["no name", { bucketName: undefined }, "bucketName", /is not set/],
    ["a lifecycle of no days", { expireNoncurrentDays: 0 }, "expireNoncurrentDays", /whole number of days ≥ 1/],
  ])("refuses %s", (_, overrides, property, reason) => {
    const failures = checkBucketInputs({ ...inputs, ...overrides });
    expect(failures.map((f) => f.property)).toEqual([property]);
    expect(failures[0]!.reason).toMatch(reason);
  });
});
