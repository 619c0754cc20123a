// The settings of an environment declared through the component package: an argument the program
// gives is the setting, whatever the shell that ran `pulumi up` exports; any other setting is read
// as for Dumont's own stacks (its variable, then the stack's `dumont:*` config, then its default),
// which is also how the providers read where the environment runs and the credentials.
import { declarations, settingKeys, type Declaration, type SettingKey } from "../contract/settings-schema.ts";
import type { SettingSource } from "../stacks/settings.ts";
import { UserError } from "../lib/errors.ts";

/** A setting as stack config holds it: text, lists and maps as JSON. */
function settingTextOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function componentSettingSource(args: Readonly<Record<string, unknown>>, stackConfig: Readonly<Record<string, string>>): SettingSource {
  const given = Object.entries(args).filter(([, value]) => value !== undefined && value !== null);
  const unknown = given.map(([key]) => key).filter((key) => !(settingKeys as readonly string[]).includes(key));
  if (unknown.length > 0) throw new UserError(`dumont:Environment has no argument ${unknown.map((k) => `'${k}'`).join(", ")}`, "see the component's arguments in the README (Dumont from other Pulumi languages)");
  const fromArgs = new Map(given.map(([key, value]) => [key as SettingKey, settingTextOf(value)]));
  const variablesOfArgs = new Set([...fromArgs.keys()].map((key) => (declarations[key] as Declaration).env));
  return {
    config: (key) => fromArgs.get(key as SettingKey) ?? stackConfig[`dumont:${key}`],
    hasConfig: (key) => fromArgs.has(key as SettingKey) || `dumont:${key}` in stackConfig,
    env: (name) => (variablesOfArgs.has(name) ? undefined : process.env[name]),
  };
}
