// `dumont cost --stack S`: what an environment costs per hour while it stands, item by item, with
// the rates used (Vast's rates of each rental, GCP and B2 list prices).
import { parseArgs } from "node:util";
import { environmentBurnRate, formatBurnRate } from "../../stacks/cost.ts";
import { loadStackContext } from "../../stacks/stack-context.ts";
import type { Command } from "./types.ts";

export const costCommand: Command = {
  path: ["cost"],
  summary: "the current burn rate of a stack's environment: GPUs, standby, snapshots, with the rates used",
  usage: "[--stack local] [--json]",
  async run(args) {
    const { values } = parseArgs({ args, options: { stack: { type: "string", default: "local" }, json: { type: "boolean", default: false } } });
    const burn = await environmentBurnRate(await loadStackContext(values.stack!));
    console.log(values.json ? JSON.stringify(burn, null, 2) : formatBurnRate(burn));
  },
};
