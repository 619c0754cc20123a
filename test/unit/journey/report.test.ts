// The journey's report views: the seed's metric names and report lines, and an HTML page that
// shows a failure's reason safely.
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../harness/journey/report-html.ts";
import { formatReport, metricsJson } from "../../../harness/journey/report-text.ts";
import type { JourneyReport } from "../../../harness/journey/report.ts";
import { journeySteps } from "../../../harness/journey/steps.ts";

function report(overrides: Partial<JourneyReport> = {}): JourneyReport {
  const t = Date.parse("2026-11-22T10:00:00Z");
  const steps = journeySteps("snapshot").map((s, i) => ({ ...s, status: "ok" as const, startedAt: t + i * 10_000, seconds: 5 + i }));
  return {
    cloud: "local", variant: "snapshot", stack: "journey-x", startedAt: new Date(t).toISOString(), steps,
    resources: { gpuInstanceId: 29012345, snapshotId: "20261122T100000000Z-test-snapshot-1", failoverGpuId: 29012456 },
    testFiles: [{ path: "test-file-1.txt", size: 100, md5: "a".repeat(32) }], workspaceBytes: 0,
    validation: { validated: 1, total: 1, failures: [] },
    cost: { items: [], total: 0.0314, gpuCostPerHour: 0.32, worstCase: [] },
    cleanup: { destroyedBySweep: [], leaks: [], snapshotKept: true, errors: [] },
    success: true, timeTotalSeconds: 75,
    ...overrides,
  };
}

describe("journey report", () => {
  it("the metrics file carries every metric name of the seed", () => {
    const m = metricsJson(report());
    for (const key of ["time_create_files", "time_create_snapshot", "time_failover", "time_validate", "time_total", "files_validated", "test_files", "success", "gpu_cost_per_hour", "estimated_cost_usd", "gpu_instance_id", "snapshot_id", "failover_gpu_id"]) {
      expect(m, key).toHaveProperty(key);
    }
    expect(m).toMatchObject({ time_create_files: 7, time_create_snapshot: 8, time_failover: 9, time_validate: 10, time_total: 75, files_validated: 1, success: true, gpu_instance_id: 29012345, failover_gpu_id: 29012456 });
  });

  it("the text report has the seed's sections and verdict", () => {
    const text = formatReport(report());
    expect(text).toMatch(/3\. Failover \+ Restore:\s+9\.0s/);
    expect(text).toMatch(/Original GPU:\s+29012345/);
    expect(text).toMatch(/GPU hourly:\s+\$0\.3200\/hr/);
    expect(text).toMatch(/Files OK:\s+1\/1/);
    expect(text).toMatch(/Success:\s+✓ YES/);
  });

  it("a failure shows its step and reason, in text and HTML (escaped)", () => {
    const failed = report({ success: false, failure: { step: "failover", reason: "restore failed: <script>alert(1)</script>" } });
    expect(formatReport(failed)).toMatch(/Success:\s+✗ NO\n\s+Reason:\s+failover: restore failed/);
    const html = renderHtml(failed);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});
