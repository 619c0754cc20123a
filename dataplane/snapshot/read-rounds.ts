// A snapshot's manifest entry for a file is what the scan saw (size, mtime, mode) and the MD5 of
// what the round archived. A file written between the scan and its read would get an archive copy
// and a manifest entry that disagree, and one written as it was read an archive copy that is a mix.
// So after every round, each entry as the reader saw it is compared with the scan: those still as
// the scan found them, and not reported changed as they were read, were read at rest; the others
// are read again in another round (create.ts).
import { sameFile, treeIndex, type Entry, type TreeIndex } from "./manifest.ts";
import type { TarReport } from "./tar-messages.ts";

/** What settleRound asks of a round's listings: a Map, or a RoundListing's `now` and `sums`. */
export interface Lookup<T> {
  get(path: string): T | undefined;
}

export interface RoundOutcome {
  /** Read at rest: the entry as read (a file with this round's MD5), ready for the manifest. */
  readonly settled: Entry[];
  /** Changed while read: the entry as read (with this round's MD5 if there is one), and as it is now. */
  readonly changing: Array<{ readonly asRead: Entry; readonly now: Entry }>;
  /** Gone since the round began. */
  readonly vanished: string[];
}

/**
 * Sorts a round's entries by what happened to them: `read` is how they looked when the round
 * began, `now` how the reader saw them (no key: gone, or not read), `sums` the MD5s of what
 * the round archived and `tar` what the reader said (in GNU tar's words).
 */
export function settleRound(read: readonly Entry[], now: Lookup<Entry>, sums: Lookup<string>, tar: TarReport): RoundOutcome {
  const settled: Entry[] = [];
  const changing: Array<{ asRead: Entry; now: Entry }> = [];
  const vanished: string[] = [];
  for (const entry of read) {
    const current = now.get(entry.path);
    if (!current) {
      vanished.push(entry.path);
      continue;
    }
    const md5 = entry.type === "file" ? sums.get(entry.path) : undefined;
    const asRead = md5 ? { ...entry, md5 } : entry;
    // A directory's own mtime moves whenever something in it does, and the restore sets it from
    // the manifest anyway: only its type matters.
    const atRest = entry.type === "dir"
      ? current.type === "dir"
      : sameFile(entry, current) && !tar.changed.has(entry.path) && !tar.missing.has(entry.path) && (entry.type !== "file" || md5 !== undefined);
    if (atRest) settled.push(asRead);
    else changing.push({ asRead, now: current });
  }
  return { settled, changing, vanished };
}

/**
 * A round's listings from the host, taken as they arrive (each entry as the reader saw it, the MD5
 * of each file it archived) and kept by the round's entry they are about. An entry the reader saw
 * as it was when the round began (nearly all of them) costs a byte, not an object: held as maps
 * of their own, a round of a million files cost some 400 MB.
 */
export class RoundListing {
  private readonly read: readonly Entry[];
  private readonly index: TreeIndex;
  /** 1 where the reader saw the entry as the round began (sameFile), so `now` is the round's own entry. */
  private readonly unchanged: Uint8Array;
  private readonly otherwise = new Map<number, Entry>();
  private readonly md5s: Array<string | undefined>;

  constructor(read: readonly Entry[]) {
    this.read = read;
    this.index = treeIndex(read);
    this.unchanged = new Uint8Array(read.length);
    this.md5s = new Array<string | undefined>(read.length);
  }

  /** An entry as the reader saw it (its `seen` listing); one the round did not ask for is not kept. */
  readonly seen = (current: Entry): void => {
    const i = this.index.position(current.path);
    if (i === undefined) return;
    if (sameFile(this.read[i]!, current)) {
      this.unchanged[i] = 1;
      this.otherwise.delete(i);
    } else {
      this.unchanged[i] = 0;
      this.otherwise.set(i, current);
    }
  };

  /** A file's MD5 as the round archived it (its `sums` listing). */
  readonly summed = (path: string, md5: string): void => {
    const i = this.index.position(path);
    if (i !== undefined) this.md5s[i] = md5;
  };

  /** Each entry as the reader saw it: none where it did not (gone, or not read). */
  readonly now: Lookup<Entry> = {
    get: (path) => {
      const i = this.index.position(path);
      if (i === undefined) return undefined;
      return this.unchanged[i] ? this.read[i] : this.otherwise.get(i);
    },
  };

  readonly sums: Lookup<string> = {
    get: (path) => {
      const i = this.index.position(path);
      return i === undefined ? undefined : this.md5s[i];
    },
  };
}
