// A throwaway project stack for tests: its settings file is written next to the real ones (a
// git-ignored name), its state goes to a temporary file backend, and cleanup removes both.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { statusFile } from "../../stacks/standby/status-file.ts";
import { openProjectStack, stackConfigFile } from "../../stacks/workspace.ts";

export type ConfigValue = string | number | boolean | readonly string[];

export function stackYaml(config: Readonly<Record<string, ConfigValue>>): string {
  const lines = ["config:"];
  for (const [key, value] of Object.entries(config)) {
    const name = key.includes(":") ? key : `dumont:${key}`;
    if (Array.isArray(value)) lines.push(`  ${name}:`, ...value.map((v) => `    - ${JSON.stringify(v)}`));
    else lines.push(`  ${name}: ${JSON.stringify(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface TestStack {
  readonly stack: Stack;
  readonly name: string;
  readonly backendDir: string;
  cleanup(): Promise<void>;
}

/**
 * The stack's state lives in a temporary backend, which this process (and the dumont commands a
 * test starts, which inherit its environment) use from now on.
 */
export async function createTestStack(name: string, config: Readonly<Record<string, ConfigValue>>): Promise<TestStack> {
  if (!name.startsWith("it-")) throw new Error("test stacks are named it-… (git ignores their settings files)");
  const backendDir = mkdtempSync(`${tmpdir()}/dumont-state-`);
  process.env.PULUMI_BACKEND_URL = `file://${backendDir}`;
  writeFileSync(stackConfigFile(name), stackYaml(config));
  const stack = await openProjectStack(name);
  return {
    stack, name, backendDir,
    async cleanup() {
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(name).catch(() => undefined);
      rmSync(stackConfigFile(name), { force: true });
      rmSync(backendDir, { recursive: true, force: true });
      rmSync(statusFile(name), { force: true });
    },
  };
}
