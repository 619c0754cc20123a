// `dumont failover` and the seed's `dumont failover restore --from-cpu-standby`.
import { UsageError } from "../../lib/errors.ts";
import type { RestoreSource } from "../../stacks/failover/plan.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const failoverApplyModule = () => import("../../stacks/failover/apply.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");

async function runFailover(stack: string, source: RestoreSource | undefined, gpuId: number | undefined, json: boolean): Promise<number> {
  // The GPU to move away from is the one active now: if another failover runs first and this one
  // waits for it, it then finds that GPU already replaced instead of moving the new one.
  const fromInstanceId = gpuId ?? (await (await stackContextModule()).loadStackContext(stack)).slot().state.instanceId;
  const result = await (await failoverApplyModule()).failover({ stack, source, fromInstanceId, onProgress: (line) => (json ? console.error(line) : console.log(line)) });
  if (json) console.log(JSON.stringify(result, null, 2));
  else if (result.outcome === "failed-over") {
    const total = Object.values(result.seconds).reduce((a, b) => a + b, 0);
    console.log(`\nfailover: instance ${result.from?.instanceId} → ${result.to?.instanceId} from the ${result.source} in ${total.toFixed(1)} s (${Object.entries(result.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`);
    if (result.restored) console.log(`data captured ${result.restored.capturedAt}: ${result.rpoSeconds?.toFixed(0)} s before the failover started (the recovery point)`);
  } else if (result.outcome === "abandoned") console.log(`failover abandoned: ${result.reason}`);
  return 0;
}

function instanceIdOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--gpu-id must be an instance id, not '${value}'`, "see `npx dumont instance list`");
  return Number(value);
}

const gpuIdOption = {
  type: "string", value: "ID", absent: "the stack's active GPU",
  meaning: "the GPU to move away from; if it is no longer the active one (another failover replaced it), nothing is done",
} as const;

export const failoverCommand = defineCommand({
  path: ["failover"],
  summary: "move the environment to a new GPU: provision, restore (standby or snapshot), verify, swap, retire; re-run to resume",
  options: {
    from: { type: "string", value: "SOURCE", choices: ["standby", "snapshot"], absent: "the freshest complete copy, the standby's or a snapshot", meaning: "restore only from this kind of copy" },
    stack: stackOption,
    "gpu-id": gpuIdOption,
    json: { ...jsonOption, meaning: "print the result as JSON on stdout (progress goes to stderr)" },
  },
  async action({ values }) {
    return runFailover(values.stack, values.from, instanceIdOf(values["gpu-id"]), values.json);
  },
});

export const failoverRestoreCommand = defineCommand({
  path: ["failover", "restore"],
  summary: "the seed guide's form: a new GPU with the data of the CPU standby",
  options: {
    "from-cpu-standby": { type: "boolean", meaning: "restore from the CPU standby (required: the only source this form takes)" },
    "gpu-id": gpuIdOption,
    stack: stackOption,
    json: { ...jsonOption, meaning: "print the result as JSON on stdout (progress goes to stderr)" },
  },
  async action({ values }) {
    if (!values["from-cpu-standby"]) throw new UsageError("give --from-cpu-standby (or use `dumont failover --from snapshot`)");
    return runFailover(values.stack, "standby", instanceIdOf(values["gpu-id"]), values.json);
  },
});
