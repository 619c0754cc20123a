// A manifest read from the store keeps its entries and path lists compact (entry-table.ts): what a
// restore asks of them (every entry, each field, a path's position) is what the arrays they came
// from would answer, for any name, any odd value a bucket may hold, and across its chunks.
import { describe, expect, it } from "vitest";
import { compactManifestLists, EntryTable } from "../../../../dataplane/snapshot/entry-table.ts";
import { manifestJson } from "../../../../dataplane/snapshot/manifest-json.ts";
import { readManifestJson } from "../../../../dataplane/snapshot/manifest-read.ts";
import { treeIndex, type Entry, type Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { PathList, StringColumn } from "../../../../dataplane/snapshot/string-column.ts";

const file = (path: string, extra: Partial<Entry> = {}): Entry => ({ path, type: "file", size: 3, mode: 0o644, mtime: "1700000000.1234567890", md5: "a".repeat(32), ...extra });

const unusual: Entry[] = [
  file("plain.txt"),
  file('quote " and \\ back', { unstable: true, size: 0 }),
  { path: "日本語/😀 é", type: "dir", size: 0, mode: 0o755, mtime: "2" },
  { path: "bytes\udcff\udc80", type: "symlink", size: 0, mode: 0o777, mtime: "3", target: "../x]}{[,:" },
  file("ctl\n\t\u0001", { size: 1e15, mtime: "-1.5" }),
  file("4 GiB less a byte", { size: 0xffffffff }), file("4 GiB", { size: 2 ** 32 }), file("half a byte", { size: 0.5 }), file("minus one", { size: -1 }),
  file("no sum", { md5: undefined }),
  // mtimes as find prints them are kept as numbers, others as text: each comes back as it was.
  file("zero fraction", { mtime: "1700000000.0000000000" }),
  file("epoch", { mtime: "0.0000000001" }),
  file("leading zero", { mtime: "0170.1234567890" }),
  file("nine digits", { mtime: "1700000000.123456789" }),
  file("far future", { mtime: "999999999999999.9999999999" }),
  file("last 32-bit second", { mtime: "4294967295.9999999990" }),
  file("past 32 bits", { mtime: "4294967296.0000000000" }),
];
// What a bucket may hold instead of an entry: each is kept as it came.
const odd = [
  null, 7, "a string", { ...file("fifo"), type: "fifo" }, { ...file("negative mode"), mode: -1 }, { ...file("extra"), owner: "root" },
  { ...file("empty sum"), md5: "" }, { ...file("upper-case sum"), md5: "A".repeat(32) }, { ...file("short sum"), md5: "ab" }, { ...file("big mode"), mode: 0x10000 }, { path: 5, type: "file" }, { ...file("no mtime"), mtime: undefined }, { ...file("unstable no"), unstable: false },
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

  it("answers each field alone as the entry made whole has it", () => {
    const entries = [...unusual, ...odd.filter((e) => typeof e === "object" && e !== null)];
    const table = EntryTable.of(entries);
    for (const [i, e] of entries.entries()) {
      expect([table.pathAt(i), table.typeAt(i), table.sizeAt(i), table.modeAt(i), table.mtimeAt(i), table.targetAt(i), table.md5At(i), table.unstableAt(i)])
        .toEqual([e.path, e.type, e.size, e.mode, e.mtime, e.target, e.md5, e.unstable === true]);
      if (e.md5) expect(table.md5Is(i, e.md5)).toBe(true);
      expect(table.md5Is(i, "0".repeat(32))).toBe(false);
    }
    expect(table.md5Is(0, "A".repeat(32))).toBe(false);
    // What is no object at all answers nothing, rather than failing (the check refuses it first).
    const none = EntryTable.of([null, 7] as unknown as Entry[]);
    expect([none.sizeAt(0), none.modeAt(1), none.mtimeAt(0), none.md5At(1), none.unstableAt(0), none.md5Is(0, "a".repeat(32))]).toEqual([undefined, undefined, undefined, undefined, false, false]);
    expect(table.md5Is(0, "a".repeat(31))).toBe(false);
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

describe("a scan's table, as a snapshot keeps it", () => {
  it("sorts by path as `<` does (UTF-16 code units, names that are not UTF-8 too), across its chunks, every field with its entry", () => {
    const long = "deep/".repeat(60);
    const names = ["b", "a", "a/b", "a b", "a/b/c", "é", "😀", "\uffff", "bytes\udcff", "bytes\udc80x", "", "Z", "a/", `${long}b`, `${long}a`, `${long}😀`, long];
    const entries = [...unusual, { ...file("kept as it came"), extra: 1 } as Entry, ...Array.from({ length: 3000 }, (_, i) => file(`d${(i * 7919) % 3000}/${names[i % names.length]}`, { size: i, md5: i % 2 ? undefined : i.toString(16).padStart(32, "0") }))];
    const sorted = EntryTable.of(entries);
    sorted.sortByPath();
    const expected = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    expect([...sorted]).toEqual(expected);
    expect(sorted.position(expected[1234]!.path)).toBe(1234);
  });

  it("keeps the entries asked for, in order, and takes a path too long for any file system as it came", () => {
    const table = EntryTable.of([file("a"), file("b", { target: "t", md5: undefined }), file("c", { size: 2 ** 40 })]);
    expect([...table.filtered((i) => i !== 0)]).toEqual([file("b", { target: "t", md5: undefined }), file("c", { size: 2 ** 40 })]);
    const long = file("x".repeat(5000));
    const parsed = new EntryTable();
    parsed.pushParsed(file("short"));
    parsed.pushParsed(long);
    expect(parsed.at(1)).toBe(long);
    expect(parsed.pathAt(1)).toBe(long.path);
  });

  it("sorts, grows and filters a scan with no MD5s yet, then with a few", () => {
    const scan = new EntryTable();
    for (let i = 0; i < 3000; i++) scan.pushParsed(file(`d/${(i * 7919) % 3000}`, { md5: undefined }));
    scan.trim();
    scan.sortByPath();
    const expected = Array.from({ length: 3000 }, (_, i) => file(`d/${i}`, { md5: undefined })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    expect([...scan]).toEqual(expected);
    scan.setMd5(2999, "f".repeat(32));
    scan.setMd5(7, "e".repeat(32));
    const withSums = expected.map((entry, i) => (i === 2999 ? { ...entry, md5: "f".repeat(32) } : i === 7 ? { ...entry, md5: "e".repeat(32) } : entry));
    expect([...scan]).toEqual(withSums);
    expect([...scan.filtered((i) => i % 2 === 1)]).toEqual(withSums.filter((_, i) => i % 2 === 1));
  });

  it("compares its paths with a path as `<` does, and knows when they strictly increase", () => {
    const long = "deep/".repeat(60);
    const paths = ["", "a", "a b", "a/b", "a0", "é", "😀", "\uffff", "bytes\udcff", `${long}a`, `${long}b`, long];
    const left = EntryTable.of(paths.map((path) => file(path)));
    for (const [i, a] of paths.entries()) {
      for (const b of paths) expect(Math.sign(left.comparePathTo(i, b))).toBe(a < b ? -1 : a > b ? 1 : 0);
    }
    expect(left.strictlyInPathOrder()).toBe(false);
    left.sortByPath();
    expect(left.strictlyInPathOrder()).toBe(true);
    expect(EntryTable.of([file("a"), file("a")]).strictlyInPathOrder()).toBe(false); // a path listed twice
    expect(EntryTable.of([file("a"), { path: 5 } as unknown as Entry]).strictlyInPathOrder()).toBe(false); // no path at all
  });

  it("takes each round's MD5, a file read again as it is now, and a file that never held still", () => {
    const table = EntryTable.of([file("a", { md5: undefined }), file("b"), file("c", { size: 2 ** 33, mtime: "5" })]);
    table.setMd5(0, "1".repeat(32));
    table.setMd5(1, undefined);
    table.update(2, file("c", { md5: undefined, target: "t" }));
    table.markUnstable(2);
    expect([...table]).toEqual([file("a", { md5: "1".repeat(32) }), file("b", { md5: undefined }), file("c", { md5: undefined, target: "t", unstable: true })]);
    expect(() => table.update(0, file("b"))).toThrow("not \"b\"");
    const cleared = EntryTable.of([file("a"), file("b", { md5: undefined }), { ...file("o"), extra: 1 } as Entry]);
    cleared.clearMd5s();
    expect([...cleared]).toEqual([file("a", { md5: undefined }), file("b", { md5: undefined }), { ...file("o", { md5: undefined }), extra: 1 }]);
    const odd = EntryTable.of([{ ...file("o"), extra: 1 } as Entry]);
    odd.setMd5(0, "2".repeat(32));
    odd.markUnstable(0);
    expect(odd.at(0)).toEqual({ ...file("o"), extra: 1, md5: "2".repeat(32), unstable: true });
  });
});

describe("a string column", () => {
  it("is not added to once read (its chunks would no longer line up)", () => {
    const column = new StringColumn();
    for (let i = 0; i < 1500; i++) column.push(`s${i}`);
    expect(column.at(1499)).toBe("s1499");
    expect(() => column.push("late")).toThrow("not added to once it has been read");
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

  it("keeps a path its tree has as a position there, and gives back the same list", () => {
    const tree = EntryTable.of([...unusual, file("twice"), file("twice")]);
    const values = ["plain.txt", "not in the tree", "bytes\udcff\udc80", "twice", 5, "twice", "plain.txt", "", null, "日本語/😀 é"];
    const list = PathList.of(values, tree);
    expect([...list]).toEqual(values);
    expect(list.at(3)).toBe("twice");
    expect(() => list.at(values.length)).toThrow(RangeError);
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
    const read = await readManifestJson(chunks(), "test", undefined, compactManifestLists()) as unknown as Manifest;
    expect(read.entries).toBeInstanceOf(EntryTable);
    for (const list of [read.included, read.deleted, read.discarded]) expect(list).toBeInstanceOf(PathList);
    expect(read.chain).toEqual(manifest.chain);
    expect(manifestJson(read).equals(bytes)).toBe(true);
    // As an incremental reads its parent: the tree, not the path lists (whose syntax is still checked).
    const tree = await readManifestJson(chunks(), "test", undefined, compactManifestLists({ pathLists: false })) as unknown as Manifest;
    expect([...tree.entries]).toEqual(entries);
    for (const list of [tree.included, tree.deleted, tree.discarded]) expect(list).not.toBeInstanceOf(PathList);
    const broken = Buffer.from(bytes.toString("utf8").replace('"deleted":["gone/a"]', '"deleted":["gone/a",]'));
    await expect(readManifestJson((async function* () { yield broken; })(), "test", undefined, compactManifestLists({ pathLists: false }))).rejects.toThrow("not a manifest");
  });

  it("an earlier link of a restore's chain: its entries without their MD5s, the rest as they were", async () => {
    const entries = [file("a"), file("b", { md5: undefined }), { ...file("c"), md5: "not an MD5" }, { path: "d", type: "dir", size: 0, mode: 0o755, mtime: "1" } as Entry];
    const bytes = manifestJson({
      format: "dumont-snapshot/1", id: "20261202T000000000Z-t", name: "t", createdAt: "", kind: "full", parent: null, chain: ["20261202T000000000Z-t"],
      source: { host: "h" }, archive: { key: "k", bytes: 1, parts: 1, partSize: 1, compression: "lz4" }, entries, included: ["a"], deleted: [], stats: { files: 3, dirs: 1, symlinks: 0, bytes: 30 },
    });
    const read = await readManifestJson((async function* () { yield bytes; })(), "test", undefined, compactManifestLists({ md5s: false })) as unknown as Manifest;
    // (One whose MD5 is no MD5 is kept as it came, as every table keeps it: checkManifest refuses what it must.)
    expect([...read.entries]).toEqual([file("a", { md5: undefined }), file("b", { md5: undefined }), entries[2], entries[3]]);
  });

  it("keeps any other top-level value as JSON.parse makes it, a field named like a list's method too", async () => {
    const text = JSON.stringify({ id: "x", stats: { trim: 1, push: "no" }, archive: { trim: "x" }, entries: [file("a")], included: ["a"], extra: [1, { trim: 2 }] });
    async function* once(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(text);
    }
    const read = await readManifestJson(once(), "test", undefined, compactManifestLists());
    expect(JSON.stringify(read)).toBe(text);
  });

  it("keeps an entry whose fields come in another order as it came, so it is written back the same", () => {
    const reordered = { type: "file", path: "r", size: 1, mode: 0o644, mtime: "1.0" } as unknown as Entry;
    const table = EntryTable.of([reordered]);
    expect(table.at(0)).toBe(reordered);
    expect(JSON.stringify(table)).toBe(JSON.stringify([reordered]));
  });
});
