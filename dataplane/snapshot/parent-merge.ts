// An incremental snapshot's comparison with its parent, made as the parent's manifest is read: each
// of its entries is matched with the scan's as it is parsed, and none is kept. Held as a table, the
// parent's tree was some 45 MB more at the peak of an incremental of a million files (issue 15: the
// controller under 256 MiB). Both trees are in path order (the scan once sorted, a manifest as
// Dumont writes it), so it is one walk through each; a parent that is not (a manifest Dumont did
// not write) stops the walk and its read (ParentOutOfOrder), and the caller compares the two the
// way any tree can be (diffTrees).
import { DumontError } from "../../lib/errors.ts";
import type { EntryTable } from "./entry-table.ts";
import type { ArraySink } from "./manifest-read.ts";
import { isUnchanged, sameFile, type Entry, type TreeChanges } from "./manifest.ts";
import { longestPath } from "./string-column.ts";

/**
 * The parent held an element that is no entry with a path, or a path not past the one before it:
 * what the walk matched until then (MD5s carried over too) does not count.
 */
export class ParentOutOfOrder extends DumontError {
  constructor() {
    super("the parent's manifest is not in path order");
  }
}

export class ParentMerge implements ArraySink {
  private readonly tree: EntryTable;
  /** The tree's first entry not matched yet. */
  private next = 0;
  private previous: string | undefined;
  private readonly changed: number[] = [];
  private readonly deleted: string[] = [];
  private readonly inParent: Uint8Array;
  private unchanged = 0;

  /** `tree`: the scan, strictly in path order (EntryTable.strictlyInPathOrder). */
  constructor(tree: EntryTable) {
    this.tree = tree;
    this.inParent = new Uint8Array(tree.length);
  }

  /** The parent's next entry, as its manifest is parsed; throws ParentOutOfOrder (the read stops). */
  push(element: unknown): void {
    const path = typeof element === "object" && element !== null ? (element as { path?: unknown }).path : undefined;
    if (typeof path !== "string" || path.length > longestPath || (this.previous !== undefined && !(this.previous < path))) {
      throw new ParentOutOfOrder();
    }
    this.previous = path;
    const tree = this.tree;
    let order = 1;
    while (this.next < tree.length && (order = tree.comparePathTo(this.next, path)) < 0) this.changed.push(this.next++);
    if (this.next >= tree.length || order !== 0) {
      this.deleted.push(path);
      return;
    }
    const i = this.next++;
    this.inParent[i] = 1;
    const was = element as Entry;
    if (isUnchanged(tree, i, sameFile(was, tree.at(i)), was.md5)) this.unchanged++;
    else this.changed.push(i);
  }

  /** What changed since the parent (as diffTrees says it), once every entry of it was pushed. */
  changes(): TreeChanges {
    while (this.next < this.tree.length) this.changed.push(this.next++);
    return { changed: this.changed, deleted: this.deleted, unchanged: this.unchanged, inParent: this.inParent };
  }
}
