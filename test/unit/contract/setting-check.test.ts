// One judgement of a value, by the setting's declaration, worded for people: what the settings
// reader puts after the setting's names and what a provider's check reports against its input.
import { describe, expect, it } from "vitest";
import { parseSetting, settingFailures, settingProblem } from "../../../contract/setting-check.ts";
import type { SettingKey } from "../../../contract/settings-schema.ts";

describe("settingProblem", () => {
  it.each<[SettingKey, unknown, string | undefined]>([
    ["gpuCount", 1, undefined],
    ["gpuCount", 16, undefined],
    ["gpuCount", 0, "0 is outside 1…16"],
    ["gpuCount", 17, "17 is outside 1…16"],
    ["gpuCount", 1.5, "1.5 is not a whole number"],
    ["gpuCount", "two", "'two' is not a whole number"],
    ["gpuCount", undefined, "is not set"],
    ["maxPricePerHour", 0, "0 is outside 0.001…128"],
    ["maxPricePerHour", "cheap", "'cheap' is not a number"],
    ["verifiedOnly", "maybe", "'maybe' is not true or false"],
    ["cloud", "aws", "'aws' is not 'local' or 'real'"],
    ["image", "pytorch/pytorch", "'pytorch/pytorch' is not an image with a tag, e.g. pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime (Vast fails on untagged images)"],
    ["image", "pytorch/pytorch:2.4.0", undefined],
    ["gpuNames", [], "name at least one GPU model, as Vast spells it (e.g. 'RTX 4090', 'A100 SXM4')"],
    ["gpuNames", ["RTX 4090", " "], "' ' is not a GPU model as Vast spells it, e.g. RTX 4090"],
    ["gpuNames", "RTX 4090", "'RTX 4090' is not a list"],
    ["geolocation", ["US", "usa"], "'usa' is not a 2-letter country code"],
    ["excludeMachineIds", [12, -1], "-1 is below 0"],
    ["slots", ["a", "c"], "'c' is not 'a' or 'b'"],
    ["env", { A: 1 }, "1 is not text"],
    ["env", "A=1", "'A=1' is not a map of names to values"],
    ["onstart", "x".repeat(3401), "is 3401 characters; at most 3400 (Vast accepts 4048, and Dumont's host-key installer comes first)"],
    ["bucketName", "dumont-prod", undefined],
  ])("dumont:%s = %j: %s", (key, value, problem) => {
    expect(settingProblem(key, value)).toBe(problem);
  });

  it("gives back a copy of a valid value, never the caller's own list or map", () => {
    const names = ["RTX 4090"];
    const parsed = parseSetting("gpuNames", names);
    expect(parsed).toEqual({ value: ["RTX 4090"] });
    expect((parsed as { value: unknown }).value).not.toBe(names);
  });
});

describe("settingFailures", () => {
  it("reports each bad input by its own name, in the order asked", () => {
    expect(settingFailures({ image: "untagged", readyTimeoutSeconds: 5, onstart: "" }, ["image", "onstart", "readyTimeoutSeconds"])).toEqual([
      { property: "image", reason: expect.stringContaining("'untagged' is not an image with a tag") },
      { property: "readyTimeoutSeconds", reason: "5 is outside 10…7200" },
    ]);
  });
});
