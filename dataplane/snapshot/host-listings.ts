// What hosts list for the controller, parsed as it arrives: the scan of a tree (find -printf's six
// NUL-terminated fields per entry, or dumont-pack's same records) and MD5s (`md5sum -z` records).
// A listing runs to tens of megabytes at a million files; parsed chunk by chunk, only what is made
// of it is kept, never the listing whole, its decoded text and every field of it at the same time.
// Paths are strings in the surrogateescape convention of path-bytes.ts: any file name round-trips.
import { DumontError } from "../../lib/errors.ts";
import type { Entry, EntryType } from "./manifest.ts";
import { isMd5 } from "./entry-table.ts";
import { pathFromBytes } from "./path-bytes.ts";

/**
 * The longest field a listing may hold: a path or a symlink target is at most PATH_MAX (4,096
 * bytes) on Linux, an md5sum record that and its sum. A host that sends more without a NUL is
 * broken or hostile, and is refused before the controller copies it around.
 */
const longestField = 64 * 1024;

/**
 * Splits a stream of NUL-terminated fields into records of `width` fields, handed on as bytes: each
 * parser decodes what it keeps from them into strings of their own (a slice of a chunk's decoded
 * text would keep the whole text alive as long as the entry that holds it). A field cut by a chunk's
 * end waits for the next chunk; only the new chunk is searched for its end, so the work stays linear.
 */
export class NulRecords {
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private readonly fields: Buffer[] = [];
  private readonly width: number;
  private readonly onRecord: (fields: readonly Buffer[]) => void;

  /** `onRecord` gets each record's fields: views it may decode, not keep (they are reused). */
  constructor(width: number, onRecord: (fields: readonly Buffer[]) => void) {
    this.width = width;
    this.onRecord = onRecord;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nul = chunk.indexOf(0); nul >= 0; nul = chunk.indexOf(0, start)) {
      if (this.tailBytes > 0) {
        this.tail.push(chunk.subarray(0, nul));
        this.field(Buffer.concat(this.tail));
        this.tail = [];
        this.tailBytes = 0;
      } else this.field(chunk.subarray(start, nul));
      start = nul + 1;
    }
    if (start < chunk.length) {
      this.tail.push(Buffer.from(chunk.subarray(start))); // a copy: a view would keep the whole chunk alive
      this.tailBytes += chunk.length - start;
      if (this.tailBytes > longestField) throw new DumontError(`a host listing holds a field longer than ${longestField} bytes, longer than any path: refused`);
    }
  }

  private field(bytes: Buffer): void {
    this.fields.push(bytes);
    if (this.fields.length === this.width) {
      this.onRecord(this.fields);
      this.fields.length = 0;
    }
  }

  /** The listing ended: anything left over is a record cut short. */
  end(what: string): void {
    if (this.tailBytes > 0 || this.fields.length > 0) {
      throw new DumontError(`${what} ends in the middle of a record (${this.fields.length} of ${this.width} fields${this.tailBytes ? " and part of one more" : ""}): truncated?`);
    }
  }
}

/** A name as find and md5sum print it, without their "./", as a string (path-bytes.ts). */
function nameFrom(bytes: Buffer): string {
  return pathFromBytes(bytes[0] === dot && bytes[1] === slash ? bytes.subarray(2) : bytes);
}

const dot = 0x2e;
const slash = 0x2f;
const backslash = 0x5c;
const space = 0x20;
const star = 0x2a;

const typeOf: Readonly<Record<string, EntryType>> = { f: "file", d: "dir", l: "symlink" };

export interface ScanResult {
  readonly entries: Entry[];
  /** Paths of other kinds (sockets, fifos, devices), which snapshots do not hold. */
  readonly skipped: string[];
}

/**
 * Reads `find . -printf '%y\0%p\0%s\0%m\0%T@\0%l\0'` as it arrives: six NUL-terminated fields per
 * entry, so any byte but NUL may appear in a name (spaces, newlines, quotes, a leading dash,
 * invalid UTF-8). `result()` sorts the entries by path; given `onEntry`, each entry goes there
 * instead, as it is read, and none is kept.
 */
export class ScanParser {
  private readonly entries: Entry[] = [];
  private readonly skipped: string[] = [];
  private readonly onEntry: (entry: Entry) => void;

  constructor(onEntry?: (entry: Entry) => void) {
    this.onEntry = onEntry ?? ((entry) => this.entries.push(entry));
  }

  private readonly records = new NulRecords(6, (fields) => {
    const path = nameFrom(fields[1]!);
    const type = typeOf[fields[0]!.toString("latin1")];
    if (!type) {
      this.skipped.push(path);
      return;
    }
    const size = type === "file" ? Number(fields[2]!.toString("latin1")) : 0;
    const mode = parseInt(fields[3]!.toString("latin1"), 8);
    const mtime = fields[4]!.toString("latin1");
    this.onEntry(type === "symlink" ? { path, type, size, mode, mtime, target: pathFromBytes(fields[5]!) } : { path, type, size, mode, mtime });
  });

  readonly push = (chunk: Buffer): void => this.records.push(chunk);

  /** The listing ended: throws if it was cut inside a record. */
  done(): void {
    this.records.end("the scan's output");
  }

  result(): ScanResult {
    this.done();
    this.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { entries: this.entries, skipped: this.skipped };
  }
}

/**
 * Reads `md5sum -z` output as it arrives: "<32 hex>  <name>\0" per file (names never escaped with
 * -z). `result()` has them by path; given `onSum`, each goes there instead, and none is kept.
 */
export class Md5Parser {
  private readonly sums = new Map<string, string>();
  private readonly onSum: (path: string, md5: string) => void;

  constructor(onSum?: (path: string, md5: string) => void) {
    this.onSum = onSum ?? ((path, md5) => this.sums.set(path, md5));
  }

  private readonly records = new NulRecords(1, ([record]) => {
    if (record!.length === 0) return;
    // "\\" first when md5sum escaped the name; then the sum, a space, and " " or "*" (binary mode).
    const at = record![0] === backslash ? 1 : 0;
    const md5 = record!.toString("latin1", at, at + 32);
    const separated = record![at + 32] === space && (record![at + 33] === space || record![at + 33] === star);
    if (!isMd5(md5) || !separated) throw new DumontError(`unexpected md5sum output: ${JSON.stringify(pathFromBytes(record!.subarray(0, 80)))}`);
    this.onSum(nameFrom(record!.subarray(at + 34)), md5);
  });

  readonly push = (chunk: Buffer): void => this.records.push(chunk);

  /** The listing ended: throws if it was cut inside a record. */
  done(): void {
    this.records.end("md5sum's output");
  }

  result(): Map<string, string> {
    this.done();
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
