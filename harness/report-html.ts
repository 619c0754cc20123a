// The journey as a page a person would rather read: the verdict, a timeline of the steps drawn to
// scale, and the cost broken down by provider with the rates used. One file, no scripts, no fonts or
// images from anywhere: it opens offline and can be mailed or archived as is.
import { formatUsd, type LineItem } from "../clouds/cost/model.ts";
import type { JourneyReport, StepRecord } from "./report.ts";

/** Bar colours by outcome; the screenshot test looks for the "ok" colour. */
export const stepColours: Record<StepRecord["status"], string> = { ok: "#2563eb", failed: "#dc2626", interrupted: "#d97706", "not run": "#d1d5db" };
export const cleanupColour = "#6b7280";

function escape(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function timeline(r: JourneyReport): string {
  const ran = r.steps.filter((s) => s.startedAt !== undefined && s.seconds !== undefined);
  if (ran.length === 0) return "<p>No step ran.</p>";
  const t0 = Math.min(...ran.map((s) => s.startedAt!));
  const end = Math.max(...ran.map((s) => s.startedAt! + s.seconds! * 1000));
  const span = Math.max(1, end - t0);
  const labelWidth = 330;
  const barWidth = 560;
  const rowHeight = 30;
  const rows = r.steps.map((s, i) => {
    const y = 10 + i * rowHeight;
    const label = `<text x="0" y="${y + 17}" class="label">${escape(s.title)}</text>`;
    if (s.startedAt === undefined || s.seconds === undefined) return `${label}<text x="${labelWidth}" y="${y + 17}" class="muted">not run</text>`;
    const x = labelWidth + ((s.startedAt - t0) / span) * barWidth;
    const w = Math.max(3, ((s.seconds * 1000) / span) * barWidth);
    const colour = s.id === "cleanup" ? cleanupColour : stepColours[s.status];
    return `${label}<rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="18" rx="3" fill="${colour}"><title>${escape(s.detail ?? s.status)}</title></rect>`
      + `<text x="${Math.min(x + w + 6, labelWidth + barWidth + 6).toFixed(1)}" y="${y + 17}" class="secs">${s.seconds.toFixed(1)} s</text>`;
  });
  const height = 20 + r.steps.length * rowHeight + 20;
  const axisY = height - 14;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${(labelWidth + f * barWidth).toFixed(1)}" y="${axisY}" class="muted" text-anchor="middle">${((f * span) / 1000).toFixed(0)} s</text>`);
  return `<svg role="img" aria-label="timeline of the journey's steps" width="${labelWidth + barWidth + 70}" height="${height}" xmlns="http://www.w3.org/2000/svg">${rows.join("")}${ticks.join("")}</svg>`;
}

/** Phase colours: the provider's wait and the data in blues and greens, Dumont's own phases in warm tones. */
const phaseColours: Record<string, string> = {
  provider_wait: "#93c5fd", last_copy: "#6ee7b7", restore: "#34d399", verify: "#059669",
  offer_search: "#fbbf24", host_tools: "#f59e0b", fence: "#f97316", swap: "#ef4444", other: "#9ca3af",
};

/** Each failover's RTO as one bar of its phases in the order they happened, and their figures. */
function rtoPanel(r: JourneyReport): string {
  const runs = (["snapshot", "standby"] as const).flatMap((source) => (r.rto[source] ? [{ source, rto: r.rto[source]! }] : []));
  if (runs.length === 0) return "";
  const longest = Math.max(...runs.map((run) => run.rto.seconds));
  const barWidth = 560;
  const bars = runs.map(({ source, rto }) => {
    let x = 0;
    const segments = Object.entries(rto.phases).filter(([, s]) => s > 0).map(([phase, s]) => {
      const w = (s / longest) * barWidth;
      const rect = `<rect x="${(170 + x).toFixed(1)}" y="4" width="${Math.max(1, w).toFixed(1)}" height="18" fill="${phaseColours[phase] ?? "#d1d5db"}"><title>${escape(`${phase}: ${s.toFixed(2)} s`)}</title></rect>`;
      x += w;
      return rect;
    });
    const figures = Object.entries(rto.phases).filter(([, s]) => s >= 0.05).map(([phase, s]) => `<span class="phase"><i style="background:${phaseColours[phase] ?? "#d1d5db"}"></i>${escape(phase)} ${s.toFixed(1)} s</span>`);
    return `<svg role="img" aria-label="phases of the failover from the ${source}" width="${170 + barWidth + 70}" height="26" xmlns="http://www.w3.org/2000/svg"><text x="0" y="17" class="label">from the ${escape(source)}: ${rto.seconds.toFixed(1)} s</text>${segments.join("")}</svg><div class="phases">${figures.join("")}</div>`;
  });
  return `<h2>Recovery time (RTO) by phase</h2>\n<div class="panel">${bars.join("")}<p class="muted">From the failover's start to a verified GPU made active. The provider's wait and the data (last copy, restore, verify) are what a failover cannot avoid; the rest is Dumont's own.</p></div>`;
}

function costTable(items: readonly LineItem[]): string {
  const providers = ["vast", "gcp", "b2"] as const;
  const names = { vast: "Vast.ai", gcp: "GCP (standby)", b2: "Backblaze B2" };
  const sections = providers.map((p) => {
    const mine = items.filter((i) => i.provider === p);
    if (mine.length === 0) return "";
    const subtotal = mine.reduce((s, i) => s + i.usd, 0);
    const rows = mine.map((i) => `<tr><td>${escape(i.resource)}</td><td>${escape(i.what)}</td><td class="num">${i.quantity.toFixed(4)} ${escape(i.unit)}</td><td class="num">${escape(formatUsd(i.rate))}${escape(i.rateUnit.slice(1))}</td><td class="num">${escape(formatUsd(i.usd))}</td></tr>`);
    return `<tr class="provider"><th colspan="4">${names[p]}</th><th class="num">${escape(formatUsd(subtotal))}</th></tr>${rows.join("")}`;
  });
  return `<table><thead><tr><th>Resource</th><th>Item</th><th class="num">Quantity</th><th class="num">Rate</th><th class="num">Cost</th></tr></thead><tbody>${sections.join("")}</tbody></table>`;
}

export function renderHtml(r: JourneyReport): string {
  const v = r.validation ?? r.standbyValidation;
  const card = (title: string, value: string, tone = "") => `<div class="card ${tone}"><div class="k">${escape(title)}</div><div class="v">${escape(value)}</div></div>`;
  const resources: Array<[string, unknown]> = [
    ["Original GPU", r.resources.gpuInstanceId], ["Snapshot", r.resources.snapshotId], ["Failover GPU", r.resources.failoverGpuId],
    ["CPU standby", r.resources.standby], ["Standby → GPU", r.resources.standbyFailoverGpuId],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dumont journey ${escape(r.stack)}: ${r.success ? "success" : "FAILED"}</title>
<style>
body { font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; margin: 28px; color: #111827; background: #f9fafb; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.sub { color: #4b5563; margin-bottom: 18px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card .k { color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; } .card .v { font-size: 20px; font-weight: 600; }
.good .v { color: #15803d; } .bad .v { color: #b91c1c; }
.panel { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 14px; overflow-x: auto; }
svg .label { font-size: 13px; fill: #111827; } svg .secs { font-size: 12px; fill: #374151; } svg .muted { font-size: 12px; fill: #9ca3af; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #f3f4f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } tr.provider th { background: #f3f4f6; }
.failure { background: #fef2f2; border: 1px solid #fecaca; border-radius: 8px; padding: 10px 14px; color: #991b1b; margin-top: 16px; }
.phases { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0 12px 170px; font-size: 12px; color: #374151; }
.phase i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; } p.muted { color: #6b7280; font-size: 13px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; margin: 0; } dt { color: #6b7280; }
</style></head><body>
<h1>Dumont failover journey — ${r.success ? "success" : "FAILED"}</h1>
<div class="sub">${escape(r.cloud === "local" ? "local cloud" : "real clouds")} · ${escape(r.variant)} · stack ${escape(r.stack)} · ${escape(r.startedAt)}</div>
<div class="cards">
${card("Result", r.success ? "✓ success" : "✗ failed", r.success ? "good" : "bad")}
${card("Files validated", v ? `${v.validated}/${v.total}` : "—", v && v.validated === v.total ? "good" : "bad")}
${card("Total time", r.timeTotalSeconds === undefined ? "—" : `${r.timeTotalSeconds.toFixed(1)} s`)}
${card("Estimated cost", formatUsd(r.cost.total))}
${card("GPU $/h", r.cost.gpuCostPerHour === undefined ? "—" : formatUsd(r.cost.gpuCostPerHour))}
${card("Left behind", r.cleanup.leaks.length === 0 ? "nothing" : String(r.cleanup.leaks.length), r.cleanup.leaks.length === 0 ? "good" : "bad")}
</div>
${r.failure ? `<div class="failure"><b>${escape(r.failure.step)}</b>: ${escape(r.failure.reason)}</div>` : ""}
<h2>Timeline</h2>
<div class="panel">${timeline(r)}</div>
${rtoPanel(r)}
<h2>Cost breakdown${r.cloud === "local" ? " (what this run would cost at these rates; the local cloud charges nothing)" : ""}</h2>
<div class="panel">${costTable(r.cost.items)}
<p>Total <b>${escape(formatUsd(r.cost.total))}</b>${r.cost.vastBilled !== undefined ? ` · Vast's own meter for these instances: ${escape(formatUsd(r.cost.vastBilled))}` : ""}${r.cost.maxCost !== undefined ? ` · cap ${escape(formatUsd(r.cost.maxCost))}` : ""}${r.cost.snapshotPerMonth !== undefined && r.cleanup.snapshotKept ? ` · keeping the snapshot: ${escape(formatUsd(r.cost.snapshotPerMonth))}/month` : ""}</p></div>
<h2>Resources</h2>
<div class="panel"><dl>${resources.filter(([, value]) => value !== undefined).map(([k, value]) => `<dt>${escape(k)}</dt><dd>${escape(value)}</dd>`).join("")}
<dt>Cleanup</dt><dd>${r.cleanup.leaks.length === 0 ? "every instance destroyed; nothing of the run left (checked by label)" : escape(r.cleanup.leaks.join("; "))}</dd></dl></div>
</body></html>
`;
}
