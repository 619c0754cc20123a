// A snapshot's manifest: every entry of /workspace as it was (path, type, size, mode, mtime, MD5,
// symlink target), which of them the snapshot's archive holds, and what was deleted since its
// parent. It is written last: a snapshot without a manifest does not exist. Pure functions here.
// Paths are strings in the surrogateescape convention of path-bytes.ts: any file name round-trips.
import { DumontError, UserError } from "../../lib/errors.ts";
import { EntryTable, isMd5 } from "./entry-table.ts";
import type { PathList } from "./string-column.ts";

export type EntryType = "file" | "dir" | "symlink";

export interface Entry {
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  /** Permission bits, e.g. 0o644, as a number. */
  readonly mode: number;
  /** Seconds since the epoch, with the fraction find(1) prints, as text (exact round trips). */
  readonly mtime: string;
  readonly md5?: string;
  readonly target?: string;
  /**
   * The file changed during every read the snapshot made of it: the archive holds its last read,
   * which may not match the size and MD5 recorded here (restore verification warns, not fails).
   */
  readonly unstable?: true;
}

export interface ArchiveInfo {
  readonly key: string;
  readonly bytes: number;
  /**
   * MD5 of the compressed object, in manifests from before 2026-12-01 only, and no longer checked:
   * each part's MD5 is checked against the store's as it is uploaded, LZ4's frame checksum as the
   * object is decoded, and every file's MD5 after a restore.
   */
  readonly md5?: string;
  readonly parts: number;
  readonly partSize: number;
  readonly compression: "lz4";
}

export interface Manifest {
  readonly format: "dumont-snapshot/1";
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly kind: "full" | "incremental";
  readonly parent: string | null;
  /** Ids from the full snapshot to this one: what a restore applies, in order. */
  readonly chain: readonly string[];
  readonly source: { readonly host: string; readonly label?: string };
  /**
   * The stack whose GPU the snapshot was made of: another stack never restores it (snapshot-owner.ts).
   * Absent in manifests from before it existed, which every stack sharing the prefix may restore.
   */
  readonly stack?: string;
  readonly archive: ArchiveInfo;
  /** The whole tree after this snapshot. */
  readonly entries: Entries;
  /** Paths whose content is in this snapshot's archive. */
  readonly included: Paths;
  /** Paths present in the parent and gone now: removed before this snapshot's archive is extracted. */
  readonly deleted: Paths;
  /**
   * Paths the archive holds that are not in the tree (they vanished while the snapshot was being
   * made): removed after the archive is extracted. Absent in manifests from before it existed.
   */
  readonly discarded?: Paths;
  readonly stats: { readonly files: number; readonly dirs: number; readonly symlinks: number; readonly bytes: number };
}

/** A manifest without its path lists (SnapshotStore.readTree). */
export type ManifestTree = Omit<Manifest, "included" | "deleted" | "discarded">;

export function withMd5(entries: readonly Entry[], sums: ReadonlyMap<string, string>): Entry[] {
  return entries.map((e) => {
    if (e.type !== "file") return e;
    const md5 = sums.get(e.path);
    if (!md5) throw new DumontError(`no MD5 for ${JSON.stringify(e.path)}: did it change during the snapshot?`);
    return { ...e, md5 };
  });
}

/** A tree's entries: an array (made here), or a table (read from the store: entry-table.ts). */
export type Entries = readonly Entry[] | EntryTable;
/** A manifest's list of paths: an array (made here), or compact (read from the store). */
export type Paths = readonly string[] | PathList;

/**
 * The fields of a tree's entries one by one, whichever way the tree is held: a loop over a table
 * read from the store then makes no entry whole (a million of them at a million files), and only
 * what it keeps is made (`at`). An entry of an unchecked manifest may be no object: its fields are
 * undefined then, as the table's are.
 */
export interface EntryFields {
  readonly length: number;
  at(i: number): Entry;
  pathAt(i: number): string;
  typeAt(i: number): EntryType;
  sizeAt(i: number): number;
  targetAt(i: number): string | undefined;
  md5At(i: number): string | undefined;
  /** sameFile of entry `i` and `now`. */
  sameFileAt(i: number, now: Entry): boolean;
}

