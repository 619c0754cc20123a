// A command's output held in bounded memory: stdout up to a cap, the end of stderr, lines of
// bounded length.
import { describe, expect, it } from "vitest";
import { ByteTail, CappedBytes, LineSplitter } from "../../../../dataplane/ssh/output-limits.ts";

const bytes = (text: string) => Buffer.from(text);

describe("CappedBytes", () => {
  it("keeps everything up to the cap, exactly", () => {
    const out = new CappedBytes(10);
    expect(out.add(bytes("hello "))).toBe(true);
    expect(out.add(bytes("dear"))).toBe(true);
    expect(out.bytes().toString()).toBe("hello dear");
    expect(out.exceeded).toBe(false);
  });

  it("past the cap says so, and keeps nothing more", () => {
    const out = new CappedBytes(10);
    out.add(bytes("hello "));
    expect(out.add(bytes("world"))).toBe(false);
    expect(out.exceeded).toBe(true);
    expect(out.add(bytes("x"))).toBe(false);
    expect(out.bytes()).toHaveLength(0);
  });
});

describe("ByteTail", () => {
  it("keeps all of a short stream", () => {
    const tail = new ByteTail(100);
    tail.add(bytes("a\n"));
    tail.add(bytes("b\n"));
    expect(tail.text()).toBe("a\nb\n");
    expect(tail.truncated).toBe(false);
  });

  it("keeps only the last bytes of a long stream, marking the cut", () => {
    const tail = new ByteTail(8);
    for (let i = 0; i < 1000; i++) tail.add(bytes(`line ${i}\n`));
    expect(tail.bytes().toString()).toBe("ine 999\n");
    expect(tail.text()).toBe("…ine 999\n");
  });

  it("cuts one chunk bigger than the limit to its end", () => {
    const tail = new ByteTail(4);
    tail.add(bytes("0123456789"));
    expect(tail.bytes().toString()).toBe("6789");
    expect(tail.truncated).toBe(true);
  });
});

describe("LineSplitter", () => {
  const split = (max: number, ...chunks: string[]) => {
    const lines: string[] = [];
    const splitter = new LineSplitter(max, (l) => lines.push(l));
    for (const c of chunks) splitter.add(Buffer.from(c));
    return lines;
  };

  it("splits lines across and within chunks, holding back an unfinished last line", () => {
    expect(split(100, "progress 1\npro", "gress 2\nround-read 1 0\nunfinished")).toEqual(["progress 1", "progress 2", "round-read 1 0"]);
  });

  it("does not split a character that straddles two chunks", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(100, (l) => lines.push(l));
    const word = Buffer.from("été\n");
    splitter.add(word.subarray(0, 1));
    splitter.add(word.subarray(1));
    expect(lines).toEqual(["été"]);
  });

  it("hands on a line longer than the limit cut, and drops the rest of it", () => {
    expect(split(5, "0123456789", "abc\nnext\n")).toEqual(["01234", "next"]);
    expect(split(5, "01234\n56789x\n")).toEqual(["01234", "56789"]);
  });

  it("holds at most one line's room while a host writes without a newline", () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(1024, (l) => lines.push(l));
    for (let i = 0; i < 10_000; i++) splitter.add(Buffer.alloc(1000, 120));
    splitter.add(Buffer.from("\nok\n"));
    expect(lines.map((l) => l.length)).toEqual([1024, 2]);
  });
});
