// The settings source of a running Pulumi program: the stack's config as the engine passed it
// (secrets decrypted, never printed) and this process's environment.
//
// During a failover or watch update (pinned: see environment-args.ts) the environment overrides
// nothing but credentials: a variable exported in the controller's shell (AUTO_STANDBY_ENABLED=false,
// GPU_NAMES=…) must not delete the standby or reshape the environment in the middle of a failover.
import * as pulumi from "@pulumi/pulumi";
import { credentialVariables } from "./credential-variables.ts";
import { pinnedOperationVariable } from "./environment-args.ts";
import type { SettingSource } from "./settings.ts";


export function programSettingSource(pinned = process.env[pinnedOperationVariable] !== undefined): SettingSource {
  const all = pulumi.runtime.allConfig();
  return {
    config: (key) => all[`dumont:${key}`],
    hasConfig: (key) => `dumont:${key}` in all,
    env: (name) => (!pinned || credentialVariables.has(name) ? process.env[name] : undefined),
  };
}
