// The GPU a command acts on (`dumont ssh`, `files`, `snapshot create|restore`): one of the stack's
// slots (the active one, --slot, or --instance of the stack), or with --instance a GPU rented by
// `dumont instance create`, which no stack holds (the seed guide's manual test creates files on one,
// snapshots it into the stack's bucket and restores onto another). Either way the login uses the
// key Dumont holds for that host and the host key pinned when it was rented.
import { DumontError, EnvironmentError, UsageError } from "../../lib/errors.ts";
import type { SshConnection, SshTarget } from "../../dataplane/ssh/client.ts";
import { slots } from "../../stacks/settings.ts";
import type { StackContext } from "../../stacks/stack-context.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const clientModule = () => import("../../dataplane/ssh/client.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");
const recordsModule = () => import("../../stacks/throwaway/records.ts");

export interface GpuSelector {
  readonly stack: string;
  readonly slot?: string;
  readonly instance?: string;
}

export interface GpuHost {
  readonly target: SshTarget;
  readonly instanceId: number;
  /** Where it is, for snapshot manifests: "local/a/29012345", or "test-failover-1.0f3c9a1b/29012346". */
  readonly sourceLabel: string;
  /** The host in words, for messages: "slot a's GPU of stack local (instance 29012345, 10.0.0.5:22)". */
  readonly what: string;
  /** What to check when the host does not let us in. */
  readonly hint: string;
}

const stackFlag = (stack: string) => (stack === "local" ? "" : ` --stack ${stack}`);

/**
 * The GPU `selector` names. `context` is the stack's, when the caller has it; it is loaded only
 * when the GPU is one of the stack's (a throwaway needs no stack).
 */
export async function gpuHost(selector: GpuSelector, context?: StackContext): Promise<GpuHost> {
  if (selector.instance !== undefined && !/^\d+$/.test(selector.instance)) throw new UsageError(`'${selector.instance}' is not an instance id`, "see `npx dumont instance list`");
  const id = selector.instance === undefined ? undefined : Number(selector.instance);
  const ownedByStack = id !== undefined && context !== undefined && slots.some((s) => context.outputs.slots[s]?.instanceId === id);
  const throwaway = id !== undefined && selector.slot === undefined && !ownedByStack ? (await recordsModule()).readThrowaway(id) : undefined;
  if (throwaway) {
    return {
      target: (await recordsModule()).throwawaySshTarget(throwaway), instanceId: throwaway.instanceId, sourceLabel: `${throwaway.vastLabel}/${throwaway.instanceId}`,
      what: `instance ${throwaway.instanceId} (${throwaway.vastLabel}, ${throwaway.host}:${throwaway.port})`,
      hint: `is it still running? npx dumont instance status ${throwaway.instanceId}${stackFlag(throwaway.stack)}`,
    };
  }
  const ctx = context ?? (await (await stackContextModule()).loadStackContext(selector.stack));
  const { slot, state } = ctx.slot({ slot: selector.slot, instance: selector.instance });
  return {
    target: ctx.sshTarget(state), instanceId: state.instanceId, sourceLabel: `${selector.stack}/${slot}/${state.instanceId}`,
    what: `slot ${slot}'s GPU of stack ${selector.stack} (instance ${state.instanceId}, ${state.host}:${state.port})`,
    hint: `is it running? npx dumont instance status ${state.instanceId}${stackFlag(selector.stack)}; \`npx dumont failover${stackFlag(selector.stack)}\` replaces a dead GPU`,
  };
}

/** A host to log in to, and the words for it when that fails. */
export type LoginDestination = Pick<GpuHost, "target" | "what" | "hint">;

/**
 * Logs in to `destination`. A host that does not answer or refuses the login is the environment's
 * fault (exit 3, or `exitCode`: `dumont ssh` exits as ssh(1) does); a changed host key is refused
 * with both fingerprints (a DumontError already): that message is the one to read.
 */
export async function logIn(destination: LoginDestination, options: { exitCode?: number } = {}): Promise<SshConnection> {
  try {
    return await (await clientModule()).connect(destination.target);
  } catch (error) {
    if (error instanceof DumontError) throw error;
    throw new EnvironmentError(`cannot log in to ${destination.what}: ${(error as Error).message}`, destination.hint, { cause: error, exitCode: options.exitCode });
  }
}

/** Connects to the GPU `selector` names, runs `work`, and always closes the connection. */
export async function withGpuHost<T>(selector: GpuSelector, work: (ssh: SshConnection, host: GpuHost) => Promise<T>, context?: StackContext): Promise<T> {
  const host = await gpuHost(selector, context);
  const ssh = await logIn(host);
  try {
    return await work(ssh, host);
  } finally {
    ssh.close();
  }
}
