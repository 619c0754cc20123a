// Settings are checked before anything is rented; a bad value names the setting at fault.
import { describe, expect, it } from "vitest";
import { SettingError } from "../../../harness/errors.ts";
import { readSettings, regionOfEndpoint } from "../../../stacks/settings.ts";

const read = (config: Record<string, string>, env: Record<string, string> = {}) =>
  readSettings({ config: (k) => config[k], hasConfig: (k) => k in config, env: (n) => env[n] }, "dev");

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
    expect(s.standby).toMatchObject({ enabled: false, gcpZone: "europe-west1-b", gcpMachineType: "e2-medium", gcpDiskSize: 100, gcpSpot: true });
    expect(s.health).toEqual({ syncIntervalSeconds: 30, healthCheckIntervalSeconds: 10, failoverThreshold: 3, autoFailover: true, autoRecovery: true, controllerLeaseSeconds: 30 });
    expect(s.cloud).toBe("local");
    expect(s.activeSlot).toBe("a");
    expect(s.provisionedSlots).toEqual(["a"]);
  });

  it("lets the seed's environment variables override stack config", () => {
    const s = read({ syncInterval: "60", gcpZone: "us-central1-a" }, { SYNC_INTERVAL: "15", GCP_ZONE: "us-east1-b", AUTO_FAILOVER: "false", GPU_NAMES: "RTX 4090, RTX 5090" });
    expect(s.health.syncIntervalSeconds).toBe(15);
    expect(s.health.autoFailover).toBe(false);
    expect(s.standby.gcpZone).toBe("us-east1-b");
    expect(s.gpu.gpuNames).toEqual(["RTX 4090", "RTX 5090"]);
  });

  it("reads YAML lists and maps from config", () => {
    const s = read({ gpuNames: '["A100 SXM4","H100 SXM"]', env: '{"HF_HOME":"/workspace/hf"}', geolocation: '["US","CA"]' });
    expect(s.gpu.gpuNames).toEqual(["A100 SXM4", "H100 SXM"]);
    expect(s.gpu.env).toEqual({ HF_HOME: "/workspace/hf" });
    expect(s.gpu.geolocation).toEqual(["US", "CA"]);
  });

  it.each([
    [{ gpuCount: "two" }, {}, "dumont:gpuCount (env GPU_COUNT)", "'two' is not a whole number"],
    [{}, { FAILOVER_THRESHOLD: "0" }, "dumont:failoverThreshold (env FAILOVER_THRESHOLD)", "0 is outside 1…100"],
    [{}, { AUTO_RECOVERY: "maybe" }, "dumont:autoRecovery (env AUTO_RECOVERY)", "'maybe' is not true or false"],
    [{ diskGb: "4" }, {}, "dumont:diskGb (env GPU_DISK_GB)", "4 is outside 8…20000"],
    [{ image: "pytorch/pytorch" }, {}, "dumont:image (env GPU_IMAGE)", "an image with a tag"],
    [{ cloud: "aws" }, {}, "dumont:cloud (env DUMONT_CLOUD)", "expected 'local'"],
    [{ geolocation: '["USA"]' }, {}, "dumont:geolocation (env GPU_GEOLOCATION)", "'USA' is not a 2-letter country code"],
    [{ gcpZone: "europe" }, {}, "dumont:gcpZone (env GCP_ZONE)", "a GCP zone"],
    [{ bucketName: "Bad_Name" }, {}, "dumont:bucketName (env B2_BUCKET)", "B2's bucket name rules"],
    [{ activeSlot: "b", slots: '["a"]' }, {}, "dumont:slots", "the active slot 'b' (dumont:activeSlot) must be provisioned"],
    [{ slots: '["a","c"]' }, {}, "dumont:slots", "'c' is not a slot"],
  ])("names the setting at fault: %j %j", (config, env, setting, problem) => {
    const error = errorOf(() => read(config, env));
    expect(error.setting).toBe(setting);
    expect(error.message).toContain(problem);
  });

  it("needs every credential of a real stack before it starts, and says how to set it", () => {
    const error = errorOf(() => read({ cloud: "real" }));
    expect(error.setting).toBe("dumont:vastApiKey (env VAST_API_KEY)");
    expect(error.hint).toContain("pulumi config set --secret dumont:vastApiKey");
    const gcp = errorOf(() => read({ cloud: "real", vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z", autoStandbyEnabled: "true" }));
    expect(gcp.setting).toBe("dumont:gcpCredentials (env GCP_CREDENTIALS)");
    expect(() => read({ cloud: "real" }, { VAST_API_KEY: "x", B2_KEY_ID: "y", B2_APPLICATION_KEY: "z" })).not.toThrow();
  });

  it("tells the B2 region from the endpoint", () => {
    expect(regionOfEndpoint("https://s3.us-west-004.backblazeb2.com")).toBe("us-west-004");
    expect(read({ cloud: "real", vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z", bucketEndpoint: "https://s3.eu-central-003.backblazeb2.com" }).bucket.region).toBe("eu-central-003");
  });
});