class ArrayFields implements EntryFields {
  private readonly entries: readonly Entry[];

  constructor(entries: readonly Entry[]) {
    this.entries = entries;
  }

  get length(): number {
    return this.entries.length;
  }

  at(i: number): Entry {
    return this.entries[i]!;
  }

  private field(i: number, name: keyof Entry): unknown {
    const entry = this.entries[i] as unknown;
    return typeof entry === "object" && entry !== null ? (entry as Partial<Record<string, unknown>>)[name] : undefined;
  }

  pathAt(i: number): string {
    return this.field(i, "path") as string;
  }

  typeAt(i: number): EntryType {
    return this.field(i, "type") as EntryType;
  }

  sizeAt(i: number): number {
    return this.field(i, "size") as number;
  }

  targetAt(i: number): string | undefined {
    return this.field(i, "target") as string | undefined;
  }

  md5At(i: number): string | undefined {
    return this.field(i, "md5") as string | undefined;
  }

  sameFileAt(i: number, now: Entry): boolean {
    return sameFile(this.entries[i]!, now);
  }
}

export function entryFields(entries: Entries): EntryFields {
  return entries instanceof EntryTable ? entries : new ArrayFields(entries);
}

/** Paths a tree has, and where: the last entry's, should a path appear twice. */
export interface TreeIndex {
  /** How many different paths the tree has. */
  readonly size: number;
  has(path: string): boolean;
  /** Where the path's entry is in the tree. */
  position(path: string): number | undefined;
  type(path: string): EntryType | undefined;
  /** Each different path once. */
  paths(): Iterable<string>;
}

/**
 * An array's index. A restore asks it of the same tree several times (checks, planning, each link's
 * lists, the verification): it is made once per tree, and holds positions, not copies, so a tree
 * once indexed must not be reordered.
 */
class ArrayIndex implements TreeIndex {
  private readonly entries: readonly Entry[];
  private readonly positions = new Map<string, number>();

  constructor(entries: readonly Entry[]) {
    this.entries = entries;
    for (const [i, entry] of entries.entries()) this.positions.set(entry.path, i);
  }

  get size(): number {
    return this.positions.size;
  }

  has(path: string): boolean {
    return this.positions.has(path);
  }

  position(path: string): number | undefined {
    return this.positions.get(path);
  }

  type(path: string): EntryType | undefined {
    const i = this.positions.get(path);
    return i === undefined ? undefined : this.entries[i]!.type;
  }

  paths(): IterableIterator<string> {
    return this.positions.keys();
  }
}

const indexes = new WeakMap<readonly Entry[], TreeIndex>();

/** The tree's index, made at the first ask (a table is its own). */
export function treeIndex(entries: Entries): TreeIndex {
  if (entries instanceof EntryTable) return entries;
  let index = indexes.get(entries);
  if (!index) indexes.set(entries, (index = new ArrayIndex(entries)));
  return index;
}

/**
 * Whether an entry is unchanged, by the test rsync makes (size, mtime, mode), for symlinks their
 * target. One recorded as unstable never counts as unchanged: its archive copy may differ.
 */
export function sameFile(before: Entry, now: Entry): boolean {
  return !before.unstable && before.type === now.type && before.size === now.size && before.mtime === now.mtime
    && before.mode === now.mode && before.target === now.target;
}

/** Positions of entries in a tree. */
export type Positions = Uint32Array | readonly number[];

export interface TreeChanges {
  /** Positions in the current tree of the entries whose content or metadata must be in the new archive. */
  readonly changed: Positions;
  readonly deleted: string[];
  /** How many of its entries are unchanged: their MD5s are carried over from the parent into the current tree. */
  readonly unchanged: number;
  /** 1 for each entry of the current tree whose path the parent has too (none without a parent). */
  readonly inParent?: Uint8Array;
}

/**
 * What an incremental snapshot must hold to turn the parent's tree into the current one (with no
 * parent: everything). The MD5 of each unchanged file is written into the current tree.
 */
