// A finished journey's report, as the report views get it: every step of the snapshot variant done.
import type { JourneyReport } from "../../harness/report.ts";
import { notRun } from "../../harness/runner.ts";
import { journeySteps } from "../../harness/steps.ts";

export function sampleReport(overrides: Partial<JourneyReport> = {}): JourneyReport {
  const t = Date.parse("2026-11-22T10:00:00Z");
  const steps = journeySteps("snapshot").filter((s) => !s.final).map((s, i) => ({ ...notRun(s), status: "ok" as const, startedAt: t + i * 10_000, seconds: 5 + i }));
  return {
    cloud: "local", variant: "snapshot", stack: "journey-x", startedAt: new Date(t).toISOString(), steps,
    resources: { gpuInstanceId: 29012345, snapshotId: "20261122T100000000Z-test-snapshot-1", failoverGpuId: 29012456 },
    rto: { snapshot: { seconds: 12.5, phases: { offer_search: 2.0, provider_wait: 5.5, host_tools: 0.8, last_copy: 0.6, restore: 1.2, verify: 0.3, fence: 1.1, swap: 0.2, other: 0.8 } } },
    testFiles: [{ path: "test-file-1.txt", size: 100, md5: "a".repeat(32) }], workspaceBytes: 0,
    validation: { validated: 1, total: 1, failures: [] },
    cost: { items: [], total: 0.0314, gpuCostPerHour: 0.32, worstCase: [] },
    cleanup: { destroyedBySweep: [], leaks: [], snapshotKept: true, errors: [] },
    success: true, timeTotalSeconds: 75,
    ...overrides,
  };
}
