// A manifest read as it downloads is the manifest JSON.parse makes of the whole text, whatever
// the chunks; anything that is not one JSON object is refused with a line that says so.
import { describe, expect, it } from "vitest";
import { readManifestJson } from "../../../../dataplane/snapshot/manifest-read.ts";
import { manifestJson } from "../../../../dataplane/snapshot/manifest-json.ts";
import type { Manifest } from "../../../../dataplane/snapshot/manifest.ts";

async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

const read = (text: string | Buffer, size = 7) => readManifestJson(chunks(Buffer.isBuffer(text) ? text : Buffer.from(text), size), "test");

function manifest(): Manifest {
  const entries = [
    { path: "plain.txt", type: "file" as const, size: 3, mode: 0o644, mtime: "1700000000.1234567890", md5: "a".repeat(32) },
    { path: 'quote " and \\ back', type: "file" as const, size: 0, mode: 0o600, mtime: "1", md5: "b".repeat(32), unstable: true as const },
    { path: "日本語/😀 é", type: "dir" as const, size: 0, mode: 0o755, mtime: "2" },
    { path: "bytes\udcff\udc80", type: "symlink" as const, size: 0, mode: 0o777, mtime: "3", target: "../x]}{[,:" },
    { path: "ctl\n\t\u0001", type: "file" as const, size: 1e15, mode: 0o644, mtime: "-1.5", md5: "c".repeat(32) },
  ];
  return {
    format: "dumont-snapshot/1", id: "20261202T000000000Z-t", name: "t", createdAt: "2026-12-02T00:00:00.000Z", kind: "incremental",
    parent: "p", chain: ["p", "20261202T000000000Z-t"], source: { host: "h", label: "l" }, stack: "s",
    archive: { key: "k", bytes: 10, parts: 1, partSize: 5242880, compression: "lz4" },
    entries, included: entries.map((e) => e.path), deleted: ["gone/a", "gone/b"], discarded: [], stats: { files: 3, dirs: 1, symlinks: 1, bytes: 4 },
  };
}

describe("reading a manifest as it downloads", () => {
  it("gives what JSON.parse gives, in chunks of any size, also pretty-printed", async () => {
    const compact = manifestJson(manifest());
    for (const size of [1, 2, 3, 7, 64, 1 << 20]) expect(await read(compact, size)).toEqual(JSON.parse(compact.toString()));
    const pretty = JSON.stringify(manifest(), null, 2);
    expect(await read(pretty, 5)).toEqual(JSON.parse(pretty));
    expect(JSON.stringify(await read(pretty, 5))).toBe(JSON.stringify(manifest()));
  });

  it("takes a million-entry-sized array element by element", async () => {
    const many = { ...manifest(), entries: Array.from({ length: 20_000 }, (_, i) => ({ path: `d/f${i}`, type: "file", size: i, mode: 0o644, mtime: String(i), md5: "d".repeat(32) })) };
    const bytes = Buffer.from(JSON.stringify(many));
    expect(await read(bytes, 65_536)).toEqual(many);
  });

  it("keeps JSON.parse's rules: a later duplicate key wins, __proto__ is a plain key", async () => {
    const parsed = await read('{"a": 1, "__proto__": {"polluted": true}, "a": [2, 3]}');
    expect(parsed).toEqual(JSON.parse('{"a": 1, "__proto__": {"polluted": true}, "a": [2, 3]}'));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses what is not one JSON object, naming it", async () => {
    for (const bad of ["", "[]", '{"a": 1', '{"a": [1, 2', '{"a": 1} x', '{"a" 1}', '{"a": 1,}', '{"a": tru}', '{"a": "x}', '{"a": [1 2]}', "{a: 1}", '{"a": [1, 2}}', '{"a": [1, 2}, "b": [3]}', '{"a": [1, 2,]}', '{"a": [,1]}']) {
      await expect(read(bad), bad).rejects.toThrow(/^test is not a manifest: /);
    }
  });

  it("lets the download go when it refuses a manifest", async () => {
    let released = false;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from('{"entries": [1, 2} ');
        yield Buffer.from("more that is never read");
      } finally {
        released = true;
      }
    }
    await expect(readManifestJson(body(), "test")).rejects.toThrow(/not a manifest/);
    expect(released).toBe(true);
  });

  it("refuses a value longer than any entry instead of holding it", async () => {
    await expect(read(`{"a": "${"x".repeat(2 * 1024 * 1024)}"}`, 65_536)).rejects.toThrow(/runs past/);
  });

  it("hands on the fields before the entries as soon as they have arrived, before the entries", async () => {
    const text = manifestJson({ ...manifest(), entries: Array.from({ length: 5000 }, (_, i) => ({ path: `f${i}`, type: "file" as const, size: 1, mode: 0o644, mtime: "1", md5: "e".repeat(32) })) });
    let sentWhenHeaderCame = -1;
    let sent = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for await (const chunk of chunks(text, 1000)) {
        sent += chunk.length;
        yield chunk;
      }
    }
    let header: Record<string, unknown> | undefined;
    const whole = await readManifestJson(body(), "test", (h) => {
      header = h;
      sentWhenHeaderCame = sent;
    });
    const { entries: _e, included: _i, deleted: _d, discarded: _x, stats: _s, ...before } = whole;
    expect(header).toEqual(before);
    expect(sentWhenHeaderCame).toBeLessThanOrEqual(2000);
    expect(text.length).toBeGreaterThan(100_000);
  });

  it("hands on the header once, at the first entries, however many a manifest has", async () => {
    const headers: Array<Record<string, unknown>> = [];
    const whole = await readManifestJson(chunks(Buffer.from('{"id": "a", "entries": [], "stack": "s", "entries": [1]}'), 5), "test", (h) => headers.push(h));
    expect(headers).toEqual([{ id: "a" }]);
    expect(whole).toEqual({ id: "a", entries: [1], stack: "s" });
  });
});
