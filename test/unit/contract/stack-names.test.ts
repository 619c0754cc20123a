// The names of a stack's things, written once: what sweeps match (the label prefix), what B2, GCP
// and the local cloud accept (lowercase letters, digits and dashes), and what `--stack` takes.
import { describe, expect, it } from "vitest";
import {
  defaultBucketName, dumontPrefix, localStandbyName, slug, stackBaseName, stackLabelPrefix, stackNamePattern, standbyNetworkTag,
} from "../../../contract/stack-names.ts";

describe("stack names", () => {
  it.each(["dev", "prod-eu", "Prod_EU.1", "journey-20261122-1514-0f3c"])("accepts the stack name %s", (name) => {
    expect(stackNamePattern.test(name)).toBe(true);
  });

  it.each(["", "a b", "x/y", "ü"])("refuses the stack name %j", (name) => {
    expect(stackNamePattern.test(name)).toBe(false);
  });

  it("starts every name of a stack's things with dumont-<stack>", () => {
    expect(dumontPrefix).toBe("dumont-");
    expect(stackBaseName("prod")).toBe("dumont-prod");
    expect(stackLabelPrefix("prod")).toBe("dumont-prod-");
  });

  it.each([
    ["Prod_EU.1", "prod-eu-1"],
    ["dev", "dev"],
    ["a--b", "a--b"],
  ])("makes %s into %s where only lowercase letters, digits and dashes are allowed", (name, expected) => {
    expect(slug(name)).toBe(expected);
    expect(localStandbyName(name)).toBe(expected);
  });

  it("names the bucket and the standby's network tag after the stack", () => {
    expect(defaultBucketName("Prod_EU")).toBe("dumont-prod-eu");
    expect(standbyNetworkTag("Prod_EU")).toBe("dumont-standby-prod-eu");
  });
});
