// An incremental's comparison with its parent, made as the parent's manifest is read
// (parent-merge.ts): it must say exactly what diffTrees says of the parent held whole, and stop on a
// parent that is not in strict path order, for the caller to compare the slow way.
import { describe, expect, it } from "vitest";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { diffTrees, type Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { ParentMerge, ParentOutOfOrder } from "../../../../dataplane/snapshot/parent-merge.ts";

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", md5: "a".repeat(32), ...extra });
const byPath = (a: Entry, b: Entry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const scanOf = (entries: Entry[]): EntryTable => {
  const table = EntryTable.of(entries.map((entry) => ({ ...entry, md5: undefined })));
  table.sortByPath();
  return table;
};
/** What a comparison left: the changes as paths, and the tree with the MD5s it carried over. */
const outcome = (tree: EntryTable, changes: ReturnType<typeof diffTrees>) => ({
  changed: Array.from(changes.changed, (i) => tree.pathAt(i)), deleted: changes.deleted, unchanged: changes.unchanged,
  inParent: [...tree].filter((_, i) => changes.inParent![i] === 1).map((entry) => entry.path), tree: [...tree],
});

describe("an incremental's comparison with its parent as the parent is read", () => {
  // Names whose order `<` decides in ways a byte or locale order would not.
  const names = ["a", "a/b", "a/b/c", "a-b", "a.b", "a0", "b", "ä", "z", "\u{1f600}", "\uffff", "é/x", "bytes\udcff"];
  const random = (seed: number) => () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;

  it("says what diffTrees says of the parent held whole: changed, deleted, unchanged, MD5s carried over", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const draw = random(seed);
      const pick = () => [...new Set(names.flatMap((name) => (draw() < 0.6 ? [`${name}${draw() < 0.3 ? "/f" : ""}`] : [])))];
      const entry = (path: string): Entry => {
        const kind = draw();
        if (kind < 0.1) return { path, type: "dir", size: 0, mode: 0o755, mtime: "1" };
        if (kind < 0.15) return { path, type: "symlink", size: 0, mode: 0o777, mtime: "1", target: draw() < 0.5 ? "t" : "u" };
        return file(path, {
          size: draw() < 0.2 ? 11 : 10, mtime: draw() < 0.1 ? "1700000001.5" : "1700000000.0000000000",
          ...(draw() < 0.1 && { unstable: true as const }), ...(draw() < 0.05 && { md5: "not an md5" }),
        });
      };
      const parent = pick().map(entry).sort(byPath);
      const current = pick().map(entry);
      const held = scanOf(current);
      const expected = outcome(held, diffTrees(parent, held));
      const walked = scanOf(current);
      const merge = new ParentMerge(walked);
      for (const element of parent) merge.push(element);
      expect(outcome(walked, merge.changes())).toEqual(expected);
    }
  });

  it("stops (and so stops the read) at a parent not in strict path order, or at what is no entry with a path", () => {
    const stops = [
      [file("b"), file("a")], // out of order
      [file("a"), file("a")], // a path twice
      [file("a"), null], [file("a"), 7], [{ type: "file" }], [{ path: 5 }], [file("x".repeat(4097))],
    ];
    for (const parent of stops) {
      const merge = new ParentMerge(scanOf([file("a"), file("b")]));
      expect(() => parent.forEach((element) => merge.push(element))).toThrow(ParentOutOfOrder);
    }
    const merge = new ParentMerge(scanOf([file("a"), file("b")]));
    for (const element of [file("a"), file("b")]) merge.push(element);
    expect(merge.changes()).toMatchObject({ changed: [], deleted: [], unchanged: 2 });
  });
});
