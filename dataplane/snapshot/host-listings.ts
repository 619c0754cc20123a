// What hosts list for the controller, parsed as it arrives: the scan of a tree (find -printf's six
// NUL-terminated fields per entry, or dumont-pack's same records) and MD5s (`md5sum -z` records).
// A listing runs to tens of megabytes at a million files; parsed chunk by chunk, only what is made
// of it is kept, never the listing whole, its decoded text and every field of it at the same time.
// Paths are strings in the surrogateescape convention of path-bytes.ts: any file name round-trips.
import { DumontError } from "../../lib/errors.ts";
import type { Entry, EntryType } from "./manifest.ts";
import { pathFromBytes } from "./path-bytes.ts";

const noBytes = Buffer.alloc(0);

/**
 * Splits a stream of NUL-terminated fields into records of `width` fields. Each chunk's complete
 * fields are decoded together (NUL is never part of a multi-byte sequence, so decoding before
 * splitting is the same as after); a field cut by the chunk's end waits for the next chunk.
 */
export class NulRecords {
  private tail: Buffer = noBytes;
  private pending: string[] = [];
  private readonly width: number;
  private readonly onRecord: (fields: readonly string[], at: number) => void;

  /** `onRecord` gets an array of fields and the index of the record's first field in it. */
  constructor(width: number, onRecord: (fields: readonly string[], at: number) => void) {
    this.width = width;
    this.onRecord = onRecord;
  }

  push(chunk: Buffer): void {
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const end = data.lastIndexOf(0);
    if (end < 0) {
      this.tail = Buffer.from(data); // a copy: a view would keep the whole chunk alive
      return;
    }
    this.tail = end + 1 < data.length ? Buffer.from(data.subarray(end + 1)) : noBytes;
    const fields = pathFromBytes(data.subarray(0, end)).split("\0");
    const all = this.pending.length > 0 ? this.pending.concat(fields) : fields;
    const whole = all.length - (all.length % this.width);
    for (let i = 0; i < whole; i += this.width) this.onRecord(all, i);
    this.pending = whole < all.length ? all.slice(whole) : [];
  }

  /** The listing ended: anything left over is a record cut short. */
  end(what: string): void {
    if (this.tail.length > 0 || this.pending.length > 0) {
      throw new DumontError(`${what} ends in the middle of a record (${this.pending.length} of ${this.width} fields${this.tail.length ? " and part of one more" : ""}): truncated?`);
    }
  }
}

const typeOf: Readonly<Record<string, EntryType>> = { f: "file", d: "dir", l: "symlink" };

export interface ScanResult {
  readonly entries: Entry[];
  /** Paths of other kinds (sockets, fifos, devices), which snapshots do not hold. */
  readonly skipped: string[];
}

/**
 * Reads `find . -printf '%y\0%p\0%s\0%m\0%T@\0%l\0'` as it arrives: six NUL-terminated fields per
 * entry, so any byte but NUL may appear in a name (spaces, newlines, quotes, a leading dash,
 * invalid UTF-8). `result()` sorts the entries by path.
 */
export class ScanParser {
  private readonly entries: Entry[] = [];
  private readonly skipped: string[] = [];
  private readonly records = new NulRecords(6, (fields, i) => {
    const found = fields[i + 1]!;
    const path = found.startsWith("./") ? found.slice(2) : found;
    const type = typeOf[fields[i]!];
    if (!type) {
      this.skipped.push(path);
      return;
    }
    const size = type === "file" ? Number(fields[i + 2]) : 0;
    const mode = parseInt(fields[i + 3]!, 8);
    this.entries.push(type === "symlink" ? { path, type, size, mode, mtime: fields[i + 4]!, target: fields[i + 5]! } : { path, type, size, mode, mtime: fields[i + 4]! });
  });

  readonly push = (chunk: Buffer): void => this.records.push(chunk);

  result(): ScanResult {
    this.records.end("the scan's output");
    this.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { entries: this.entries, skipped: this.skipped };
  }
}

const md5Hex = /^[0-9a-f]{32}$/;

/** Reads `md5sum -z` output as it arrives: "<32 hex>  <name>\0" per file (names never escaped with -z). */
export class Md5Parser {
  private readonly sums = new Map<string, string>();
  private readonly records = new NulRecords(1, (fields, i) => {
    const record = fields[i]!;
    if (record === "") return;
    // "\\" first when md5sum escaped the name; then the sum, a space, and " " or "*" (binary mode).
    const at = record.startsWith("\\") ? 1 : 0;
    const md5 = record.slice(at, at + 32);
    const separator = record.slice(at + 32, at + 34);
    if (!md5Hex.test(md5) || (separator !== "  " && separator !== " *")) throw new DumontError(`unexpected md5sum output: ${JSON.stringify(record.slice(0, 80))}`);
    const name = record.slice(at + 34);
    this.sums.set(name.startsWith("./") ? name.slice(2) : name, md5);
  });

  readonly push = (chunk: Buffer): void => this.records.push(chunk);

  result(): Map<string, string> {
    this.records.end("md5sum's output");
    return this.sums;
  }
}

/** A whole scan listing at once (ScanParser). */
export function parseScan(output: Buffer): ScanResult {
  const parser = new ScanParser();
  parser.push(output);
  return parser.result();
}

/** A whole `md5sum -z` listing at once (Md5Parser). */
export function parseMd5(output: Buffer): Map<string, string> {
  const parser = new Md5Parser();
  parser.push(output);
  return parser.result();
}
