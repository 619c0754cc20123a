// A snapshot names its stack; another stack refuses to restore it (or to build on it), naming the
// snapshot and both stacks. Snapshots from before manifests named a stack stay restorable.
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../../dataplane/snapshot/manifest.ts";
import { belongsToStack, checkSnapshotOwner, ForeignSnapshotError } from "../../../../dataplane/snapshot/snapshot-owner.ts";

const full = "20261122T130000000Z-base";

function manifest(id: string, chain: string[], stack?: string): Manifest {
  return {
    format: "dumont-snapshot/1", id, name: id.slice(20), createdAt: "", kind: chain.length > 1 ? "incremental" : "full", parent: chain.at(-2) ?? null, chain,
    source: { host: "h" }, ...(stack !== undefined && { stack }), archive: { key: "k", bytes: 1, md5: "b".repeat(32), parts: 1, partSize: 1, compression: "lz4" },
    entries: [], included: [], deleted: [], stats: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
  };
}

describe("snapshot owner", () => {
  it("a stack's own snapshots and those naming no stack belong to it; others' do not", () => {
    expect(belongsToStack("prod", "prod")).toBe(true);
    expect(belongsToStack(undefined, "prod")).toBe(true);
    expect(belongsToStack("staging", "prod")).toBe(false);
    expect(() => checkSnapshotOwner(manifest(full, [full]), "prod")).not.toThrow();
    expect(() => checkSnapshotOwner(manifest(full, [full], "prod"), "prod")).not.toThrow();
  });

  it("refuses another stack's snapshot in one line naming the snapshot and both stacks", () => {
    const error = (() => {
      try {
        checkSnapshotOwner(manifest(full, [full], "staging"), "prod");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ForeignSnapshotError);
    expect(error!.message).toBe(`snapshot ${full} belongs to stack 'staging', not to stack 'prod': a stack restores only its own snapshots`);
    expect(error!.message).not.toContain("\n");
  });
});
