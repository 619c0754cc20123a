// Planning a snapshot's upload: multipart sizes within S3/B2's limits, an archive bound that holds,
// and reading in rounds whatever the number of files.
import { describe, expect, it } from "vitest";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { entryFields, type Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { archiveUpperBound, maxReads, planParts, readInRounds, recordedTree } from "../../../../dataplane/snapshot/create.ts";
import { diffTrees } from "../../../../dataplane/snapshot/manifest.ts";

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", md5: "a".repeat(32), ...extra });

describe("multipart planning", () => {
  it("stays within S3/B2 limits: parts of at least 5 MiB and at most 10,000 of them", () => {
    expect(planParts(1000)).toEqual({ partSize: 64 * 1024 * 1024, parts: 1 });
    expect(planParts(1000, 1)).toMatchObject({ partSize: 5 * 1024 * 1024 });
    const huge = planParts(5 * 1024 ** 4); // 5 TiB
    expect(huge.parts).toBeLessThanOrEqual(10_000);
    expect(huge.partSize * huge.parts).toBeGreaterThanOrEqual(5 * 1024 ** 4);
  });

  it("bounds the archive from above, tar headers and LZ4's worst case included", () => {
    const bound = archiveUpperBound(entryFields([file("x", { size: 100 * 1024 * 1024 })]));
    expect(bound).toBeGreaterThan(100 * 1024 * 1024 * 1.004);
  });
});

describe("reading in rounds", () => {
  it("records every entry of a round of 300,000 files (a spread of them once passed the engine's argument limit)", async () => {
    const entries = Array.from({ length: 300_000 }, (_, i) => file(`d${i % 300}/f${i}`, { md5: undefined }));
    const sums = new Map(entries.map((e) => [e.path, "b".repeat(32)]));
    const seen = new Map(entries.map((e) => [e.path, e]));
    const upload = {
      roundRead: async () => ({ status: 0, notes: [] }),
      roundSums: async (_: number, onSum: (path: string, md5: string) => void) => sums.forEach((md5, path) => onSum(path, md5)),
      roundSeen: async (_: number, onEntry: (entry: Entry) => void) => seen.forEach((entry) => onEntry(entry)),
      startRound: async () => {
        throw new Error("nothing changed: no second round");
      },
    };
    const tree = EntryTable.of(entries);
    const vanished = await readInRounds({ label: "gpu" }, upload, tree, entries.map((_, i) => i), 64 * 1024 * 1024, () => {});
    expect(vanished).toEqual([]);
    expect([...tree].every((e) => e.md5 === "b".repeat(32) && !e.unstable)).toBe(true);
  });

  it("records 200,000 files that change during every read as unstable, as last read", async () => {
    const entries = Array.from({ length: 200_000 }, (_, i) => file(`d${i % 200}/f${i}`, { md5: undefined }));
    const sums = new Map(entries.map((e) => [e.path, "c".repeat(32)]));
    let round = 1;
    const upload = {
      roundRead: async () => ({ status: 0, notes: [] }),
      roundSums: async (_: number, onSum: (path: string, md5: string) => void) => sums.forEach((md5, path) => onSum(path, md5)),
      // Each round the reader sees every file grown since the round began.
      roundSeen: async (_: number, onEntry: (entry: Entry) => void) => entries.forEach((e) => onEntry({ ...e, size: e.size + round })),
      startRound: async (next: number) => {
        round = next;
      },
    };
    const tree = EntryTable.of(entries);
    const vanished = await readInRounds({ label: "gpu" }, upload, tree, entries.map((_, i) => i), 64 * 1024 * 1024, () => {});
    expect(round).toBe(maxReads);
    expect(vanished).toEqual([]);
    // As the last read saw them when it began (grown by the rounds before it), with its MD5.
    expect([...tree].every((e, i) => e.unstable && e.md5 === "c".repeat(32) && e.size === entries[i]!.size + maxReads - 1)).toBe(true);
  });
});

describe("the tree a manifest records", () => {
  const dir = (path: string): Entry => ({ path, type: "dir", size: 0, mode: 0o755, mtime: "1" });
  const scanned = () => {
    const tree = EntryTable.of([dir("a"), file("a/x", { md5: undefined }), file("a/y", { md5: undefined }), file("b", { md5: undefined }), dir("c"), file("c/z", { md5: undefined }), file("d", { md5: undefined })]);
    tree.sortByPath();
    return tree;
  };

  it("leaves out what vanished as it was read and what was below it: archived, so discarded; the parent's, so deleted", () => {
    const tree = scanned();
    const parent = [dir("a"), file("a/x"), file("d"), file("gone")];
    const changes = diffTrees(parent, tree);
    const recorded = recordedTree(tree, changes, [tree.position("a")!]);
    expect([...recorded.entries].map((e) => e.path)).toEqual(["b", "c", "c/z", "d"]);
    expect([...recorded.included]).toEqual(["b", "c", "c/z"]);
    expect(recorded.discarded).toEqual(["a", "a/y"]); // a/x and d, unchanged since the parent, were not archived
    expect(recorded.deleted).toEqual(["a", "a/x", "gone"]);
    expect(recorded.entries.position("c/z")).toBe(2);
    expect(recorded.entries.at(3)).toEqual(file("d")); // its MD5 the parent's
  });

  it("is the scanned tree itself when nothing vanished", () => {
    const tree = scanned();
    const recorded = recordedTree(tree, diffTrees(undefined, tree), []);
    expect(recorded.entries).toBe(tree);
    expect([...recorded.included]).toEqual([...tree].map((e) => e.path));
    expect([recorded.discarded, recorded.deleted]).toEqual([[], []]);
  });
});
