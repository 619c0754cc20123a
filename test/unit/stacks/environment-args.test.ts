// Whether a stack's operations get a key limited to its prefix: on by default on B2, off by default
// on the local cloud (turning it on replaces the bucket resource), and asked for with one setting.
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { environmentArgs } from "../../../stacks/environment-args.ts";
import { readSettings } from "../../../stacks/settings.ts";

const real = { cloud: "real", vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z" };
const createScopedKey = (config: Record<string, string>) => {
  const settings = readSettings({ config: (k) => config[k], hasConfig: (k) => k in config, env: () => undefined }, "dev");
  return environmentArgs(settings, {} as pulumi.Config, "").bucket.createScopedKey;
};

describe("dumont:bucketScopedKey", () => {
  it("defaults to a scoped key on B2 and none on the local cloud", () => {
    expect(createScopedKey(real)).toBe(true);
    expect(createScopedKey({})).toBe(false);
  });

  it("turns the local cloud's emulated B2 key on, or B2's off", () => {
    expect(createScopedKey({ bucketScopedKey: "true" })).toBe(true);
    expect(createScopedKey({ ...real, bucketScopedKey: "false" })).toBe(false);
  });
});
