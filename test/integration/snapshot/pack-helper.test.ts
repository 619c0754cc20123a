// dumont-pack, the snapshot's reader (dataplane/pack), run here on the controller's own machine
// against GNU tar: what it writes must extract with plain `tar -x` into the same tree, its MD5s
// must be md5sum's, and what it says must read back as tar's messages do. (The snapshot tests run
// it on local-cloud hosts, through the whole upload.)
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMd5, parseScan } from "../../../dataplane/snapshot/host-listings.ts";
import { packBuilds } from "../../../dataplane/snapshot/pack-helper.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { hostPathList, pathFromBytes } from "../../../dataplane/snapshot/path-bytes.ts";
import { scanScript } from "../../../dataplane/snapshot/scripts.ts";
import { readTarReport } from "../../../dataplane/snapshot/tar-messages.ts";
import { adversarialWorkspace, treeDifferences, walkTree } from "../../support/workspace-tree.ts";

const pack = path.join(packBuilds, `dumont-pack-linux-${process.arch === "arm64" ? "arm64" : "amd64"}`);
let dir: string;
let source: string;

/**
 * Runs `dumont-pack members` on `names` in the source tree: the LZ4 frame it writes, the archive in
 * it (decoded by lz4, an end-of-archive added), its sums, the entries as it saw them, its messages
 * and exit status.
 */
function packMembers(names: string[], label: string) {
  const [list, sums, seen] = ["list", "sums", "seen"].map((file) => path.join(dir, `${label}.${file}`)) as [string, string, string];
  writeFileSync(list, hostPathList(names));
  const run = spawnSync(pack, ["members", source, list, sums, seen], { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } });
  return {
    archive: Buffer.concat([execFileSync("lz4", ["-d", "-q", "-", "-"], { input: run.stdout, maxBuffer: 64 * 1024 * 1024 }), Buffer.alloc(1024)]),
    frame: run.stdout, sums: parseMd5(readFileSync(sums)), seen: parseScan(readFileSync(seen)).entries,
    messages: run.stderr.toString().trim().split("\n").filter(Boolean), status: run.status,
  };
}

