// Planning a snapshot's upload: multipart sizes within S3/B2's limits, an archive bound that holds,
// and reading in rounds whatever the number of files.
import { describe, expect, it } from "vitest";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { entryFields, type Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { archiveUpperBound, compareWithParent, maxReads, planParts, readInRounds, recordedTree } from "../../../../dataplane/snapshot/create.ts";
import { diffTrees, snapshotId, stats, type Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { manifestJson } from "../../../../dataplane/snapshot/manifest-json.ts";
import { ForeignSnapshotError } from "../../../../dataplane/snapshot/snapshot-owner.ts";
import { SnapshotStore } from "../../../../dataplane/snapshot/store.ts";

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

describe("the comparison with the parent, as its manifest is read from the store", () => {
  const stack = "prod";
  const parentEntries = Array.from({ length: 300 }, (_, i) => file(`d/f${String(i).padStart(3, "0")}`));
  const scan = () => {
    // The parent's files, the first ten grown, one new; what a sorted scan gives.
    const tree = EntryTable.of([...parentEntries.map((e, i) => ({ ...e, md5: undefined, size: i < 10 ? 11 : 10 })), file("d/new", { md5: undefined })]);
    tree.sortByPath();
    return tree;
  };
  const manifestOf = (id: string, chain: string[], extra: Partial<Manifest> = {}): Manifest => ({
    format: "dumont-snapshot/1", id, name: "p", createdAt: "2026-12-03T00:00:00.000Z", kind: "full", parent: null, chain, source: { host: "h" }, stack,
    archive: { key: "k", bytes: 1, parts: 1, partSize: 5242880, compression: "lz4" },
    entries: parentEntries, included: parentEntries.map((e) => e.path), deleted: [], discarded: [], stats: stats(parentEntries), ...extra,
  });
  /** A store whose bucket holds these manifests (the store's own reading, over a stand-in for S3's GetObject). */
  const storeOf = (manifests: Record<string, Buffer>) => {
    const store = new SnapshotStore({ endpoint: "http://127.0.0.1:9", region: "us-east-1", accessKeyId: "k", secretAccessKey: "s", bucket: "b", prefix: "p/", stack });
    const reads = { started: 0, closed: 0, bytes: 0 };
    store.s3.send = (async (command: unknown) => {
      if (!(command instanceof GetObjectCommand)) throw new Error("only GetObject here");
      const bytes = manifests[command.input.Key!.split("/")[1]!]!;
      reads.started++;
      const body = async function* () {
        try {
          for (let at = 0; at < bytes.length; at += 1000) {
            reads.bytes += Math.min(1000, bytes.length - at);
            yield bytes.subarray(at, at + 1000);
          }
        } finally {
          reads.closed++;
        }
      };
      return { Body: body() };
    }) as never;
    return { store, reads };
  };
  const parentId = snapshotId("p", new Date("2026-12-03T00:00:00Z"));
  const paths = (tree: EntryTable, positions: Iterable<number>) => Array.from(positions, (i) => tree.pathAt(i));

  it("gives what changed, carries the MD5s of the rest, and names the parent", async () => {
    const { store, reads } = storeOf({ [parentId]: manifestJson(manifestOf(parentId, [parentId])) });
    const tree = scan();
    const { changes, of } = await compareWithParent(store, parentId, tree, 7);
    expect(paths(tree, changes.changed).sort()).toEqual([...parentEntries.slice(0, 10).map((e) => e.path), "d/new"].sort());
    expect({ unchanged: changes.unchanged, deleted: changes.deleted, of: of && { id: of.id, chain: of.chain } }).toEqual({ unchanged: 290, deleted: [], of: { id: parentId, chain: [parentId] } });
    expect(tree.at(tree.position("d/f200")!).md5).toBe("a".repeat(32));
    expect(reads).toMatchObject({ started: 1, closed: 1 });
  });

  it("auto: a parent whose chain is already fullEvery long makes a full snapshot, its manifest read no further than its header", async () => {
    const bytes = manifestJson(manifestOf(parentId, ["20261202T000000000Z-a", parentId]));
    const { store, reads } = storeOf({ [parentId]: bytes });
    const tree = scan();
    const { changes, of } = await compareWithParent(store, parentId, tree, 2);
    expect({ changed: changes.changed.length, of }).toEqual({ changed: tree.length, of: undefined });
    expect([...tree].every((e) => e.md5 === undefined)).toBe(true);
    expect(reads.bytes).toBeLessThan(bytes.length / 4);
    expect(reads.closed).toBe(1);
    // Named explicitly (no fullEvery), the same parent is one.
    expect((await compareWithParent(storeOf({ [parentId]: bytes }).store, parentId, scan(), undefined)).of?.id).toBe(parentId);
  });

  it("refuses another stack's parent, naming it", async () => {
    const { store } = storeOf({ [parentId]: manifestJson(manifestOf(parentId, [parentId], { stack: "other" })) });
    await expect(compareWithParent(store, parentId, scan(), 7)).rejects.toThrow(ForeignSnapshotError);
    await expect(compareWithParent(store, parentId, scan(), 7)).rejects.toThrow(`snapshot ${parentId} belongs to stack 'other'`);
  });

  it("a parent out of path order stops its read, is read again whole and compared by lookups, to the same changes", async () => {
    const ordered = await compareWithParent(storeOf({ [parentId]: manifestJson(manifestOf(parentId, [parentId])) }).store, parentId, scan(), 7);
    const bytes = manifestJson(manifestOf(parentId, [parentId], { entries: parentEntries.toReversed() }));
    const { store, reads } = storeOf({ [parentId]: bytes });
    const tree = scan();
    const { changes } = await compareWithParent(store, parentId, tree, 7);
    expect(paths(tree, changes.changed).sort()).toEqual(paths(scan(), ordered.changes.changed).sort());
    expect(changes.unchanged).toBe(ordered.changes.unchanged);
    expect(reads).toMatchObject({ started: 2, closed: 2 });
    expect(reads.bytes).toBeLessThan(bytes.length * 1.5);
  });

  it("refuses in one line a parent without one list of entries", async () => {
    const text = manifestJson(manifestOf(parentId, [parentId])).toString("utf8");
    const twice = Buffer.from(text.replace('"included":', '"entries":[],"included":'));
    const none = Buffer.from(text.replace(/"entries":\[.*?\],"included"/s, '"entries":5,"included"'));
    expect(none.length).toBeLessThan(text.length);
    await expect(compareWithParent(storeOf({ [parentId]: twice }).store, parentId, scan(), 7)).rejects.toThrow(`the manifest of snapshot ${parentId} lists its entries twice: it is not one Dumont made`);
    await expect(compareWithParent(storeOf({ [parentId]: none }).store, parentId, scan(), 7)).rejects.toThrow(`the manifest of snapshot ${parentId} has no list of entries: it is not one Dumont made`);
  });
});
