// A tree's entries kept compact: a manifest read from the store holds a million of them at a
// million files, and as objects (an object, and a string each for the path, the mtime and the MD5)
// they took about 200 bytes apiece, twice that in the process's memory once the collector's slack
// is counted (issue 15). Here each field is a column: paths in a StringColumn, numbers, MD5s and
// mtimes in typed arrays, the rare fields (symlink targets, mtimes of other forms) in small maps;
// about 60 bytes an entry, and a handful of objects in all. An entry is made as an object again
// only when it is asked for, and each field can be asked for alone. The table is also its own index
// by path (an open-addressing hash table of positions), which a Map of a million strings doubled.
import type { Entry, EntryType, TreeIndex } from "./manifest.ts";
import type { ArraySink } from "./manifest-read.ts";
import { DumontError } from "../../lib/errors.ts";
import { hashString, keepAside, longestPath, PathList, StringColumn } from "./string-column.ts";

const typeCodes: Readonly<Record<EntryType, number>> = { file: 0, dir: 1, symlink: 2 };
const typeNames: readonly EntryType[] = ["file", "dir", "symlink"];
/** The type code of an entry kept as it came (see `odd`). */
const oddCode = 3;
/** An entry's fields, in the order an entry made here has them (and JSON.stringify writes them). */
const entryKeys = ["path", "type", "size", "mode", "mtime", "md5", "target", "unstable"];
const keyOrder = new Map(entryKeys.map((key, i) => [key, i]));
const md5Hex = /^[0-9a-f]{32}$/;

/** Whether a value is an MD5 as Dumont writes it (32 lowercase hex digits, as md5sum prints it). */
export function isMd5(value: unknown): value is string {
  return typeof value === "string" && md5Hex.test(value);
}
/**
 * An mtime as find's %T@ prints it from nanoseconds (seconds, a dot, nine digits and a 0): kept as
 * two 32-bit numbers, and made again as the same text.
 */
const findTime = /^(0|[1-9]\d{0,9})\.(\d{9})0$/;
const md5Scratch = Buffer.alloc(16);
const hasMd5 = 1;
const isUnstable = 2;

/**
 * Whether an entry has only the fields an entry has, each of the kind it should be: anything else
 * (a manifest from a bucket may hold anything) is kept whole, as it came, for the manifest's check
 * to refuse or the verification to compare, exactly as before the table existed.
 */
function isPlain(entry: unknown): entry is Entry {
  if (typeof entry !== "object" || entry === null || Object.getPrototypeOf(entry) !== Object.prototype) return false;
  const e = entry as Record<string, unknown>;
  // Only known fields, in the order `at` makes them again: a read manifest written back is the same bytes.
  let last = -1;
  for (const key of Object.keys(e)) {
    const at = keyOrder.get(key);
    if (at === undefined || at <= last) return false;
    last = at;
  }
  return typeof e.path === "string" && e.path.length <= longestPath && typeof e.type === "string" && Object.hasOwn(typeCodes, e.type)
    && typeof e.size === "number" && Number.isInteger(e.mode) && (e.mode as number) >= 0 && (e.mode as number) <= 0xffff
    && typeof e.mtime === "string" && (e.md5 === undefined || isMd5(e.md5))
    && (e.target === undefined || typeof e.target === "string") && (e.unstable === undefined || e.unstable === true);
}

/** A path a table's index holds: a string no longer than any path (a longer one is refused by the check). */
function isIndexable(path: unknown): path is string {
  return typeof path === "string" && path.length <= longestPath;
}

/**
 * Longer than any chain of probes a table of real paths makes (its hash starts anew in each process,
 * and at most half its slots are full): one this long was made to collide, and is refused.
 */
const longestProbe = 4096;

