// The journey's HTML page shows a failure's reason safely, and loads nothing from elsewhere.
import { describe, expect, it } from "vitest";
import { renderHtml } from "../../../harness/report-html.ts";
import { sampleReport as report } from "../../support/journey-report.ts";

describe("journey report", () => {
  it("a failure shows its reason in HTML, escaped", () => {
    const failed = report({ success: false, failure: { step: "failover", reason: "restore failed: <script>alert(1)</script>" } });
    const html = renderHtml(failed);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("draws each failover's RTO as its phases, with their figures", () => {
    const html = renderHtml(report());
    expect(html).toContain("Recovery time (RTO) by phase");
    expect(html).toContain("from the snapshot: 12.5 s");
    expect(html).toMatch(/<title>provider_wait: 5\.50 s<\/title>/);
    expect(html).toContain("verify 0.3 s");
    expect(renderHtml(report({ rto: {} }))).not.toContain("Recovery time (RTO)");
  });
});
