// The declarations every setting's reader, check, default and document come from: each is whole,
// each default passes its own rule, and the names that reach users are each used once.
import { describe, expect, it } from "vitest";
import { credentialVariables } from "../../../stacks/credential-variables.ts";
import { parseSetting } from "../../../contract/setting-check.ts";
import {
  declarations, DerivedDefault, regionOfEndpoint, settingDefaults, settingKeys, settingLabel, settingText, valueShape, type Declaration,
} from "../../../contract/settings-schema.ts";

const all = settingKeys.map((key) => [key, declarations[key] as Declaration] as const);
const context = { stack: "Prod_1", cloud: "local", activeSlot: "b", bucketEndpoint: "https://s3.us-west-004.backblazeb2.com" } as const;

describe("the settings' declarations", () => {
  it.each(all)("dumont:%s says what it is, and its default passes its own rule", (key, declaration) => {
    expect(declaration.meaning.length).toBeGreaterThan(5);
    expect(valueShape(key).type).toBeDefined();
    const fallback = declaration.default instanceof DerivedDefault ? declaration.default.of(context) : declaration.default;
    if (fallback !== undefined) expect(parseSetting(key, fallback)).toEqual({ value: fallback });
    // Without a default, the README says when it is needed.
    if (declaration.default === undefined) expect(declaration.whenUnset).toBeDefined();
  });

  it("gives each setting its own variable", () => {
    const variables = all.flatMap(([, d]) => (d.env ? [d.env] : []));
    expect(new Set(variables).size).toBe(variables.length);
    for (const variable of variables) expect(variable).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it("keeps the seed's variable names", () => {
    const seed = {
      syncInterval: "SYNC_INTERVAL", healthCheckInterval: "HEALTH_CHECK_INTERVAL", failoverThreshold: "FAILOVER_THRESHOLD", autoFailover: "AUTO_FAILOVER",
      autoRecovery: "AUTO_RECOVERY", autoStandbyEnabled: "AUTO_STANDBY_ENABLED", gcpZone: "GCP_ZONE", gcpMachineType: "GCP_MACHINE_TYPE",
      gcpDiskSize: "GCP_DISK_SIZE", gcpSpot: "GCP_SPOT", gcpCredentials: "GCP_CREDENTIALS", vastApiKey: "VAST_API_KEY", bucketEndpoint: "B2_ENDPOINT",
      bucketName: "B2_BUCKET", bucketKeyId: "B2_KEY_ID", bucketApplicationKey: "B2_APPLICATION_KEY",
    } as const;
    for (const [key, variable] of Object.entries(seed)) expect(declarations[key as keyof typeof seed].env).toBe(variable);
  });

  it("has no default for a secret, so none is ever written in plain text", () => {
    const secrets = all.filter(([, d]) => d.secret);
    expect(secrets.map(([key]) => key)).toEqual(["vastApiKey", "gcpCredentials", "bucketKeyId", "bucketApplicationKey"]);
    for (const [, d] of secrets) expect(d.default).toBeUndefined();
  });

  it("holds the fixed defaults the components use, and none that depends on the stack", () => {
    expect(settingDefaults).toMatchObject({ gpuCount: 1, diskGb: 32, maxPricePerHour: 1, minReliability: 0.95, gcpZone: "europe-west1-b", gcpDiskSize: 100, snapshotFullEvery: 7 });
    for (const key of ["bucketName", "snapshotPrefix", "slots", "bucketForceDestroy", "gcpProject", "vastApiKey"]) expect(settingDefaults).not.toHaveProperty(key);
    expect(Object.isFrozen(settingDefaults.gpuNames)).toBe(true);
  });

  it("names the variables that still count during a failover: who Dumont is on each cloud", () => {
    expect([...credentialVariables].sort()).toEqual(["B2_APPLICATION_KEY", "B2_KEY_ID", "DUMONT_LOCAL_CLOUD", "GCP_CREDENTIALS", "GCP_PROJECT", "VAST_API_KEY"]);
  });

  it("names a setting by its key and variable", () => {
    expect(settingLabel("gpuCount")).toBe("dumont:gpuCount (env GPU_COUNT)");
    expect(settingLabel("slots")).toBe("dumont:slots");
  });

  it.each<[string, Record<string, string>, Record<string, string>, string | undefined]>([
    ["the stack's value", { gpuCount: "2" }, {}, "2"],
    ["the variable over the stack's value", { gpuCount: "2" }, { GPU_COUNT: "4" }, "4"],
    ["an empty variable counts as unset", { gpuCount: "2" }, { GPU_COUNT: "" }, "2"],
    ["neither", {}, {}, undefined],
  ])("takes a setting's text from %s", (_, config, env, expected) => {
    expect(settingText({ config: (k) => config[k], env: (n) => env[n] }, "gpuCount")).toBe(expected);
  });

  it("tells the B2 region from the endpoint", () => {
    expect(regionOfEndpoint("https://s3.us-west-004.backblazeb2.com")).toBe("us-west-004");
    expect(regionOfEndpoint("http://10.0.0.1:9000")).toBeUndefined();
  });
});
