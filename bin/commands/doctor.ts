import { parseArgs } from "node:util";
import { formatDoctor, runDoctor } from "../../harness/tools/doctor.ts";
import type { Command } from "./types.ts";

export const doctor: Command = {
  path: ["doctor"],
  summary: "check every tool and service Dumont uses: path, version, or how to get it",
  usage: "[--json]",
  async run(args) {
    const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false } } });
    const reports = runDoctor();
    console.log(values.json ? JSON.stringify(reports, null, 2) : formatDoctor(reports));
    return reports.some((r) => r.required && r.status !== "ok") ? 1 : 0;
  },
};