export function diffTrees(parent: Entries | undefined, current: EntryTable): TreeChanges {
  if (!parent) {
    // Every position: made at its size, a list grown a push at a time was 16 MB of garbage at a million.
    const every = new Uint32Array(current.length);
    for (let i = 0; i < current.length; i++) every[i] = i;
    return { changed: every, deleted: [], unchanged: 0 };
  }
  const before = treeIndex(parent);
  const changed: number[] = [];
  const was = entryFields(parent);
  const inParent = new Uint8Array(current.length);
  let unchanged = 0;
  for (let i = 0; i < current.length; i++) {
    const had = before.position(current.pathAt(i));
    if (had !== undefined) inParent[i] = 1;
    const same = had !== undefined && isUnchanged(current, i, was.sameFileAt(had, current.at(i)), was.md5At(had));
    if (same) unchanged++;
    else changed.push(i);
  }
  return { changed, deleted: deletedSince(parent, current), unchanged, inParent };
}

/**
 * Whether entry `i` of the current tree is unchanged since its parent's entry (`sameFile` of the
 * two, and that entry's MD5): its MD5 is then carried over into the current tree.
 */
export function isUnchanged(current: EntryTable, i: number, sameFile: boolean, md5: unknown): boolean {
  // Directories always go in (no content, cheap): their modes and times must be restored. An MD5
  // that is none (a bucket's manifest may hold anything) is not carried over: the file is read again.
  if (current.typeAt(i) === "dir" || !sameFile || (md5 !== undefined && !isMd5(md5))) return false;
  current.setMd5(i, md5 as string | undefined);
  return true;
}

/** Paths of the parent's tree that the current one no longer has. */
export function deletedSince(parent: Entries, current: Entries): string[] {
  const now = treeIndex(current);
  const was = entryFields(parent);
  const deleted: string[] = [];
  for (let i = 0; i < was.length; i++) if (!now.has(was.pathAt(i))) deleted.push(was.pathAt(i));
  return deleted;
}

/**
 * Marks in `dropped` what no longer hangs in the tree once the entries it marks are gone: an entry
 * whose folder is dropped, or is no folder (it vanished, or turned into a file, while a snapshot was
 * made), goes with it. The tree is in path order, so a folder comes before what it holds.
 */
export function dropOrphans(tree: EntryTable, dropped: Uint8Array): void {
  let folder: string | undefined;
  let folderHolds = false;
  for (let i = 0; i < tree.length; i++) {
    if (dropped[i]) continue;
    const path = tree.pathAt(i);
    const slash = path.lastIndexOf("/");
    if (slash < 0) continue;
    const parent = path.slice(0, slash);
    if (parent !== folder) {
      const at = tree.position(parent);
      folder = parent;
      folderHolds = at !== undefined && at < i && !dropped[at] && tree.typeAt(at) === "dir";
    }
    if (!folderHolds) dropped[i] = 1;
  }
}

export function stats(entries: Entries): Manifest["stats"] {
  const fields = entryFields(entries);
  let files = 0, dirs = 0, symlinks = 0, bytes = 0;
  for (let i = 0; i < fields.length; i++) {
    const type = fields.typeAt(i);
    if (type === "file") {
      files++;
      bytes += fields.sizeAt(i);
    } else if (type === "dir") dirs++;
    else symlinks++;
  }
  return { files, dirs, symlinks, bytes };
}

const snapshotName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const idTime = /^\d{8}T\d{9}Z-/;

/** Snapshot ids sort by time: 20261122T130501123Z-name. */
export function snapshotId(name: string, at: Date): string {
  if (!snapshotName.test(name)) {
    throw new UserError(`snapshot name '${name}' must be 1-100 letters, digits, dots, dashes or underscores`, "give another --name");
  }
  return `${at.toISOString().replace(/[-:.]/g, "")}-${name}`;
}

export function nameOfId(id: string): string {
  return id.replace(idTime, "");
}

/** Whether `id` has the form snapshotId gives: a time, then a name. */
export function isSnapshotId(id: string): boolean {
  return idTime.test(id) && snapshotName.test(nameOfId(id));
}
