// `dumont journey`: the whole failover journey with its report. Ctrl-C (or SIGTERM) stops the
// journey and still cleans up before exiting; a second Ctrl-C exits at once and says what to check.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../lib/errors.ts";
import { parseSize } from "../../lib/byte-size.ts";
import { variants } from "../../harness/variants.ts";
import { defineCommand } from "../cli/command.ts";
import { localCloudOption } from "../cli/shared-options.ts";

// Loaded when the command runs, not when `dumont --help` lists it: they bring Pulumi, ssh2, the AWS SDK.
/** The journey's modules: loaded when it runs, not when `dumont --help` lists it. */
const journeyModules = async () => ({
  ...(await import("../../harness/journey-stack.ts")), ...(await import("../../harness/report-html.ts")), ...(await import("../../harness/report-text.ts")),
  ...(await import("../../harness/run.ts")),
});

/** 600, 600s, 20m, 1h → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--time-limit: '${text}' is not a duration (e.g. 900, 20m, 1h)`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] ?? "s"]!;
}

export const journeyCommand = defineCommand({
  path: ["journey"],
  summary: "the full failover journey (offer, GPU, files, snapshot, failover, MD5 validation, standby failover) with timings, cost and cleanup",
  options: {
    cloud: { type: "string", value: "local|real", choices: ["local", "real"], default: "local", meaning: "where: the local cloud, or Vast.ai, a GCP Spot standby and B2 (spends real money: needs --max-cost)" },
    variant: { type: "string", value: variants.join("|"), choices: variants, default: "both", meaning: "snapshot: the guide's Test 1 (failover from a snapshot); standby: its Test 3 (GPU → CPU standby → new GPU); both: one then the other" },
    files: { type: "string", value: "N", default: "3", meaning: "how many unique test files to write and validate (1 to 100000)" },
    "workspace-size": { type: "string", value: "SIZE", default: "0", meaning: "bulk data written to /workspace next to the test files, e.g. 1GiB, 500MiB" },
    "max-cost": { type: "string", value: "USD", absent: "no cap on the local cloud (required with --cloud real)", meaning: "refuse to start when the worst case exceeds this, and stop the run when its cost reaches it" },
    "time-limit": { type: "string", value: "DURATION", absent: "30m on the local cloud, 1h on the real clouds", meaning: "stop and clean up after this long: 900 (seconds), 20m, 1h" },
    metrics: { type: "string", value: "FILE", default: "failover_test_metrics.json", meaning: "where to write the metrics (JSON, with the seed's metric names); the test files' record (failover_files_<id>.json) goes to the same folder" },
    html: { type: "string", value: "FILE", default: "failover_test_report.html", meaning: "where to write the HTML report (one file, opens offline)" },
    "local-cloud": localCloudOption,
    stack: { type: "string", value: "STACK", absent: "a new journey-<time>-<hex>", meaning: "the journey's throwaway stack; it must start with journey- (the journey destroys what it holds)" },
    "remove-snapshot": { type: "boolean", meaning: "delete the snapshot (and the stack's bucket) at the end; by default they stay for audit" },
  },
  async action({ values }) {
    const cloud = values.cloud;
    const files = Number(values.files);
    if (!Number.isInteger(files) || files < 1 || files > 100_000) throw new UsageError(`--files: '${values.files}' is not a whole number from 1 to 100000`);
    let workspaceBytes: number;
    try {
      workspaceBytes = parseSize(values["workspace-size"]);
    } catch (error) {
      throw new UsageError(`--workspace-size: ${(error as Error).message}`);
    }
    const maxCost = values["max-cost"] === undefined ? undefined : Number(values["max-cost"]);
    if (maxCost !== undefined && !(maxCost > 0)) throw new UsageError(`--max-cost: '${values["max-cost"]}' is not a positive amount of USD`);
    // Real money needs a cap the user chose.
    if (cloud === "real" && maxCost === undefined) throw new UsageError("--cloud real spends money: give --max-cost USD (e.g. --max-cost 1.00)");
    const timeLimitSeconds = parseDuration(values["time-limit"] ?? (cloud === "local" ? "30m" : "1h"));
    const { newJourneyStackName, labelPattern, JourneyStopped, runJourney, metricsJson, renderHtml, formatReport } = await journeyModules();
    const stack = values.stack ?? newJourneyStackName();
    if (!stack.startsWith("journey-")) throw new UsageError(`--stack: '${stack}' must start with journey- (the journey destroys what its stack holds)`);

    const controller = new AbortController();
    let interrupts = 0;
    const onSignal = (name: string) => {
      interrupts += 1;
      if (interrupts === 1) {
        console.error(`\n${name}: stopping the journey; cleaning up before exit (every instance is destroyed). ${name} again to exit at once.`);
        controller.abort(new JourneyStopped(`interrupted (${name})`));
      } else {
        console.error(`\n${name} again: exiting without finishing cleanup. Check: npx dumont instance list --stack ${stack} --pattern '${labelPattern(stack)}'`);
        process.exit(130);
      }
    };
    const sigint = () => onSignal("Ctrl-C");
    const sigterm = () => onSignal("SIGTERM");
    process.on("SIGINT", sigint);
    process.on("SIGTERM", sigterm);
    try {
      const report = await runJourney({
        cloud, variant: values.variant, files, workspaceBytes, maxCostUsd: maxCost, timeLimitSeconds, stack,
        localCloud: values["local-cloud"], keepSnapshot: !values["remove-snapshot"], outputDir: path.dirname(path.resolve(values.metrics)),
        signal: controller.signal, write: (line) => console.log(line),
      });
      writeFileSync(values.metrics, `${JSON.stringify(metricsJson(report), null, 2)}\n`);
      writeFileSync(values.html, renderHtml(report));
      console.log(`\n${formatReport(report)}`);
      console.log(`metrics: ${values.metrics}   report: ${values.html}`);
      if (report.cleanup.snapshotKept && report.resources.snapshotId) {
        console.log(`the snapshot and the stack's bucket are kept for audit; remove them with: npx dumont destroy --stack ${stack} --remove`);
      }
      if (controller.signal.aborted) return 130;
      return report.success ? 0 : 1;
    } finally {
      process.off("SIGINT", sigint);
      process.off("SIGTERM", sigterm);
    }
  },
});
