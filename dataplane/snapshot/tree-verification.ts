// Verifying a tree against the one a manifest records, as the host's listings arrive: each scanned
// entry and each file's MD5 is compared when it comes in and then dropped. What is held is the
// expected tree (the manifest, which the caller holds anyway), an index of it, two bytes per entry,
// and the differences found. Holding the host's tree too (its entries, its MD5s, a map of it, and
// copies of the entries with their MD5s) cost about 1 KB per entry: a gigabyte at a million files.
import { entryAt, treeIndex, type Entries, type Entry, type TreeIndex } from "./manifest.ts";

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
  private readonly expected: Entries;
  private readonly index: TreeIndex;
  private readonly scanned: Uint8Array;
  private readonly sums: Uint8Array;
  private readonly otherMd5 = new Map<number, string>();
  private readonly differences = new Map<number, ScanDifferences>();
  private readonly extras: string[] = [];
  private extraCount = 0;

  constructor(expected: Entries) {
    this.expected = expected;
    // A path listed twice is refused before a restore (manifest-check.ts); here the last one counts.
    this.index = treeIndex(expected);
    this.scanned = new Uint8Array(expected.length);
    this.sums = new Uint8Array(expected.length);
  }

  /** An entry the host's tree has (its scan, without an MD5: those come through `hashed`). */
  readonly found = (got: Entry): void => {
    const i = this.index.position(got.path);
    if (i === undefined) {
      if (this.extras.length < keptMismatches) this.extras.push(got.path);
      this.extraCount++;
      return;
    }
    this.scanned[i] = 1;
    const differs = scanDifferences(entryAt(this.expected, i), got);
    if (differs) this.differences.set(i, differs);
    else this.differences.delete(i);
  };

  /** A file's MD5 as the host computed it (from the disk, or as an archive was extracted). */
  readonly hashed = (path: string, md5: string): void => {
    const i = this.index.position(path);
    const want = i === undefined ? undefined : entryAt(this.expected, i);
    if (i === undefined || want?.type !== "file" || !want.md5) return; // only expected files' sums are compared
    this.sums[i] = md5 === want.md5 ? sameSum : otherSum;
    if (md5 === want.md5) this.otherMd5.delete(i);
    else this.otherMd5.set(i, md5);
  };

  /** These paths were written again (a later archive of a chain): their MD5s so far no longer hold. */
  forgetSums(paths: Iterable<string>): void {
    for (const path of paths) {
      const i = this.index.position(path);
      if (i === undefined) continue;
      this.sums[i] = noSum;
      this.otherMd5.delete(i);
    }
  }

  /** The expected files whose MD5 is not known yet: what the host must still hash. */
  filesToHash(): string[] {
    const paths: string[] = [];
    let i = -1;
    for (const entry of this.expected) {
      i++;
      if (entry.type === "file" && this.sums[i] === noSum) paths.push(entry.path);
    }
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
    const report = (want: Entry, problem: string) => {
      if (want.unstable) {
        if (warnings.length < keptMismatches) warnings.push({ path: want.path, problem });
        warningCount++;
      } else {
        if (failures.length < keptMismatches) failures.push({ path: want.path, problem });
        failureCount++;
      }
    };
    let i = -1;
    for (const want of this.expected) {
      i++;
      if (this.index.position(want.path) !== i) continue; // a path listed twice: its last entry counts
      if (!this.scanned[i]) {
        report(want, "missing");
        continue;
      }
      const differs = this.differences.get(i);
      if (differs?.type) {
        report(want, differs.type);
        continue;
      }
      const md5 = want.type === "file" && want.md5 ? this.md5Problem(i, want.md5) : undefined;
      const problems = [differs?.size, md5, differs?.target, differs?.mode, differs?.mtime].filter((p): p is string => p !== undefined);
      if (problems.length > 0) report(want, problems.join("; "));
    }
    for (const path of this.extras.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (failures.length < keptMismatches) failures.push({ path, problem: "not in the snapshot" });
    }
    return { failures, warnings, failureCount: failureCount + this.extraCount, warningCount };
  }

  private md5Problem(i: number, expected: string): string | undefined {
    if (this.sums[i] === sameSum) return undefined;
    if (this.sums[i] === otherSum) return `MD5 ${this.otherMd5.get(i)}, expected ${expected}`;
    return "its MD5 could not be read";
  }
}

/** What a scanned entry shows that the manifest's does not, or nothing (no object for the entries that match: nearly all). */
function scanDifferences(want: Entry, got: Entry): ScanDifferences | undefined {
  if (got.type !== want.type) return { type: `is a ${got.type}, expected a ${want.type}` };
  const size = want.type === "file" && got.size !== want.size ? `size ${got.size}, expected ${want.size}` : undefined;
  const target = want.type === "symlink" && got.target !== want.target ? `points to ${got.target}, expected ${want.target}` : undefined;
  const mode = want.type !== "symlink" && got.mode !== want.mode ? `mode ${got.mode.toString(8)}, expected ${want.mode.toString(8)}` : undefined;
  const mtime = want.type !== "symlink" && !sameSecond(got.mtime, want.mtime) ? `mtime ${got.mtime}, expected ${want.mtime}` : undefined;
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
