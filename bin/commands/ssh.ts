// `dumont ssh`: a shell or a command on a stack's GPU (the active one, or a slot's), on its standby,
// or on a GPU rented with `dumont instance create`. It logs in with the key Dumont holds for that
// host and checks the host key pinned when the host was made (the stack's outputs, or the
// throwaway's record): there is never a prompt to trust a key and never StrictHostKeyChecking=no.
// It uses Dumont's own SSH client, so no private key is ever written to a file or a command line.
import { SettingError } from "../../lib/errors.ts";
import { defineCommand } from "../cli/command.ts";
import { gpuSelectorOptions, stackOption } from "../cli/shared-options.ts";
import type { LoginDestination } from "./gpu-host.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const remoteSessionModule = () => import("../../dataplane/ssh/remote-session.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");
const gpuHostModule = () => import("./gpu-host.ts");

interface Selector {
  readonly stack: string;
  readonly slot?: string;
  readonly instance?: string;
  readonly standby: boolean;
}

async function destinationOf(selector: Selector): Promise<LoginDestination> {
  if (!selector.standby) return (await gpuHostModule()).gpuHost(selector);
  const ctx = await (await stackContextModule()).loadStackContext(selector.stack);
  const flag = selector.stack === "local" ? "" : ` --stack ${selector.stack}`;
  const standby = ctx.outputs.standby;
  if (!standby) throw new SettingError("--standby", `stack ${selector.stack} has no standby`, `enable one: npx dumont standby configure --enabled=true${flag}, then npx dumont up${flag}`);
  return {
    target: ctx.sshTarget(standby),
    what: `the standby of stack ${selector.stack} (${standby.user}@${standby.host}:${standby.port})`,
    hint: `npx dumont standby status${flag}; a stopped standby is started again by the next failover or \`npx dumont up${flag}\``,
  };
}

export const sshCommand = defineCommand({
  path: ["ssh"],
  summary: "a shell (or, after --, a command) on a stack's active GPU, a slot's, its standby or a `dumont instance create` GPU; pinned host key",
  options: {
    stack: stackOption,
    ...gpuSelectorOptions,
    standby: { type: "boolean", meaning: "log in to the stack's CPU standby (as its user) instead of a GPU" },
  },
  exclusive: [["slot", "instance", "standby"]],
  afterDoubleDash: {
    name: "COMMAND",
    meaning: "the remote command line, as ssh(1) takes it (`-- 'cd /workspace && ls'`); its output, stdin and exit status pass through. Without it, a shell: on a pseudo-terminal when stdin is one",
  },
  async action({ values, rest }) {
    const destination = await destinationOf({ stack: values.stack, slot: values.slot, instance: values.instance, standby: values.standby });
    // A login that fails exits 255, as ssh(1) does: scripts tell it from the remote command's own status.
    const connection = await (await gpuHostModule()).logIn(destination, { exitCode: (await remoteSessionModule()).lostSessionStatus });
    try {
      // As ssh(1): the words are joined with spaces for the remote shell, so `-- 'cd /workspace && ls'` works.
      const line = rest && rest.length > 0 ? rest.join(" ") : undefined;
      return await (await remoteSessionModule()).runSession(connection, { command: line }, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    } finally {
      connection.close();
    }
  },
});