/** Every path under the source tree (parents first), names as bytes. */
function allPaths(): string[] {
  const listed = execFileSync("find", [".", "-mindepth", "1", "-printf", "%P\\0"], { cwd: source, maxBuffer: 16 * 1024 * 1024 });
  const paths: string[] = [];
  for (let start = 0, end; (end = listed.indexOf(0, start)) >= 0; start = end + 1) paths.push(pathFromBytes(listed.subarray(start, end)));
  return paths;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "dumont-pack-test-"));
  source = path.join(dir, "source");
  execFileSync("mkdir", [source]);
  execFileSync("bash", ["-c", adversarialWorkspace.replace("cd /workspace", 'cd "$1"'), "tree", source]);
  // Beyond the adversarial tree: a large file (streamed, not read ahead), one that ends in a hole,
  // a name with ':' (tar escapes it in messages), setuid, an mtime before 1970 (on a sparse file too,
  // whose header is written by hand), and files with two names (large and small).
  execFileSync("bash", ["-c", String.raw`set -e; cd "$1"
    head -c 5000000 /dev/urandom > large.bin
    truncate -s 64M hole-at-end.img && printf start | dd of=hole-at-end.img conv=notrunc status=none
    printf colon > 'a:b c.txt'; printf suid > suid.bin && chmod 4755 suid.bin
    ln large.bin 'large, second name.bin' && printf linked > small-a && ln small-a small-b
    truncate -s 8M old-sparse.img && printf x | dd of=old-sparse.img bs=1 seek=4000000 conv=notrunc status=none
    touch -d @-1.5 old-sparse.img
    touch -d '1960-05-06 07:08:09.25' suid.bin`, "more", source]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dumont-pack", () => {
  it("writes members that GNU tar extracts into the same tree, sparse files sparse, with md5sum's sums", async () => {
    const names = allPaths();
    const { archive, frame, sums, seen, messages, status } = packMembers(names, "all");
    expect(messages).toEqual([]);
    expect(frame.subarray(0, 4).toString("hex")).toBe("04224d18"); // LZ4's frame magic
    expect(frame.length).toBeLessThan(archive.length);
    expect(status).toBe(0);
    // What it saw of each entry is what the snapshot's own scan (find) lists, field for field.
    const scanned = parseScan(execFileSync("bash", ["-c", scanScript(), "scan", source], { maxBuffer: 16 * 1024 * 1024 })).entries;
    expect(seen.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(scanned);
    const target = path.join(dir, "target");
    execFileSync("mkdir", [target]);
    // (tar warns of the 1960 mtime, and sets it.)
    execFileSync("tar", ["--numeric-owner", "--sparse", "-xpf", "-", "-C", target], { input: archive, env: { ...process.env, LC_ALL: "C" }, stdio: ["pipe", "pipe", "pipe"] });
    const [before, after] = await Promise.all([walkTree(source), walkTree(target)]);
    expect(treeDifferences(before, after)).toEqual([]);
    const files = [...before].filter(([, e]) => e.type === "file");
    expect(files.length).toBeGreaterThan(15);
    for (const [name, e] of files) expect(sums.get(name), name).toBe(e.md5);
    // 1 GiB and 64 MiB of holes are a few blocks in the archive and on the target's disk.
    expect(archive.length).toBeLessThan(12 * 1024 * 1024);
    const blocks = execFileSync("stat", ["-c", "%b", "sparse.img", "hole-at-end.img"], { cwd: target }).toString().trim().split("\n").map(Number);
    expect(blocks.reduce((a, b) => a + b, 0) * 512).toBeLessThan(1024 * 1024);
    // A file with two names is stored once and restored as one file with two names.
    const inodes = execFileSync("stat", ["-c", "%i", "large.bin", "large, second name.bin", "small-a", "small-b"], { cwd: target }).toString().trim().split("\n");
    expect(inodes[0]).toBe(inodes[1]);
    expect(inodes[2]).toBe(inodes[3]);
    expect(inodes[0]).not.toBe(inodes[2]);
    expect(execFileSync("tar", ["-tvf", "-"], { input: archive }).toString()).toMatch(/^h.* \.\/small-[ab] link to \.\/small-[ab]$/m);
  });

  it("names what it could not read as tar does, with exit 2, and archives the rest", () => {
    const { archive, sums, seen, messages, status } = packMembers(["gone: away\nnow", "large.bin"], "missing");
    expect(status).toBe(2);
    expect(seen.map((e) => e.path)).toEqual(["large.bin"]);
    const report = readTarReport(messages);
    expect([...report.missing]).toEqual(["gone: away\nnow"]);
    expect(report.others).toEqual([]);
    expect(sums.has("large.bin")).toBe(true);
    const listed = execFileSync("tar", ["-tf", "-"], { input: archive }).toString().trim().split("\n");
    expect(listed).toEqual(["./large.bin"]);
  });

  it("hashes files several at a time as md5sum does, and names what it cannot read with exit 1", async () => {
    const files = [...await walkTree(source)].filter(([, e]) => e.type === "file");
    // A FIFO where a file was listed is named, not waited on (open would block until a writer came).
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    const run = spawnSync(pack, ["sums", dir, "-"], {
      input: hostPathList([...files.map(([name]) => `source/${name}`), "no such file", "fifo"]), maxBuffer: 16 * 1024 * 1024, timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.toString()).toContain("no such file: No such file or directory");
    expect(run.stderr.toString()).toContain("fifo: not a regular file");
    expect(parseMd5(run.stdout)).toEqual(new Map(files.map(([name, e]) => [`source/${name}`, e.md5])));
  });

  it("passes an archive through unchanged while it hashes every file in it, and only copies what it cannot read as tar", async () => {
    const { archive } = packMembers(allPaths(), "stream");
    const files = [...await walkTree(source)].filter(([, e]) => e.type === "file");
    const streamSums = (input: Buffer, label: string) => {
      const out = path.join(dir, `${label}.sums`);
      const run = spawnSync(pack, ["stream-sums", out], { input, maxBuffer: 64 * 1024 * 1024 });
      let sums: Map<string, string> | undefined;
      try {
        sums = parseMd5(readFileSync(out));
      } catch {
        sums = undefined;
      }
      return { run, sums };
    };
    const whole = streamSums(archive, "whole");
    expect(whole.run.status).toBe(0);
    expect(whole.run.stdout.equals(archive)).toBe(true);
    // Every file, sparse ones and both names of a hard-linked one among them, as md5sum has it.
    expect(whole.sums).toEqual(new Map(files.map(([name, e]) => [name, e.md5])));
    // A stream cut short (a damaged download) or not tar at all still reaches tar byte for byte;
    // it gives no sums, so the restore hashes those files from the disk.
    for (const [label, input] of [["cut", archive.subarray(0, 3_000_000)], ["noise", randomBytes(3_000_000)]] as const) {
      const broken = streamSums(input, label);
      expect(broken.run.status, label).toBe(0);
      expect(broken.run.stdout.equals(input), label).toBe(true);
      expect(broken.sums, label).toBeUndefined();
      expect(broken.run.stderr.toString(), label).toContain("the restore hashes from the disk instead");
    }
  });

  // fetch's ranged download and upload's parts against servers a local cloud cannot play (one that
  // ignores byte ranges, an object replaced mid-download, every size around the range and part
  // size, a wrong ETag, a refusal, URLs that come late): Go's own tests in dataplane/pack/
  // fetch_test.go and upload_test.go, built with the module setup already fetched (no network).
  const goAvailable = spawnSync("go", ["version"]).status === 0;
  it.skipIf(!goAvailable)("downloads by ranges and uploads by parts as a store serves them, and as some should not (go test of fetch.go, upload.go)", () => {
    const run = spawnSync("go", ["test", "-count=1", "-run", "Test", "."], {
      cwd: path.join(repoRoot, "dataplane", "pack"),
      env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", GOPROXY: "off", CGO_ENABLED: "0" },
      encoding: "utf8", timeout: 300_000,
    });
    expect(`${run.stdout}${run.stderr}`).toMatch(/^ok\s/m);
    expect(run.status).toBe(0);
  }, 330_000);
});

