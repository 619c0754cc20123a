// The component package's settings: its arguments are Dumont's settings by name, read and checked
// like a stack's; the stack's config fills what they leave out (where the environment runs, the
// credentials); the shell's variables change nothing but credentials.
import { afterEach, describe, expect, it } from "vitest";
import { componentSettingSource } from "../../../package/settings-source.ts";
import { componentStackName } from "../../../package/environment.ts";
import { isStackLabel, slotLabel } from "../../../components/vast/labels.ts";
import { readSettings } from "../../../stacks/settings.ts";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("the component package's settings", () => {
  it("reads its arguments as the settings of the same names, lists and numbers included", () => {
    const settings = readSettings(componentSettingSource({ gpuNames: ["RTX 3090", "A100 SXM4"], diskGb: 16, autoStandbyEnabled: true, bucketForceDestroy: true }, {}), "p.s");
    expect(settings.gpu.gpuNames).toEqual(["RTX 3090", "A100 SXM4"]);
    expect(settings.gpu.diskGb).toBe(16);
    expect(settings.standby.enabled).toBe(true);
    expect(settings.bucket.forceDestroy).toBe(true);
    expect(settings.gpu.gpuCount).toBe(1);
  });

  it("takes where it runs from the stack's config, and an argument wins over the config", () => {
    const settings = readSettings(componentSettingSource({ diskGb: 20 }, { "dumont:localCloud": "yml", "dumont:diskGb": "64" }), "p.s");
    expect(settings.localCloud).toBe("yml");
    expect(settings.gpu.diskGb).toBe(20);
  });

  it("keeps an argument whatever the shell exports, and reads other settings as a stack does (variable, config, default)", () => {
    process.env.GPU_DISK_GB = "99";
    process.env.DUMONT_LOCAL_CLOUD = "rdme";
    process.env.VAST_API_KEY = "k-from-env";
    expect(readSettings(componentSettingSource({ diskGb: 16 }, {}), "p.s").gpu.diskGb).toBe(16);
    const source = componentSettingSource({}, { "dumont:localCloud": "yml" });
    expect(readSettings(source, "p.s").gpu.diskGb).toBe(99);
    expect(readSettings(source, "p.s").localCloud).toBe("rdme");
    expect(source.env("VAST_API_KEY")).toBe("k-from-env");
  });

  it("refuses a bad value in one line that names the setting, and an argument that is no setting", () => {
    expect(() => readSettings(componentSettingSource({ diskGb: 4 }, {}), "p.s")).toThrow(/dumont:diskGb.*4 is outside 8…20000/);
    expect(() => componentSettingSource({ diskGB: 16 }, {})).toThrow(/no argument 'diskGB'/);
  });

  it("labels the environment's GPUs apart from another environment of the program and from a stack of Dumont's own project", () => {
    const name = componentStackName("dumont-yaml-example", "dev", "env");
    const label = `${slotLabel(name, "a")}.ab12`;
    expect(isStackLabel(name, label)).toBe(true);
    expect(isStackLabel(componentStackName("dumont-yaml-example", "dev", "env2"), label)).toBe(false);
    expect(isStackLabel("dev", label)).toBe(false);
    expect(() => componentStackName("p", "dev", "my env")).toThrow(/'my env'.*only letters/);
  });
});
