// What tar says about files that change while a snapshot reads them, read back byte for byte.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { pathFromBytes } from "../../../../dataplane/snapshot/path-bytes.ts";
import { quoteTarName, readTarReport, unquoteTarName } from "../../../../dataplane/snapshot/tar-messages.ts";

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

describe("names as tar lists them", () => {
  it("quotes every byte as `tar -t --quoting-style=escape` does under LC_ALL=C, and unquotes back", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "tar-names-"));
    const names = Array.from({ length: 255 }, (_, i) => i + 1).filter((b) => b !== 0x2f).map((b) => pathFromBytes(Buffer.from([0x66, b, 0x78])));
    execFileSync("python3", ["-c", "import os,sys\nfor b in range(1,256):\n  if b!=0x2f: open(os.path.join(sys.argv[1].encode(), b'f'+bytes([b])+b'x'),'wb').close()", dir]);
    execFileSync("tar", ["-cf", path.join(dir, "..", `${path.basename(dir)}.tar`), "-C", dir, "."], { env: { ...process.env, LC_ALL: "C" } });
    const listed = execFileSync("tar", ["-tf", path.join(dir, "..", `${path.basename(dir)}.tar`), "--quoting-style=escape"], { env: { ...process.env, LC_ALL: "C" }, encoding: "latin1" })
      .split("\n").filter((l) => l && l !== "./");
    expect(new Set(listed)).toEqual(new Set(names.map((n) => `./${quoteTarName(n)}`)));
    for (const name of [...names, "dir with space/ü/\\x"]) expect(unquoteTarName(quoteTarName(name))).toBe(name);
  });
});
