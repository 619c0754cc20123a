// Opening stacks through the Automation API, in the project's tool environment. Every Dumont
// operation goes through here so that the backend, secrets and the engine's offline settings are
// the same for `dumont …`, the tests and a user's plain `pulumi`.
import path from "node:path";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation/index.js";
import { checkProjectStack } from "./stack-files.ts";
import { checkoutStateDir, repoRoot } from "../lib/tools/paths.ts";
import { ensureStackStorage, toolEnvironment } from "../lib/tools/environment.ts";
import { makePrivateDir } from "../lib/tools/private-dir.ts";

export interface InlineStackOptions {
  readonly project: string;
  readonly stack: string;
  readonly program: PulumiFn;
  /** Backend URL; defaults to the project's file backend (PULUMI_BACKEND_URL or .state/pulumi). */
  readonly backendUrl?: string;
  /** Extra variables for the engine and the providers it starts. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Creates or selects a stack whose program is a function in this process. Its work folder sits
 * under .state/ inside the checkout, because the engine starts dynamic providers there and they
 * must resolve @pulumi/pulumi from the project's node_modules.
 */
export async function openInlineStack(options: InlineStackOptions): Promise<Stack> {
  const env = { ...toolEnvironment(), ...options.env };
  const backendUrl = options.backendUrl ?? env.PULUMI_BACKEND_URL!;
  ensureStackStorage(backendUrl);
  const workDir = makePrivateDir(path.join(checkoutStateDir, "workspaces", options.project));
  return LocalWorkspace.createOrSelectStack(
    { projectName: options.project, stackName: options.stack, program: options.program },
    {
      workDir,
      envVars: { ...env, PULUMI_BACKEND_URL: backendUrl },
      secretsProvider: "passphrase",
      projectSettings: { name: options.project, runtime: "nodejs", backend: { url: backendUrl } },
    },
  );
}

/**
 * Opens a stack of the Dumont project itself (program stacks/program.ts, settings in
 * stacks/Pulumi.<stack>.yaml), creating it in the backend on first use. A stack without a settings
 * file is an error, so a typo never creates an empty environment.
 */
export async function openProjectStack(stack: string, env: Readonly<Record<string, string>> = {}): Promise<Stack> {
  checkProjectStack(stack);
  const envVars = { ...toolEnvironment(), ...env };
  ensureStackStorage(envVars.PULUMI_BACKEND_URL!);
  return LocalWorkspace.createOrSelectStack({ stackName: stack, workDir: repoRoot }, { envVars });
}
