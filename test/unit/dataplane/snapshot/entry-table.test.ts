// A manifest read from the store keeps its entries and path lists compact (entry-table.ts): what a
// restore asks of them (every entry, each field, a path's position) is what the arrays they came
// from would answer, for any name, any odd value a bucket may hold, and across its chunks.
import { describe, expect, it } from "vitest";
import { compactManifestLists, EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { manifestJson } from "../../../../dataplane/snapshot/manifest-json.ts";
import { readManifestJson } from "../../../../dataplane/snapshot/manifest-read.ts";
import { treeIndex, type Entry, type Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { PathList } from "../../../../dataplane/snapshot/string-column.ts";

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 3, mode: 0o644, mtime: "1700000000.1234567890", md5: "a".repeat(32), ...extra });

const unusual: Entry[] = [
  file("plain.txt"),
  file('quote " and \\ back', { unstable: true, size: 0 }),
  { path: "日本語/😀 é", type: "dir", size: 0, mode: 0o755, mtime: "2" },
  { path: "bytes\udcff\udc80", type: "symlink", size: 0, mode: 0o777, mtime: "3", target: "../x]}{[,:" },
  file("ctl\n\t\u0001", { size: 1e15, mtime: "-1.5" }),
  file("no sum", { md5: undefined }),
];
// What a bucket may hold instead of an entry: each is kept as it came.
const odd = [
  null, 7, "a string", { ...file("fifo"), type: "fifo" }, { ...file("negative mode"), mode: -1 }, { ...file("extra"), owner: "root" },
  { ...file("empty sum"), md5: "" }, { path: 5, type: "file" }, { ...file("no mtime"), mtime: undefined }, { ...file("unstable no"), unstable: false },
] as unknown as Entry[];

describe("an entry table", () => {
  it("gives back every entry as it was, odd ones as they came, and writes the same JSON", () => {
    const entries = [...unusual, ...odd, ...unusual];
    const table = EntryTable.of(entries);
    expect(table.length).toBe(entries.length);
    expect([...table]).toEqual(entries.map((e) => (e && typeof e === "object" ? JSON.parse(JSON.stringify(e)) : e)));
    expect(JSON.stringify(table)).toBe(JSON.stringify(entries));
    for (const [i, e] of odd.entries()) expect(table.at(unusual.length + i)).toBe(e);
    expect(table.pathAt(3)).toBe("bytes\udcff\udc80");
    expect(table.typeAt(2)).toBe("dir");
  });

  it("finds each path where an array's index does, the last of a path listed twice, across its chunks", () => {
    // 150,000 entries: three chunks of paths, hash collisions, and every tenth path listed again later.
    const entries: Entry[] = [];
    for (let i = 0; i < 140_000; i++) entries.push(file(`d${i % 97}/f${i}`));
    for (let i = 0; i < 140_000; i += 14) entries.push(file(`d${i % 97}/f${i}`, { size: 9 }));
    // Odd entries with a path (the check refuses the others before anything is looked up).
    entries.push(...unusual, ...odd.filter((e) => typeof (e as { path?: unknown } | null)?.path === "string"));
    const table = EntryTable.of(entries);
    const index = treeIndex(entries);
    expect(table.size).toBe(index.size);
    const paths = [...index.paths()];
    expect(paths.map((p) => table.position(p))).toEqual(paths.map((p) => index.position(p)));
    expect(paths.map((p) => table.type(p))).toEqual(paths.map((p) => index.type(p)));
    expect(new Set(table.paths())).toEqual(new Set(index.paths()));
    for (const absent of ["", "d0/f", "d0/f00", "d1/f1 ", "D1/f1", "plain.tx", "plain.txt/", "bytes\udcff"]) expect(table.has(absent)).toBe(false);
    expect(table.has(undefined as never)).toBe(false);
    expect(table.at(table.position("d0/f0")!).size).toBe(9);
  });
});

describe("a path list", () => {
  it("gives back its paths in order, and what is not a path as it came", () => {
    const values = ["a", "b/c", "日本語", "bytes\udcff", 5, null, { x: 1 }, ""];
    const list = PathList.of(values);
    expect(list.length).toBe(values.length);
    expect([...list]).toEqual(values);
    expect(list.at(6)).toBe(values[6]);
    expect(JSON.stringify(list)).toBe(JSON.stringify(values));
  });
});

describe("a manifest as the store reads it", () => {
  it("holds its entries and path lists compact, and is written back byte for byte", async () => {
    const entries = [...unusual, ...Array.from({ length: 5000 }, (_, i) => file(`many/f${i}`))];
    const manifest: Manifest = {
      format: "dumont-snapshot/1", id: "20261202T000000000Z-t", name: "t", createdAt: "2026-12-02T00:00:00.000Z", kind: "incremental",
      parent: "p", chain: ["p", "20261202T000000000Z-t"], source: { host: "h" }, stack: "s",
      archive: { key: "k", bytes: 10, parts: 1, partSize: 5242880, compression: "lz4" },
      entries, included: entries.map((e) => e.path), deleted: ["gone/a"], discarded: ["tmp"], stats: { files: 5005, dirs: 1, symlinks: 1, bytes: 4 },
    };
    const bytes = manifestJson(manifest);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += 4093) yield bytes.subarray(at, at + 4093);
    }
    const read = await readManifestJson(chunks(), "test", undefined, compactManifestLists) as unknown as Manifest;
    expect(read.entries).toBeInstanceOf(EntryTable);
    for (const list of [read.included, read.deleted, read.discarded]) expect(list).toBeInstanceOf(PathList);
    expect(read.chain).toEqual(manifest.chain);
    expect(manifestJson(read).equals(bytes)).toBe(true);
  });
});
