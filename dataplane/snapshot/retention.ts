// Which snapshots to delete. Incremental snapshots need their whole chain, so deleting one takes its
// descendants with it, and keeping one keeps its ancestors. Pure planning; the store deletes.
import { matchesPattern } from "../../lib/name-pattern.ts";
import type { SnapshotSummary } from "./store.ts";

function descendants(all: readonly SnapshotSummary[], ids: ReadonlySet<string>): Set<string> {
  const result = new Set(ids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) {
      if (s.parent && result.has(s.parent) && !result.has(s.id)) {
        result.add(s.id);
        grew = true;
      }
    }
  }
  return result;
}

/** Snapshots matched by id or name pattern, plus the incrementals that depend on them, newest last. */
export function planDeletion(all: readonly SnapshotSummary[], selector: { id?: string; pattern?: string }): SnapshotSummary[] {
  const matched = new Set(
    all.filter((s) => (selector.id !== undefined && s.id === selector.id) || (selector.pattern !== undefined && matchesPattern(s.name, selector.pattern))).map((s) => s.id),
  );
  const doomed = descendants(all, matched);
  return all.filter((s) => doomed.has(s.id));
}

/** Keep the newest `keep` snapshots and every ancestor they need; everything else goes. */
export function planRetention(all: readonly SnapshotSummary[], keep: number): SnapshotSummary[] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const kept = new Set<string>();
  for (const newest of [...all].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, keep)) {
    for (let s: SnapshotSummary | undefined = newest; s && !kept.has(s.id); s = s.parent ? byId.get(s.parent) : undefined) kept.add(s.id);
  }
  return all.filter((s) => !kept.has(s.id));
}
