// The settings of an environment declared through the component package: an argument the program
// gives is the setting, whatever the shell that ran `pulumi up` exports; any other setting is read
// as for Dumont's own stacks (its variable, then the stack's `dumont:*` config, then its default),
// which is also how the providers read where the environment runs and the credentials.
import * as pulumi from "@pulumi/pulumi";
import { declarations, type Declaration, type SettingKey } from "../contract/settings-schema.ts";
import type { SettingSource } from "../stacks/settings.ts";
import { UserError } from "../lib/errors.ts";

/** A setting as stack config holds it: text, lists and maps as JSON. */
function settingTextOf(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * `allowed`: the component's arguments. Any other setting (onstart, credentials, slots …) given as
 * an argument is refused: it would sit in the caller's state as a plain value.
 */
export function componentSettingSource(args: Readonly<Record<string, unknown>>, allowed: readonly SettingKey[], stackConfig: Readonly<Record<string, string>>): SettingSource {
  const given = Object.entries(args).filter(([, value]) => value !== undefined && value !== null);
  const unknown = given.map(([key]) => key).filter((key) => !(allowed as readonly string[]).includes(key));
  if (unknown.length > 0) throw new UserError(`dumont:Environment has no argument ${unknown.map((k) => `'${k}'`).join(", ")}`, "see the component's arguments in the README (From other Pulumi languages)");
  const computed = given.filter(([, value]) => pulumi.Output.isInstance(value) || value instanceof Promise).map(([key]) => key);
  if (computed.length > 0) throw new UserError(`dumont:Environment: ${computed.map((k) => `'${k}'`).join(", ")} must be a plain value, not a secret or another resource's output`, "give the value itself; secrets belong in the stack's config (pulumi config set --secret dumont:<setting>)");
  const fromArgs = new Map(given.map(([key, value]) => [key as SettingKey, settingTextOf(value)]));
  const variablesOfArgs = new Set([...fromArgs.keys()].map((key) => (declarations[key] as Declaration).env));
  return {
    config: (key) => fromArgs.get(key as SettingKey) ?? stackConfig[`dumont:${key}`],
    hasConfig: (key) => fromArgs.has(key as SettingKey) || `dumont:${key}` in stackConfig,
    env: (name) => (variablesOfArgs.has(name) ? undefined : process.env[name]),
  };
}
