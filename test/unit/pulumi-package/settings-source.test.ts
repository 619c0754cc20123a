// The component package's settings: its arguments are Dumont's settings by name, read and checked
// like a stack's; a setting it leaves out is read as a stack's is (variable, stack config, default),
// and an argument wins over both. Only the component's own arguments are accepted, as plain values.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { componentSettingSource } from "../../../pulumi-package/settings-source.ts";
import { environmentArgumentNames } from "../../../pulumi-package/environment.ts";
import { readSettings } from "../../../stacks/settings.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});
const source = (args: Record<string, unknown>, config: Record<string, string> = {}) => componentSettingSource(args, environmentArgumentNames, config);

describe("the component package's settings", () => {
  it("reads its arguments as the settings of the same names, lists and numbers included", () => {
    const settings = readSettings(source({ gpuNames: ["RTX 3090", "A100 SXM4"], diskGb: 16, autoStandbyEnabled: true, bucketForceDestroy: true }), "p.s.e");
    expect(settings.gpu.gpuNames).toEqual(["RTX 3090", "A100 SXM4"]);
    expect(settings.gpu.diskGb).toBe(16);
    expect(settings.standby.enabled).toBe(true);
    expect(settings.bucket.forceDestroy).toBe(true);
    expect(settings.gpu.gpuCount).toBe(1);
  });

  it("takes where it runs from the stack's config, and an argument wins over the config", () => {
    const settings = readSettings(source({ diskGb: 20 }, { "dumont:localCloud": "yml", "dumont:diskGb": "64" }), "p.s.e");
    expect(settings.localCloud).toBe("yml");
    expect(settings.gpu.diskGb).toBe(20);
  });

  it("keeps an argument whatever the shell exports, and reads other settings as a stack does (variable, config, default)", () => {
    process.env.GPU_DISK_GB = "99";
    process.env.DUMONT_LOCAL_CLOUD = "rdme";
    process.env.VAST_API_KEY = "k-from-env";
    expect(readSettings(source({ diskGb: 16 }), "p.s.e").gpu.diskGb).toBe(16);
    const fromStack = source({}, { "dumont:localCloud": "yml" });
    expect(readSettings(fromStack, "p.s.e").gpu.diskGb).toBe(99);
    expect(readSettings(fromStack, "p.s.e").localCloud).toBe("rdme");
    expect(fromStack.env("VAST_API_KEY")).toBe("k-from-env");
  });

  it("refuses a bad value in one line that names the setting", () => {
    expect(() => readSettings(source({ diskGb: 4 }), "p.s.e")).toThrow(/dumont:diskGb.*4 is outside 8…20000/);
  });

  it("refuses a name that is no argument, and settings that would sit in state as plain values (onstart, credentials)", () => {
    expect(() => source({ diskGB: 16 })).toThrow(/no argument 'diskGB'/);
    expect(() => source({ onstart: "curl …" })).toThrow(/no argument 'onstart'/);
    expect(() => source({ vastApiKey: "k" })).toThrow(/no argument 'vastApiKey'/);
  });

  it("refuses an argument that is a secret or another resource's output", () => {
    expect(() => source({ gcpProject: pulumi.secret("p") })).toThrow(/'gcpProject' must be a plain value/);
  });
});
