// `dumont env`: shell exports that make a plain `pulumi` work in this checkout.
import { ensureStackStorage, exportLines, toolEnvironment } from "../../lib/tools/environment.ts";
import { defineCommand } from "../cli/command.ts";

export const env = defineCommand({
  path: ["env"],
  summary: 'print shell exports so that plain `pulumi` works here: eval "$(npx dumont env)"',
  options: {},
  async action() {
    // A plain `pulumi stack init` right after must find the file backend's folder.
    ensureStackStorage();
    console.log(exportLines(toolEnvironment()));
  },
});
