// Writing a stack's settings file (stacks/Pulumi.<stack>.yaml) from plain values, for stacks that a
// program makes for itself: the journey's throwaway stacks and the tests' stacks.
import { writeFileSync } from "node:fs";
import { stackConfigFile } from "./workspace.ts";

export type ConfigValue = string | number | boolean | readonly string[];

/** YAML of `config:` entries; keys without a namespace get `dumont:`. Values are JSON-quoted. */
export function stackYaml(config: Readonly<Record<string, ConfigValue>>, header = ""): string {
  const lines = header ? [header.trimEnd(), "config:"] : ["config:"];
  for (const [key, value] of Object.entries(config)) {
    const name = key.includes(":") ? key : `dumont:${key}`;
    if (Array.isArray(value)) lines.push(`  ${name}:`, ...value.map((v) => `    - ${JSON.stringify(v)}`));
    else lines.push(`  ${name}: ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function writeStackFile(stack: string, config: Readonly<Record<string, ConfigValue>>, header = ""): string {
  const file = stackConfigFile(stack);
  writeFileSync(file, stackYaml(config, header));
  return file;
}
