// A restore starts on the first link as soon as its header and the newest's have arrived, while the
// rest of the manifests still download; a foreign snapshot or a chain that is not snapshot ids is
// refused before that, and a manifest whose end contradicts its start is refused at its end.
import { describe, expect, it } from "vitest";
import { readChain, type FirstLink } from "../../../../dataplane/snapshot/chain-read.ts";
import type { Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import type { SnapshotStore } from "../../../../dataplane/snapshot/store.ts";

const full = "20261122T130000000Z-base";
const middle = "20261122T140000000Z-mid";
const newest = "20261122T150000000Z-next";

function manifest(id: string, chain: string[], stack = "prod"): Manifest {
  return {
    format: "dumont-snapshot/1", id, name: id.slice(20), createdAt: "", kind: chain.length > 1 ? "incremental" : "full", parent: chain.at(-2) ?? null, chain,
    source: { host: "h" }, stack, archive: { key: "k", bytes: 3 * 1024 * 1024, parts: 1, partSize: 1, compression: "lz4" },
    entries: [], included: [], deleted: [], stats: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
  };
}

/**
 * A store whose manifests' headers arrive at once and whose entries arrive only when `finish()` is
 * called: what happened before that happened while the manifests were still downloading.
 */
function slowStore(manifests: Manifest[], header: (m: Manifest) => Record<string, unknown> = (m) => ({ ...m }), keyOf = (m: Manifest) => m.id) {
  const byId = new Map(manifests.map((m) => [keyOf(m), m]));
  const reads: string[] = [];
  /** The ids read without their MD5s. */
  const withoutMd5s: string[] = [];
  const pending: Array<() => void> = [];
  const store = {
    readManifest: (id: string, onHeader?: (h: Record<string, unknown>) => void, options?: { md5s?: boolean }) => {
      reads.push(id);
      if (options?.md5s === false) withoutMd5s.push(id);
      const m = byId.get(id);
      if (!m) return Promise.reject(new Error(`no snapshot '${id}'`));
      return new Promise<Manifest>((resolve, reject) => {
        queueMicrotask(() => {
          try {
            onHeader?.(header(m));
          } catch (error) {
            reject(error);
            return;
          }
          pending.push(() => resolve(m));
        });
      });
    },
  } as unknown as Pick<SnapshotStore, "readManifest">;
  const finish = () => {
    for (const resolve of pending.splice(0)) resolve();
  };
  return { store, reads, withoutMd5s, finish };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("reading a restore's chain", () => {
  it("hands on the first link from its header while every manifest is still arriving, and reads the links at once", async () => {
    const { store, reads, withoutMd5s, finish } = slowStore([manifest(full, [full]), manifest(middle, [full, middle]), manifest(newest, [full, middle, newest])]);
    const started: FirstLink[] = [];
    const chain = readChain(store, newest, "prod", (link) => started.push(link));
    await settle();
    expect(started).toEqual([{ id: full, kind: "full", archiveBytes: 3 * 1024 * 1024, links: 3 }]);
    expect(reads.sort()).toEqual([full, middle, newest].sort());
    // Only the newest's MD5s are verified: the earlier links' are not kept.
    expect(withoutMd5s.sort()).toEqual([full, middle].sort());
    finish();
    await settle();
    finish();
    expect((await chain).map((m) => m.id)).toEqual([full, middle, newest]);
  });

  it("hands on a full snapshot's own header", async () => {
    const { store, finish } = slowStore([manifest(full, [full])]);
    const started: FirstLink[] = [];
    const chain = readChain(store, full, "prod", (link) => started.push(link));
    await settle();
    expect(started.map((l) => l.id)).toEqual([full]);
    finish();
    expect((await chain).length).toBe(1);
  });

  it("refuses a foreign first link from its header, before anything starts", async () => {
    const { store, finish } = slowStore([manifest(full, [full], "staging"), manifest(newest, [full, newest])]);
    const started: FirstLink[] = [];
    const chain = readChain(store, newest, "prod", (link) => started.push(link));
    chain.catch(() => undefined);
    await settle();
    finish();
    await expect(chain).rejects.toThrow(`snapshot ${full} belongs to stack 'staging', not to stack 'prod'`);
    expect(started).toEqual([]);
  });

  it("refuses a chain that is not snapshot ids before reading any of it", async () => {
    const { store, reads, finish } = slowStore([manifest(newest, ["../../other", newest])]);
    const chain = readChain(store, newest, "prod", () => undefined);
    chain.catch(() => undefined);
    await settle();
    finish();
    await expect(chain).rejects.toThrow(`snapshot ${newest} cannot be restored safely: its chain is not a list of snapshot ids`);
    expect(reads).toEqual([newest]);
  });

  it("refuses a manifest whose chain at its end is not the one its header named", async () => {
    const { store, finish } = slowStore([manifest(full, [full]), manifest(middle, [full, middle]), manifest(newest, [middle, newest])],
      (m) => (m.id === newest ? { ...m, chain: [full, newest] } : { ...m }));
    const chain = readChain(store, newest, "prod", () => undefined);
    chain.catch(() => undefined);
    await settle();
    finish();
    await expect(chain).rejects.toThrow(`snapshot ${newest} cannot be restored safely: its chain at its end is not the one at its start`);
  });

  it("refuses a link whose manifest names another snapshot", async () => {
    const impostor = manifest(middle, [middle]);
    const { store, finish } = slowStore([impostor, manifest(newest, [full, newest])], undefined, (m) => (m === impostor ? full : m.id));
    const started: FirstLink[] = [];
    const chain = readChain(store, newest, "prod", (link) => started.push(link));
    chain.catch(() => undefined);
    await settle();
    finish();
    await expect(chain).rejects.toThrow(`snapshot ${full} cannot be restored safely: its manifest names itself "${middle}"`);
    expect(started).toEqual([]);
  });

  it("starts nothing on a header that does not name its stack (a manifest from before stacks, or one naming it after its entries)", async () => {
    const old = { ...manifest(full, [full]), stack: undefined };
    const { store, finish } = slowStore([old], (m) => ({ ...m }));
    const started: FirstLink[] = [];
    const chain = readChain(store, full, "prod", (link) => started.push(link));
    await settle();
    expect(started).toEqual([]);
    finish();
    expect((await chain).map((m) => m.id)).toEqual([full]);
  });

  it("refuses a manifest whose stack at its end is not the one its header named", async () => {
    const { store, finish } = slowStore([manifest(full, [full], "staging")], (m) => ({ ...m, stack: "prod" }));
    const started: FirstLink[] = [];
    const chain = readChain(store, full, "prod", (link) => started.push(link));
    chain.catch(() => undefined);
    await settle();
    expect(started.map((l) => l.id)).toEqual([full]);
    finish();
    await expect(chain).rejects.toThrow(`snapshot ${full} cannot be restored safely: its stack at its end is not the one at its start`);
  });

  it("refuses a chain whose newest manifest's stack at its end is not its header's, and starts nothing where the newest names none", async () => {
    const changed = slowStore([manifest(full, [full]), manifest(newest, [full, newest], "staging")], (m) => ({ ...m, stack: "prod" }));
    const started: FirstLink[] = [];
    const refused = readChain(changed.store, newest, "prod", (link) => started.push(link));
    refused.catch(() => undefined);
    await settle();
    expect(started.map((l) => l.id)).toEqual([full]);
    changed.finish();
    await settle();
    changed.finish();
    await expect(refused).rejects.toThrow(`snapshot ${newest} cannot be restored safely: its stack at its end is not the one at its start`);

    const unnamed = slowStore([manifest(full, [full]), { ...manifest(newest, [full, newest]), stack: undefined }]);
    const none: FirstLink[] = [];
    const chain = readChain(unnamed.store, newest, "prod", (link) => none.push(link));
    await settle();
    unnamed.finish();
    await settle();
    unnamed.finish();
    expect((await chain).length).toBe(2);
    expect(none).toEqual([]);
  });
});
