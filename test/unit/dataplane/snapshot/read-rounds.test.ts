// A file written while a snapshot reads it: which entries are read at rest, read again, or gone
// after a round.
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { RoundListing, settleRound } from "../../../../dataplane/snapshot/read-rounds.ts";
import type { TarReport } from "../../../../dataplane/snapshot/tar-messages.ts";

const file = (p: string, extra: Partial<Entry> = {}): Entry => ({ path: p, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", ...extra });
const quiet: TarReport = { changed: new Set(), missing: new Set(), others: [] };

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
  const sums = new Map(["still", "grew", "touched", "told"].map((p) => [p, p.padEnd(32, "0")]));

  it("records entries read at rest with this round's MD5, reads changed ones again as they are now, and drops vanished ones", () => {
    const outcome = settleRound(read, now, sums, { ...quiet, changed: new Set(["told"]) });
    expect(outcome.settled).toEqual([{ ...file("still"), md5: "still".padEnd(32, "0") }, { ...file("d"), type: "dir", size: 0 }]);
    expect(outcome.changing.map((c) => c.now)).toEqual([now.get("grew"), now.get("touched"), now.get("retyped"), now.get("told")]);
    expect(outcome.changing[0]!.asRead).toEqual({ ...file("grew"), md5: "grew".padEnd(32, "0") });
    expect(outcome.vanished).toEqual(["gone"]);
  });

  it("reads again a file whose MD5 could not be taken, or that tar did not find", () => {
    expect(settleRound([file("still")], now, new Map(), quiet).changing).toHaveLength(1);
    expect(settleRound([file("still")], now, sums, { ...quiet, missing: new Set(["still"]) }).changing).toHaveLength(1);
  });

  it("settles the same from listings taken as they arrive as from maps of them", () => {
    const listing = new RoundListing(read);
    listing.seen(file("not asked for"));
    listing.seen({ ...file("grew"), size: 99 }); // a record seen twice: the last one counts, as in a map
    for (const entry of now.values()) listing.seen(entry);
    for (const [path, md5] of sums) listing.summed(path, md5);
    listing.summed("not asked for", "f".repeat(32));
    const told: TarReport = { ...quiet, changed: new Set(["told"]) };
    expect(settleRound(read, listing.now, listing.sums, told)).toEqual(settleRound(read, now, sums, told));
    expect(listing.now.get("still")).toBe(read[0]); // seen as it was: the round's own entry, no copy
    expect(listing.now.get("not asked for")).toBeUndefined();
    expect(listing.sums.get("not asked for")).toBeUndefined();
  });
});
