// Which snapshots retention and deletion remove: never an ancestor a kept snapshot needs.
import { describe, expect, it } from "vitest";
import { planDeletion, planRetention } from "../../../../dataplane/snapshot/retention.ts";
import type { SnapshotSummary } from "../../../../dataplane/snapshot/store.ts";

describe("retention", () => {
  const s = (id: string, parent: string | null = null): SnapshotSummary => ({ id, name: id.slice(2), createdAt: "", kind: parent ? "incremental" : "full", parent, files: 1, bytes: 1, archiveBytes: 1 });
  const all = [s("1-full-a"), s("2-inc-b", "1-full-a"), s("3-inc-c", "2-inc-b"), s("4-full-d"), s("5-inc-e", "4-full-d")];

  it("keeps the newest N and the ancestors they need", () => {
    expect(planRetention(all, 1).map((x) => x.id)).toEqual(["1-full-a", "2-inc-b", "3-inc-c"]);
    expect(planRetention(all, 3).map((x) => x.id)).toEqual([]);
  });

  it("deleting a snapshot takes the incrementals built on it", () => {
    expect(planDeletion(all, { id: "2-inc-b" }).map((x) => x.id)).toEqual(["2-inc-b", "3-inc-c"]);
    expect(planDeletion(all, { pattern: "full-*" }).map((x) => x.id)).toEqual(all.map((x) => x.id));
  });
});
