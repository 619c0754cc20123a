// Pulumi.yaml's `config:` block, made from the settings' declarations (settings-schema.ts): with it
// `pulumi config` shows each setting's default and the engine refuses a value of the wrong type
// before the program runs. What Pulumi's project config cannot say is left out of it:
// - settings without one fixed default (made from the stack or other settings, optional, secret):
//   Pulumi makes a declared key without a default required in every stack, and would write a
//   default into the stack's config as plain text;
// - the type of decimals, lists and maps: Pulumi has integers but no decimals, and Dumont also
//   takes a list as comma-separated text and a map as JSON text (a secret dumont:env is one),
//   which a typed array or object would refuse. They are declared with their default only.
// A unit test fails when Pulumi.yaml differs from what this makes; `npm run settings:docs` rewrites it.
import { declarations, DerivedDefault, settingKeys, valueShape, type Declaration, type SettingKey } from "./settings-schema.ts";

const generatedNote = "# Generated from contract/settings-schema.ts (npm run settings:docs): edit the schema, not this block.";

/** The Pulumi type that holds every value Dumont accepts for the setting, or undefined when none does. */
function pulumiType(key: SettingKey): "string" | "integer" | "boolean" | undefined {
  const type = valueShape(key).type;
  return type === "string" || type === "integer" || type === "boolean" ? type : undefined;
}

/** JSON is YAML: a value written so, whatever its characters, reads back as itself. */
const yaml = (value: unknown) => JSON.stringify(value);

export function projectConfigBlock(): string {
  const lines = [generatedNote, "config:"];
  for (const key of settingKeys) {
    const declaration = declarations[key] as Declaration;
    if (declaration.secret || declaration.default === undefined || declaration.default instanceof DerivedDefault) continue;
    const type = pulumiType(key);
    lines.push(`  dumont:${key}:`);
    if (type) lines.push(`    type: ${type}`);
    lines.push(`    default: ${yaml(declaration.default)}`);
    lines.push(`    description: ${yaml(declaration.env ? `${declaration.meaning}; ${declaration.env} overrides it` : declaration.meaning)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The project file with its config block (everything from the generated note, or from `config:`, on) made anew. */
export function withProjectConfigBlock(projectFile: string): string {
  const note = projectFile.indexOf(generatedNote);
  const config = projectFile.search(/^config:/m);
  const end = note !== -1 ? note : config !== -1 ? config : projectFile.length;
  return `${projectFile.slice(0, end).trimEnd()}\n${projectConfigBlock()}`;
}
