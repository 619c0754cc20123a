// The removals a restore makes around each archive of a chain, from the manifests alone: what each
// link deleted and what changed type go before its archive, what it discarded goes after.
import { describe, expect, it } from "vitest";
import type { Entry, Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { leavesItsDirectory, outermostPaths, planChain, typeChanges } from "../../../../dataplane/snapshot/restore-plan.ts";

const file = (path: string): Entry => ({ path, type: "file", size: 1, mode: 0o644, mtime: "1.0" });
const dir = (path: string): Entry => ({ path, type: "dir", size: 0, mode: 0o755, mtime: "1.0" });
const symlink = (path: string, target: string): Entry => ({ path, type: "symlink", size: 0, mode: 0o777, mtime: "1.0", target });

function link(id: string, entries: Entry[], extra: Partial<Manifest> = {}): Manifest {
  return {
    format: "dumont-snapshot/1", id, name: id, createdAt: "", kind: "incremental", parent: null, chain: [], source: { host: "h" },
    archive: { key: id, bytes: 1, md5: "", parts: 1, partSize: 1, compression: "lz4" },
    entries, included: [], deleted: [], stats: { files: 0, dirs: 0, symlinks: 0, bytes: 0 }, ...extra,
  };
}

describe("restore planning", () => {
  it("finds paths whose type changed between two trees", () => {
    const before = [dir("a"), file("a/x"), dir("b"), file("c"), symlink("d", "t"), file("same"), file("gone")];
    const after = [symlink("a", "b"), file("b"), dir("c"), file("d"), file("same"), file("new")];
    expect(typeChanges(before, after)).toEqual(["a", "b", "c", "d"]);
  });

  it("removes a path once, and nothing below a path already removed", () => {
    expect(outermostPaths(["a/x", "a", "a-b", "a", "b/c/d", "b/c", "ab/x"])).toEqual(["a", "a-b", "ab/x", "b/c"]);
  });

  it("dir -> symlink, dir -> file and file -> dir: removed before the archive that changes them, with what the link deleted", () => {
    const full = link("1", [dir("models"), file("models/w.bin"), dir("data"), file("data/a.csv"), file("notes"), file("keep")]);
    const incremental = link("2", [symlink("models", "keep"), file("data"), dir("notes"), file("notes/n1"), file("keep")], {
      deleted: ["models/w.bin", "data/a.csv"], discarded: ["tmp/x", "tmp"],
    });
    const plan = planChain([full, incremental]);
    expect(plan.links).toEqual([
      { id: "1", removeBefore: [], removeAfter: [] },
      { id: "2", removeBefore: ["data", "models", "notes"], removeAfter: ["tmp"] },
    ]);
  });

  it("holds back the final tree's symlinks that leave their directory", () => {
    const full = link("1", [symlink("abs", "/etc"), symlink("up", "../x"), symlink("inside", "sub/x"), symlink("dots", "a..b")]);
    const incremental = link("2", [symlink("abs", "/etc"), symlink("inside", "../y"), dir("d"), symlink("d/hf", "../../blobs/1")]);
    expect(planChain([full, incremental]).heldBackSymlinks.map((e) => e.path)).toEqual(["abs", "inside", "d/hf"]);
    expect(planChain([full]).heldBackSymlinks.map((e) => e.path)).toEqual(["abs", "up"]);
  });

  it("knows which symlink targets lead out of their directory", () => {
    for (const target of ["/etc", "..", "../x", "a/..", "a/../b", "/"]) expect(leavesItsDirectory(target)).toBe(true);
    for (const target of ["x", "a/b", "a..b", "...", "./x", ".hidden/..x"]) expect(leavesItsDirectory(target)).toBe(false);
  });
});
