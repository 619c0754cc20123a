// A real cloud is reached over https only (keys and presigned URLs cross it): the providers and
// operations resolve their access through these, and refuse http there too, naming the setting.
import { describe, expect, it } from "vitest";
import { objectStoreAccess, vastAccess } from "../../../clouds/cloud-access.ts";
import { SettingError } from "../../../lib/errors.ts";

const real = { cloud: "real", vastApiKey: "x", bucketKeyId: "y", bucketApplicationKey: "z" };
const access = (config: Record<string, string>, env: Record<string, string> = {}) => ({ config: (k: string) => config[k], env: (n: string) => env[n] });

describe("endpoints of a real cloud", () => {
  it("are refused where the providers and operations resolve access, too", async () => {
    await expect(objectStoreAccess(access(real, { B2_ENDPOINT: "http://s3.us-west-004.backblazeb2.com" }))).rejects.toThrow(SettingError);
    await expect(objectStoreAccess(access(real, { B2_ENDPOINT: "http://s3.us-west-004.backblazeb2.com" }))).rejects.toThrow("dumont:bucketEndpoint (env B2_ENDPOINT)");
    await expect(vastAccess(access({ ...real, vastUrl: "http://console.vast.ai" }))).rejects.toThrow("dumont:vastUrl (env VAST_URL)");
    expect((await objectStoreAccess(access({ ...real, bucketEndpoint: "https://s3.us-west-004.backblazeb2.com" }))).endpoint).toBe("https://s3.us-west-004.backblazeb2.com");
  });
});
