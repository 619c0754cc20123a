// Settings are read by their declarations (contract/settings-schema.ts) and checked before anything is
// rented; a bad value names the setting at fault, its config key and its variable.
import { describe, expect, it } from "vitest";
import { SettingError } from "../../../lib/errors.ts";
import { readSettings, type Settings } from "../../../stacks/settings.ts";

const read = (config: Record<string, string>, env: Record<string, string> = {}, stack = "dev") =>
  readSettings({ config: (k) => config[k], hasConfig: (k) => k in config, env: (n) => env[n] }, stack);

const realCredentials = { vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z" };

function errorOf(fn: () => unknown): SettingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("settings", () => {
  it("has the seed's defaults", () => {
    const s = read({});
    expect(s.standby).toMatchObject({ enabled: false, gcpZone: "europe-west1-b", gcpMachineType: "e2-medium", gcpDiskSize: 100, gcpSpot: true, sshSourceRanges: ["0.0.0.0/0"] });
    expect(s.standby.gcpProject).toBeUndefined();
    expect(s.standby.hourlyRate).toBeUndefined();
    expect(s.health).toEqual({ syncIntervalSeconds: 30, healthCheckIntervalSeconds: 10, failoverThreshold: 3, autoFailover: true, onOutbid: "failover", autoRecovery: true, controllerLeaseSeconds: 30 });
    expect(s.gpu).toEqual({
      gpuNames: ["RTX 4090"], gpuCount: 1, diskGb: 32, image: "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime", maxPricePerHour: 1, minReliability: 0.95,
      verifiedOnly: true, datacenterOnly: false, rentType: "on-demand", bidMargin: 0.25, geolocation: [], directSsh: true, excludeMachineIds: [], onstart: "", env: {}, readyTimeoutSeconds: 600,
    });
    expect(s.snapshots).toEqual({ keep: 10, fullEvery: 7 });
    expect(s).toMatchObject({ cloud: "local", localCloud: "main", vastUrl: "https://console.vast.ai", activeSlot: "a", provisionedSlots: ["a"] });
  });

  it.each<[string, Record<string, string>, string, (s: Settings) => unknown, unknown]>([
    ["the bucket is the stack's, in B2's letters", {}, "Prod_EU.1", (s) => s.bucket.name, "dumont-prod-eu-1"],
    ["the snapshot prefix is the stack's", {}, "staging", (s) => s.bucket.prefix, "snapshots/staging/"],
    ["the local cloud's bucket may be destroyed with its snapshots", {}, "dev", (s) => s.bucket.forceDestroy, true],
    ["a real bucket may not", { cloud: "real", ...realCredentials }, "dev", (s) => s.bucket.forceDestroy, false],
    ["a real stack's operations use a scoped key", { cloud: "real", ...realCredentials }, "dev", (s) => s.bucket.scopedKey, true],
    ["a local stack's do not", {}, "dev", (s) => s.bucket.scopedKey, false],
    ["the slots are the active one", { activeSlot: "b" }, "dev", (s) => s.provisionedSlots, ["b"]],
    ["the region is the endpoint's", { bucketEndpoint: "https://s3.eu-central-003.backblazeb2.com" }, "dev", (s) => s.bucket.region, "eu-central-003"],
    ["an endpoint without a region gives none on the local cloud", { bucketEndpoint: "http://10.0.0.1:9000" }, "dev", (s) => s.bucket.region, undefined],
  ])("a default made from the stack or other settings: %s", (_, config, stack, value, expected) => {
    expect(value(read(config, {}, stack))).toEqual(expected);
  });

  it.each<[string, string, string, (s: Settings) => unknown, unknown]>([
    ["syncInterval", "SYNC_INTERVAL", "15", (s) => s.health.syncIntervalSeconds, 15],
    ["healthCheckInterval", "HEALTH_CHECK_INTERVAL", "5", (s) => s.health.healthCheckIntervalSeconds, 5],
    ["failoverThreshold", "FAILOVER_THRESHOLD", "7", (s) => s.health.failoverThreshold, 7],
    ["autoFailover", "AUTO_FAILOVER", "false", (s) => s.health.autoFailover, false],
    ["autoRecovery", "AUTO_RECOVERY", "false", (s) => s.health.autoRecovery, false],
    ["autoStandbyEnabled", "AUTO_STANDBY_ENABLED", "true", (s) => s.standby.enabled, true],
    ["gcpZone", "GCP_ZONE", "us-east1-b", (s) => s.standby.gcpZone, "us-east1-b"],
    ["gcpMachineType", "GCP_MACHINE_TYPE", "e2-small", (s) => s.standby.gcpMachineType, "e2-small"],
    ["gcpDiskSize", "GCP_DISK_SIZE", "40", (s) => s.standby.gcpDiskSize, 40],
    ["gcpSpot", "GCP_SPOT", "false", (s) => s.standby.gcpSpot, false],
    ["gcpProject", "GCP_PROJECT", "p-1", (s) => s.standby.gcpProject, "p-1"],
    ["standbyHourlyRate", "STANDBY_HOURLY_RATE", "0.02", (s) => s.standby.hourlyRate, 0.02],
    ["gpuNames", "GPU_NAMES", "RTX 4090, RTX 5090", (s) => s.gpu.gpuNames, ["RTX 4090", "RTX 5090"]],
    ["gpuCount", "GPU_COUNT", "2", (s) => s.gpu.gpuCount, 2],
    ["diskGb", "GPU_DISK_GB", "64", (s) => s.gpu.diskGb, 64],
    ["image", "GPU_IMAGE", "ubuntu:24.04", (s) => s.gpu.image, "ubuntu:24.04"],
    ["maxPricePerHour", "GPU_MAX_PRICE", "0.45", (s) => s.gpu.maxPricePerHour, 0.45],
    ["minReliability", "GPU_MIN_RELIABILITY", "0.9", (s) => s.gpu.minReliability, 0.9],
    ["geolocation", "GPU_GEOLOCATION", "US,CA", (s) => s.gpu.geolocation, ["US", "CA"]],
    ["readyTimeoutSeconds", "GPU_READY_TIMEOUT", "300", (s) => s.gpu.readyTimeoutSeconds, 300],
    ["controllerLeaseSeconds", "DUMONT_CONTROLLER_LEASE_SECONDS", "60", (s) => s.health.controllerLeaseSeconds, 60],
    ["bucketName", "B2_BUCKET", "my-own-bucket", (s) => s.bucket.name, "my-own-bucket"],
    ["bucketEndpoint", "B2_ENDPOINT", "http://10.0.0.1:9000", (s) => s.bucket.endpoint, "http://10.0.0.1:9000"],
    ["bucketRegion", "B2_REGION", "eu-central-003", (s) => s.bucket.region, "eu-central-003"],
    ["localCloud", "DUMONT_LOCAL_CLOUD", "jr1", (s) => s.localCloud, "jr1"],
    ["vastUrl", "VAST_URL", "http://10.0.0.1:8080", (s) => s.vastUrl, "http://10.0.0.1:8080"],
  ])("the variable of dumont:%s (%s) overrides the stack's value", (key, variable, text, value, expected) => {
    const config = { [key]: key === "gpuNames" || key === "geolocation" ? '["DE"]' : "1" };
    expect(value(read({}, { [variable]: text }))).toEqual(expected);
    expect(value(read(config, { [variable]: text }))).toEqual(expected);
    // An empty variable is unset: the stack's value stands.
    expect(value(read({ [key]: text }, { [variable]: "" }))).toEqual(expected);
  });

  it.each<[string, Record<string, string>, (s: Settings) => unknown, unknown]>([
    ["a number", { diskGb: "16" }, (s) => s.gpu.diskGb, 16],
    ["a decimal", { maxPricePerHour: "0.6" }, (s) => s.gpu.maxPricePerHour, 0.6],
    ["true/false", { verifiedOnly: "false" }, (s) => s.gpu.verifiedOnly, false],
    ["a YAML list (JSON from the engine)", { gpuNames: '["A100 SXM4","H100 SXM"]' }, (s) => s.gpu.gpuNames, ["A100 SXM4", "H100 SXM"]],
    ["a list as comma-separated text", { gpuNames: "RTX 4090,RTX 3090" }, (s) => s.gpu.gpuNames, ["RTX 4090", "RTX 3090"]],
    ["a list of machine ids", { excludeMachineIds: "[12, 34]" }, (s) => s.gpu.excludeMachineIds, [12, 34]],
    ["a list of slots", { slots: '["a","b"]' }, (s) => s.provisionedSlots, ["a", "b"]],
    ["a YAML map (JSON from the engine)", { env: '{"HF_HOME":"/workspace/hf","N":3}' }, (s) => s.gpu.env, { HF_HOME: "/workspace/hf", N: "3" }],
    ["an empty prefix", { snapshotPrefix: "" }, (s) => s.bucket.prefix, ""],
  ])("reads %s", (_, config, value, expected) => {
    expect(value(read(config))).toEqual(expected);
  });

  it.each<[string, boolean]>([
    ["yes", true], ["ON", true], ["1", true], ["no", false], ["off", false], ["0", false], ["False", false],
  ])("takes %s from a variable as %s, as the seed's scripts wrote it; the stack's config holds true or false, as Pulumi.yaml types it", (text, expected) => {
    expect(read({}, { AUTO_FAILOVER: text }).health.autoFailover).toBe(expected);
    expect(errorOf(() => read({ autoFailover: text })).message).toContain("is not true or false");
  });

  it.each<[string, string, string, string]>([
    ["gpuCount", "1", "16", "17"],
    ["diskGb", "8", "20000", "7"],
    ["maxPricePerHour", "0.001", "128", "0"],
    ["minReliability", "0", "1", "1.01"],
    ["readyTimeoutSeconds", "10", "7200", "9"],
    ["gcpDiskSize", "10", "65536", "9"],
    ["syncInterval", "1", "86400", "0"],
    ["controllerLeaseSeconds", "3", "3600", "2"],
    ["snapshotKeep", "1", "10000", "0"],
    ["snapshotFullEvery", "1", "1000", "1001"],
  ])("dumont:%s takes %s and %s, not %s", (key, low, high, outside) => {
    expect(() => read({ [key]: low })).not.toThrow();
    expect(() => read({ [key]: high })).not.toThrow();
    expect(errorOf(() => read({ [key]: outside })).message).toMatch(/is outside \S+…\S+$/);
  });

  it.each([
    [{ gpuCount: "two" }, {}, "dumont:gpuCount (env GPU_COUNT)", "'two' is not a whole number"],
    [{ gpuCount: "1.5" }, {}, "dumont:gpuCount (env GPU_COUNT)", "'1.5' is not a whole number"],
    [{ autoFailover: "yes" }, {}, "dumont:autoFailover (env AUTO_FAILOVER)", "'yes' is not true or false"],
    [{ maxPricePerHour: "cheap" }, {}, "dumont:maxPricePerHour (env GPU_MAX_PRICE)", "'cheap' is not a number"],
    [{}, { FAILOVER_THRESHOLD: "0" }, "dumont:failoverThreshold (env FAILOVER_THRESHOLD)", "0 is outside 1…100"],
    [{}, { AUTO_RECOVERY: "maybe" }, "dumont:autoRecovery (env AUTO_RECOVERY)", "'maybe' is not true or false"],
    [{ diskGb: "4" }, {}, "dumont:diskGb (env GPU_DISK_GB)", "4 is outside 8…20000"],
    [{ image: "pytorch/pytorch" }, {}, "dumont:image (env GPU_IMAGE)", "'pytorch/pytorch' is not an image with a tag"],
    [{ cloud: "aws" }, {}, "dumont:cloud (env DUMONT_CLOUD)", "'aws' is not 'local' or 'real'"],
    [{ localCloud: "Main" }, {}, "dumont:localCloud (env DUMONT_LOCAL_CLOUD)", "'Main' is not 1-5 lowercase letters or digits"],
    [{ geolocation: '["USA"]' }, {}, "dumont:geolocation (env GPU_GEOLOCATION)", "'USA' is not a 2-letter country code"],
    [{ gpuNames: "[]" }, {}, "dumont:gpuNames (env GPU_NAMES)", "name at least one GPU model"],
    [{ excludeMachineIds: "12,x" }, {}, "dumont:excludeMachineIds", "'x' is not a whole number"],
    [{ env: "HF_HOME=/x" }, {}, "dumont:env", "'HF_HOME=/x' is not a map of names to values"],
    [{ onstart: "x".repeat(3401) }, {}, "dumont:onstart", "is 3401 characters; at most 3400 (Vast accepts 4048, and Dumont's host-key installer comes first)"],
    [{ gcpZone: "europe" }, {}, "dumont:gcpZone (env GCP_ZONE)", "a GCP zone"],
    [{ bucketName: "Bad_Name" }, {}, "dumont:bucketName (env B2_BUCKET)", "B2's bucket name rules"],
    [{}, { B2_BUCKET: "ab" }, "dumont:bucketName (env B2_BUCKET)", "'ab' is not 6-63 lowercase letters"],
    [{ snapshotPrefix: "snapshots" }, {}, "dumont:snapshotPrefix", "a key prefix ending in '/'"],
    [{ vastUrl: "console.vast.ai" }, {}, "dumont:vastUrl (env VAST_URL)", "an http(s) URL"],
    [{ activeSlot: "b", slots: '["a"]' }, {}, "dumont:slots", "the active slot 'b' (dumont:activeSlot) must be provisioned"],
    [{ slots: '["a","c"]' }, {}, "dumont:slots", "'c' is not 'a' or 'b'"],
  ])("names the setting at fault: %j %j", (config, env, setting, problem) => {
    const error = errorOf(() => read(config, env));
    expect(error.setting).toBe(setting);
    expect(error.message.startsWith(`${setting}: `)).toBe(true);
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain("\n");
  });

  it("needs every credential of a real stack before it starts, and says how to set it", () => {
    const error = errorOf(() => read({ cloud: "real" }));
    expect(error.setting).toBe("dumont:vastApiKey (env VAST_API_KEY)");
    expect(error.message).toContain("the Vast.ai API key is required for cloud: real");
    expect(error.hint).toContain("pulumi config set --secret dumont:vastApiKey");
    expect(error.hint).toContain("export VAST_API_KEY");
    const gcp = errorOf(() => read({ cloud: "real", ...realCredentials, autoStandbyEnabled: "true" }));
    expect(gcp.setting).toBe("dumont:gcpCredentials (env GCP_CREDENTIALS)");
    const project = errorOf(() => read({ cloud: "real", ...realCredentials, autoStandbyEnabled: "true", gcpCredentials: "{}" }));
    expect(project.setting).toBe("dumont:gcpProject (env GCP_PROJECT)");
    expect(() => read({ cloud: "real" }, { VAST_API_KEY: "x", B2_KEY_ID: "y", B2_APPLICATION_KEY: "z" })).not.toThrow();
  });

  it("needs the bucket's region on a real cloud when the endpoint does not name it", () => {
    const error = errorOf(() => read({ cloud: "real", ...realCredentials, bucketEndpoint: "https://objects.example.com" }));
    expect(error.setting).toBe("dumont:bucketRegion (env B2_REGION)");
    expect(read({ cloud: "real", ...realCredentials, bucketEndpoint: "https://objects.example.com", bucketRegion: "eu-1" }).bucket.region).toBe("eu-1");
  });
});
