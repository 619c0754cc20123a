// Paths in a manifest are data: a restore refuses any that could reach outside /workspace, and any
// that do not fit the tree, naming the entry, before it touches the host.
import { beforeEach, describe, expect, it } from "vitest";
import { checkManifest, pathProblem, UnsafeManifestError } from "../../../../dataplane/snapshot/manifest-check.ts";
import { EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import type { Entry, Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { PathList } from "../../../../dataplane/snapshot/string-column.ts";

const file = (path: string): Entry => ({ path, type: "file", size: 1, mode: 0o644, mtime: "1.0", md5: "a".repeat(32) });
const dir = (path: string): Entry => ({ path, type: "dir", size: 0, mode: 0o755, mtime: "1.0" });
const symlink = (path: string, target: string): Entry => ({ path, type: "symlink", size: 0, mode: 0o777, mtime: "1.0", target });

/** The same manifest as the store reads it: its entries and path lists compact (entry-table.ts). */
function compact(m: Manifest): Manifest {
  const list = (paths: unknown) => (Array.isArray(paths) ? PathList.of(paths) : paths) as PathList;
  return {
    ...m, entries: Array.isArray(m.entries) ? EntryTable.of(m.entries) : m.entries, included: list(m.included), deleted: list(m.deleted),
    ...(m.discarded !== undefined && { discarded: list(m.discarded) }),
  };
}

let form: (m: Manifest) => Manifest = (m) => m;

function manifest(parts: Partial<Manifest>): Manifest {
  return form({
    format: "dumont-snapshot/1", id: "20260101T000000000Z-x", name: "x", createdAt: "", kind: "incremental", parent: "p", chain: ["p", "20260101T000000000Z-x"],
    source: { host: "h" }, archive: { key: "k", bytes: 1, md5: "b".repeat(32), parts: 1, partSize: 1, compression: "lz4" },
    entries: [dir("d"), file("d/f"), symlink("l", "/etc")], included: ["d", "d/f"], deleted: ["gone"], stats: { files: 1, dirs: 1, symlinks: 1, bytes: 1 },
    ...parts,
  });
}

describe("manifest paths", () => {
  it("accepts plain relative paths, whatever bytes their names hold", () => {
    for (const path of ["a", "a/b", "-dash", "..hidden", "a..b", "new\nline", "bad\udcff\udcfe", " spaced "]) expect(pathProblem(path)).toBeUndefined();
  });

  it("names what is wrong with every other path", () => {
    expect(pathProblem("")).toBe("is not a path");
    expect(pathProblem(undefined)).toBe("is not a path");
    expect(pathProblem("/root/canary")).toBe("is absolute");
    expect(pathProblem("../root/canary")).toBe("has a '..' component");
    expect(pathProblem("a/../../b")).toBe("has a '..' component");
    expect(pathProblem("a/./b")).toBe("has a '.' component");
    expect(pathProblem(".")).toBe("has a '.' component");
    expect(pathProblem("a//b")).toBe("has an empty component");
    expect(pathProblem("a/")).toBe("has an empty component");
    expect(pathProblem("a\0b")).toBe("holds a NUL byte");
    expect(pathProblem("a\ud800")).toBe("holds characters that stand for no bytes");
  });
});

describe.each([
  ["built here", (m: Manifest) => m],
  ["read from the store", compact],
])("manifest check, %s", (_, asHeld) => {
  beforeEach(() => {
    form = asHeld;
  });

  it("passes a consistent manifest", () => {
    expect(() => checkManifest(manifest({}))).not.toThrow();
  });

  it("refuses a poisoned deletion list, naming the entry", () => {
    expect(() => checkManifest(manifest({ deleted: ["ok", "../root/canary"] }))).toThrow(UnsafeManifestError);
    expect(() => checkManifest(manifest({ deleted: ["../root/canary"] }))).toThrow(
      'snapshot 20260101T000000000Z-x cannot be restored safely: deleted path "../root/canary" has a \'..\' component',
    );
    expect(() => checkManifest(manifest({ deleted: ["/root/canary"] }))).toThrow('deleted path "/root/canary" is absolute');
    expect(() => checkManifest(manifest({ discarded: ["x/../../y"] }))).toThrow('discarded path "x/../../y"');
  });

  it("refuses entries and archive members that do not fit the tree", () => {
    expect(() => checkManifest(manifest({ entries: [dir("d"), file("/abs")] }))).toThrow('entry path "/abs" is absolute');
    expect(() => checkManifest(manifest({ entries: [symlink("l", "/etc"), file("l/passwd")], included: [] }))).toThrow(
      'entry "l/passwd" is below "l", which is not a directory of the snapshot',
    );
    expect(() => checkManifest(manifest({ entries: [file("orphan/f")], included: [] }))).toThrow('entry "orphan/f" is below "orphan"');
    expect(() => checkManifest(manifest({ included: ["d", "elsewhere"] }))).toThrow('included path "elsewhere" is not an entry of the snapshot');
    expect(() => checkManifest(manifest({ entries: [dir("d"), dir("d")], included: [] }))).toThrow('entry "d" appears twice');
    expect(() => checkManifest(manifest({ entries: [{ ...file("f"), type: "fifo" as never }], included: [] }))).toThrow('unknown type "fifo"');
    expect(() => checkManifest(manifest({ entries: [symlink("l", "")], included: [] }))).toThrow('symlink "l" has no usable target');
  });

  it("refuses a discarded path below a symlink or a file of the tree; below a folder, or below what vanished too, it passes", () => {
    expect(() => checkManifest(manifest({ discarded: ["l/x"] }))).toThrow('discarded path "l/x" is below "l", which is a symlink of the snapshot');
    expect(() => checkManifest(manifest({ discarded: ["d/f/x"] }))).toThrow('discarded path "d/f/x" is below "d/f", which is a file of the snapshot');
    expect(() => checkManifest(manifest({ discarded: ["d/tmp", "gone/deeper/x"] }))).not.toThrow();
  });

  it("refuses entries and list elements that are not what they should be, kept as they came", () => {
    expect(() => checkManifest(manifest({ entries: [dir("d"), null as never], included: [] }))).toThrow("entry path undefined is not a path");
    expect(() => checkManifest(manifest({ entries: [dir("d"), { ...file("d/x"), path: 7 as never }], included: [] }))).toThrow("entry path 7 is not a path");
    expect(() => checkManifest(manifest({ deleted: ["ok", 5 as never] }))).toThrow("deleted path 5 is not a path");
    expect(() => checkManifest(manifest({ included: ["d", null as never] }))).toThrow("included path null is not a path");
    const long = `d/${"x".repeat(5000)}`;
    expect(() => checkManifest(manifest({ entries: [dir("d"), file(long)], included: [] }))).toThrow("is longer than any path (5002 characters)");
    expect(() => checkManifest(manifest({ deleted: [long] }))).toThrow("deleted path");
    expect(() => checkManifest(manifest({ included: ["d", long] }))).toThrow("is longer than any path");
    expect(() => checkManifest(manifest({ entries: [dir("d"), { ...file("d/f"), mode: -1 }, { ...file("d/g"), extra: 1 } as Entry], included: ["d/f", "d/g"] }))).not.toThrow();
  });

  it("reads manifests from before `discarded` existed", () => {
    const { discarded: _, ...old } = manifest({ discarded: [] });
    expect(() => checkManifest(old as Manifest)).not.toThrow();
  });
});
