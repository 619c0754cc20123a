// A file written while a snapshot reads it: which entries are read at rest, read again, or gone
// after a round, and what the tree keeps of each.
import { describe, expect, it } from "vitest";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import type { Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { RoundListing } from "../../../../dataplane/snapshot/read-rounds.ts";
import type { TarReport } from "../../../../dataplane/snapshot/tar-messages.ts";

const file = (p: string, extra: Partial<Entry> = {}): Entry => ({ path: p, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", ...extra });
const quiet: TarReport = { changed: new Set(), missing: new Set(), others: [] };
const sumOf = (path: string) => path.padEnd(32, "0").replace(/[^0-9a-f]/g, "0");

describe("settling a round", () => {
  const read = [file("still"), file("grew"), file("touched"), file("gone"), file("retyped"), { ...file("d"), type: "dir" as const, size: 0 }, file("told")];
  const now = new Map<string, Entry>([
    ["still", file("still")],
    ["grew", file("grew", { size: 11 })],
    ["touched", file("touched", { mtime: "1700000001.0000000000" })],
    ["retyped", { ...file("retyped"), type: "dir", size: 0 }],
    ["d", { ...file("d"), type: "dir", size: 0, mtime: "1700000009.0000000000" }],
    ["told", file("told")],
  ]);
  const summedPaths = ["still", "grew", "touched", "told"];

  /** A round over all of `read`, every listing record handed in. */
  const round = (sums: readonly string[], tar: TarReport) => {
    const tree = EntryTable.of(read);
    const listing = new RoundListing(tree, read.map((_, i) => i));
    for (const entry of now.values()) listing.seen(entry);
    for (const path of sums) listing.summed(path, sumOf(path));
    return { tree, outcome: listing.settle(tar) };
  };

  it("keeps entries read at rest with this round's MD5, reads changed ones again as they are now, and names vanished ones", () => {
    const { tree, outcome } = round(summedPaths, { ...quiet, changed: new Set(["told"]) });
    expect(outcome.changing.map((c) => tree.pathAt(c.position))).toEqual(["grew", "touched", "retyped", "told"]);
    expect(outcome.changing.map((c) => c.now)).toEqual([now.get("grew"), now.get("touched"), now.get("retyped"), { ...file("told"), md5: sumOf("told") }]);
    expect(outcome.vanished.map((i) => tree.pathAt(i))).toEqual(["gone"]);
    expect(tree.at(0)).toEqual({ ...file("still"), md5: sumOf("still") });
    expect(tree.at(5)).toEqual({ ...file("d"), type: "dir", size: 0 }); // its mtime as scanned: the restore sets it
    expect(tree.at(1)).toEqual({ ...file("grew"), md5: sumOf("grew") }); // as read, until it is read again
  });

  it("reads again a file whose MD5 could not be taken, or that tar did not find", () => {
    expect(round([], quiet).outcome.changing.map((c) => c.now.path)).toContain("still");
    expect(round(summedPaths, { ...quiet, missing: new Set(["still"]) }).outcome.changing.map((c) => c.now.path)).toContain("still");
    expect(round(summedPaths, quiet).outcome.changing.map((c) => c.now.path)).not.toContain("still");
  });

  it("ignores records of entries the round did not ask for, counts the last record of a path, and drops the MD5 of an earlier read", () => {
    const tree = EntryTable.of([file("a", { md5: "1".repeat(32) }), file("b"), file("c", { md5: "2".repeat(32) }), { ...file("d"), type: "dir" }]);
    const listing = new RoundListing(tree, [0, 1, 3]);
    listing.seen({ ...file("d"), type: "dir" });
    expect(tree.md5At(0)).toBeUndefined(); // this round's read decides it
    listing.seen(file("c", { size: 99 }));
    listing.summed("c", "f".repeat(32));
    listing.seen(file("a", { size: 99 }));
    listing.seen(file("a")); // seen twice: the last counts
    listing.seen(file("b"));
    listing.summed("a", "3".repeat(32));
    listing.summed("not in the tree", "4".repeat(32));
    listing.summed("d", "5".repeat(32)); // not a file: no MD5 of it counts
    const outcome = listing.settle(quiet);
    expect(outcome.changing.map((c) => c.now.path)).toEqual(["b"]); // never summed
    expect(outcome.vanished).toEqual([]);
    expect(tree.at(0)).toEqual(file("a", { md5: "3".repeat(32) }));
    expect(tree.at(2)).toEqual(file("c", { md5: "2".repeat(32) })); // not in the round: as it was
    expect(tree.at(3)).toEqual({ ...file("d"), type: "dir" });
  });
});
