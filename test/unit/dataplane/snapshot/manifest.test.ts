// A snapshot's manifest: what changed since the parent, and the ids snapshots sort by.
import { describe, expect, it } from "vitest";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { diffTrees, dropOrphans, nameOfId, snapshotId, type Entries, type Entry } from "../../../../dataplane/snapshot/manifest.ts";

const diffOf = diffTrees;
const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", md5: "a".repeat(32), ...extra });

/** A table of these entries in path order, as a scan is once sorted and a manifest Dumont wrote is. */
const sortedTable = (entries: Entry[]): EntryTable => {
  const table = EntryTable.of(entries);
  table.sortByPath();
  return table;
};
const inPathOrder = (entries: Entry[]): Entry[] => entries.toSorted((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

describe.each([
  ["made here", (entries: Entry[]): Entries => entries, EntryTable.of],
  ["read from the store", (entries: Entry[]): Entries => EntryTable.of(entries), EntryTable.of],
  ["read from the store, both trees in path order", sortedTable, sortedTable],
])("incremental diffs, the parent %s", (_, held, scanned) => {
  /** The diff, and the current tree as it leaves it (the MD5s it carries over written in). */
  const diffTrees = (parent: Entry[], current: Entry[]) => {
    const tree = scanned(current);
    const diff = diffOf(held(parent), tree);
    return { ...diff, changed: Array.from(diff.changed, (i) => tree.at(i)), tree: [...tree] };
  };

  it("holds what changed, lists what was deleted and carries MD5s of the rest", () => {
    const parent = [file("same"), file("grown"), file("gone"), { ...file("d"), type: "dir" as const, size: 0, md5: undefined }];
    const current = [file("same", { md5: undefined }), file("grown", { size: 11, md5: undefined }), file("new", { md5: undefined }), { ...file("d"), type: "dir" as const, size: 0, md5: undefined }];
    const diff = diffTrees(parent, current);
    expect(diff.changed.map((e) => e.path).sort()).toEqual(["d", "grown", "new"]);
    expect(diff.deleted).toEqual(["gone"]);
    expect(diff.unchanged).toBe(1);
    expect(inPathOrder(diff.tree)).toEqual(inPathOrder([file("same"), ...current.slice(1)]));
  });

  it("with no parent, holds everything", () => {
    const diff = diffOf(undefined, EntryTable.of([file("x"), file("y")]));
    expect({ ...diff, changed: [...diff.changed] }).toEqual({ changed: [0, 1], deleted: [], unchanged: 0 });
  });

  it("reads again a file whose MD5 in the parent is no MD5 (a bucket's manifest may hold anything)", () => {
    for (const md5 of ["abc", "A".repeat(32), 7 as unknown as string]) {
      const diff = diffTrees([file("x", { md5 })], [file("x", { md5: undefined })]);
      expect(diff.changed.map((e) => e.path)).toEqual(["x"]);
      expect(diff.tree[0]!.md5).toBeUndefined();
    }
  });

  it("treats a changed mtime or mode as a change, like rsync's quick check", () => {
    expect(diffTrees([file("x")], [file("x", { mtime: "1700000001.0000000000" })]).changed).toHaveLength(1);
    expect(diffTrees([file("x")], [file("x", { mode: 0o600 })]).changed).toHaveLength(1);
  });

  it("reads again a file the parent recorded as unstable, even if it looks the same", () => {
    expect(diffTrees([file("x", { unstable: true })], [file("x", { md5: undefined })]).changed.map((e) => e.path)).toEqual(["x"]);
  });

  it("drops entries whose directory is not in the tree, or is no directory", () => {
    const dir = (path: string): Entry => ({ path, type: "dir", size: 0, mode: 0o755, mtime: "1" });
    const tree = EntryTable.of([dir("a"), file("a/x"), file("b"), file("b/y"), file("gone/z"), dir("a/c"), file("a/c/d"), file("top")]);
    tree.sortByPath();
    const kept = (dropped: Uint8Array) => {
      dropOrphans(tree, dropped);
      return [...tree].filter((_, i) => !dropped[i]).map((e) => e.path);
    };
    expect(kept(new Uint8Array(tree.length))).toEqual(["a", "a/c", "a/c/d", "a/x", "b", "top"]);
    const withoutA = new Uint8Array(tree.length);
    withoutA[tree.position("a")!] = 1; // it vanished
    expect(kept(withoutA)).toEqual(["b", "top"]);
  });
});

describe("ids, names and patterns", () => {
  it("sorts ids by time and keeps the name", () => {
    const id = snapshotId("test-snapshot-1", new Date("2026-01-02T03:04:05.678Z"));
    expect(id).toBe("20260102T030405678Z-test-snapshot-1");
    expect(nameOfId(id)).toBe("test-snapshot-1");
    expect(() => snapshotId("bad name", new Date())).toThrow(/snapshot name/);
  });
});