export class EntryTable implements Iterable<Entry>, TreeIndex {
  private pathColumn = new StringColumn();
  private types = new Uint8Array(1024);
  /** hasMd5, isUnstable. */
  private flags = new Uint8Array(1024);
  private modes = new Uint16Array(1024);
  /** Sizes under 4 GiB; the others (and any size that is not a whole number) in `otherSizes`. */
  private sizes = new Uint32Array(1024);
  private readonly otherSizes = new Map<number, number>();
  /**
   * Each MD5 as its 16 bytes, from the first MD5 on: a scan has none until it is compared with its
   * parent, and this column grown alongside the parent's read was 24 MB more at a million entries.
   */
  private md5s: Buffer | undefined;
  /** False: the MD5s given are not kept (an earlier link of a restore's chain: only the newest's are verified). */
  private readonly keepsMd5s: boolean;
  /** An mtime find prints (findTime): its seconds and its nanoseconds. */
  private seconds = new Uint32Array(1024);
  private nanoseconds = new Uint32Array(1024);
  /** Other mtimes, as text. */
  private readonly otherMtimes = new Map<number, string>();
  private readonly targets = new Map<number, string>();
  /** Entries kept as they came (not plain: see isPlain). */
  private readonly odd = new Map<number, Entry>();
  private count = 0;
  /** Position + 1 of each path, by its hash (0: an empty slot); made at the first lookup. */
  private slots: Int32Array | undefined;
  /** 1 for each entry that counts for its path (the last of a path listed twice). */
  private counted: Uint8Array | undefined;
  private distinct = 0;

