// Verifying a restored tree against its manifest as the host's listings arrive: every difference
// named, in the manifest's order, whatever order the scan and the MD5s came in.
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../../dataplane/snapshot/manifest.ts";
import { compareTrees, keptMismatches, TreeVerification } from "../../../../dataplane/snapshot/tree-verification.ts";

const sum = (c: string) => c.repeat(32);
const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", md5: sum("a"), ...extra });
const withoutMd5 = ({ md5: _md5, ...entry }: Entry): Entry => entry;

describe("a tree compared with its manifest", () => {
  it("names every path that differs, and how", () => {
    const expected = [file("a"), file("b"), file("c"), file("unread"), { path: "l", type: "symlink" as const, size: 0, mode: 0o777, mtime: "1", target: "x" }];
    const actual = [file("a"), file("b", { md5: sum("b") }), file("extra"), file("unread", { md5: undefined }), { path: "l", type: "symlink" as const, size: 0, mode: 0o777, mtime: "9", target: "y" }];
    const result = compareTrees(expected, actual);
    expect(result.failures).toEqual([
      { path: "b", problem: `MD5 ${sum("b")}, expected ${sum("a")}` },
      { path: "c", problem: "missing" },
      { path: "unread", problem: "its MD5 could not be read" },
      { path: "l", problem: "points to y, expected x" },
      { path: "extra", problem: "not in the snapshot" },
    ]);
    expect(result.failureCount).toBe(5);
  });

  it("reports differences in files recorded as unstable as warnings, not failures", () => {
    const expected = [file("steady"), file("hot", { unstable: true })];
    const actual = [file("steady", { md5: sum("c") }), file("hot", { size: 99 })];
    const { failures, warnings, warningCount } = compareTrees(expected, actual);
    expect(failures.map((m) => m.path)).toEqual(["steady"]);
    expect(warnings).toEqual([{ path: "hot", problem: "size 99, expected 10" }]);
    expect(warningCount).toBe(1);
  });

  it("joins an entry's differences in one line, and a changed type alone", () => {
    const expected = [file("f"), { path: "d", type: "dir" as const, size: 0, mode: 0o755, mtime: "5" }];
    const actual = [file("f", { size: 11, md5: sum("b"), mode: 0o600, mtime: "7" }), file("d")];
    expect(compareTrees(expected, actual).failures).toEqual([
      { path: "f", problem: `size 11, expected 10; MD5 ${sum("b")}, expected ${sum("a")}; mode 600, expected 644; mtime 7, expected 1700000000.0000000000` },
      { path: "d", problem: "is a file, expected a dir" },
    ]);
  });

  it("takes the scan and the MD5s in any order, each compared as it arrives", () => {
    const expected = [file("x"), file("y"), file("z")];
    const verification = new TreeVerification(expected);
    verification.hashed("z", sum("f")); // sums may come before the scan reaches the file
    verification.hashed("nowhere", sum("a")); // a sum of no expected file is not compared
    for (const entry of [...expected].reverse()) verification.found(withoutMd5(entry));
    verification.hashed("x", sum("a"));
    verification.hashed("y", sum("a"));
    expect(verification.result().failures).toEqual([{ path: "z", problem: `MD5 ${sum("f")}, expected ${sum("a")}` }]);
  });

  it("forgets the MD5s of files written again, and asks the host only for files without one", () => {
    const expected = [file("kept"), file("rewritten"), file("never"), { path: "d", type: "dir" as const, size: 0, mode: 0o755, mtime: "5" }];
    const verification = new TreeVerification(expected);
    verification.hashed("kept", sum("a"));
    verification.hashed("rewritten", sum("a"));
    verification.forgetSums(["rewritten", "d", "not in the tree"]);
    expect(verification.knownSums()).toBe(1);
    expect(verification.filesToHash()).toEqual(["rewritten", "never"]);
  });

  it("counts every difference but names only the first ones, and the extras in path order", () => {
    const many = Array.from({ length: keptMismatches + 5 }, (_, i) => file(`f${String(i).padStart(6, "0")}`));
    const verification = new TreeVerification(many);
    for (const extra of ["zz", "aa"]) verification.found(file(extra));
    const result = verification.result();
    expect(result.failureCount).toBe(keptMismatches + 7);
    expect(result.failures).toHaveLength(keptMismatches);
    expect(result.failures[0]).toEqual({ path: "f000000", problem: "missing" });

    const few = new TreeVerification([file("m")]);
    for (const extra of ["zz", "aa"]) few.found(file(extra));
    expect(few.result().failures.map((m) => m.path)).toEqual(["m", "aa", "zz"]);
  });

  it("finds nothing to report when the trees match", () => {
    const expected = [file("a"), { path: "d", type: "dir" as const, size: 0, mode: 0o755, mtime: "1700000000.0000000001" }];
    const actual = [file("a"), { path: "d", type: "dir" as const, size: 0, mode: 0o755, mtime: "1700000000.0000000000" }];
    expect(compareTrees(expected, actual)).toEqual({ failures: [], warnings: [], failureCount: 0, warningCount: 0 });
  });
});
