// Many strings kept as a few long ones. A string of its own costs 16 to 24 bytes beyond its
// characters and 8 more for the pointer to it, and each is an object for the collector to trace: at
// a million paths that is most of a manifest's memory (issue 15: the controller under 256 MiB at a
// million files). Here a column's strings are joined into one string per 1,024 of them, with their
// ends in a typed array; a string is cut out again only when it is asked for. Small chunks, so the
// strings pushed die young: held until a chunk of 65,536 was joined, they outlived the collector's
// young generation, and a restore of a million files peaked at 356 MB of V8 heap for 91 MB live.

import { randomBytes } from "node:crypto";
import { DumontError } from "../../lib/errors.ts";

const perChunk = 1024;

/**
 * Longer than any path Linux takes (PATH_MAX, 4,096 bytes, is at least as many UTF-16 units): a
 * longer one is kept aside, not in a column, whose chunks would pass the engine's longest string.
 */
export const longestPath = 4096;

/**
 * Keeps a value aside in a Map (a table's or a list's odd elements), short of the Map's own limit
 * (2^24): a manifest with millions of malformed elements is refused here, in a line, not by the engine.
 */
export function keepAside<V>(map: Map<number, V>, i: number, value: V): void {
  if (map.size >= 1 << 22) throw new DumontError(`a manifest holds more than ${1 << 22} elements of an unexpected form: it is not one Dumont made, refused`);
  map.set(i, value);
}

/** A full array's contents in one twice its length (1,024 at least). */
function withRoom(array: Uint32Array): Uint32Array<ArrayBuffer> {
  const grown = new Uint32Array(Math.max(1024, array.length * 2));
  grown.set(array);
  return grown;
}

export class StringColumn implements Iterable<string> {
  private readonly chunks: string[] = [];
  /** The strings since the last chunk. */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Each string's end within its chunk. */
  private ends = new Uint32Array(1024);
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(value: string): void {
    // A read seals the chunk being filled (chunk): a column is whole before it is read.
    if (this.count - this.pending.length !== this.chunks.length * perChunk) throw new Error("a string column is not added to once it has been read");
    if (this.count === this.ends.length) this.ends = withRoom(this.ends);
    this.pendingLength += value.length;
    this.pending.push(value);
    this.ends[this.count++] = this.pendingLength;
    if (this.pending.length === perChunk) this.seal();
  }

