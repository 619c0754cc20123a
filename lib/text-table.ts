// Plain-text output shared by the commands: aligned columns, and ages as people read them.

/** Rows under a header, each column as wide as its widest cell, two spaces apart. */
export function columns(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** 45s, 12m, 5h, 3d: how long ago `seconds` of age is. */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
