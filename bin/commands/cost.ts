// `dumont cost --stack S`: what an environment costs per hour while it stands, item by item, with
// the rates used (Vast's rates of each rental, GCP and B2 list prices).
import { defineCommand } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const costModule = () => import("../../stacks/cost.ts");
const stackContextModule = () => import("../../stacks/stack-context.ts");

export const costCommand = defineCommand({
  path: ["cost"],
  summary: "the current burn rate of a stack's environment: GPUs, standby, snapshots, with the rates used",
  options: { stack: stackOption, json: jsonOption },
  async action({ values }) {
    const burn = await (await costModule()).environmentBurnRate(await (await stackContextModule()).loadStackContext(values.stack));
    console.log(values.json ? JSON.stringify(burn, null, 2) : (await costModule()).formatBurnRate(burn));
  },
});
