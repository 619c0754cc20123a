import { parseArgs } from "node:util";
import { ensurePassphrase, exportLines, toolEnvironment } from "../../harness/tools/environment.ts";
import type { Command } from "./types.ts";

export const env: Command = {
  path: ["env"],
  summary: 'print shell exports so that plain `pulumi` works here: eval "$(npx dumont env)"',
  usage: "",
  async run(args) {
    parseArgs({ args, options: {} });
    ensurePassphrase();
    console.log(exportLines(toolEnvironment()));
  },
};
