// Reading a restore's chain of manifests. The newest one names the others (its `chain`), and each
// manifest holds its whole tree: at a million entries, seconds of download and parsing apiece. But
// what a restore needs to start on the first link (its id, its stack, its archive) comes in a
// manifest's first bytes, before its entries: that header is handed on as soon as it is there, so
// the first archive downloads while the rest of the manifests still arrive and are checked. Only a
// header whose snapshot belongs to the stack is handed on.
import { allSettledOrThrow } from "../../lib/all-settled.ts";
import { UnsafeManifestError } from "./manifest-check.ts";
import { isSnapshotId, type Manifest } from "./manifest.ts";
import { checkSnapshotOwner } from "./snapshot-owner.ts";
import type { SnapshotStore } from "./store.ts";

/** The first link of a chain, from its header: what starting its archive's restore needs. */
export interface FirstLink {
  readonly id: string;
  readonly kind: string;
  /** Its archive's size, as its header says (for progress only). */
  readonly archiveBytes: number;
  /** How many links the chain has. */
  readonly links: number;
}

/**
 * The chain a manifest (or its header) names: snapshot ids, each once, ending with its own id,
 * which must be the one it was read as. Refused otherwise (its ids become object keys).
 */
export function chainOf(header: Record<string, unknown>, id: string): readonly string[] {
  const chain = header.chain;
  if (header.id !== id) throw new UnsafeManifestError(id, `its manifest names itself ${JSON.stringify(header.id)}`);
  if (!Array.isArray(chain) || chain.length === 0 || !chain.every((link) => typeof link === "string" && isSnapshotId(link))) {
    throw new UnsafeManifestError(id, "its chain is not a list of snapshot ids");
  }
  if (chain.at(-1) !== id) throw new UnsafeManifestError(id, "its chain does not end with it");
  if (new Set(chain).size !== chain.length) throw new UnsafeManifestError(id, "its chain names a snapshot twice");
  return chain as string[];
}

function firstLinkOf(header: Record<string, unknown>, links: number): FirstLink {
  const archive = header.archive as { bytes?: unknown } | undefined;
  return {
    id: header.id as string, kind: header.kind === "full" || header.kind === "incremental" ? header.kind : "?", links,
    archiveBytes: typeof archive?.bytes === "number" ? archive.bytes : 0,
  };
}

/**
 * Every manifest of the chain ending with `id`, full snapshot first, read at once. `onFirstLink` is
 * called (once at most) when the newest manifest's header and the first link's have arrived, both
 * name their stack, and it is `stack`; a foreign one is refused (this throws once the reads under
 * way are over), and nothing is started on it. It may never be called (a manifest without entries,
 * or a header that does not name its stack): the restore then starts once this returns. Checked
 * here: the owners, the chain's ids, and that what a start was made on is what the manifests say
 * whole (manifest-check.ts checks the rest); nothing still reads once this has thrown.
 */
export async function readChain(store: Pick<SnapshotStore, "readManifest">, id: string, stack: string, onFirstLink: (link: FirstLink) => void): Promise<Manifest[]> {
  const earlier: Array<Promise<Manifest>> = [];
  let chain: readonly string[] | undefined;
  // The headers a start was made on: the manifests as read whole must say the same.
  const actedOn: Array<{ at: number; header: Record<string, unknown> }> = [];
  let newestHeader: Record<string, unknown> | undefined;
  // A read failed: the chain will be refused, and nothing is started on it any more.
  let failed = false;
  // Only a header that names its stack starts anything: one without may be a manifest from before
  // stacks were named, or one whose stack comes after its entries.
  const startFrom = (first: Record<string, unknown>) => {
    if (failed || typeof newestHeader!.stack !== "string" || typeof first.stack !== "string" || first.id !== chain![0]) return;
    actedOn.push({ at: chain!.length - 1, header: newestHeader! }, { at: 0, header: first });
    onFirstLink(firstLinkOf(first, chain!.length));
  };
  const firstLinkArrived = (header: Record<string, unknown>) => {
    checkSnapshotOwner(header as { id: string; stack?: string }, stack);
    startFrom(header);
  };
  // The newest's header names the other links: their reads start then, not once it has all arrived.
  const newestArrived = (header: Record<string, unknown>) => {
    if (chain) return;
    checkSnapshotOwner(header as { id: string; stack?: string }, stack);
    chain = chainOf(header, id);
    newestHeader = header;
    for (const [i, link] of chain.slice(0, -1).entries()) {
      // Only the newest's MD5s are verified: the others' are not kept (16 MB a link at a million files).
      const read = store.readManifest(link, i === 0 ? firstLinkArrived : undefined, { md5s: false });
      read.catch(() => {
        failed = true; // and awaited below
      });
      earlier.push(read);
    }
    if (chain.length === 1) startFrom(header);
  };
  let newest: Manifest;
  try {
    newest = await store.readManifest(id, newestArrived);
    newestArrived(newest as unknown as Record<string, unknown>);
  } catch (error) {
    failed = true;
    await Promise.allSettled(earlier);
    throw error;
  }
  const links = [...(await allSettledOrThrow(earlier)), newest];
  const whole = chainOf(newest as unknown as Record<string, unknown>, id);
  if (whole.join("\n") !== chain!.join("\n")) throw new UnsafeManifestError(id, "its chain at its end is not the one at its start");
  for (const [i, link] of links.entries()) {
    if (link.id !== chain![i]) throw new UnsafeManifestError(chain![i]!, `its manifest names itself ${JSON.stringify(link.id)}`);
  }
  for (const { at, header } of actedOn) {
    if (links[at]!.stack !== header.stack) throw new UnsafeManifestError(links[at]!.id, "its stack at its end is not the one at its start");
  }
  return links;
}
