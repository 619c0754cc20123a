// `dumont instance create`: a GPU outside any stack's failover, as the seed guide's manual test
// rents one (`dumont instance create --gpu RTX_4090 --name "test-failover-1"`). It prints the
// instance id first, then how to log in and what it costs; it bills until `dumont instance destroy`.
import { defaultThrowawayName } from "../../components/vast/throwaway-labels.ts";
import { UsageError } from "../../lib/errors.ts";
import { fingerprint } from "../../dataplane/ssh/host-key.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const stackContextModule = () => import("../../stacks/stack-context.ts");
const rentModule = () => import("../../stacks/throwaway/rent.ts");

function refuseStandby(value: string | undefined): void {
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return;
  if (!/^(true|1|yes|on)$/i.test(value)) throw new UsageError(`--cpu-standby is true or false, not '${value}'`);
  throw new UsageError(
    "--cpu-standby: a CPU standby belongs to a stack (it mirrors the stack's active GPU and takes over in the stack's failover); an instance outside any stack has none",
    "for a GPU with a standby: `npx dumont standby configure --enabled=true`, then `npx dumont up` (log in with `npx dumont ssh`)",
  );
}

export const instanceCreate = defineCommand({
  path: ["instance", "create"],
  summary: "rent a GPU outside any stack's failover (a throwaway for manual tests): prints its id, SSH endpoint and $/h",
  options: {
    gpu: { type: "string", value: "MODEL", absent: "the stack's dumont:gpuNames", meaning: "the GPU model, as the seed writes it (RTX_4090) or as Vast does (\"RTX 4090\"); several separated by commas" },
    name: { type: "string", value: "NAME", absent: "gpu-<UTC time>", meaning: "the instance's name; its label is the name and a suffix (test-failover-1.<hex>). It may not start with dumont-" },
    stack: { ...stackOption, meaning: "the stack whose cloud, account, requirements (price cap, disk, image) and local cloud are used; the GPU is not part of it" },
    "cpu-standby": {
      type: "string", value: "true|false", impliedValue: "true", default: "false",
      meaning: "the seed's option, refused when true: a CPU standby belongs to a stack (`dumont standby configure --enabled=true`)",
    },
    json: jsonOption,
  },
  async action({ values }) {
    refuseStandby(values["cpu-standby"]);
    const name = values.name ?? defaultThrowawayName();
    const gpuNames = values.gpu === undefined ? undefined : (await rentModule()).gpuNamesOf(values.gpu);
    (await rentModule()).checkThrowawayRequest({ name, gpuNames });
    const ctx = await (await stackContextModule()).loadStackContext(values.stack, { requireOutputs: false });
    const progress = (line: string) => console.error(`  ${line}`);
    console.error(`renting a GPU outside any stack (${(gpuNames ?? ctx.settings.gpu.gpuNames).join(" or ")}, at most $${ctx.settings.gpu.maxPricePerHour}/h, ${ctx.settings.cloud === "local" ? "the local cloud" : "Vast.ai"} as stack ${values.stack} reaches it)`);
    console.error(`  interrupted, it may be left running: npx dumont instance destroy --pattern '${name}.*'`);
    const record = await (await rentModule()).rentThrowaway(ctx, { name, gpuNames }, progress);
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
});
