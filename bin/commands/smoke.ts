// `dumont smoke`: the smallest check of the engine: a dynamic-provider resource and a
// @pulumi/command command, up, preview and destroy.
import path from "node:path";
import { stateDir } from "../../lib/tools/paths.ts";
import { makePrivateDir } from "../../lib/tools/private-dir.ts";
import { defineCommand } from "../cli/command.ts";
import { stackOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const smokeModule = () => import("../../stacks/smoke.ts");

export const smoke = defineCommand({
  path: ["smoke"],
  summary: "pulumi up, preview and destroy a small stack through the real engine (foundation check)",
  options: { stack: { ...stackOption, default: "smoke", meaning: "the throwaway stack the check creates and destroys (an inline program: it needs no settings file)" } },
  async action({ values }) {
    const dir = makePrivateDir(path.join(stateDir, "smoke"));
    const result = await (await smokeModule()).runSmoke({ stack: values.stack, dir, log: (line) => console.log(line) });
    console.log(
      `\nsmoke: ok — up ${result.upSeconds.toFixed(1)}s, preview (no changes) ${result.previewSeconds.toFixed(1)}s, ` +
        `destroy ${result.destroySeconds.toFixed(1)}s; marker MD5 ${result.md5}`,
    );
  },
});
