// `dumont ssh`: a shell or a command on a stack's GPU (the active one, or a slot's), on its standby,
// or on a GPU rented with `dumont instance create`. It logs in with the key Dumont holds for that
// host and checks the host key pinned when the host was made (the stack's outputs, or the
// throwaway's record): there is never a prompt to trust a key and never StrictHostKeyChecking=no.
// It uses Dumont's own SSH client, so no private key is ever written to a file or a command line.
import { parseArgs } from "node:util";
import { DumontError, SettingError, UsageError } from "../../harness/errors.ts";
import { connect, type SshConnection } from "../../harness/ssh/client.ts";
import { lostSessionStatus, runSession } from "../../harness/ssh/remote-session.ts";
import { loadStackContext } from "../../stacks/stack-context.ts";
import { gpuHost, type GpuHost } from "./gpu-host.ts";
import type { Command } from "./types.ts";

/** dumont's own options come before `--`; the remote command line after it, as ssh(1) takes it. */
export function splitAtDoubleDash(args: readonly string[]): { options: string[]; command: string[] | undefined } {
  const at = args.indexOf("--");
  return at === -1 ? { options: [...args], command: undefined } : { options: args.slice(0, at), command: args.slice(at + 1) };
}

interface Selector {
  readonly stack: string;
  readonly slot?: string;
  readonly instance?: string;
  readonly standby: boolean;
}

type Destination = Pick<GpuHost, "target" | "what" | "hint">;

async function destinationOf(selector: Selector): Promise<Destination> {
  const chosen = [selector.slot !== undefined, selector.instance !== undefined, selector.standby].filter(Boolean).length;
  if (chosen > 1) throw new UsageError("give one of --slot, --instance and --standby");
  if (!selector.standby) return gpuHost(selector);
  const ctx = await loadStackContext(selector.stack);
  const flag = selector.stack === "local" ? "" : ` --stack ${selector.stack}`;
  const standby = ctx.outputs.standby;
  if (!standby) throw new SettingError("--standby", `stack ${selector.stack} has no standby`, `enable one: npx dumont standby configure --enabled=true${flag}, then npx dumont up${flag}`);
  return {
    target: ctx.sshTarget(standby),
    what: `the standby of stack ${selector.stack} (${standby.user}@${standby.host}:${standby.port})`,
    hint: `npx dumont standby status${flag}; a stopped standby is started again by the next failover or \`npx dumont up${flag}\``,
  };
}

async function logIn(destination: Destination): Promise<SshConnection> {
  try {
    return await connect(destination.target);
  } catch (error) {
    // A changed host key is refused with both fingerprints: that message is the one to read.
    if (error instanceof DumontError) throw error;
    throw new DumontError(`cannot log in to ${destination.what}: ${(error as Error).message}`, { exitCode: lostSessionStatus, hint: destination.hint, cause: error });
  }
}

export const sshCommand: Command = {
  path: ["ssh"],
  summary: "a shell (or, after --, a command) on a stack's active GPU, a slot's, its standby or a `dumont instance create` GPU; pinned host key",
  usage: "[--stack S] [--slot a|b | --instance ID | --standby] [-- COMMAND…]",
  async run(args) {
    const { options, command } = splitAtDoubleDash(args);
    const { values, positionals } = parseArgs({
      args: options,
      options: { stack: { type: "string", default: "local" }, slot: { type: "string" }, instance: { type: "string" }, standby: { type: "boolean", default: false } },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`'${positionals.join(" ")}': the command goes after --`, `e.g. npx dumont ssh -- ${positionals.join(" ")}`);
    const destination = await destinationOf({ stack: values.stack!, slot: values.slot, instance: values.instance, standby: values.standby! });
    const connection = await logIn(destination);
    try {
      // As ssh(1): the words are joined with spaces for the remote shell, so `-- 'cd /workspace && ls'` works.
      const line = command && command.length > 0 ? command.join(" ") : undefined;
      return await runSession(connection, { command: line }, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    } finally {
      connection.close();
    }
  },
};
