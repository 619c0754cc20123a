// `dumont env`: shell exports that make a plain `pulumi` work in this checkout.
import { ensurePassphrase, exportLines, toolEnvironment } from "../../lib/tools/environment.ts";
import { defineCommand } from "../cli/command.ts";

export const env = defineCommand({
  path: ["env"],
  summary: 'print shell exports so that plain `pulumi` works here: eval "$(npx dumont env)"',
  options: {},
  async action() {
    ensurePassphrase();
    console.log(exportLines(toolEnvironment()));
  },
});
