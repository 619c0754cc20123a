// File names are bytes; the controller holds them as strings in Python's surrogateescape
// convention. Every byte string must come back exactly, UTF-8 must read as itself, and manifests
// (JSON) must keep the escapes.
import { describe, expect, it } from "vitest";
import { hostPathList, nulTerminated, pathFromBytes, pathToBytes } from "../../../../dataplane/snapshot/path-bytes.ts";

/** A small deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("path bytes", () => {
  it("round-trips random byte strings without NUL, most of them not UTF-8", () => {
    const next = random(42);
    for (let n = 0; n < 5000; n++) {
      // Bytes from the whole range, with extra weight on lead and continuation bytes so that
      // valid, truncated and overlong sequences all come up.
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 24) }, () => {
        const pick = next();
        if (pick < 0.3) return 0x80 + Math.floor(next() * 0x40);
        if (pick < 0.6) return 0xc0 + Math.floor(next() * 0x40);
        return 1 + Math.floor(next() * 255);
      }));
      const path = pathFromBytes(bytes);
      expect(pathToBytes(path).equals(bytes), `bytes ${bytes.toString("hex")}`).toBe(true);
    }
  });

  it("reads valid UTF-8 as itself, astral characters included", () => {
    for (const name of ["plain.txt", "ünïcødé/ファイル/データ.bin", "emoji 😀 and 𝄞", "new\nline", "\u{10ffff}"]) {
      const bytes = Buffer.from(name, "utf8");
      expect(pathFromBytes(bytes)).toBe(name);
      expect(pathToBytes(name).equals(bytes)).toBe(true);
    }
  });

  it("escapes each byte of an invalid sequence as U+DC80..U+DCFF, as Python's surrogateescape does", () => {
    expect(pathFromBytes(Buffer.from("bad\xff\xfeutf8", "latin1"))).toBe("bad\udcff\udcfeutf8");
    // A truncated sequence, an overlong '/', an encoded surrogate, a code point past U+10FFFF.
    expect(pathFromBytes(Buffer.from([0xe2, 0x82, 0x41]))).toBe("\udce2\udc82A");
    expect(pathFromBytes(Buffer.from([0xc0, 0xaf]))).toBe("\udcc0\udcaf");
    expect(pathFromBytes(Buffer.from([0xed, 0xa0, 0x80]))).toBe("\udced\udca0\udc80");
    expect(pathFromBytes(Buffer.from([0xf4, 0x90, 0x80, 0x80]))).toBe("\udcf4\udc90\udc80\udc80");
    // Valid text next to an invalid byte stays valid text.
    expect(pathFromBytes(Buffer.from([0xc3, 0xbc, 0xff, 0xc3, 0xbc]))).toBe("ü\udcffü");
  });

  it("keeps the escapes through JSON, as manifests store them", () => {
    const path = pathFromBytes(Buffer.from("d\xe9r/f\xff", "latin1"));
    const json = JSON.stringify({ path });
    expect(json).toBe('{"path":"d\\udce9r/f\\udcff"}');
    expect(pathToBytes(JSON.parse(json).path).equals(Buffer.from("d\xe9r/f\xff", "latin1"))).toBe(true);
  });

  it("refuses lone surrogates that stand for no byte", () => {
    expect(() => pathToBytes("a\ud800b")).toThrow(/lone surrogate/);
    expect(() => pathToBytes("a\udc7fb")).toThrow(/lone surrogate/);
  });

  it("lists paths for host scripts as NUL-terminated bytes", () => {
    expect(nulTerminated(["1.5", "d\udcff"]).equals(Buffer.from("1.5\0d\xff\0", "latin1"))).toBe(true);
    expect(hostPathList(["-dash", "x\udcfe"]).equals(Buffer.from("./-dash\0./x\xfe\0", "latin1"))).toBe(true);
  });
});
