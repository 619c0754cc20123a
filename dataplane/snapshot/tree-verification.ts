// Verifying a tree against the one a manifest records, as the host's listings arrive: each scanned
// entry and each file's MD5 is compared when it comes in and then dropped. What is held is the
// expected tree (the manifest, which the caller holds anyway), an index of it, two bytes per entry,
// and the differences found. Holding the host's tree too (its entries, its MD5s, a map of it, and
// copies of the entries with their MD5s) cost about 1 KB per entry: a gigabyte at a million files.
import { EntryTable } from "./entry-table.ts";
import type { Entries, Entry } from "./manifest.ts";

export interface Mismatch {
  readonly path: string;
  readonly problem: string;
}

export interface VerificationResult {
  /** What differs, in the manifest's order, then the paths the manifest does not have: at most `kept`. */
  readonly failures: readonly Mismatch[];
  /** Differences in files the manifest records as unstable (they changed during every read when the snapshot was made). */
  readonly warnings: readonly Mismatch[];
  /** How many failures there are in all (`failures` stops at `kept`). */
  readonly failureCount: number;
  readonly warningCount: number;
}

/** What a scanned entry showed that the manifest's did not: only kept for entries that differ. */
interface ScanDifferences {
  readonly type?: string;
  readonly size?: string;
  readonly target?: string;
  readonly mode?: string;
  readonly mtime?: string;
}

// A file's MD5, per expected entry: none known yet, the manifest's, or another (kept in `otherMd5`).
const noSum = 0;
const sameSum = 1;
const otherSum = 2;

/** At most this many differences are named (a restore that failed everywhere names the first ones and counts the rest). */
export const keptMismatches = 10_000;

export class TreeVerification {
  /** The expected tree as a table (entry-table.ts): each field is asked of it, no entry made whole. */
  private readonly expected: EntryTable;
  private readonly scanned: Uint8Array;
  private readonly sums: Uint8Array;
  private readonly otherMd5 = new Map<number, string>();
  private readonly differences = new Map<number, ScanDifferences>();
  private readonly extras: string[] = [];
  private extraCount = 0;

  constructor(expected: Entries) {
    // A path listed twice is refused before a restore (manifest-check.ts); here the last one counts.
    this.expected = expected instanceof EntryTable ? expected : EntryTable.of(expected);
    this.scanned = new Uint8Array(expected.length);
    this.sums = new Uint8Array(expected.length);
  }

  /** An entry the host's tree has (its scan, without an MD5: those come through `hashed`). */
  readonly found = (got: Entry): void => {
    const i = this.expected.position(got.path);
    if (i === undefined) {
      if (this.extras.length < keptMismatches) this.extras.push(got.path);
      this.extraCount++;
      return;
    }
    this.scanned[i] = 1;
    const differs = scanDifferences(this.expected, i, got);
    if (differs) this.differences.set(i, differs);
    else this.differences.delete(i);
  };

  /** A file's MD5 as the host computed it (from the disk, or as an archive was extracted). */
  readonly hashed = (path: string, md5: string): void => {
    const i = this.expected.position(path);
    // Only expected files' sums are compared.
    if (i === undefined || this.expected.typeAt(i) !== "file" || !this.expected.md5At(i)) return;
    const same = this.expected.md5Is(i, md5);
    this.sums[i] = same ? sameSum : otherSum;
    if (same) this.otherMd5.delete(i);
    else this.otherMd5.set(i, md5);
  };

  /** These paths were written again (a later archive of a chain): their MD5s so far no longer hold. */
  forgetSums(paths: Iterable<string>): void {
    for (const path of paths) {
      const i = this.expected.position(path);
      if (i === undefined) continue;
      this.sums[i] = noSum;
      this.otherMd5.delete(i);
    }
  }

