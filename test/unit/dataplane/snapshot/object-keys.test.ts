// In a bucket shared with other people's objects, Dumont knows its own keys by their exact form
// under its prefix, and touches nothing else.
import { describe, expect, it } from "vitest";
import { archiveKey, dumontObjectKind, manifestKey, snapshotIdOfKey } from "../../../../dataplane/snapshot/object-keys.ts";

const id = "20261122T131844614Z-nightly";

describe("snapshot object keys", () => {
  it("finds the snapshot id of a snapshot's archive and manifest directly under the prefix", () => {
    expect(snapshotIdOfKey("snapshots/s/", archiveKey("snapshots/s/", id))).toBe(id);
    expect(snapshotIdOfKey("snapshots/s/", manifestKey("snapshots/s/", id))).toBe(id);
    expect(snapshotIdOfKey("", `${id}/manifest.json`)).toBe(id);
  });

  it("takes nothing else for a snapshot's", () => {
    for (const key of [
      `other/${id}/manifest.json`, // outside the prefix
      `snapshots/s/other-stack/${id}/manifest.json`, // another prefix inside this one
      `snapshots/s/${id}/notes.txt`, // a file Dumont never writes
      `snapshots/s/${id}/manifest.json/x`,
      "snapshots/s/holiday-photos/manifest.json", // not an id Dumont makes
      `snapshots/s/${id}`,
      "snapshots/s/README",
    ]) expect(snapshotIdOfKey("snapshots/s/", key), key).toBeUndefined();
  });

  it("tells Dumont's snapshot and control objects from everything else under its prefix", () => {
    expect(dumontObjectKind("snapshots/s/", archiveKey("snapshots/s/", id))).toBe("snapshot");
    expect(dumontObjectKind("snapshots/s/", "snapshots/s/.dumont/s/operation.lease.json")).toBe("control");
    expect(dumontObjectKind("snapshots/s/", "snapshots/s/.dumont/conditional-writes.probe")).toBe("control");
    expect(dumontObjectKind("snapshots/s/", "snapshots/s/README")).toBeUndefined();
    expect(dumontObjectKind("snapshots/s/", "snapshots/.dumont/t/operation.lease.json")).toBeUndefined();
    expect(dumontObjectKind("snapshots/s/", "logs/2026-11-22.log")).toBeUndefined();
  });
});
