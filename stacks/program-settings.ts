// The settings source of a running Pulumi program: the stack's config as the engine passed it
// (secrets decrypted, never printed) and this process's environment.
import * as pulumi from "@pulumi/pulumi";
import type { SettingSource } from "./settings.ts";

export function programSettingSource(): SettingSource {
  const all = pulumi.runtime.allConfig();
  return {
    config: (key) => all[`dumont:${key}`],
    hasConfig: (key) => `dumont:${key}` in all,
    env: (name) => process.env[name],
  };
}
