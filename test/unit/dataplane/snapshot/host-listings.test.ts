// Host listings parsed as they arrive: the scan's six fields per entry and md5sum -z records, byte
// for byte whatever the names hold, and the same whichever way the stream is cut into chunks.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Md5Parser, ScanParser, parseMd5, parseScan } from "../../../../dataplane/snapshot/host-listings.ts";
import { pathFromBytes } from "../../../../dataplane/snapshot/path-bytes.ts";

/** The listing cut into chunks at these offsets. */
function cut(bytes: Buffer, at: readonly number[]): Buffer[] {
  const ends = [...at, bytes.length];
  return ends.map((end, i) => bytes.subarray(i === 0 ? 0 : ends[i - 1]!, end));
}

describe("scan parsing", () => {
  it("keeps names with newlines, quotes and leading dashes intact, and sorts", () => {
    const raw = ["f", "new\nline", "5", "644", "1.5", "", "l", "-dash", "0", "777", "2.0", "target with space", "d", "dir", "4096", "755", "3.0", "", "p", "fifo", "0", "644", "4.0", ""].join("\0") + "\0";
    const { entries, skipped } = parseScan(Buffer.from(raw));
    expect(entries.map((e) => e.path)).toEqual(["-dash", "dir", "new\nline"]);
    expect(entries[0]).toMatchObject({ type: "symlink", target: "target with space", size: 0 });
    expect(entries[2]).toMatchObject({ type: "file", size: 5, mode: 0o644, mtime: "1.5" });
    expect(skipped).toEqual(["fifo"]);
  });

  it("reads names that are not UTF-8 byte for byte, with or without find's ./ prefix", () => {
    const fields = (name: Buffer) => [Buffer.from("f\0"), name, Buffer.from("\0" + ["3", "644", "1.5", ""].join("\0") + "\0")];
    const raw = Buffer.concat([...fields(Buffer.from("./bad\xff\xfeutf8", "latin1")), ...fields(Buffer.from("plain"))]);
    expect(parseScan(raw).entries.map((e) => e.path)).toEqual(["bad\udcff\udcfeutf8", "plain"]);
  });

  it("refuses truncated output", () => {
    expect(() => parseScan(Buffer.from("f\0a\0"))).toThrow(/truncated/);
  });

  it("reads md5sum -z output as the tool prints it", () => {
    const printed = execFileSync("bash", ["-c", "cd \"$(mktemp -d)\" && printf x > $'a\\nb' && printf y > ./-c && md5sum -z -- ./$'a\\nb' ./-c"]);
    expect([...parseMd5(printed)]).toEqual([["a\nb", "9dd4e461268c8034f5c8564e155c67a6"], ["-c", "415290769594460e2e485922904f345d"]]);
  });

  it("reads md5sum -z output for names that are not UTF-8", () => {
    const printed = execFileSync("bash", ["-c", "cd \"$(mktemp -d)\" && printf x > $'bad\\xff\\xfeutf8' && md5sum -z -- ./$'bad\\xff\\xfeutf8'"]);
    expect([...parseMd5(printed)]).toEqual([[pathFromBytes(Buffer.from("bad\xff\xfeutf8", "latin1")), "9dd4e461268c8034f5c8564e155c67a6"]]);
  });
});

describe("listings in chunks", () => {
  const name = (text: string) => Buffer.from(text, "latin1");
  // A name that is not UTF-8, one with a four-byte character and one with a newline: a chunk may end
  // inside any of their bytes.
  const names = [name("bad\xff\xfeutf8"), Buffer.from("emoji-\u{1F600}-é"), Buffer.from("new\nline")];
  const scan = Buffer.concat(names.flatMap((n, i) => [Buffer.from("f\0./"), n, Buffer.from(["", String(i + 1), "644", `1.${i}`, "", ""].join("\0"))]));
  const sums = Buffer.concat(names.flatMap((n) => [Buffer.from(`${"0123456789abcdef".repeat(2)}  ./`), n, Buffer.of(0)]));

  it("parses the scan the same whatever byte each chunk ends at", () => {
    const whole = parseScan(scan);
    expect(whole.entries.map((e) => e.path)).toEqual([pathFromBytes(names[0]!), "emoji-\u{1F600}-é", "new\nline"].sort());
    for (let a = 1; a < scan.length; a++) {
      for (const b of [a + 1, a + 7, scan.length - 1].filter((b) => b > a && b < scan.length)) {
        const parser = new ScanParser();
        for (const chunk of cut(scan, [a, b])) parser.push(chunk);
        expect(parser.result()).toEqual(whole);
      }
    }
  });

  it("parses md5sum output the same whatever byte each chunk ends at", () => {
    const whole = parseMd5(sums);
    expect(whole.size).toBe(3);
    for (let a = 1; a < sums.length; a++) {
      const parser = new Md5Parser();
      for (const chunk of cut(sums, [a])) parser.push(chunk);
      expect(parser.result()).toEqual(whole);
    }
  });

  it("refuses a field longer than any path before holding it whole, however it is cut", () => {
    const parser = new ScanParser();
    const noise = Buffer.alloc(32 * 1024, 0x61);
    expect(() => {
      for (let i = 0; i < 1000; i++) parser.push(noise);
    }).toThrow(/longer than any path/);
  });

  it("refuses a listing cut in the middle of a record, in any chunk", () => {
    for (const end of [5, scan.length - 1]) {
      const parser = new ScanParser();
      for (const chunk of cut(scan.subarray(0, end), [2])) parser.push(chunk);
      expect(() => parser.result()).toThrow(/truncated/);
    }
    const md5 = new Md5Parser();
    md5.push(sums.subarray(0, sums.length - 1));
    expect(() => md5.result()).toThrow(/truncated/);
  });
});
