// `dumont cost --stack S`: what an environment costs per hour while it stands, item by item, with
// the rates used (Vast's rates of each rental, GCP and B2 list prices).
import { environmentBurnRate, formatBurnRate } from "../../stacks/cost.ts";
import { loadStackContext } from "../../stacks/stack-context.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption, stackOption } from "../cli/shared-options.ts";

export const costCommand = defineCommand({
  path: ["cost"],
  summary: "the current burn rate of a stack's environment: GPUs, standby, snapshots, with the rates used",
  options: { stack: stackOption, json: jsonOption },
  async action({ values }) {
    const burn = await environmentBurnRate(await loadStackContext(values.stack));
    console.log(values.json ? JSON.stringify(burn, null, 2) : formatBurnRate(burn));
  },
});
