// The scripts a snapshot runs on a host: valid bash, unchanged unless meant to be. Presigned URLs
// never appear in a host process's arguments: curl_url hands curl the URL in a config on a file
// descriptor, quoted so that any URL arrives intact.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  curlUrl, directoryTimesScript, hashScript, restoreArchiveScript, restoreSymlinksScript, scanScript, uploadScript,
} from "../../../../dataplane/snapshot/scripts.ts";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const bash = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" });

describe("curl_url", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-curl-url-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives curl the URL in a config, not as an argument, quotes and backslashes intact", () => {
    const url = String.raw`https://s3.example/b/k?X-Amz-Signature=abc&odd="q"\x`;
    // A stand-in curl that prints the config it was given and then its arguments, one per line.
    const out = bash(`${curlUrl}
curl() { [ "$1" = --config ] && cat "$2"; shift 2; printf 'arg %s\\n' "$@"; }
curl_url '${url.replaceAll("'", `'\\''`)}' -sS -X PUT`);
    expect(out).toBe(`url = "${url.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"\narg -sS\narg -X\narg PUT\n`);
  });

  it("is read by the real curl", () => {
    writeFileSync(path.join(dir, "object"), "the object\n");
    expect(bash(`${curlUrl}\ncurl_url 'file://${dir}/object' -sS`)).toBe("the object\n");
  });

  it("is the only way the host scripts call curl", () => {
    for (const script of [uploadScript(), restoreArchiveScript()]) {
      const calls = script.split("\n").filter((line) => /\bcurl\b/.test(line) && !line.includes("curl_url") && !line.includes("curl --config"));
      expect(calls).toEqual([]);
      expect(script).not.toMatch(/curl[^\n]*"\$url"\s*(\\|2>|$)/m);
    }
  });
});

describe("host scripts", () => {
  it.each([
    ["scan", scanScript()], ["hash", hashScript()], ["upload", uploadScript()], ["restore", restoreArchiveScript()],
    ["symlinks", restoreSymlinksScript()], ["directory times", directoryTimesScript()],
  ])("%s is valid bash and unchanged", (_name, script) => {
    execFileSync("bash", ["-n", "-c", script]);
    expect(script).toMatchSnapshot();
  });
});

describe("the md5sum hashing script (hosts without dumont-pack)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-hash-script-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("hashes regular files, and leaves out a FIFO or a symlink at a file's name instead of waiting on it", () => {
    writeFileSync(path.join(dir, "a"), "one\n");
    writeFileSync(path.join(dir, "b c"), "two\n");
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    symlinkSync("a", path.join(dir, "link"));
    const names = ["a", "fifo", "b c", "link", "gone"];
    // timeout(1) kills the script's whole process group: a worker stuck on the FIFO ends too.
    const run = spawnSync("timeout", ["-s", "KILL", "10", "bash", "-c", hashScript(), "hash", dir], { input: names.map((n) => `${n}\0`).join(""), encoding: "utf8" });
    expect(run.status, "the script was killed after 10 s").not.toBe(137);
    expect(run.status).toBe(1);
    const sums = run.stdout.split("\0").filter(Boolean).sort();
    expect(sums).toEqual([`${md5("one\n")}  a`, `${md5("two\n")}  b c`]);
    expect(run.stderr).toContain("not a regular file, or gone: fifo");
    expect(run.stderr).toContain("not a regular file, or gone: link");
    expect(run.stderr).toContain("not a regular file, or gone: gone");
  });

  it("hashes batch after batch of regular files, and exits 0", () => {
    const many = path.join(dir, "many");
    mkdirSync(many);
    const names = Array.from({ length: 1100 }, (_, i) => `f${i}`);
    for (const name of names) writeFileSync(path.join(many, name), name);
    const run = spawnSync("timeout", ["-s", "KILL", "10", "bash", "-c", hashScript(), "hash", many], { input: names.map((n) => `${n}\0`).join(""), encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(run.stdout.split("\0").filter(Boolean).sort()).toEqual(names.map((n) => `${md5(n)}  ${n}`).sort());
  });
});

describe("the scan of a busy workspace", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-scan-script-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists the tree while temporary files come and go, instead of failing on one that went", async () => {
    mkdirSync(path.join(dir, "churn"));
    for (let i = 0; i < 2000; i++) writeFileSync(path.join(dir, "churn", `kept${i}`), "x");
    // A writer that makes and removes a file as fast as it can (without -ignore_readdir_race, find
    // failed about two scans in three of this tree: measured 105 of 150).
    const writer = spawn("bash", ["-c", 'while :; do t="$1/churn/t$RANDOM"; echo x > "$t"; rm -f "$t"; done', "churn", dir], { stdio: "ignore" });
    try {
      const runs = Array.from({ length: 30 }, () => spawnSync("bash", ["-c", scanScript(), "scan", dir], { maxBuffer: 16 * 1024 * 1024 }));
      expect(runs.map((r) => r.status)).toEqual(runs.map(() => 0));
      expect(runs.every((r) => r.stdout.toString("latin1").split("\0").filter((f) => f.startsWith("./churn/kept")).length === 2000)).toBe(true);
    } finally {
      writer.kill("SIGKILL");
    }
  });
});
