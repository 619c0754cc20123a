// Two settings that keep a stack's data its own: each stack has a snapshot prefix of its own unless
// told otherwise, and a real cloud is reached over https only (keys and presigned URLs cross it).
import { describe, expect, it } from "vitest";
import { SettingError } from "../../../lib/errors.ts";
import { readSettings } from "../../../stacks/settings.ts";

const real = { cloud: "real", vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z" };
const read = (config: Record<string, string>, env: Record<string, string> = {}, stack = "prod") =>
  readSettings({ config: (k) => config[k], hasConfig: (k) => k in config, env: (n) => env[n] }, stack);

function errorOf(fn: () => unknown): SettingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SettingError) return error;
    throw error;
  }
  throw new Error("no error");
}

describe("the snapshot prefix", () => {
  it("is the stack's own by default, so stacks sharing a bucket never see each other's snapshots", () => {
    expect(read({}, {}, "prod").bucket.prefix).toBe("snapshots/prod/");
    expect(read({}, {}, "staging").bucket.prefix).toBe("snapshots/staging/");
  });

  it("is what dumont:snapshotPrefix says when set", () => {
    expect(read({ snapshotPrefix: "snapshots/" }).bucket.prefix).toBe("snapshots/");
    expect(read({ snapshotPrefix: "" }).bucket.prefix).toBe("");
  });
});

describe("endpoints of a real cloud", () => {
  it("refuses an http bucket endpoint, from config or the environment, naming the setting", () => {
    const fromConfig = errorOf(() => read({ ...real, bucketEndpoint: "http://s3.us-west-004.backblazeb2.com" }));
    expect(fromConfig.setting).toBe("dumont:bucketEndpoint (env B2_ENDPOINT)");
    expect(fromConfig.message).toContain("'http://s3.us-west-004.backblazeb2.com' is not https");
    expect(fromConfig.message).not.toContain("\n");
    expect(errorOf(() => read(real, { B2_ENDPOINT: "http://minio.example:9000" })).setting).toBe("dumont:bucketEndpoint (env B2_ENDPOINT)");
  });

  it("refuses an http Vast URL", () => {
    expect(errorOf(() => read({ ...real, vastUrl: "http://console.vast.ai" })).setting).toBe("dumont:vastUrl (env VAST_URL)");
  });

  it("accepts https, and http in the local cloud", () => {
    expect(read({ ...real, bucketEndpoint: "https://s3.eu-central-003.backblazeb2.com" }).bucket.endpoint).toBe("https://s3.eu-central-003.backblazeb2.com");
    expect(read({ cloud: "local", bucketEndpoint: "http://10.0.0.1:9000", vastUrl: "http://10.0.0.1:8080" }).bucket.endpoint).toBe("http://10.0.0.1:9000");
  });
});
