// What a restore does around each archive of a chain, planned from the (checked) manifests alone.
// tar extracts on top of what the previous archives left, and it cannot turn a non-empty directory
// into a file or a symlink, so paths that changed type go before the archive that changes them.
import { entryFields, treeIndex, type Entries, type Entry, type Manifest } from "./manifest.ts";

export interface LinkPlan {
  readonly id: string;
  /**
   * Removed before the archive is extracted: what this snapshot deleted, and the paths whose type
   * differs between the previous snapshot's tree and this one's. Parents only: removing one
   * removes what is below it.
   */
  readonly removeBefore: readonly string[];
  /** Removed after the archive is extracted: what it holds that is not in the tree (manifest `discarded`). */
  readonly removeAfter: readonly string[];
}

export interface ChainPlan {
  readonly links: readonly LinkPlan[];
  /**
   * The final tree's symlinks that leave their directory, which the restore creates after the last
   * archive (scripts.ts: symlinksLeavingTheirDirectory says why).
   */
  readonly heldBackSymlinks: readonly Entry[];
}

/** An absolute target, or one with a ".." component: GNU tar's own test for a symlink it holds back. */
export function leavesItsDirectory(target: string): boolean {
  return target.startsWith("/") || target.split("/").includes("..");
}

/** The paths whose type differs between two trees (paths in only one of them are not listed). */
export function typeChanges(before: Entries, after: Entries): string[] {
  const typeBefore = treeIndex(before);
  const now = entryFields(after);
  const changed: string[] = [];
  for (let i = 0; i < now.length; i++) {
    const was = typeBefore.type(now.pathAt(i));
    if (was !== undefined && was !== now.typeAt(i)) changed.push(now.pathAt(i));
  }
  return changed;
}

/** Sorted, without duplicates and without paths below another listed path. */
export function outermostPaths(paths: Iterable<string>): string[] {
  const sorted = [...new Set(paths)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const kept: string[] = [];
  const keptSet = new Set<string>();
  for (const path of sorted) {
    let below = false;
    for (let slash = path.indexOf("/"); slash >= 0 && !below; slash = path.indexOf("/", slash + 1)) below = keptSet.has(path.slice(0, slash));
    if (below) continue;
    kept.push(path);
    keptSet.add(path);
  }
  return kept;
}

/** The chain in order, full snapshot first: each link applied on top of the one before. */
export function planChain(chain: readonly Manifest[]): ChainPlan {
  const links = chain.map((link, i): LinkPlan => ({
    id: link.id,
    // The first archive goes into an emptied workspace: nothing to remove before it.
    removeBefore: i === 0 ? [] : outermostPaths([...link.deleted, ...typeChanges(chain[i - 1]!.entries, link.entries)]),
    removeAfter: outermostPaths(link.discarded ?? []),
  }));
  const last = chain.at(-1);
  const heldBackSymlinks: Entry[] = [];
  const tree = entryFields(last?.entries ?? []);
  for (let i = 0; i < tree.length; i++) if (tree.typeAt(i) === "symlink" && leavesItsDirectory(tree.targetAt(i) ?? "")) heldBackSymlinks.push(tree.at(i));
  return { links, heldBackSymlinks };
}
