// A snapshot's manifest entry for a file is what the scan saw (size, mtime, mode) and the MD5 of
// what the round archived. A file written between the scan and its read would get an archive copy
// and a manifest entry that disagree, and one written as it was read an archive copy that is a mix.
// So after every round, each entry as the reader saw it is compared with the scan: those still as
// the scan found them, and not reported changed as they were read, were read at rest; the others
// are read again in another round (create.ts).
import { sameFile, type Entry } from "./manifest.ts";
import type { TarReport } from "./tar-messages.ts";

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
export function settleRound(read: readonly Entry[], now: ReadonlyMap<string, Entry>, sums: ReadonlyMap<string, string>, tar: TarReport): RoundOutcome {
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
