// The journey's throwaway stack settings pass the same checks as any stack's, and a real journey
// without credentials stops there, naming them, before anything is rented.
import { describe, expect, it } from "vitest";
import { journeyStackConfig, newJourneyStackName } from "../../../harness/journey-stack.ts";
import { readSettings } from "../../../stacks/settings.ts";
import { SettingError } from "../../../lib/errors.ts";

function settingsOf(config: Record<string, unknown>, stack: string, env: Record<string, string> = {}) {
  const text = (v: unknown) => (Array.isArray(v) ? JSON.stringify(v) : String(v));
  return readSettings({ config: (k) => (k in config ? text(config[k]) : undefined), hasConfig: (k) => k in config, env: (n) => env[n] }, stack);
}

describe("journey stack", () => {
  const stack = newJourneyStackName(new Date("2026-11-22T15:14:00Z"));

  it("is named journey-<time>-<hex>", () => {
    expect(stack).toMatch(/^journey-20261122-1514-[0-9a-f]{4}$/);
  });

  it("local: the chosen local cloud, a standby only when the variant uses one", () => {
    const withStandby = settingsOf(journeyStackConfig(stack, { cloud: "local", localCloud: "jr1", standby: true, diskGb: 16 }), stack);
    expect(withStandby).toMatchObject({ cloud: "local", localCloud: "jr1", provisionedSlots: ["a"], standby: { enabled: true } });
    expect(settingsOf(journeyStackConfig(stack, { cloud: "local", localCloud: "jr1", standby: false, diskGb: 16 }), stack).standby.enabled).toBe(false);
  });

  it("real without credentials: stops at the settings, naming the missing key", () => {
    const config = journeyStackConfig(stack, { cloud: "real", localCloud: "main", standby: true, diskGb: 40 });
    expect(() => settingsOf(config, stack)).toThrow(SettingError);
    expect(() => settingsOf(config, stack)).toThrow(/dumont:vastApiKey \(env VAST_API_KEY\)/);
  });

  it("real with credentials in the environment: a valid bucket name, a standby disk that holds the workspace", () => {
    const config = journeyStackConfig(stack, { cloud: "real", localCloud: "main", standby: true, diskGb: 40 });
    const env = { VAST_API_KEY: "vast-secret-1", B2_KEY_ID: "b2-id-2", B2_APPLICATION_KEY: "b2-secret-3", GCP_CREDENTIALS: "{}", GCP_PROJECT: "p" };
    const settings = settingsOf(config, stack, env);
    expect(settings.bucket.name).toBe(`dumont-${stack}`);
    expect(settings.standby).toMatchObject({ enabled: true, gcpProject: "p", gcpMachineType: "e2-medium", gcpSpot: true, gcpDiskSize: 40 });
  });
});
