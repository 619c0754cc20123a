// `dumont doctor`: every tool and service Dumont uses, with its path and version or how to get it.
import { formatDoctor, runDoctor } from "../../lib/tools/doctor.ts";
import { defineCommand } from "../cli/command.ts";
import { jsonOption } from "../cli/shared-options.ts";

export const doctor = defineCommand({
  path: ["doctor"],
  summary: "check every tool and service Dumont uses: path, version, or how to get it",
  options: { json: jsonOption },
  async action({ values }) {
    const reports = runDoctor();
    console.log(values.json ? JSON.stringify(reports, null, 2) : formatDoctor(reports));
    return reports.some((r) => r.required && r.status !== "ok") ? 1 : 0;
  },
});
