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
});
