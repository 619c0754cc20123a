// The engine runs that failover, watch and a standby revival make: the standby is pinned (kept as
// it is, and kept at all while the state holds one, whatever the settings file or the controller's
// environment say now: see environment-args.ts), and another update of the stack is waited out —
// or, when its process is dead, its lock cancelled (concurrent-update.ts).
import type { LocalWorkspace, OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { whenStackFree } from "./concurrent-update.ts";
import { engineProgress } from "./engine-output.ts";
import { pinnedOperationVariable } from "./environment-args.ts";

export interface PinnedOptions {
  readonly progress: (line: string) => void;
  readonly signal?: AbortSignal;
  /** The state holds a standby: it stays declared even if the settings now disable it. */
  readonly keepStandby: boolean;
  /** Only these resources (a standby revival). */
  readonly target?: readonly string[];
}

function pin(stack: Stack, keepStandby: boolean): void {
  (stack.workspace as LocalWorkspace).envVars[pinnedOperationVariable] = keepStandby ? "keep" : "1";
}

/** Runs the update; resolves to the stack's outputs after it. */
export async function pinnedUp(stack: Stack, options: PinnedOptions): Promise<OutputMap> {
  pin(stack, options.keepStandby);
  const target = options.target ? [...options.target] : undefined;
  const result = await whenStackFree(() => stack.up({ signal: options.signal, target, onOutput: engineProgress(options.progress) }), { progress: options.progress, signal: options.signal, stack });
  return result.outputs;
}

export async function pinnedRefresh(stack: Stack, options: PinnedOptions): Promise<void> {
  pin(stack, options.keepStandby);
  const target = options.target ? [...options.target] : undefined;
  await whenStackFree(() => stack.refresh({ signal: options.signal, target, onOutput: engineProgress(options.progress) }), { progress: options.progress, signal: options.signal, stack });
}
