import path from "node:path";
import { parseArgs } from "node:util";
import { stateDir } from "../../harness/tools/paths.ts";
import { makePrivateDir } from "../../harness/tools/private-dir.ts";
import { runSmoke } from "../../stacks/smoke.ts";
import type { Command } from "./types.ts";

export const smoke: Command = {
  path: ["smoke"],
  summary: "pulumi up, preview and destroy a small stack through the real engine (foundation check)",
  usage: "[--stack NAME]",
  async run(args) {
    const { values } = parseArgs({ args, options: { stack: { type: "string", default: "smoke" } } });
    const dir = makePrivateDir(path.join(stateDir, "smoke"));
    const result = await runSmoke({ stack: values.stack!, dir, log: (line) => console.log(line) });
    console.log(
      `\nsmoke: ok — up ${result.upSeconds.toFixed(1)}s, preview (no changes) ${result.previewSeconds.toFixed(1)}s, ` +
        `destroy ${result.destroySeconds.toFixed(1)}s; marker MD5 ${result.md5}`,
    );
  },
};
