// A tree's entries kept compact: a manifest read from the store holds a million of them at a
// million files, and as objects (an object, and a string each for the path, the mtime and the MD5)
// they took about 200 bytes apiece, twice that in the process's memory once the collector's slack
// is counted (issue 15). Here each field is a column: strings in StringColumns, numbers in typed
// arrays, the rare fields (symlink targets, unstable marks) in small maps; about 90 bytes an entry
// at a million, and a handful of objects in all. An entry is made as an object again only when it
// is asked for. The table is also its own index by path (an open-addressing hash table of
// positions), which a Map of a million strings would have doubled.
import type { Entry, EntryType, TreeIndex } from "./manifest.ts";
import type { ArraySink } from "./manifest-read.ts";
import { hashString, PathList, StringColumn } from "./string-column.ts";

const typeCodes: Readonly<Record<EntryType, number>> = { file: 0, dir: 1, symlink: 2 };
const typeNames: readonly EntryType[] = ["file", "dir", "symlink"];
/** The type code of an entry kept as it came (see `odd`). */
const oddCode = 3;
const entryKeys = new Set(["path", "type", "size", "mode", "mtime", "md5", "target", "unstable"]);

/**
 * Whether an entry has only the fields an entry has, each of the kind it should be: anything else
 * (a manifest from a bucket may hold anything) is kept whole, as it came, for the manifest's check
 * to refuse or the verification to compare, exactly as before the table existed.
 */
function isPlain(entry: unknown): entry is Entry {
  if (typeof entry !== "object" || entry === null || Object.getPrototypeOf(entry) !== Object.prototype) return false;
  const e = entry as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!entryKeys.has(key)) return false;
  return typeof e.path === "string" && typeof e.type === "string" && Object.hasOwn(typeCodes, e.type)
    && typeof e.size === "number" && Number.isInteger(e.mode) && (e.mode as number) >= 0 && (e.mode as number) <= 0xffffffff
    && typeof e.mtime === "string" && (e.md5 === undefined || (typeof e.md5 === "string" && e.md5 !== ""))
    && (e.target === undefined || typeof e.target === "string") && (e.unstable === undefined || e.unstable === true);
}

export class EntryTable implements Iterable<Entry>, TreeIndex {
  private readonly pathColumn = new StringColumn();
  private readonly mtimes = new StringColumn();
  /** "" for an entry without one. */
  private readonly md5s = new StringColumn();
  private types = new Uint8Array(1024);
  private modes = new Uint32Array(1024);
  private sizes = new Float64Array(1024);
  private readonly targets = new Map<number, string>();
  private readonly unstables = new Set<number>();
  /** Entries kept as they came (not plain: see isPlain). */
  private readonly odd = new Map<number, Entry>();
  private count = 0;
  /** Position + 1 of each path, by its hash (0: an empty slot); made at the first lookup. */
  private slots: Int32Array | undefined;
  private distinct = 0;

  static of(entries: Iterable<Entry>): EntryTable {
    const table = new EntryTable();
    for (const entry of entries) table.push(entry);
    table.trim();
    return table;
  }

  get length(): number {
    return this.count;
  }

  push(entry: Entry): void {
    if (this.slots) throw new Error("an entry table is not added to once it has been looked up");
    if (this.count === this.types.length) this.grow();
    const i = this.count++;
    if (!isPlain(entry)) {
      this.odd.set(i, entry);
      this.types[i] = oddCode;
      const path = (entry as { path?: unknown } | null)?.path;
      this.pathColumn.push(typeof path === "string" ? path : "");
      this.mtimes.push("");
      this.md5s.push("");
      return;
    }
    this.types[i] = typeCodes[entry.type];
    this.modes[i] = entry.mode;
    this.sizes[i] = entry.size;
    this.pathColumn.push(entry.path);
    this.mtimes.push(entry.mtime);
    this.md5s.push(entry.md5 ?? "");
    if (entry.target !== undefined) this.targets.set(i, entry.target);
    if (entry.unstable) this.unstables.add(i);
  }

  private grow(): void {
    const types = new Uint8Array(this.types.length * 2);
    types.set(this.types);
    this.types = types;
    const modes = new Uint32Array(this.modes.length * 2);
    modes.set(this.modes);
    this.modes = modes;
    const sizes = new Float64Array(this.sizes.length * 2);
    sizes.set(this.sizes);
    this.sizes = sizes;
  }

