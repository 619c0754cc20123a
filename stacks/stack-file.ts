// Writing a stack's settings file (stacks/Pulumi.<stack>.yaml) from plain values, for stacks that a
// program makes for itself: the journey's throwaway stacks and the tests' stacks; and setting the
// secret ones, which only Pulumi can write (encrypted) once the stack exists.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { LocalWorkspace, Stack } from "@pulumi/pulumi/automation/index.js";
import { DumontError } from "../lib/errors.ts";
import { stackConfigFile } from "./stack-files.ts";

export type ConfigValue = string | number | boolean | readonly string[];

/** A setting stored as `pulumi config set --secret` stores it: encrypted in the file and in the state. */
export interface SecretSetting {
  readonly secret: string;
}

/** A setting of a stack a program makes: plain (written in the file) or secret. */
export type StackSetting = ConfigValue | SecretSetting;

export function secret(value: string): SecretSetting {
  return { secret: value };
}

export function isSecretSetting(value: StackSetting): value is SecretSetting {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "secret" in value;
}

/** The settings the file holds in plain text, and the secret ones (set by setSecretSettings once the stack exists). */
export function splitSecretSettings(settings: Readonly<Record<string, StackSetting>>): { plain: Record<string, ConfigValue>; secrets: Record<string, string> } {
  const plain: Record<string, ConfigValue> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (isSecretSetting(value)) secrets[key] = value.secret;
    else plain[key] = value;
  }
  return { plain, secrets };
}

/** Keys without a namespace are Dumont's. */
function configKey(key: string): string {
  return key.includes(":") ? key : `dumont:${key}`;
}

/** YAML of `config:` entries; keys without a namespace get `dumont:`. Values are JSON-quoted. */
export function stackYaml(config: Readonly<Record<string, ConfigValue>>, header = ""): string {
  const lines = header ? [header.trimEnd(), "config:"] : ["config:"];
  for (const [key, value] of Object.entries(config)) {
    const name = configKey(key);
    if (Array.isArray(value)) lines.push(`  ${name}:`, ...value.map((v) => `    - ${JSON.stringify(v)}`));
    else lines.push(`  ${name}: ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes the whole file: anything Pulumi added to it (secrets, the encryption salt) is gone afterwards. */
export function writeStackFile(stack: string, config: Readonly<Record<string, ConfigValue>>, header = ""): string {
  const file = stackConfigFile(stack);
  writeFileSync(file, stackYaml(config, header));
  return file;
}

/**
 * Sets secret settings of a stack that exists: `pulumi config set --secret`, each value on stdin.
 * Not the Automation API's setConfig, which passes the value as an argument, readable by every
 * user of the machine in `ps` for as long as the command runs.
 */
export async function setSecretSettings(stack: Stack, secrets: Readonly<Record<string, string>>): Promise<void> {
  const workspace = stack.workspace as LocalWorkspace;
  for (const [key, value] of Object.entries(secrets)) {
    // --raw: the value is stored as given, a trailing newline (an onstart script's) included.
    const args = ["config", "set", configKey(key), "--secret", "--raw", "--non-interactive", "--stack", stack.name];
    const child = spawn(workspace.pulumiCommand.command, args, {
      cwd: workspace.workDir, env: { ...process.env, ...workspace.envVars }, stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exit = new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    child.stdin.end(value);
    const code = await exit;
    if (code !== 0) throw new DumontError(`could not set the secret ${configKey(key)} of stack ${stack.name}: ${stderr.trim() || `pulumi exited with ${code}`}`);
  }
}
