// The paid suite: the same journey against Vast.ai, a GCP Spot standby and B2, with a cost cap.
// Without credentials it skips, naming what is missing. Run: npm run test:real
//   VAST_API_KEY, GCP_CREDENTIALS (service-account JSON), GCP_PROJECT, B2_KEY_ID, B2_APPLICATION_KEY
//   optional: B2_ENDPOINT, GCP_ZONE, GPU_NAMES, GPU_MAX_PRICE, DUMONT_REAL_MAX_COST (USD, default 1.00)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newJourneyStackName } from "../../harness/journey-stack.ts";
import { renderHtml } from "../../harness/report-html.ts";
import { formatReport, metricsJson } from "../../harness/report-text.ts";
import { runJourney } from "../../harness/run.ts";
import { repoRoot } from "../../lib/tools/paths.ts";
import { stackConfigFile } from "../../stacks/stack-files.ts";

const required: ReadonlyArray<[string, string]> = [
  ["VAST_API_KEY", "Vast.ai API key"],
  ["GCP_CREDENTIALS", "GCP service-account key (JSON)"],
  ["GCP_PROJECT", "GCP project of the standby"],
  ["B2_KEY_ID", "B2 application key id"],
  ["B2_APPLICATION_KEY", "B2 application key"],
];
const missing = required.filter(([name]) => !process.env[name]).map(([name, what]) => `${name} (${what})`);
const maxCost = Number(process.env.DUMONT_REAL_MAX_COST ?? "1.00");
const stack = newJourneyStackName();
const results = path.join(repoRoot, ".state", "real-journeys", stack);

if (missing.length > 0) console.warn(`paid suite skipped: missing ${missing.join(", ")}`);

afterAll(() => rmSync(stackConfigFile(stack), { force: true }));

describe.skipIf(missing.length > 0)(`real clouds, cost cap $${maxCost}${missing.length ? ` — skipped, missing ${missing.map((m) => m.split(" ")[0]).join(", ")}` : ""}`, () => {
  it("the journey: offer, GPU, 3 files + 100 MB, snapshot to B2, failover, standby failover, every MD5, nothing left", async () => {
    if (!(maxCost > 0)) throw new Error(`DUMONT_REAL_MAX_COST: '${process.env.DUMONT_REAL_MAX_COST}' is not a positive amount`);
    mkdirSync(results, { recursive: true });
    const report = await runJourney({
      cloud: "real", variant: "both", files: 3, workspaceBytes: 100e6, maxCostUsd: maxCost, timeLimitSeconds: 3600, stack,
      localCloud: "main", keepSnapshot: false, outputDir: results, signal: new AbortController().signal, write: (line) => console.log(line),
    });
    writeFileSync(path.join(results, "failover_test_metrics.json"), `${JSON.stringify(metricsJson(report), null, 2)}\n`);
    writeFileSync(path.join(results, "failover_test_report.html"), renderHtml(report));
    console.log(formatReport(report));
    expect(report.cleanup.leaks).toEqual([]);
    expect(report.failure).toBeUndefined();
    expect(report.validation).toMatchObject({ validated: report.testFiles.length, total: report.testFiles.length });
    expect(report.standbyValidation?.validated).toBe(report.standbyValidation?.total);
    expect(report.cost.total).toBeLessThan(maxCost);
  }, 3_700_000);
});