  /** Gives up the growth room once the table is whole. */
  trim(): void {
    this.types = this.types.slice(0, this.count);
    this.modes = this.modes.slice(0, this.count);
    this.sizes = this.sizes.slice(0, this.count);
    for (const column of [this.pathColumn, this.mtimes, this.md5s]) column.trim();
  }

  /** Entry `i`, made as an object (or the one kept as it came). */
  at(i: number): Entry {
    const odd = this.odd.get(i);
    if (odd !== undefined) return odd;
    const md5 = this.md5s.at(i);
    const target = this.targets.get(i);
    return {
      path: this.pathColumn.at(i), type: typeNames[this.types[i]!]!, size: this.sizes[i]!, mode: this.modes[i]!, mtime: this.mtimes.at(i),
      ...(md5 !== "" && { md5 }), ...(target !== undefined && { target }), ...(this.unstables.has(i) && { unstable: true as const }),
    };
  }

  /** Entry `i`'s path (one kept as it came may have none, or another kind of value: the check names it). */
  pathAt(i: number): string {
    return this.types[i] === oddCode ? this.oddField(i, "path") as string : this.pathColumn.at(i);
  }

  typeAt(i: number): EntryType {
    return this.types[i] === oddCode ? this.oddField(i, "type") as EntryType : typeNames[this.types[i]!]!;
  }

  private oddField(i: number, field: "path" | "type"): unknown {
    return (this.odd.get(i) as unknown as Partial<Record<string, unknown>> | null)?.[field];
  }

  *[Symbol.iterator](): Iterator<Entry> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  // ---- the index by path (TreeIndex's questions) ----

  /** How many different paths the table has. */
  get size(): number {
    return this.index().distinct;
  }

  /** Where the path's entry is (the last one's, should a path appear twice). */
  position(path: string): number | undefined {
    if (typeof path !== "string") return undefined; // a manifest's list may hold anything until it is checked
    const slots = this.index().slots!;
    const mask = slots.length - 1;
    for (let slot = hashString(path) & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === 0) return undefined;
      if (this.pathColumn.equals(held - 1, path) && this.indexed(held - 1)) return held - 1;
    }
  }

  has(path: string): boolean {
    return this.position(path) !== undefined;
  }

  type(path: string): EntryType | undefined {
    const i = this.position(path);
    return i === undefined ? undefined : this.typeAt(i);
  }

  /** Each different path once, in the order of the entries that count for them. */
  *paths(): Generator<string> {
    for (let i = 0; i < this.count; i++) {
      if (!this.indexed(i)) continue;
      const path = this.pathColumn.at(i);
      if (this.position(path) === i) yield path;
    }
  }

  /** An entry whose path is no string (kept as it came) is in no index. */
  private indexed(i: number): boolean {
    return this.types[i] !== oddCode || typeof this.oddField(i, "path") === "string";
  }

  private index(): this {
    if (this.slots) return this;
    let capacity = 16;
    while (capacity < this.count * 2) capacity *= 2;
    const slots = new Int32Array(capacity);
    const mask = capacity - 1;
    let distinct = 0;
    for (let i = 0; i < this.count; i++) {
      if (!this.indexed(i)) continue;
      for (let slot = this.pathColumn.hash(i) & mask; ; slot = (slot + 1) & mask) {
        const held = slots[slot]!;
        if (held === 0) {
          slots[slot] = i + 1;
          distinct++;
          break;
        }
        if (this.pathColumn.equals(held - 1, this.pathColumn.at(i))) {
          slots[slot] = i + 1; // the later entry of a path counts
          break;
        }
      }
    }
    this.slots = slots;
    this.distinct = distinct;
    return this;
  }

  /** What JSON.stringify writes: the array it stands for. */
  toJSON(): Entry[] {
    return [...this];
  }
}

/**
 * Where a manifest's lists that grow with the file count go as the store reads it (manifest-read.ts's
 * `collect`): its entries into a table, its path lists into PathLists.
 */
export function compactManifestLists(key: string): ArraySink | undefined {
  if (key === "entries") return new EntryTable() as unknown as ArraySink;
  if (key === "included" || key === "deleted" || key === "discarded") return new PathList();
  return undefined;
}
