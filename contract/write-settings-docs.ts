// Rewrites what is made from the settings' declarations (settings-schema.ts): Pulumi.yaml's config
// block and the README's settings table. `npm run settings:docs`, after changing a setting; the
// unit tests fail until it has run.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../lib/tools/paths.ts";
import { withProjectConfigBlock } from "./settings-project-config.ts";
import { withSettingsTable } from "./settings-readme-table.ts";

const generated: ReadonlyArray<readonly [string, (text: string) => string]> = [
  ["Pulumi.yaml", withProjectConfigBlock],
  ["README.md", withSettingsTable],
];

for (const [file, rewrite] of generated) {
  const full = path.join(repoRoot, file);
  const before = readFileSync(full, "utf8");
  const after = rewrite(before);
  if (after !== before) writeFileSync(full, after);
  console.log(`${file}: ${after === before ? "up to date" : "rewritten"}`);
}
