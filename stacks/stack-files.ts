// Where a project stack's settings live, and the check every opening of one makes first. Light on
// purpose: read-only commands use it without loading the Automation API (stacks/workspace.ts).
import { existsSync } from "node:fs";
import path from "node:path";
import { stackNamePattern } from "../contract/stack-names.ts";
import { SettingError } from "../lib/errors.ts";
import { repoRoot } from "../lib/tools/paths.ts";

/** Where a project stack's settings live (Pulumi.yaml: stackConfigDir). */
export function stackConfigFile(stack: string): string {
  return path.join(repoRoot, "stacks", `Pulumi.${stack}.yaml`);
}

/** A stack without a settings file is an error, so a typo never creates an empty environment. */
export function checkProjectStack(stack: string): void {
  if (!stackNamePattern.test(stack)) throw new SettingError("--stack", `'${stack}' is not a valid stack name`);
  if (!existsSync(stackConfigFile(stack))) {
    throw new SettingError("--stack", `there is no stacks/Pulumi.${stack}.yaml`, "copy stacks/Pulumi.local.yaml (local cloud) or stacks/Pulumi.dev.yaml (real clouds) to start one");
  }
}
