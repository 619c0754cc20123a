// `dumont doctor`: every tool and service Dumont uses, with its path and version or how to get it.
import { defineCommand } from "../cli/command.ts";
import { jsonOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
const doctorModule = () => import("../../lib/tools/doctor.ts");

export const doctor = defineCommand({
  path: ["doctor"],
  summary: "check every tool and service Dumont uses: path, version, or how to get it",
  options: { json: jsonOption },
  async action({ values }) {
    const reports = (await doctorModule()).runDoctor();
    console.log(values.json ? JSON.stringify(reports, null, 2) : (await doctorModule()).formatDoctor(reports));
    return reports.some((r) => r.required && r.status !== "ok") ? 1 : 0;
  },
});