  constructor({ md5s = true }: { md5s?: boolean } = {}) {
    this.keepsMd5s = md5s;
  }

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
    const i = this.nextPosition();
    if (!isPlain(entry)) {
      keepAside(this.odd, i, entry);
      this.types[i] = oddCode;
      const path = (entry as { path?: unknown } | null)?.path;
      // Its path is looked up (the check names a path twice, or below a file) if it is one at all.
      this.pathColumn.push(isIndexable(path) ? path : "");
      return;
    }
    this.pathColumn.push(entry.path);
    this.setFields(i, entry);
  }

  /**
   * An entry this process made (a host listing's parser): its fields are of their kinds already, so
   * it is not checked again (a million times, as a scan is read). One with a path longer than any
   * path is kept as it came, as push keeps it.
   */
  pushParsed(entry: Entry): void {
    // A mode a column cannot hold as it is (a host may list anything) is kept as it came, not cut.
    if (entry.path.length > longestPath || !(Number.isInteger(entry.mode) && entry.mode >= 0 && entry.mode <= 0xffff)) return this.push(entry);
    const i = this.nextPosition();
    this.pathColumn.push(entry.path);
    this.setFields(i, entry);
  }

  private nextPosition(): number {
    if (this.slots) throw new Error("an entry table is not added to once it has been looked up");
    if (this.count === this.types.length) this.grow();
    return this.count++;
  }

  /** Every field of entry `i` but its path, from `entry` (plain). */
  private setFields(i: number, entry: Entry): void {
    this.types[i] = typeCodes[entry.type];
    this.modes[i] = entry.mode;
    this.otherSizes.delete(i);
    if (Number.isInteger(entry.size) && entry.size >= 0 && entry.size <= 0xffffffff) this.sizes[i] = entry.size;
    else keepAside(this.otherSizes, i, entry.size);
    this.otherMtimes.delete(i);
    const time = findTime.exec(entry.mtime);
    if (time && Number(time[1]) <= 0xffffffff) {
      this.seconds[i] = Number(time[1]);
      this.nanoseconds[i] = Number(time[2]);
    } else keepAside(this.otherMtimes, i, entry.mtime);
    this.flags[i] = entry.unstable ? isUnstable : 0;
    this.setMd5(i, entry.md5);
    this.targets.delete(i);
    if (entry.target !== undefined) keepAside(this.targets, i, entry.target);
  }

  // ---- what a snapshot changes in the tree it scanned, as it reads it (read-rounds.ts) ----

  /** Entry `i` is now `entry` (the same path, as a host listed it again). */
  update(i: number, entry: Entry): void {
    if (entry.path !== this.pathAt(i)) throw new Error(`entry ${i} is ${JSON.stringify(this.pathAt(i))}, not ${JSON.stringify(entry.path)}`);
    if (this.types[i] !== oddCode && isPlain(entry)) {
      this.setFields(i, entry);
      return;
    }
    keepAside(this.odd, i, entry);
    this.types[i] = oddCode;
  }

  /** Entry `i`'s MD5 (32 hex digits: the caller checks what a host or a bucket gave), or none (or not kept: see keepsMd5s). */
  setMd5(i: number, md5: string | undefined): void {
    if (md5 !== undefined && !isMd5(md5)) throw new Error(`not an MD5: ${JSON.stringify(md5).slice(0, 40)}`);
    if (this.types[i] === oddCode) {
      const { md5: _, ...rest } = this.odd.get(i)!;
      this.odd.set(i, md5 === undefined ? rest : { ...rest, md5 });
    } else if (md5 === undefined || !this.keepsMd5s) this.flags[i]! &= ~hasMd5;
    else {
      this.md5Column().write(md5, i * 16, 16, "hex");
      this.flags[i]! |= hasMd5;
    }
  }

  /** Entry `i` changed during every read of it (`unstable` in the manifest). */
  markUnstable(i: number): void {
    if (this.types[i] === oddCode) this.odd.set(i, { ...this.odd.get(i)!, unstable: true });
    else this.flags[i]! |= isUnstable;
  }

  private grow(): void {
    this.resize(Math.max(1024, this.types.length * 2));
  }

  /**
   * The table is whole: its columns end at its last entry. Views, not copies: a copy would hold both
   * for a moment (some 90 MB at a million entries), where the growth room left is at most half.
   */
  trim(): void {
    this.types = this.types.subarray(0, this.count);
    this.flags = this.flags.subarray(0, this.count);
    this.modes = this.modes.subarray(0, this.count);
    this.sizes = this.sizes.subarray(0, this.count);
    this.seconds = this.seconds.subarray(0, this.count);
    this.nanoseconds = this.nanoseconds.subarray(0, this.count);
    this.md5s = this.md5s?.subarray(0, this.count * 16);
    this.pathColumn.trim();
  }

  private resize(length: number): void {
    const resized = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(from: T, make: (n: number) => T): T => {
      const to = make(length);
      to.set(from);
      return to;
    };
    this.types = resized(this.types, (n) => new Uint8Array(n));
    this.flags = resized(this.flags, (n) => new Uint8Array(n));
    this.modes = resized(this.modes, (n) => new Uint16Array(n));
    this.sizes = resized(this.sizes, (n) => new Uint32Array(n));
    this.seconds = resized(this.seconds, (n) => new Uint32Array(n));
    this.nanoseconds = resized(this.nanoseconds, (n) => new Uint32Array(n));
    if (this.md5s) {
      const md5s = Buffer.alloc(length * 16);
      this.md5s.copy(md5s);
      this.md5s = md5s;
    }
  }

  private md5Column(): Buffer {
    return (this.md5s ??= Buffer.alloc(this.types.length * 16));
  }

  /**
   * Puts the entries in path order, as a manifest has them (JavaScript's `<` on the paths: UTF-16
   * code units), before the table is looked up. In place, and the paths are compared where they lie
   * in their column: a sorted copy of the table, or the paths cut out for the sort, were 40 to 80 MB
   * more at the peak of a million-file snapshot.
   */
  sortByPath(): void {
    if (this.slots) throw new Error("an entry table is not reordered once it has been looked up");
    const count = this.count;
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    order.sort((a, b) => this.pathColumn.compare(a, b) || a - b);
    // Each column is permuted where it is (following the order's cycles): new columns would leave
    // the old ones, 32 MB at a million entries, to the collector's next full pass.
    const visited = new Uint8Array(count);
    const permute = (move: (to: number, from: number) => void, keep: (from: number) => void, putKept: (to: number) => void) => {
      visited.fill(0);
      for (let start = 0; start < count; start++) {
        if (visited[start]) continue;
        keep(start);
        let at = start;
        for (let from = order[at]!; from !== start; at = from, from = order[at]!) {
          move(at, from);
          visited[at] = 1;
        }
        putKept(at);
        visited[at] = 1;
      }
    };
    for (const column of [this.types, this.flags, this.modes, this.sizes, this.seconds, this.nanoseconds]) {
      let kept = 0;
      permute((to, from) => (column[to] = column[from]!), (from) => (kept = column[from]!), (to) => (column[to] = kept));
    }
    const md5s = this.md5s;
    const keptMd5 = Buffer.alloc(16);
    // A scan has no MD5s yet: nothing to move.
    if (md5s) permute((to, from) => md5s.copy(md5s, to * 16, from * 16, from * 16 + 16), (from) => md5s.copy(keptMd5, 0, from * 16, from * 16 + 16), (to) => keptMd5.copy(md5s, to * 16));
    const paths = new StringColumn();
    for (let k = 0; k < count; k++) paths.push(this.pathColumn.at(order[k]!));
    paths.trim();
    this.pathColumn = paths;
    // The rare fields are kept by position: each moves with its entry.
    const newPosition = new Uint32Array(count);
    for (let k = 0; k < count; k++) newPosition[order[k]!] = k;
    for (const map of [this.otherSizes, this.otherMtimes, this.targets, this.odd] as Array<Map<number, unknown>>) {
      const moved = [...map].map(([i, value]) => [newPosition[i]!, value] as const);
      map.clear();
      for (const [i, value] of moved) map.set(i, value);
    }
  }

  /** A new table of the entries `keep` says yes to, in their order here. */
  filtered(keep: (i: number) => boolean): EntryTable {
    const order: number[] = [];
    for (let i = 0; i < this.count; i++) if (keep(i)) order.push(i);
    return this.reordered(order);
  }

  /** A new table of entries `order` names, in that order, copied field by field. */
  private reordered(order: ArrayLike<number>): EntryTable {
    const to = new EntryTable();
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (this.types[i] === oddCode) {
        to.push(this.odd.get(i)!);
        continue;
      }
      const j = to.nextPosition();
      to.pathColumn.push(this.pathColumn.at(i));
      to.types[j] = this.types[i]!;
      to.flags[j] = this.flags[i]!;
      to.modes[j] = this.modes[i]!;
      to.sizes[j] = this.sizes[i]!;
      to.seconds[j] = this.seconds[i]!;
      to.nanoseconds[j] = this.nanoseconds[i]!;
      if ((this.flags[i]! & hasMd5) !== 0) this.md5s!.copy(to.md5Column(), j * 16, i * 16, i * 16 + 16);
      for (const [from, into] of [[this.otherSizes, to.otherSizes], [this.otherMtimes, to.otherMtimes], [this.targets, to.targets]] as const) {
        const value = from.get(i);
        if (value !== undefined) keepAside(into as Map<number, unknown>, j, value);
      }
    }
    to.trim();
    return to;
  }

  /** Entry `i`, made as an object (or the one kept as it came). */
  at(i: number): Entry {
    if (this.types[i] === oddCode) return this.odd.get(i)!;
    const flags = this.flags[i]!;
    const target = this.targets.get(i);
    return {
      path: this.pathColumn.at(i), type: typeNames[this.types[i]!]!, size: this.sizeAt(i), mode: this.modes[i]!, mtime: this.mtimeAt(i),
      ...((flags & hasMd5) !== 0 && { md5: this.md5At(i) }),
      ...(target !== undefined && { target }), ...((flags & isUnstable) !== 0 && { unstable: true as const }),
    };
  }

  // Each field of entry `i` alone, without making the entry (the verification asks them of every
  // entry: made whole, a million entries were half a gigabyte of garbage).

  sizeAt(i: number): number {
    if (this.types[i] === oddCode) return this.oddField(i, "size") as number;
    return this.otherSizes.get(i) ?? this.sizes[i]!;
  }

  modeAt(i: number): number {
    return this.types[i] === oddCode ? this.oddField(i, "mode") as number : this.modes[i]!;
  }

  mtimeAt(i: number): string {
    if (this.types[i] === oddCode) return this.oddField(i, "mtime") as string;
    return this.otherMtimes.get(i) ?? `${this.seconds[i]}.${String(this.nanoseconds[i]).padStart(9, "0")}0`;
  }

  targetAt(i: number): string | undefined {
    return this.types[i] === oddCode ? this.oddField(i, "target") as string | undefined : this.targets.get(i);
  }

  unstableAt(i: number): boolean {
    return this.types[i] === oddCode ? Boolean(this.oddField(i, "unstable")) : (this.flags[i]! & isUnstable) !== 0;
  }

  md5At(i: number): string | undefined {
    if (this.types[i] === oddCode) return this.oddField(i, "md5") as string | undefined;
    return (this.flags[i]! & hasMd5) !== 0 ? this.md5s!.toString("hex", i * 16, i * 16 + 16) : undefined;
  }

  /** sameFile (manifest.ts) of entry `i` and `now`, field by field. */
  sameFileAt(i: number, now: Entry): boolean {
    return !this.unstableAt(i) && this.typeAt(i) === now.type && this.sizeAt(i) === now.size && this.mtimeAt(i) === now.mtime
      && this.modeAt(i) === now.mode && this.targetAt(i) === now.target;
  }

  /** Whether entry `i` has this MD5 (32 hex digits, as md5sum prints it). */
  md5Is(i: number, md5: string): boolean {
    if (this.types[i] === oddCode) return this.oddField(i, "md5") === md5;
    if ((this.flags[i]! & hasMd5) === 0 || !isMd5(md5)) return false;
    md5Scratch.write(md5, 0, 16, "hex");
    return this.md5s!.compare(md5Scratch, 0, 16, i * 16, i * 16 + 16) === 0;
  }

  /** Entry `i`'s path (one kept as it came may have none, or another kind of value: the check names it). */
  pathAt(i: number): string {
    return this.types[i] === oddCode ? this.oddField(i, "path") as string : this.pathColumn.at(i);
  }

  typeAt(i: number): EntryType {
    return this.types[i] === oddCode ? this.oddField(i, "type") as EntryType : typeNames[this.types[i]!]!;
  }

  /** A field of an entry kept as it came (which may be no object at all: then undefined). */
  private oddField(i: number, field: keyof Entry): unknown {
    const odd = this.odd.get(i) as unknown;
    return typeof odd === "object" && odd !== null ? (odd as Partial<Record<string, unknown>>)[field] : undefined;
  }

  *[Symbol.iterator](): Iterator<Entry> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  // ---- a table in path order, compared without its index (parent-merge.ts) ----

  /**
   * Whether every path can be looked up and each is past the one before it (`<`): a scan once
   * sorted. A parent's entries are then matched with it by one walk as they are read
   * (parent-merge.ts), without the table's index (9 MB at a million entries).
   */
  strictlyInPathOrder(): boolean {
    for (let i = 0; i < this.count; i++) {
      if (!this.indexed(i) || (i > 0 && this.pathColumn.compare(i - 1, i) >= 0)) return false;
    }
    return true;
  }

  /** Entry `i`'s path compared with `path` as `<` compares them. */
  comparePathTo(i: number, path: string): number {
    return this.pathColumn.compareTo(i, path);
  }

  /** Every entry without an MD5 (what a comparison with a parent carried over, when it is not used after all). */
  clearMd5s(): void {
    for (let i = 0; i < this.count; i++) this.setMd5(i, undefined);
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
    for (let slot = hashString(path) & mask, probes = 0; probes <= longestProbe; slot = (slot + 1) & mask, probes++) {
      const held = slots[slot]!;
      if (held === 0) return undefined;
      if (this.pathColumn.equals(held - 1, path)) return held - 1;
    }
    return undefined; // the index was made without a chain this long (index() refuses one)
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
    for (let i = 0; i < this.count; i++) if (this.counts(i)) yield this.pathColumn.at(i);
  }

  /** Whether entry `i` is the one its path's lookups find (not an earlier one of a path listed twice). */
  counts(i: number): boolean {
    return this.index().counted![i] === 1;
  }

  /** An entry whose path is no string (kept as it came) is in no index. */
  private indexed(i: number): boolean {
    return this.types[i] !== oddCode || isIndexable(this.oddField(i, "path"));
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
      let path: string | undefined; // cut out at the first collision only
      for (let slot = this.pathColumn.hash(i) & mask, probes = 0; ; slot = (slot + 1) & mask, probes++) {
        if (probes > longestProbe) throw new DumontError(`a manifest's paths collide in its index far beyond chance (${longestProbe} probes for ${JSON.stringify(this.pathColumn.at(i).slice(0, 80))}): it was made to, refused`);
        const held = slots[slot]!;
        if (held === 0) {
          slots[slot] = i + 1;
          distinct++;
          break;
        }
        path ??= this.pathColumn.at(i);
        if (this.pathColumn.equals(held - 1, path)) {
          slots[slot] = i + 1; // the later entry of a path counts
          break;
        }
      }
    }
    const counted = new Uint8Array(this.count);
    for (const held of slots) if (held !== 0) counted[held - 1] = 1;
    this.slots = slots;
    this.counted = counted;
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
 * `collect`): its entries into a table, its path lists into PathLists, those after the entries
 * keeping a path the entries have as its position there (an archive's members, in `included`).
 * Without `pathLists`, the path lists are parsed (their syntax checked) and dropped; without `md5s`,
 * the entries' MD5s (16 MB at a million entries).
 */
export function compactManifestLists({ pathLists = true, md5s = true } = {}): (key: string) => ArraySink | undefined {
  let entries: EntryTable | undefined;
  return (key) => {
    if (key === "entries") return (entries = new EntryTable({ md5s })) as unknown as ArraySink;
    if (key === "included" || key === "deleted" || key === "discarded") return pathLists ? new PathList(entries) : { push: () => {} };
    return undefined;
  };
}