  /** Joins what was pushed since the last chunk into one (reads seal first: a chunk is never changed). */
  private seal(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.pending.join(""));
    this.pending = [];
    this.pendingLength = 0;
  }

  private chunk(i: number): string {
    if (this.pending.length > 0) this.seal();
    return this.chunks[Math.floor(i / perChunk)]!;
  }

  private start(i: number): number {
    return i % perChunk === 0 ? 0 : this.ends[i - 1]!;
  }

  at(i: number): string {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no string ${i} in a column of ${this.count}`);
    return this.chunk(i).slice(this.start(i), this.ends[i]);
  }

  /** Whether string `i` is `value`, without cutting it out. */
  equals(i: number, value: string): boolean {
    const start = this.start(i);
    return this.ends[i]! - start === value.length && this.chunk(i).startsWith(value, start);
  }

  /** Strings `i` and `j` compared as `<` compares them (UTF-16 code units), without cutting them out. */
  compare(i: number, j: number): number {
    const a = this.chunk(i);
    const b = this.chunk(j);
    const aEnd = this.ends[i]!;
    const bEnd = this.ends[j]!;
    const x = this.start(i);
    const y = this.start(j);
    // Long ones (a host may list paths of thousands of characters that differ only at the end) are
    // cut out and compared by the engine, much faster per character than this loop.
    if (aEnd - x > 256 && bEnd - y > 256) return compareStrings(this.at(i), this.at(j));
    return compareRanges(a, x, aEnd, b, y, bEnd);
  }

  /** String `i` compared with `value` as `<` compares them, without cutting it out. */
  compareTo(i: number, value: string): number {
    const start = this.start(i);
    const end = this.ends[i]!;
    if (end - start > 256 && value.length > 256) return compareStrings(this.at(i), value);
    return compareRanges(this.chunk(i), start, end, value, 0, value.length);
  }

  /** A hash of string `i` (the same as hashString's of it), without cutting it out. */
  hash(i: number): number {
    const chunk = this.chunk(i);
    let h = fnvOffset;
    for (let at = this.start(i), end = this.ends[i]!; at < end; at++) h = Math.imul(h ^ chunk.charCodeAt(at), fnvPrime);
    return h >>> 0;
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  /** Gives up the growth room once the column is whole. */
  trim(): void {
    this.seal();
    this.ends = this.ends.subarray(0, this.count); // a view: a copy would hold both for a moment
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** a[x..aEnd) and b[y..bEnd) compared as `<` compares strings (UTF-16 code units). */
function compareRanges(a: string, x: number, aEnd: number, b: string, y: number, bEnd: number): number {
  for (; x < aEnd && y < bEnd; x++, y++) {
    const difference = a.charCodeAt(x) - b.charCodeAt(y);
    if (difference !== 0) return difference;
  }
  return (aEnd - x) - (bEnd - y);
}

/**
 * FNV-1a's start, drawn anew by each process: a manifest comes from a bucket, and with a start known
 * in advance, a million paths of one hash are cheap to make (each lookup then probes them all).
 */
const fnvOffset = randomBytes(4).readUInt32LE(0);
const fnvPrime = 0x01000193;

/** FNV-1a over a string's UTF-16 code units, from this process's start. */
export function hashString(value: string): number {
  let h = fnvOffset;
  for (let at = 0; at < value.length; at++) h = Math.imul(h ^ value.charCodeAt(at), fnvPrime);
  return h >>> 0;
}

/** Where a list's paths may be found already (a manifest's entries: entry-table.ts). */
export interface PathSource {
  position(path: string): number | undefined;
  pathAt(i: number): string;
}

/**
 * A list of a manifest's paths (included, deleted, discarded), compact. A path its `source` has (an
 * archive's members are entries of its tree: a million of them at a million files) is kept as its
 * position there, four bytes; any other as a string of a StringColumn. A manifest comes from a
 * bucket: an element that is not a string is kept as it is, for the manifest's check to name (its
 * type says string, as a parsed manifest's does, until checkManifest has passed it).
 */
export class PathList implements Iterable<string> {
  private readonly source: PathSource | undefined;
  private readonly strings = new StringColumn();
  private readonly odd = new Map<number, unknown>();
  /** Per element: (its position in `source` << 1) | 1, or (its index in `strings` << 1). */
  private items = new Uint32Array(1024);
  private count = 0;

  constructor(source?: PathSource) {
    this.source = source;
  }

  static of(values: Iterable<unknown>, source?: PathSource): PathList {
    const list = new PathList(source);
    for (const value of values) list.push(value);
    list.trim();
    return list;
  }

  get length(): number {
    return this.count;
  }

  push(value: unknown): void {
    if (this.count === this.items.length) this.items = withRoom(this.items);
    const i = this.count++;
    const position = typeof value === "string" ? this.source?.position(value) : undefined;
    if (position !== undefined && position < 2 ** 31) {
      this.items[i] = (position * 2) + 1;
      return;
    }
    // What is no path (not a string, or longer than any path) is kept aside: the check refuses it.
    if (typeof value !== "string" || value.length > longestPath) {
      keepAside(this.odd, i, value);
      return;
    }
    this.items[i] = this.strings.length * 2;
    this.strings.push(value);
  }

  /** The path at `position` in the list's source, as its position. */
  pushPosition(position: number): void {
    if (!this.source || !(Number.isInteger(position) && position >= 0 && position < 2 ** 31)) throw new RangeError(`no position ${position} in this list's source`);
    if (this.count === this.items.length) this.items = withRoom(this.items);
    this.items[this.count++] = (position * 2) + 1;
  }

  at(i: number): string {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no path ${i} in a list of ${this.count}`);
    if (this.odd.has(i)) return this.odd.get(i) as string;
    const item = this.items[i]!;
    return item % 2 === 1 ? this.source!.pathAt((item - 1) / 2) : this.strings.at(item / 2);
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  /** The list is whole: no growth room is kept (a view, not a copy). */
  trim(): void {
    this.items = this.items.subarray(0, this.count);
    this.strings.trim();
  }

  /** What JSON.stringify writes: the array it stands for. */
  toJSON(): unknown[] {
    return [...this];
  }
}
