// `dumont instance create`: a GPU outside any stack's failover, as the seed guide's manual test
// rents one (`dumont instance create --gpu RTX_4090 --name "test-failover-1"`). It prints the
// instance id first, then how to log in and what it costs; it bills until `dumont instance destroy`.
import { parseArgs } from "node:util";
import { defaultThrowawayName } from "../../components/vast/throwaway-labels.ts";
import { UsageError } from "../../harness/errors.ts";
import { fingerprint } from "../../harness/ssh/host-key.ts";
import { loadStackContext } from "../../stacks/stack-context.ts";
import { checkThrowawayRequest, gpuNamesOf, rentThrowaway } from "../../stacks/throwaway/rent.ts";
import type { Command } from "./types.ts";

/** `--cpu-standby` alone means true, as in the seed's `--cpu-standby=true`. */
function withExplicitStandbyValue(args: readonly string[]): string[] {
  return args.map((arg) => (arg === "--cpu-standby" ? "--cpu-standby=true" : arg));
}

function refuseStandby(value: string | undefined): void {
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return;
  if (!/^(true|1|yes|on)$/i.test(value)) throw new UsageError(`--cpu-standby is true or false, not '${value}'`);
  throw new UsageError(
    "--cpu-standby: a CPU standby belongs to a stack (it mirrors the stack's active GPU and takes over in the stack's failover); an instance outside any stack has none",
    "for a GPU with a standby: `npx dumont standby configure --enabled=true`, then `npx dumont up` (log in with `npx dumont ssh`)",
  );
}

export const instanceCreate: Command = {
  path: ["instance", "create"],
  summary: "rent a GPU outside any stack's failover (a throwaway for manual tests): prints its id, SSH endpoint and $/h",
  usage: "[--gpu RTX_4090] [--name test-failover-1] [--stack S (whose cloud, account and requirements)] [--json]",
  async run(args) {
    const { values, positionals } = parseArgs({
      args: withExplicitStandbyValue(args),
      options: { stack: { type: "string", default: "local" }, gpu: { type: "string" }, name: { type: "string" }, "cpu-standby": { type: "string" }, json: { type: "boolean", default: false } },
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected '${positionals[0]}'`, "e.g. dumont instance create --gpu RTX_4090 --name test-failover-1");
    refuseStandby(values["cpu-standby"]);
    const name = values.name ?? defaultThrowawayName();
    const gpuNames = values.gpu === undefined ? undefined : gpuNamesOf(values.gpu);
    checkThrowawayRequest({ name, gpuNames });
    const ctx = await loadStackContext(values.stack!, { requireOutputs: false });
    const progress = (line: string) => console.error(`  ${line}`);
    console.error(`renting a GPU outside any stack (${(gpuNames ?? ctx.settings.gpu.gpuNames).join(" or ")}, at most $${ctx.settings.gpu.maxPricePerHour}/h, ${ctx.settings.cloud === "local" ? "the local cloud" : "Vast.ai"} as stack ${values.stack} reaches it)`);
    console.error(`  interrupted, it may be left running: npx dumont instance destroy --pattern '${name}.*'`);
    const record = await rentThrowaway(ctx, { name, gpuNames }, progress);
    const stackFlag = values.stack === "local" ? "" : ` --stack ${values.stack}`;
    if (values.json) {
      console.log(JSON.stringify({
        instanceId: record.instanceId, name: record.name, label: record.vastLabel, stack: record.stack, host: record.host, port: record.port, user: record.user,
        hostKeyFingerprint: fingerprint(record.hostKey), gpuName: record.gpuName, numGpus: record.numGpus, machineId: record.machineId, dphTotal: record.dphTotal,
      }, null, 2));
      return;
    }
    console.log([
      `instance ${record.instanceId} (label ${record.vastLabel}): ${record.numGpus}x ${record.gpuName} on machine ${record.machineId}, running`,
      `  ssh      ${record.user}@${record.host} -p ${record.port}, host key ${fingerprint(record.hostKey)} (pinned); log in: npx dumont ssh --instance ${record.instanceId}`,
      `  cost     $${record.dphTotal.toFixed(4)}/h (compute and storage), billed until it is destroyed`,
      `  destroy  npx dumont instance destroy ${record.instanceId}${stackFlag}`,
    ].join("\n"));
  },
};
