// A snapshot's manifest entry for a file is what the scan saw (size, mtime, mode) and the MD5 of
// what the round archived. A file written between the scan and its read would get an archive copy
// and a manifest entry that disagree, and one written as it was read an archive copy that is a mix.
// So after every round, each entry as the reader saw it is compared with the tree the round began
// from: those still as it has them, and not reported changed as they were read, were read at rest;
// the others are read again in another round (create.ts). The tree is the scan's table, kept up to
// date as the rounds go: each round's MD5s are written into it, and an entry read again is replaced
// by what the reader saw.
import type { EntryTable } from "./entry-table.ts";
import type { Entry, Positions } from "./manifest.ts";
import type { TarReport } from "./tar-messages.ts";

/** A round's bits per entry of the tree. */
const asked = 1;
/** The reader saw it as the tree has it (sameFile). */
const seenSame = 2;
/** The reader saw it otherwise (the entry is in `otherwise`). */
const seenOther = 4;
const summed = 8;

export interface RoundOutcome {
  /** Changed while read: where in the tree, and the entry as it is now (its MD5, if any, is in the tree). */
  readonly changing: Array<{ readonly position: number; readonly now: Entry }>;
  /** Positions of what was gone when the round read it. */
  readonly vanished: number[];
}

/**
 * One round's listings from the host, taken as they arrive (each entry as the reader saw it, the MD5
 * of each file it archived) and kept against the tree's entries the round reads. An entry the reader
 * saw as the tree has it (nearly all of them) costs a byte, not an object; each MD5 goes into the
 * tree as it arrives. Once both listings are read, `settle` says what is left to read again.
 */
export class RoundListing {
  private readonly tree: EntryTable;
  private readonly reading: Positions;
  private readonly state: Uint8Array;
  private readonly otherwise = new Map<number, Entry>();

  /** Takes the MD5s the tree has of the entries read (a previous round's) out of it: this round's count. */
  constructor(tree: EntryTable, reading: Positions) {
    this.tree = tree;
    this.reading = reading;
    this.state = new Uint8Array(tree.length);
    for (const i of reading) {
      this.state[i] = asked;
      tree.setMd5(i, undefined);
    }
  }

  /** An entry as the reader saw it (its `seen` listing); the last record of a path counts, and one the round did not ask for is not kept. */
  readonly seen = (current: Entry): void => {
    const i = this.tree.position(current.path);
    if (i === undefined || (this.state[i]! & asked) === 0) return;
    this.state[i] = this.state[i]! & ~(seenSame | seenOther);
    if (this.tree.sameFileAt(i, current)) {
      this.state[i] = this.state[i]! | seenSame;
      this.otherwise.delete(i);
    } else {
      this.state[i] = this.state[i]! | seenOther;
      this.otherwise.set(i, current);
    }
  };

  /** A file's MD5 as the round archived it (its `sums` listing), into the tree. */
  readonly summed = (path: string, md5: string): void => {
    const i = this.tree.position(path);
    // Only a file's MD5 counts (one that became a file as it was read is read again as a file).
    if (i === undefined || (this.state[i]! & asked) === 0 || this.tree.typeAt(i) !== "file") return;
    this.tree.setMd5(i, md5);
    this.state[i] = this.state[i]! | summed;
  };

  /**
   * Sorts the round's entries by what happened to them, `tar` being what the reader said (in GNU
   * tar's words). Those read at rest are left as the tree has them, with this round's MD5.
   */
  settle(tar: TarReport): RoundOutcome {
    const changing: Array<{ position: number; now: Entry }> = [];
    const vanished: number[] = [];
    const told = tar.changed.size > 0 || tar.missing.size > 0;
    for (const i of this.reading) {
      const state = this.state[i]!;
      if ((state & (seenSame | seenOther)) === 0) {
        vanished.push(i);
        continue;
      }
      const now = (state & seenSame) !== 0 ? undefined : this.otherwise.get(i)!;
      const type = this.tree.typeAt(i);
      // A directory's own mtime moves whenever something in it does, and the restore sets it from
      // the manifest anyway: only its type matters.
      const atRest = type === "dir"
        ? now === undefined || now.type === "dir"
        : now === undefined && (type !== "file" || (state & summed) !== 0)
          && !(told && (tar.changed.has(this.tree.pathAt(i)) || tar.missing.has(this.tree.pathAt(i))));
      if (!atRest) changing.push({ position: i, now: now ?? this.tree.at(i) });
    }
    return { changing, vanished };
  }
}
