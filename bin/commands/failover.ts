// `dumont failover` and the seed's `dumont failover restore --from-cpu-standby`.
import { parseArgs } from "node:util";
import { UsageError } from "../../harness/errors.ts";
import { failover } from "../../stacks/failover/apply.ts";
import type { RestoreSource } from "../../stacks/failover/plan.ts";
import type { Command } from "./types.ts";
import { loadStackContext } from "../../stacks/stack-context.ts";

async function runFailover(stack: string, source: RestoreSource | undefined, gpuId: number | undefined, json: boolean): Promise<number> {
  // The GPU to move away from is the one active now: if another failover runs first and this one
  // waits for it, it then finds that GPU already replaced instead of moving the new one.
  const fromInstanceId = gpuId ?? (await loadStackContext(stack)).slot().state.instanceId;
  const result = await failover({ stack, source, fromInstanceId, onProgress: (line) => (json ? console.error(line) : console.log(line)) });
  if (json) console.log(JSON.stringify(result, null, 2));
  else if (result.outcome === "failed-over") {
    const total = Object.values(result.seconds).reduce((a, b) => a + b, 0);
    console.log(`\nfailover: instance ${result.from?.instanceId} → ${result.to?.instanceId} from the ${result.source} in ${total.toFixed(1)} s (${Object.entries(result.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`);
    if (result.restored) console.log(`data captured ${result.restored.capturedAt}: ${result.rpoSeconds?.toFixed(0)} s before the failover started (the recovery point)`);
  } else if (result.outcome === "abandoned") console.log(`failover abandoned: ${result.reason}`);
  return 0;
}

const parseInstance = (value?: string) => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--gpu-id must be an instance id, not '${value}'`);
  return Number(value);
};

export const failoverCommand: Command = {
  path: ["failover"],
  summary: "move the environment to a new GPU: provision, restore (standby or snapshot), verify, swap, retire; re-run to resume",
  usage: "[--from standby|snapshot] [--stack S] [--gpu-id ID (only if this one is still active)] [--json]",
  async run(args) {
    const { values } = parseArgs({ args, options: { stack: { type: "string", default: "local" }, from: { type: "string" }, "gpu-id": { type: "string" }, json: { type: "boolean", default: false } } });
    if (values.from !== undefined && values.from !== "standby" && values.from !== "snapshot") throw new UsageError(`--from must be standby or snapshot, not '${values.from}'`);
    return runFailover(values.stack!, values.from as RestoreSource | undefined, parseInstance(values["gpu-id"]), values.json!);
  },
};

export const failoverRestoreCommand: Command = {
  path: ["failover", "restore"],
  summary: "the seed guide's form: a new GPU with the data of the CPU standby",
  usage: "--from-cpu-standby [--gpu-id ID] [--stack S] [--json]",
  async run(args) {
    const { values } = parseArgs({ args, options: { stack: { type: "string", default: "local" }, "from-cpu-standby": { type: "boolean", default: false }, "gpu-id": { type: "string" }, json: { type: "boolean", default: false } } });
    if (!values["from-cpu-standby"]) throw new UsageError("give --from-cpu-standby (or use `dumont failover --from snapshot`)");
    return runFailover(values.stack!, "standby", parseInstance(values["gpu-id"]), values.json!);
  },
};
