// A throwaway project stack for tests: its settings file is written next to the real ones (a
// git-ignored name), its state goes to a temporary file backend, and cleanup removes both.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { statusFile } from "../../stacks/standby/status-file.ts";
import { writeStackFile, type ConfigValue } from "../../stacks/stack-file.ts";
import { openProjectStack } from "../../stacks/workspace.ts";
import { stackConfigFile } from "../../stacks/stack-files.ts";

export type { ConfigValue };

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
  writeStackFile(name, config);
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
