// The README's settings table is the one the settings' declarations make, so it never drifts from
// what the program reads.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { settingsTable, withSettingsTable } from "../../../contract/settings-readme-table.ts";
import { settingKeys } from "../../../contract/settings-schema.ts";

const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
const rows = settingsTable().split("\n").slice(2);
const row = (key: string) => rows.find((r) => r.startsWith(`| \`dumont:${key}\` |`))?.split(" | ");

describe("the README's settings table", () => {
  it("is the one the settings' declarations make (run `npm run settings:docs` after changing a setting)", () => {
    expect(readme).toBe(withSettingsTable(readme));
    expect(readme).toContain(settingsTable());
  });

  it("has a row for every setting, in declaration order", () => {
    expect(rows.map((r) => /^\| `dumont:(\w+)`/.exec(r)?.[1])).toEqual(settingKeys);
  });

  it.each<[string, string[]]>([
    ["gpuCount", ["`GPU_COUNT`", "whole number", "`1`", "1…16"]],
    ["cloud", ["`DUMONT_CLOUD`", "text", "`local`", "`local` or `real`"]],
    ["gpuNames", ["`GPU_NAMES`", "list of text", "`RTX 4090`", "at least 1, each a GPU model as Vast spells it, e.g. RTX 4090"]],
    ["bucketName", ["`B2_BUCKET`", "text", "`dumont-<stack>`", "6-63 lowercase letters, digits and dashes (B2's bucket name rules)"]],
    ["vastApiKey", ["`VAST_API_KEY`", "secret text", "required for cloud: real", ""]],
    ["excludeMachineIds", ["", "list of whole numbers", "none", "each ≥ 0"]],
  ])("shows dumont:%s's variable, type, default and allowed values", (key, cells) => {
    expect(row(key)?.slice(1, 5)).toEqual(cells);
  });

  it("refuses to guess where a table goes in a README without its markers", () => {
    expect(() => withSettingsTable("# A README\n")).toThrow(/no settings table/);
  });
});
