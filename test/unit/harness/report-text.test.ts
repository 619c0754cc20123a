// The journey's text views: the seed's metric names and report lines.
import { describe, expect, it } from "vitest";
import { formatReport, metricsJson } from "../../../harness/report-text.ts";
import { sampleReport as report } from "../../support/journey-report.ts";

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

  it("the failover's RTO and its phases are metrics, and a line of the report", () => {
    const m = metricsJson(report());
    expect(m.rto_seconds).toBe(12.5);
    expect(m.rto_phases).toMatchObject({ provider_wait: 5.5, restore: 1.2, verify: 0.3, other: 0.8 });
    expect(formatReport(report())).toMatch(/from the snapshot: 12\.5s to an active, verified GPU \(offer_search 2\.0 s, provider_wait 5\.5 s.*\); 4\.9s besides the provider and the data/);
    expect(metricsJson(report({ rto: {} }))).toMatchObject({ rto_seconds: null, rto_phases: null });
  });

  it("says how far the model's Vast items are from Vast's own meter, and why they agree", () => {
    const items = [
      { provider: "vast" as const, resource: "GPU 1", what: "compute (running)", quantity: 0.01, unit: "h", rate: 0.3, rateUnit: "$/h", usd: 0.003 },
      { provider: "gcp" as const, resource: "standby", what: "e2-medium", quantity: 0.01, unit: "h", rate: 0.02, rateUnit: "$/h", usd: 0.0002 },
    ];
    const text = formatReport(report({ cost: { items, total: 0.0032, worstCase: [], vastBilled: 0.0029 } }));
    expect(text).toContain("Vast's own meter for these instances: $0.0029; the model's Vast items: $0.0030 (3.4% apart:");
  });

  it("an interruptible run shows its compute at the bids against on-demand", () => {
    const text = formatReport(report({ cost: { items: [], total: 0.01, worstCase: [], interruptible: { atBidsUsd: 0.0069, onDemandUsd: 0.01 } } }));
    expect(text).toContain("Interruptible GPUs' compute: $0.0069 at the bids; $0.0100 on demand at the same offers (31% saved)");
  });

  it("a failure shows its step and reason", () => {
    const failed = report({ success: false, failure: { step: "failover", reason: "restore failed: <script>alert(1)</script>" } });
    expect(formatReport(failed)).toMatch(/Success:\s+✗ NO\n\s+Reason:\s+failover: restore failed/);
  });
});
