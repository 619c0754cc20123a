// `dumont-pack fetch`, the restore's download (dataplane/pack/fetch.go), run here on the controller's
// machine against the local cloud's store, through its S3 relay (where faults are injected): an
// archive of several byte ranges and several LZ4 frames comes out as `lz4 -d` decodes it, with its
// files' MD5s; ranges the store fails are tried again; a URL the store refuses or a damaged archive
// fails at once, with a reason that never shows the presigned URL.
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { parseMd5 } from "../../../dataplane/snapshot/host-listings.ts";
import { packBuilds } from "../../../dataplane/snapshot/pack-helper.ts";
import { SnapshotStore } from "../../../dataplane/snapshot/store.ts";

const pack = path.join(packBuilds, `dumont-pack-linux-${process.arch === "arm64" ? "arm64" : "amd64"}`);
const cloud = "fetch";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
let store: SnapshotStore;
let dir: string;
/** The archive's tar stream, and the MD5 of each file in it. */
let tarStream: Buffer;
const fileSums = new Map<string, string>();

interface FetchRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs `dumont-pack fetch SUMS` with the URL on its stdin, as the restore script does. */
function fetch(url: string, sums: string): Promise<FetchRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(pack, ["fetch", sums], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), seconds: (performance.now() - started) / 1000 }));
    child.stdin.end(`${url}\n`);
  });
}

async function storeArchive(id: string, archive: Buffer): Promise<string> {
  await store.s3.send(new PutObjectCommand({ Bucket: "fetch", Key: store.archiveKey(id), Body: archive }));
  return store.presignDownload(id);
}

beforeAll(async () => {
  endpoints = await up({ cloud });
  admin = new LocalCloudAdmin(endpoints);
  store = new SnapshotStore({ ...endpoints.s3, bucket: "fetch", prefix: "f/", stack: "fetch-test" });
  await store.s3.send(new CreateBucketCommand({ Bucket: "fetch" }));
  dir = mkdtempSync(path.join(os.tmpdir(), "dumont-fetch-test-"));
  // 26 MiB of files, most incompressible: four 8 MiB ranges, the last one short.
  const tree = path.join(dir, "tree");
  mkdirSync(tree);
  for (const [name, bytes] of [["weights.bin", randomBytes(20 << 20)], ["notes.txt", Buffer.from("notes\n".repeat(100_000))], ["empty", Buffer.alloc(0)], ["tail.bin", randomBytes(5 << 20)]] as const) {
    writeFileSync(path.join(tree, name), bytes);
    fileSums.set(name, createHash("md5").update(bytes).digest("hex"));
  }
  tarStream = execFileSync("tar", ["--format=posix", "-C", tree, "-cf", "-", "./weights.bin", "./notes.txt", "./empty", "./tail.bin"], { maxBuffer: 64 << 20 });
});
afterAll(async () => {
  await admin?.clearFaults().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
  await down(cloud);
});

/** The tar stream as two LZ4 frames, cut at an arbitrary byte (a snapshot's rounds are frames). */
function twoFrames(): Buffer {
  const cut = 11_111_111;
  const frame = (part: Buffer) => execFileSync("lz4", ["-1", "-q", "-", "-"], { input: part, maxBuffer: 64 << 20 });
  return Buffer.concat([frame(tarStream.subarray(0, cut)), frame(tarStream.subarray(cut))]);
}

describe("dumont-pack fetch", () => {
  it("downloads an archive of several ranges and frames as lz4 -d decodes it, with its files' MD5s", async () => {
    const archive = twoFrames();
    expect(archive.length).toBeGreaterThan(3 * 8 * 1024 * 1024);
    const url = await storeArchive("ranges", archive);
    const sums = path.join(dir, "sums");
    const run = await fetch(url, sums);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.equals(tarStream)).toBe(true);
    expect(parseMd5(readFileSync(sums))).toEqual(fileSums);
    // Without SUMS: the same stream, no sums file.
    const plain = await fetch(url, "-");
    expect(plain.code).toBe(0);
    expect(plain.stdout.equals(tarStream)).toBe(true);
  });

  it("tries again the ranges the store fails, and still gives every byte once", async () => {
    const url = await storeArchive("flaky", twoFrames());
    const before = Number((await admin.status()).s3_injected_errors);
    await admin.fault({ kind: "s3-errors", rate: 0.5, status: 503 });
    try {
      const run = await fetch(url, "-");
      expect(run.code).toBe(0);
      expect(run.stdout.equals(tarStream)).toBe(true);
      expect(run.stderr).toMatch(/HTTP 503 Service Unavailable; trying again/);
      expect(Number((await admin.status()).s3_injected_errors)).toBeGreaterThan(before);
    } finally {
      await admin.clearFaults();
    }
  });

  it("fails at once on a URL the store refuses, naming the answer and never the URL", async () => {
    const url = await storeArchive("refused", twoFrames());
    const forged = url.replace(/(X-Amz-Signature=)([0-9a-f])/, (_, name: string, digit: string) => `${name}${digit === "0" ? "1" : "0"}`);
    expect(forged).not.toBe(url);
    const run = await fetch(forged, "-");
    expect(run.code).toBe(2);
    expect(run.seconds).toBeLessThan(5);
    expect(run.stderr).toMatch(/HTTP 403 Forbidden/);
    expect(run.stderr).not.toMatch(/Signature|Credential|http:/);
    expect(run.stdout.length).toBe(0);
  });

  it("fails on a damaged archive (LZ4's checksums), and on stdin without a URL", async () => {
    const damaged = twoFrames();
    damaged[damaged.length - 100_000] ^= 0xff;
    const run = await fetch(await storeArchive("damaged", damaged), path.join(dir, "damaged-sums"));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/checksum|invalid|corrupt/i);
    const noUrl = await fetch("not a url", "-");
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/stdin must hold the archive's http\(s\) URL/);
  });
});
