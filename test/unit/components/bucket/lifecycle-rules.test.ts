// A bucket's lifecycle rules are replaced whole by S3's API: Dumont's rule is added or replaced by
// its ID, every other rule is put back as it was, and on delete only Dumont's goes.
import { describe, expect, it } from "vitest";
import type { LifecycleRule } from "@aws-sdk/client-s3";
import { dumontRule, dumontRuleId, isDumontRule, rulesOverlapping, withDumontRule, withoutDumontRule } from "../../../../components/bucket/lifecycle-rules.ts";

const theirs: LifecycleRule = { ID: "expire-logs", Status: "Enabled", Filter: { Prefix: "logs/" }, Expiration: { Days: 30 } };
const theirsTagged: LifecycleRule = { ID: "tmp", Status: "Enabled", Filter: { And: { Prefix: "snapshots/s/", Tags: [{ Key: "tmp", Value: "1" }] } }, Expiration: { Days: 1 } };

describe("Dumont's lifecycle rule among the bucket's", () => {
  it("is added to a bucket's rules, which stay as they were", () => {
    expect(withDumontRule([theirs], "snapshots/s/", 1)).toEqual([theirs, dumontRule("snapshots/s/", 1)]);
    expect(withDumontRule([], "snapshots/s/", 1)).toEqual([dumontRule("snapshots/s/", 1)]);
  });

  it("replaces Dumont's own rule by its ID, also one for a former prefix, never twice", () => {
    const old = dumontRule("snapshots/", 7);
    expect(withDumontRule([theirs, old], "snapshots/s/", 1)).toEqual([theirs, dumontRule("snapshots/s/", 1)]);
    const b2Copy: LifecycleRule = { ID: "b2-generated", Status: "Enabled", Filter: { Prefix: "snapshots/" }, NoncurrentVersionExpiration: { NoncurrentDays: 7 } };
    expect(withDumontRule([theirs, b2Copy], "snapshots/s/", 1, ["snapshots/"])).toEqual([theirs, dumontRule("snapshots/s/", 1)]);
  });

  it("knows its rule by ID, or (B2 keeps no IDs) by its prefix and its actions alone", () => {
    expect(isDumontRule({ ID: dumontRuleId, Status: "Enabled", Filter: { Prefix: "elsewhere/" } }, ["snapshots/s/"])).toBe(true);
    expect(isDumontRule({ ID: "x", Status: "Enabled", Filter: { Prefix: "snapshots/s/" }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }, ["snapshots/s/"])).toBe(true);
    // Someone else's rule on the same prefix that also expires current versions is not Dumont's.
    expect(isDumontRule({ ID: "x", Status: "Enabled", Filter: { Prefix: "snapshots/s/" }, Expiration: { Days: 3 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }, ["snapshots/s/"])).toBe(false);
    expect(isDumontRule({ ID: "x", Status: "Enabled", Filter: { Prefix: "other/" }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }, ["snapshots/s/"])).toBe(false);
    expect(isDumontRule(theirsTagged, ["snapshots/s/"])).toBe(false);
  });

  it("on delete, takes out Dumont's rule and keeps every other", () => {
    expect(withoutDumontRule([theirs, dumontRule("snapshots/s/", 1), theirsTagged], ["snapshots/s/"])).toEqual([theirs, theirsTagged]);
    expect(withoutDumontRule([dumontRule("snapshots/s/", 1)], ["snapshots/s/"])).toEqual([]);
  });

  it("names the other rules that cover Dumont's files (B2 refuses two rules for one file)", () => {
    const everything: LifecycleRule = { ID: "all", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 90 } };
    const rules = withDumontRule([theirs, everything, theirsTagged], "snapshots/s/", 1);
    expect(rulesOverlapping(rules, "snapshots/s/").map((r) => r.ID)).toEqual(["all", "tmp"]);
    expect(rulesOverlapping(withDumontRule([theirs], "snapshots/s/", 1), "snapshots/s/")).toEqual([]);
  });
});
