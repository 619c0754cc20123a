// A file written while a snapshot reads it: what tar says about it, and which entries are read at
// rest, read again, or gone after a round.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Entry } from "../../../harness/snapshot/manifest.ts";
import { pathFromBytes } from "../../../harness/snapshot/path-bytes.ts";
import { settleRound } from "../../../harness/snapshot/read-rounds.ts";
import { readTarReport, unquoteTarName, type TarReport } from "../../../harness/snapshot/tar-messages.ts";

const file = (p: string, extra: Partial<Entry> = {}): Entry => ({ path: p, type: "file", size: 10, mode: 0o644, mtime: "1700000000.0000000000", ...extra });
const quiet: TarReport = { changed: new Set(), missing: new Set(), others: [] };

describe("tar's messages", () => {
  it("reads back names as tar quotes them in the C locale, bytes that are not UTF-8 included", () => {
    const name = Buffer.concat([Buffer.from("we\xffird:na\nme \\ ", "latin1"), Buffer.from("ü")]);
    const said = execFileSync("bash", ["-c", "LC_ALL=C tar --quoting-style=escape --null --no-recursion -T - -cf /dev/null 2>&1 || true"], {
      cwd: mkdtempSync(path.join(tmpdir(), "dumont-tar-")), input: Buffer.concat([Buffer.from("./"), name, Buffer.of(0)]),
    });
    const report = readTarReport(said.toString("utf8").trim().split("\n"));
    expect([...report.missing]).toEqual([pathFromBytes(name)]);
    expect(report.others).toEqual([]);
  });

  it("decodes tar's escapes", () => {
    expect(unquoteTarName(String.raw`./a\nb\tc\\d\:e\303\274\377`)).toBe("./a\nb\tc\\d:eü\udcff");
  });

  it("sorts changed, vanished and other messages", () => {
    const report = readTarReport([
      "tar: ./log.txt: file changed as we read it",
      "tar: ./ckpt.bin: File shrank by 4096 bytes; padding with zeros",
      "tar: ./tmp/x: Cannot stat: No such file or directory",
      "tar: ./locked: Cannot open: Permission denied",
      "tar: Exiting with failure status due to previous errors",
    ]);
    expect([...report.changed]).toEqual(["log.txt", "ckpt.bin"]);
    expect([...report.missing]).toEqual(["tmp/x"]);
    expect(report.others).toEqual(["tar: ./locked: Cannot open: Permission denied"]);
  });
});

describe("settling a round", () => {
  const read = [file("still"), file("grew"), file("touched"), file("gone"), file("retyped"), { ...file("d"), type: "dir" as const, size: 0 }, file("told")];
  const now = new Map<string, Entry>([
    ["still", file("still")],
    ["grew", file("grew", { size: 11 })],
    ["touched", file("touched", { mtime: "1700000001.0000000000" })],
    ["retyped", { ...file("retyped"), type: "dir", size: 0 }],
    ["d", { ...file("d"), type: "dir", size: 0, mtime: "1700000009.0000000000" }],
    ["told", file("told")],
  ]);
  const sums = new Map(["still", "grew", "touched", "told"].map((p) => [p, p.padEnd(32, "0")]));

  it("records entries read at rest with this round's MD5, reads changed ones again as they are now, and drops vanished ones", () => {
    const outcome = settleRound(read, now, sums, { ...quiet, changed: new Set(["told"]) });
    expect(outcome.settled).toEqual([{ ...file("still"), md5: "still".padEnd(32, "0") }, { ...file("d"), type: "dir", size: 0 }]);
    expect(outcome.changing.map((c) => c.now)).toEqual([now.get("grew"), now.get("touched"), now.get("retyped"), now.get("told")]);
    expect(outcome.changing[0]!.asRead).toEqual({ ...file("grew"), md5: "grew".padEnd(32, "0") });
    expect(outcome.vanished).toEqual(["gone"]);
  });

  it("reads again a file whose MD5 could not be taken, or that tar did not find", () => {
    expect(settleRound([file("still")], now, new Map(), quiet).changing).toHaveLength(1);
    expect(settleRound([file("still")], now, sums, { ...quiet, missing: new Set(["still"]) }).changing).toHaveLength(1);
  });
});