  /** The expected files whose MD5 is not known yet: what the host must still hash. */
  filesToHash(): string[] {
    const paths: string[] = [];
    for (let i = 0; i < this.expected.length; i++) if (this.expected.typeAt(i) === "file" && this.sums[i] === noSum) paths.push(this.expected.pathAt(i));
    return paths;
  }

  /** How many expected files have an MD5 already (made as the archives were extracted). */
  knownSums(): number {
    let known = 0;
    for (const state of this.sums) if (state !== noSum) known++;
    return known;
  }

  /** Every difference between the tree found and the expected one, after both listings ended. */
  result(): VerificationResult {
    const failures: Mismatch[] = [];
    const warnings: Mismatch[] = [];
    let failureCount = 0;
    let warningCount = 0;
    const expected = this.expected;
    const report = (i: number, problem: string) => {
      if (expected.unstableAt(i)) {
        if (warnings.length < keptMismatches) warnings.push({ path: expected.pathAt(i), problem });
        warningCount++;
      } else {
        if (failures.length < keptMismatches) failures.push({ path: expected.pathAt(i), problem });
        failureCount++;
      }
    };
    for (let i = 0; i < expected.length; i++) {
      if (!expected.counts(i)) continue; // a path listed twice: its last entry counts
      if (!this.scanned[i]) {
        report(i, "missing");
        continue;
      }
      const differs = this.differences.get(i);
      if (differs?.type) {
        report(i, differs.type);
        continue;
      }
      const md5 = expected.typeAt(i) === "file" && expected.md5At(i) ? this.md5Problem(i) : undefined;
      if (!differs && md5 === undefined) continue;
      const problems = [differs?.size, md5, differs?.target, differs?.mode, differs?.mtime].filter((p): p is string => p !== undefined);
      if (problems.length > 0) report(i, problems.join("; "));
    }
    for (const path of this.extras.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (failures.length < keptMismatches) failures.push({ path, problem: "not in the snapshot" });
    }
    return { failures, warnings, failureCount: failureCount + this.extraCount, warningCount };
  }

  private md5Problem(i: number): string | undefined {
    if (this.sums[i] === sameSum) return undefined;
    if (this.sums[i] === otherSum) return `MD5 ${this.otherMd5.get(i)}, expected ${this.expected.md5At(i)}`;
    return "its MD5 could not be read";
  }
}

/** What a scanned entry shows that the expected entry `i` does not, or nothing (no object for the entries that match: nearly all). */
function scanDifferences(expected: EntryTable, i: number, got: Entry): ScanDifferences | undefined {
  const type = expected.typeAt(i);
  if (got.type !== type) return { type: `is a ${got.type}, expected a ${type}` };
  const size = type === "file" && got.size !== expected.sizeAt(i) ? `size ${got.size}, expected ${expected.sizeAt(i)}` : undefined;
  const target = type === "symlink" && got.target !== expected.targetAt(i) ? `points to ${got.target}, expected ${expected.targetAt(i)}` : undefined;
  const mode = type !== "symlink" && got.mode !== expected.modeAt(i) ? `mode ${got.mode.toString(8)}, expected ${expected.modeAt(i).toString(8)}` : undefined;
  const mtime = type !== "symlink" && !sameSecond(got.mtime, expected.mtimeAt(i)) ? `mtime ${got.mtime}, expected ${expected.mtimeAt(i)}` : undefined;
  return size || target || mode || mtime ? { size, target, mode, mtime } : undefined;
}

/** Two trees compared whole (both at hand): what differs, and how. */
export function compareTrees(expected: Entries, actual: Iterable<Entry>): VerificationResult {
  const verification = new TreeVerification(expected);
  for (const entry of actual) {
    verification.found(entry);
    if (entry.md5) verification.hashed(entry.path, entry.md5);
  }
  return verification.result();
}

/** tar keeps mtimes to the nanosecond where the file system does; compare as find prints them. */
function sameSecond(a: string, b: string): boolean {
  return a === b || Math.abs(Number(a) - Number(b)) < 1e-6;
}
