// The manifest's bytes written piece by piece are exactly JSON.stringify's, whatever the names hold.
import { describe, expect, it } from "vitest";
import { manifestJson, manifestJsonBytes, manifestJsonParts } from "../../../../dataplane/snapshot/manifest-json.ts";
import type { Entry, Manifest } from "../../../../dataplane/snapshot/manifest.ts";

function manifestOf(entries: Entry[], extra: Partial<Manifest> = {}): Manifest {
  return {
    format: "dumont-snapshot/1", id: "20261201T000000Z-n", name: 'a "name" \u0001 é', createdAt: "2026-12-01T00:00:00.000Z", kind: "full", parent: null,
    chain: ["20261201T000000Z-n"], source: { host: "h" }, stack: "s",
    archive: { key: "k", bytes: 1, parts: 1, partSize: 5, compression: "lz4" },
    entries, included: entries.filter((e) => e.type === "file").map((e) => e.path), deleted: ["gone \"x\""], discarded: [],
    stats: { files: entries.length, dirs: 0, symlinks: 0, bytes: 0 },
    ...extra,
  } as Manifest;
}

const names = ["plain", "quote \" and \\ backslash", "tab\tnew\nline", "é ü 中文", "emoji 😀 astral", "\u2028 line separator", "lone \udc80 surrogate"];

describe("manifestJson", () => {
  it("writes JSON.stringify's bytes for many entries (several pieces) with every kind of name", () => {
    const entries: Entry[] = Array.from({ length: 10_000 }, (_, i) => ({
      path: `d${i % 7}/${names[i % names.length]} ${i}`, type: "file", size: i, mtime: `${i}.5`, mode: 0o644, md5: "0".repeat(32),
    }));
    const manifest = manifestOf(entries);
    expect(manifestJson(manifest).equals(Buffer.from(JSON.stringify(manifest)))).toBe(true);
  });

  it("keeps a manifest without per-file items, or without `discarded`, as it is", () => {
    for (const manifest of [manifestOf([]), manifestOf([], { discarded: undefined }), manifestOf([{ path: "only", type: "dir", size: 0, mtime: "0", mode: 0o755 }])]) {
      expect(manifestJson(manifest).toString()).toBe(JSON.stringify(manifest));
    }
  });

  it("makes the same bytes in parts of a fixed size, a character's bytes split across two parts if need be", () => {
    const entries: Entry[] = Array.from({ length: 3_000 }, (_, i) => ({ path: `${names[i % names.length]} ${i}`, type: "file", size: i, mtime: "1", mode: 0o644 }));
    const manifest = manifestOf(entries);
    const whole = Buffer.from(JSON.stringify(manifest));
    expect(manifestJsonBytes(manifest)).toBe(whole.length);
    // Told how far it matters, it stops soon past it (whether it fits in one request).
    expect(manifestJsonBytes(manifest, 4096)).toBeGreaterThan(4096);
    expect(manifestJsonBytes(manifest, 4096)).toBeLessThan(whole.length / 2);
    for (const partBytes of [7, 4096, 65_537, whole.length, whole.length + 1]) {
      const parts = Array.from(manifestJsonParts(manifest, partBytes), (part) => Buffer.from(part)); // each good until the next
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
      expect(parts.slice(0, -1).every((p) => p.length === partBytes)).toBe(true);
      expect(parts).toHaveLength(Math.ceil(whole.length / partBytes));
    }
  });
});
