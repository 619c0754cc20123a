// Pulumi.yaml's config block is what the settings' declarations make: `pulumi config` shows the
// same defaults the reader uses, and the engine's type check refuses nothing Dumont accepts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { projectConfigBlock, withProjectConfigBlock } from "../../../contract/settings-project-config.ts";
import { declarations, settingDefaults, settingKeys, type SettingKey } from "../../../contract/settings-schema.ts";
import { readSettings } from "../../../stacks/settings.ts";

const projectFile = readFileSync(path.join(repoRoot, "Pulumi.yaml"), "utf8");

/** The block's entries: key, then its `type`, `default` and `description` lines (JSON values). */
function entries(block: string): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  let current: Record<string, unknown> | undefined;
  for (const line of block.split("\n")) {
    const key = /^ {2}dumont:(\w+):$/.exec(line);
    if (key) found.set(key[1]!, (current = {}));
    const field = /^ {4}(type|default|description): (.*)$/.exec(line);
    if (field && current) current[field[1]!] = field[1] === "type" ? field[2] : JSON.parse(field[2]!);
  }
  return found;
}

describe("Pulumi.yaml's config block", () => {
  it("is the one the settings' declarations make (run `npm run settings:docs` after changing a setting)", () => {
    expect(projectFile).toBe(withProjectConfigBlock(projectFile));
    expect(projectFile.endsWith(projectConfigBlock())).toBe(true);
  });

  it("keeps the rest of the project file as it was", () => {
    const rewritten = withProjectConfigBlock("name: x\nruntime: nodejs\nconfig:\n  dumont:old:\n    default: 1\n");
    expect(rewritten).toBe(`name: x\nruntime: nodejs\n${projectConfigBlock()}`);
    expect(withProjectConfigBlock(rewritten)).toBe(rewritten);
    expect(withProjectConfigBlock("name: x\n")).toBe(`name: x\n${projectConfigBlock()}`);
  });

  it("declares every setting with one fixed default, with that default", () => {
    const declared = entries(projectConfigBlock());
    expect([...declared.keys()].sort()).toEqual(Object.keys(settingDefaults).sort());
    for (const [key, entry] of declared) expect(entry.default).toEqual(settingDefaults[key as keyof typeof settingDefaults]);
  });

  it("leaves out what Pulumi would then require in every stack or write in plain text", () => {
    const declared = entries(projectConfigBlock());
    for (const key of ["bucketName", "snapshotPrefix", "slots", "bucketForceDestroy", "bucketScopedKey", "bucketRegion", "gcpProject", "standbyHourlyRate", "vastApiKey", "gcpCredentials", "bucketKeyId", "bucketApplicationKey"]) {
      expect(declared.has(key), key).toBe(false);
    }
  });

  it.each<[SettingKey, string | undefined]>([
    ["gpuCount", "integer"], ["autoFailover", "boolean"], ["cloud", "string"], ["image", "string"], ["onstart", "string"],
    // Pulumi has no decimal type; lists and maps are also taken as text (comma-separated, JSON).
    ["maxPricePerHour", undefined], ["minReliability", undefined], ["gpuNames", undefined], ["geolocation", undefined], ["env", undefined],
  ])("types dumont:%s as %s", (key, type) => {
    expect(entries(projectConfigBlock()).get(key)?.type).toBe(type);
  });

  // Pulumi's own check of a stack's value against a declared type (pkg/workspace: ValidateConfigValue).
  const pulumiAccepts: Readonly<Record<string, (text: string) => boolean>> = {
    string: () => true,
    integer: (text) => /^[-+]?\d+$/.test(text),
    boolean: (text) => text === "true" || text === "false",
  };

  it.each<[SettingKey, string[]]>([
    ["gpuCount", ["2", "+3", "16.0", "1e1", " 7", "0x10", "two", ""]],
    ["autoFailover", ["true", "false", "True", "yes", "1", "on", ""]],
    ["cloud", ["local", "real", "aws"]],
  ])("refuses no stack value of dumont:%s that Dumont accepts", (key, texts) => {
    const type = entries(projectConfigBlock()).get(key)!.type as string;
    for (const text of texts) {
      let dumontAccepts = true;
      try {
        readSettings({ config: (k) => (k === key ? text : undefined), hasConfig: (k) => k === key, env: () => undefined }, "dev");
      } catch {
        dumontAccepts = false;
      }
      if (dumontAccepts) expect(pulumiAccepts[type]!(text), `${key}: ${JSON.stringify(text)}`).toBe(true);
    }
  });

  it("describes each setting by its meaning and its variable", () => {
    const declared = entries(projectConfigBlock());
    expect(declared.get("gpuCount")?.description).toBe(`${declarations.gpuCount.meaning}; GPU_COUNT overrides it`);
    expect(declared.get("verifiedOnly")?.description).toBe(declarations.verifiedOnly.meaning);
    expect(settingKeys.length).toBeGreaterThan(declared.size);
  });
});
