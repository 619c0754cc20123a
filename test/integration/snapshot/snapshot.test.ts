// Snapshots of an adversarial workspace, made on one host and restored onto others, checked by an
// independent walk of both trees; incrementals; and the failures: a host killed mid-snapshot,
// S3 errors on a fifth of requests, a flipped byte in the archive. Then what used to make
// snapshots that could never be restored: names that are not UTF-8, directories that became
// symlinks or files between two snapshots, a file rewritten while the snapshot reads it, and a
// manifest whose paths reach outside the workspace.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import type { HostInfo } from "../../../local-cloud/host.ts";
import { createSnapshot } from "../../../dataplane/snapshot/create.ts";
import { ensurePackHelper } from "../../../dataplane/snapshot/pack-helper.ts";
import { presignBatch } from "../../../dataplane/snapshot/host-upload.ts";
import { snapshotId, type Manifest } from "../../../dataplane/snapshot/manifest.ts";
import { restoreSnapshot, RestoreFailed } from "../../../dataplane/snapshot/restore.ts";
import { directoryTimesScript, restoreArchiveScript, restoreSymlinksScript } from "../../../dataplane/snapshot/scripts.ts";
import { SnapshotStore } from "../../../dataplane/snapshot/store.ts";
import { connect, type SshConnection } from "../../../dataplane/ssh/client.ts";
import { ensureHostTools, gpuTools } from "../../../dataplane/ssh/host-tools.ts";
import { hostWorkspace, makeKeyPair } from "../../support/local-cloud.ts";
import { adversarialWorkspace, treeDifferences, walkTree } from "../../support/workspace-tree.ts";

const cloud = "snp";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
let store: SnapshotStore;
const key = makeKeyPair();
const hosts: Record<string, { info: HostInfo; ssh: SshConnection }> = {};

async function host(name: string) {
  if (!hosts[name]) {
    const info = await admin.createStandby(name, [key.publicKey]);
    const ssh = await connect({ host: info.address, port: info.sshPort, privateKey: key.privateKey, hostKey: info.hostKey });
    // Hosts run a bare image: lz4 and rsync come as Dumont (or a person restoring by hand) brings them.
    await ensureHostTools(ssh, gpuTools);
    hosts[name] = { info, ssh };
  }
  return hosts[name]!;
}
const workspaceOf = (name: string) => hostWorkspace(hosts[name]!.info);
/** A store of its own, so that each test's chain holds only the snapshots the test made. */
const storeFor = (prefix: string) => new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: `${prefix}/`, stack: "snapshot-test" });
/** A snapshot's archive extracted by hand (`lz4 -d | tar -x`, as the README says) into /workspace/<folder> on a host. */
async function extractByHand(ssh: SshConnection, from: SnapshotStore, id: string, folder: string, locale: string): Promise<{ code: number; stderr: string }> {
  return ssh.run(["bash", "-c", 'set -o pipefail; read -r url; mkdir -p "/workspace/$1" && curl -sS --fail "$url" | lz4 -d -q - - | LC_ALL="$2" tar -x -C "/workspace/$1"', "by-hand", folder, locale], {
    stdin: `${await from.presignDownload(id)}\n`, allowFailure: true,
  });
}

/**
 * A crafted archive stored as snapshot `id`'s, then restored by restoreArchiveScript alone onto a
 * host whose spool already holds the lists in its own folder ("first" link): through tar (a host without the helper),
 * then, from the workspace as the test left it, through `dumont-pack extract`. Both must end alike
 * (exit status, last message, what is left in /workspace); the helper's run is returned.
 */
async function restoreCraftedArchive(ssh: SshConnection, into: SnapshotStore, id: string, spool: string, archive: Buffer, inspect?: (by: "tar" | "helper") => Promise<void>) {
  await into.s3.send(new PutObjectCommand({ Bucket: "snapshots", Key: into.archiveKey(id), Body: archive }));
  await ssh.run(["bash", "-c", ': > "$1/ready"', "ready", spool]);
  const url = await into.presignDownload(id);
  const saved = "/var/tmp/crafted-workspace-before";
  await ssh.run(["bash", "-c", 'rm -rf "$1" && mkdir -p "$1" && cp -a /workspace/. "$1"', "save", saved]);
  const restore = async (pack: string) => {
    const result = await ssh.run(["bash", "-c", restoreArchiveScript(), "restore", spool, "first", ".", pack], { stdin: `${url}\n`, allowFailure: true });
    const left = (await ssh.run(["bash", "-c", "cd /workspace && ls -A"])).stdout;
    return { result, outcome: { code: result.code, last: result.stderr.trim().split("\n").at(-1), left } };
  };
  const byTar = await restore("");
  await inspect?.("tar");
  await ssh.run(["bash", "-c", 'find /workspace -mindepth 1 -delete && cp -a "$1/." /workspace && rm -rf "$1"', "reset", saved]);
  const byHelper = await restore(await ensurePackHelper(ssh));
  await inspect?.("helper");
  expect(byHelper.outcome).toEqual(byTar.outcome);
  return byHelper.result;
}

beforeAll(async () => {
  endpoints = await up({ cloud });
  admin = new LocalCloudAdmin(endpoints);
  store = new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: "snapshots/", stack: "snapshot-test" });
  await store.s3.send(new CreateBucketCommand({ Bucket: "snapshots" }));
  await store.s3.send(new PutBucketVersioningCommand({ Bucket: "snapshots", VersioningConfiguration: { Status: "Enabled" } }));
  await (await host("source")).ssh.run(["bash", "-c", adversarialWorkspace]);
});
afterAll(async () => {
  for (const h of Object.values(hosts)) h.ssh.close();
  await down(cloud);
});

describe("snapshots", () => {
  it("round-trips an adversarial workspace exactly onto another host, equal large files stored once and restored apart", async () => {
    // Copies of the 3 MB model under other names, modes and times (dataplane/pack/duplicates.go).
    await (await host("source")).ssh.run(["bash", "-c", String.raw`cd /workspace && mkdir -p copies && cp 'keep/private/model.bin' 'model copy.bin' && chmod 640 'model copy.bin' && cp -p 'keep/private/model.bin' copies/model.bin && touch -d '2012-03-04' copies && mkdir -p before-1970 && touch -m -d @-1.5 before-1970`]);
    const progress: string[] = [];
    const { manifest } = await createSnapshot({ ssh: (await host("source")).ssh, store, name: "full-1", parent: "full", onProgress: (l) => progress.push(l) });
    expect(manifest.kind).toBe("full");
    expect(progress.some((l) => l.startsWith("uploading"))).toBe(true);
    // The sparse gigabyte compresses to almost nothing, and the model's random bytes are there once.
    expect(manifest.archive.bytes).toBeLessThan(4_000_000);
    const restoring: string[] = [];
    const report = await restoreSnapshot({ ssh: (await host("target")).ssh, store, id: manifest.id, onProgress: (l) => restoring.push(l) });
    expect(report.ok).toBe(true);
    // Every file was hashed as the archive was extracted (sparse and hard-linked ones among them).
    expect(restoring).toContain(`verifying every file against the manifest (${manifest.stats.files} hashed as they were extracted)`);
    expect(treeDifferences(await walkTree(await workspaceOf("source")), await walkTree(await workspaceOf("target")))).toEqual([]);
    const names = [...(await walkTree(await workspaceOf("target"))).keys()];
    expect(names).toEqual(expect.arrayContaining(["new\nline dir/file\nwith newline", "-leading-dash", "it's \"quoted\".txt", "ünïcødé/ファイル/データ.bin", "empty-dir", "dangling-link"]));
    // Three files, not three names of one: writing one leaves the others as they are.
    const inodes = (await (await host("target")).ssh.run(["stat", "-c", "%i %h", "/workspace/keep/private/model.bin", "/workspace/model copy.bin", "/workspace/copies/model.bin"])).stdout.trim().split("\n");
    expect(new Set(inodes).size).toBe(3);
    expect(inodes.every((line) => line.endsWith(" 1"))).toBe(true);
  });

  it("lists only snapshots with a manifest, oldest first, with size, files and parent", async () => {
    const list = await store.list();
    expect(list.map((s) => s.name)).toContain("full-1");
    const full = list.find((s) => s.name === "full-1")!;
    expect(full).toMatchObject({ kind: "full", parent: null, files: expect.any(Number) });
    expect(full.files).toBeGreaterThan(10);
  });

  it("incremental: a small change uploads a small archive, and the chain restores the exact tree, deletions included", async () => {
    const source = (await host("source")).ssh;
    await source.run(["bash", "-c", String.raw`cd /workspace && printf 'changed\n' >> run.sh && rm -f -- ./-leading-dash && rm -rf empty-dir && mkdir -p added/dir && printf 'new\n' > 'added/dir/new file' && touch -d '2020-05-05' added`]);
    const { manifest } = await createSnapshot({ ssh: source, store, name: "incr-1", parent: "auto" });
    expect(manifest.kind).toBe("incremental");
    expect(manifest.parent).toMatch(/-full-1$/);
    expect(manifest.deleted).toEqual(expect.arrayContaining(["-leading-dash", "empty-dir"]));
    expect([...manifest.included].filter((p) => [...manifest.entries].find((e) => e.path === p)?.type === "file").sort()).toEqual(["added/dir/new file", "run.sh"]);
    const full = await store.readManifest(manifest.parent!);
    expect(manifest.archive.bytes).toBeLessThan(full.archive.bytes / 10);
    // A parent whose entries are not in path order (a manifest Dumont did not write) cannot be
    // walked with the scan as it is read: it is read whole and compared by lookups, to the same end.
    const shuffledId = snapshotId("shuffled", new Date());
    await store.writeManifest({ ...full, id: shuffledId, name: "shuffled", chain: [shuffledId], entries: [...full.entries].reverse(), included: [...full.included], deleted: [], discarded: [] });
    const onShuffled = (await createSnapshot({ ssh: source, store, name: "incr-1-shuffled", parent: shuffledId })).manifest;
    await Promise.all([store.delete(onShuffled.id), store.delete(shuffledId)]);
    // (Its deletions come in its order.)
    expect({ kind: onShuffled.kind, entries: [...onShuffled.entries], included: [...onShuffled.included].sort(), deleted: [...onShuffled.deleted].sort() })
      .toEqual({ kind: "incremental", entries: [...manifest.entries], included: [...manifest.included].sort(), deleted: [...manifest.deleted].sort() });
    // This chain's files are hashed back from the disk (the path hosts without the helper, and
    // links whose stream could not be hashed, take).
    const restoring: string[] = [];
    await restoreSnapshot({ ssh: (await host("target2")).ssh, store, id: manifest.id, hashAsExtracted: false, onProgress: (l) => restoring.push(l) });
    expect(restoring).toContain("verifying every file against the manifest (0 hashed as they were extracted)");
    expect(treeDifferences(await walkTree(await workspaceOf("source")), await walkTree(await workspaceOf("target2")))).toEqual([]);
  });

  it("still makes a correct snapshot when a fifth of S3 requests fail", async () => {
    await (await host("source")).ssh.run(["bash", "-c", "head -c 12000000 /dev/urandom > /workspace/keep/bigger.bin"]);
    await admin.fault({ kind: "s3-errors", rate: 0.2, status: 503 });
    try {
      const { manifest } = await createSnapshot({ ssh: (await host("source")).ssh, store, name: "flaky", parent: "full", partSize: 5 * 1000 * 1000 });
      expect(manifest.archive.parts).toBeGreaterThan(1);
      await restoreSnapshot({ ssh: (await host("target3")).ssh, store, id: manifest.id });
    } finally {
      await admin.clearFaults();
    }
    expect((await admin.status()).s3_injected_errors).toBeGreaterThan(0);
    expect(treeDifferences(await walkTree(await workspaceOf("source")), await walkTree(await workspaceOf("target3")))).toEqual([]);
  });

  it("presigns part URLs a batch at a time as a long upload goes", async () => {
    const source = await host("batches");
    await source.ssh.run(["bash", "-c", "mkdir -p /workspace && head -c 100000000 /dev/urandom > /workspace/large.bin"]);
    const lines: string[] = [];
    const batchStore = new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: "batches/", stack: "snapshot-test" });
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: batchStore, name: "batched", parent: "full", partSize: 5 * 1000 * 1000, concurrency: 2, onProgress: (l) => lines.push(l) });
    expect(manifest.archive.parts).toBeGreaterThan(2 * presignBatch(2));
    // Planned parts never needed the "outgrew" path: their URLs came ahead of the host.
    expect(lines.filter((l) => l.includes("outgrew its plan"))).toEqual([]);
    await restoreSnapshot({ ssh: (await host("batches-target")).ssh, store: batchStore, id: manifest.id });
    expect(treeDifferences(await walkTree(await workspaceOf("batches")), await walkTree(await workspaceOf("batches-target")))).toEqual([]);
  });

  it("a flipped byte in the archive fails the restore and names the damaged file", async () => {
    const source = await host("corrupt-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && echo a > a.txt && head -c 4000000 /dev/urandom > weights.bin && echo c > c.txt"]);
    const corruptStore = new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: "corrupt/", stack: "snapshot-test" });
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: corruptStore, name: "to-corrupt", parent: "full" });
    const object = await store.s3.send(new GetObjectCommand({ Bucket: "snapshots", Key: manifest.archive.key }));
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    // weights.bin is random, stored by LZ4 as literals, and fills the middle of the archive.
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await store.s3.send(new PutObjectCommand({ Bucket: "snapshots", Key: manifest.archive.key, Body: bytes }));
    const failure = await restoreSnapshot({ ssh: (await host("target4")).ssh, store: corruptStore, id: manifest.id }).catch((e) => e);
    expect(failure).toBeInstanceOf(RestoreFailed);
    expect(failure.report.damagedArchives).toEqual([manifest.id]);
    expect(failure.report.mismatches.map((m: any) => m.path)).toEqual(["weights.bin"]);
    expect(failure.message).toContain('"weights.bin": MD5');
  });

  it("a host killed mid-snapshot leaves no listed snapshot", async () => {
    const big = await host("dying");
    await big.ssh.run(["bash", "-c", "head -c 200000000 /dev/urandom > /workspace/big.bin"]);
    await admin.fault({ kind: "s3-latency", ms: 300 });
    let killed = false;
    const attempt = createSnapshot({
      ssh: big.ssh, store, name: "killed", parent: "full", partSize: 5 * 1000 * 1000, concurrency: 2,
      onProgress: (line) => {
        if (!killed && /part\(s\) uploaded/.test(line)) {
          killed = true;
          void admin.fault({ kind: "host-killed", target: "dying" });
        }
      },
    });
    await expect(attempt).rejects.toThrow();
    await admin.clearFaults();
    expect(killed).toBe(true);
    expect((await store.list()).map((s) => s.name)).not.toContain("killed");
  });

  it("what interrupted snapshots left (an archive without a manifest) is collected after a day; snapshots stay", async () => {
    const leftovers = storeFor("leftovers");
    const source = await host("leftover-source");
    await source.ssh.run(["bash", "-c", "printf 'kept\\n' > /workspace/kept.txt"]);
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: leftovers, name: "kept", parent: "full" });
    const orphan = snapshotId("orphan", new Date());
    await leftovers.s3.send(new PutObjectCommand({ Bucket: "snapshots", Key: leftovers.archiveKey(orphan), Body: "an archive whose manifest was never written" }));
    // (Unfinished multipart uploads are aborted too where the store lists them by prefix, as B2 and
    // S3 do; MinIO lists only those of an exact key, so this test cannot see them.)
    expect((await leftovers.collectAbandoned()).archives).toEqual([]);
    expect((await leftovers.collectAbandoned(0)).archives).toEqual([orphan]);
    expect((await leftovers.list()).map((s) => s.id)).toEqual([manifest.id]);
    await expect(leftovers.s3.send(new GetObjectCommand({ Bucket: "snapshots", Key: leftovers.archiveKey(orphan) }))).rejects.toThrow();
  });

  it("names that are not UTF-8: snapshot, restore and verify byte for byte, and by hand under C.UTF-8 and C", async () => {
    const source = await host("bytes-source");
    await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
cd /workspace
printf 'latin-1\n' > $'bad\xff\xfeutf8'
mkdir $'d\xe9r' && printf 'inside\n' > $'d\xe9r/f\xff'
printf 'valid\n' > $'d\xe9r/\xc3\xbcn\xc3\xaf'
ln -s $'t\xff' $'l\xfe'
ln -s $'../d\xe9r' $'d\xe9r/up\xfd'
printf 'truncated\n' > $'cut\xe2\x82'`]);
    const bytesStore = storeFor("bytes");
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: bytesStore, name: "bytes", parent: "full" });
    expect([...manifest.entries].map((e) => e.path)).toEqual(expect.arrayContaining(["bad\udcff\udcfeutf8", "d\udce9r/f\udcff", "d\udce9r/ünï", "cut\udce2\udc82"]));
    expect([...manifest.entries].find((e) => e.path === "l\udcfe")?.target).toBe("t\udcff");
    // The manifest went through JSON in the bucket and came back the same (its entries a table now: entry-table.ts).
    expect(JSON.stringify(await bytesStore.readManifest(manifest.id))).toBe(JSON.stringify(manifest));

    const report = await restoreSnapshot({ ssh: (await host("bytes-target")).ssh, store: bytesStore, id: manifest.id });
    expect(report.ok).toBe(true);
    const sourceTree = await walkTree(await workspaceOf("bytes-source"));
    expect(treeDifferences(sourceTree, await walkTree(await workspaceOf("bytes-target")))).toEqual([]);

    const byHand = await host("bytes-by-hand");
    for (const locale of ["C.UTF-8", "C"]) {
      const folder = locale === "C" ? "c" : "utf8";
      expect(await extractByHand(byHand.ssh, bytesStore, manifest.id, folder, locale)).toMatchObject({ code: 0, stderr: "" });
      expect(treeDifferences(sourceTree, await walkTree(path.join(await workspaceOf("bytes-by-hand"), folder)))).toEqual([]);
    }
  });

  it("a manifest larger than a part goes up in parts and reads back the same, listed with its summary", async () => {
    const partsStore = storeFor("parts");
    const names = ["plain", "quote \" and \\", "é ü 中文", "emoji 😀", "bytes \udcff\udc80", "tab\tnew\nline"];
    const entries = Array.from({ length: 40_000 }, (_, i) => ({
      path: `d${i % 50}/${names[i % names.length]} ${i}`, type: "file" as const, size: i, mode: 0o644, mtime: `1764636000.${String(i).padStart(10, "0")}`, md5: createHash("md5").update(String(i)).digest("hex"),
    }));
    const id = snapshotId("parts", new Date());
    const manifest: Manifest = {
      format: "dumont-snapshot/1", id, name: "parts", createdAt: new Date().toISOString(), kind: "full", parent: null, chain: [id], source: { host: "test" }, stack: "snapshot-test",
      archive: { key: partsStore.archiveKey(id), bytes: 0, parts: 0, partSize: 0, compression: "lz4" },
      entries, included: entries.map((e) => e.path), deleted: [], discarded: [], stats: { files: entries.length, dirs: 0, symlinks: 0, bytes: 0 },
    };
    const partBytes = 5 * 1024 * 1024; // the smallest part S3 takes
    expect(Buffer.byteLength(JSON.stringify(manifest))).toBeGreaterThan(partBytes);
    await partsStore.writeManifest(manifest, partBytes);
    try {
      const head = await partsStore.s3.send(new HeadObjectCommand({ Bucket: "snapshots", Key: partsStore.manifestKey(id) }));
      expect(head.ETag).toMatch(/-2"$/); // a multipart object's ETag counts its parts
      expect(JSON.stringify(await partsStore.readManifest(id))).toBe(JSON.stringify(manifest));
      expect((await partsStore.list()).map((s) => [s.id, s.files])).toEqual([[id, entries.length]]);
    } finally {
      await partsStore.delete(id);
    }
  });

  it("directories that became a symlink or a file (and a file that became a directory) restore through an incremental chain", async () => {
    const source = await host("morph-source");
    await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
cd /workspace
mkdir -p models/sub data ext blobs hf data-v2
printf 'w\n' > models/sub/w.bin && printf 'a\n' > data/a.csv && printf 'b\n' > data-v2/b.csv
printf 'n\n' > notes && printf 'e\n' > ext/e && printf 'blob\n' > blobs/1
ln -s ../blobs/1 hf/model.safetensors`]);
    const morphStore = storeFor("morph");
    const full = await createSnapshot({ ssh: source.ssh, store: morphStore, name: "morph-full", parent: "full" });
    await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
cd /workspace
rm -rf models && ln -s data-v2 models
rm -rf data && printf 'now a file\n' > data
rm notes && mkdir notes && printf 'n1\n' > notes/n1
rm -rf ext && ln -s /etc ext`]);
    const second = await createSnapshot({ ssh: source.ssh, store: morphStore, name: "morph-2", parent: "auto" });
    expect(second.manifest.parent).toBe(full.manifest.id);
    expect(second.manifest.deleted).toEqual(expect.arrayContaining(["models/sub", "models/sub/w.bin", "data/a.csv", "ext/e"]));
    await restoreSnapshot({ ssh: (await host("morph-target")).ssh, store: morphStore, id: second.manifest.id });
    expect(treeDifferences(await walkTree(await workspaceOf("morph-source")), await walkTree(await workspaceOf("morph-target")))).toEqual([]);

    // And back: the symlink becomes a directory again, the file a directory, on top of the chain.
    await source.ssh.run(["bash", "-c", "cd /workspace && rm models data && mkdir -p models/again data && printf 'x\n' > models/again/x && printf 'y\n' > data/y"]);
    const third = await createSnapshot({ ssh: source.ssh, store: morphStore, name: "morph-3", parent: "auto" });
    expect(third.manifest.chain).toHaveLength(3);
    await restoreSnapshot({ ssh: (await host("morph-target")).ssh, store: morphStore, id: third.manifest.id });
    expect(treeDifferences(await walkTree(await workspaceOf("morph-source")), await walkTree(await workspaceOf("morph-target")))).toEqual([]);
  });

  it("a file rewritten in a loop while the snapshot reads it: the snapshot restores and verifies, the file is named", async () => {
    const source = await host("hot-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && head -c 20000000 /dev/urandom > steady.bin && mkdir -p churn && printf 'calm\n' > calm.txt"]);
    // Writers that run on the host during the whole snapshot: a file rewritten over and over, a log
    // that grows, a file that grows fast (the archive outgrows the part URLs planned for it), and
    // temporary files that come and go.
    await source.ssh.run(["bash", "-c", String.raw`setsid nohup bash -c '
  while :; do head -c 3000000 /dev/urandom > /workspace/hot.bin; done &
  while :; do echo "step $RANDOM" >> /workspace/train.log; sleep 0.005; done &
  while :; do head -c 1000000 /dev/urandom >> /workspace/growing.bin; sleep 0.05; done &
  while :; do t=/workspace/churn/t$RANDOM; echo x > "$t"; sleep 0.01; rm -f "$t"; done &
  wait' > /dev/null 2>&1 < /dev/null & echo $! > /root/writers.pid`]);
    const hotStore = storeFor("hot");
    const progress: string[] = [];
    let manifest: Manifest;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      ({ manifest } = await createSnapshot({ ssh: source.ssh, store: hotStore, name: "hot", parent: "full", onProgress: (l) => progress.push(l) }));
    } finally {
      await source.ssh.run(["bash", "-c", 'kill -- "-$(cat /root/writers.pid)"'], { allowFailure: true });
    }
    expect(progress.some((l) => /changed while read, reading again/.test(l))).toBe(true);
    expect(progress.some((l) => /the archive outgrew its plan/.test(l))).toBe(true);
    const unstable = [...manifest.entries].filter((e) => e.unstable).map((e) => e.path);
    expect(["hot.bin", "train.log", "growing.bin"]).toEqual(expect.arrayContaining(unstable));

    const report = await restoreSnapshot({ ssh: (await host("hot-target")).ssh, store: hotStore, id: manifest.id });
    expect(report.ok).toBe(true);
    expect(report.warnings.every((w) => unstable.includes(w.path))).toBe(true);
    const restored = await walkTree(await workspaceOf("hot-target"));
    const sourceTree = await walkTree(await workspaceOf("hot-source"));
    for (const steady of ["steady.bin", "calm.txt"]) expect(restored.get(steady)).toEqual(sourceTree.get(steady));

    // The rounds are one tar archive: by hand it extracts cleanly, the last copy of a file winning.
    const byHand = await host("hot-by-hand");
    expect(await extractByHand(byHand.ssh, hotStore, manifest.id, "x", "C.UTF-8")).toMatchObject({ code: 0, stderr: "" });
    const members = await byHand.ssh.run(["bash", "-c", "read -r url; curl -sS --fail \"$url\" | lz4 -d -q - - | tar -t"], { stdin: `${await hotStore.presignDownload(manifest.id)}\n` });
    expect(members.stdout.split("\n").filter((m) => m === "./hot.bin").length).toBeGreaterThan(1);
    const extracted = await walkTree(path.join(await workspaceOf("hot-by-hand"), "x"));
    for (const steady of ["steady.bin", "calm.txt"]) expect(extracted.get(steady)?.md5).toBe(sourceTree.get(steady)?.md5);
  });

  it("a manifest whose paths reach outside the workspace is refused, naming the entry, and nothing outside is touched", async () => {
    const source = await host("poison-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && mkdir -p sub && printf 'f\n' > sub/file && ln -s sub sub-link && printf 'a\n' > a.txt"]);
    const poisonStore = storeFor("poison");
    await createSnapshot({ ssh: source.ssh, store: poisonStore, name: "poison-full", parent: "full" });
    await source.ssh.run(["bash", "-c", "cd /workspace && printf 'b\n' > b.txt"]);
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: poisonStore, name: "poison-2", parent: "auto" });
    const target = await host("poison-target");
    await target.ssh.run(["bash", "-c", "printf 'alive\n' > /root/canary && mkdir -p /workspace && printf 'mine\n' > /workspace/before.txt"]);

    for (const [deleted, refusal] of [
      ["../root/canary", `snapshot ${manifest.id} cannot be restored safely: deleted path "../root/canary" has a '..' component`],
      ["/root/canary", `snapshot ${manifest.id} cannot be restored safely: deleted path "/root/canary" is absolute`],
    ] as const) {
      await poisonStore.writeManifest({ ...manifest, deleted: [deleted] });
      await expect(restoreSnapshot({ ssh: target.ssh, store: poisonStore, id: manifest.id })).rejects.toThrow(refusal);
      // Refused before the restore touched the host: the workspace is as it was.
      expect((await target.ssh.run(["cat", "/root/canary", "/workspace/before.txt"])).stdout).toBe("alive\nmine\n");
    }

    // A path that passes as text but runs through a symlink on the host: the removal refuses it.
    await poisonStore.writeManifest({ ...manifest, deleted: ["sub-link/file"] });
    await expect(restoreSnapshot({ ssh: target.ssh, store: poisonStore, id: manifest.id })).rejects.toThrow(/refusing sub-link\/file: sub-link is not a real directory/);
    expect((await target.ssh.run(["cat", "/workspace/sub/file", "/root/canary"])).stdout).toBe("f\nalive\n");
  });

  it("an empty workspace gets the first archive while the manifests are still read; one refused then is left empty, nothing running", async () => {
    const source = await host("early-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && mkdir -p d && head -c 3000000 /dev/urandom > d/big.bin && printf 'x\n' > small.txt"]);
    const earlyStore = storeFor("early");
    const { manifest } = await createSnapshot({ ssh: source.ssh, store: earlyStore, name: "early", parent: "full" });
    const target = await host("early-target");
    const sourceTree = await walkTree(await workspaceOf("early-source"));
    /** The store, with the end of every manifest held back until `release`. */
    const held = () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const store = Object.assign(Object.create(earlyStore) as SnapshotStore, {
        readManifest: async (id: string, onHeader?: (header: Record<string, unknown>) => void) => {
          const read = await earlyStore.readManifest(id, onHeader);
          await gate;
          return read;
        },
      });
      return { store, release };
    };
    /** Until the target's stage holds all of d/big.bin, while no manifest has been read to its end. */
    const stagedWhileReading = async () => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const size = await target.ssh.run(["bash", "-c", "stat -c %s /workspace/.dumont-stage-*/d/big.bin"], { allowFailure: true });
        if (size.stdout.trim() === "3000000") return;
      }
      throw new Error("the first archive was not downloaded while its manifest was still being read");
    };

    const first = held();
    const restoring = restoreSnapshot({ ssh: target.ssh, store: first.store, id: manifest.id });
    await stagedWhileReading();
    first.release();
    expect((await restoring).ok).toBe(true);
    expect(treeDifferences(sourceTree, await walkTree(await workspaceOf("early-target")))).toEqual([]);

    // Refused once its whole manifest is there: nothing of it is put in place, and the script is over.
    await target.ssh.run(["bash", "-c", "find /workspace -mindepth 1 -delete"]);
    await earlyStore.writeManifest({ ...manifest, deleted: ["../root/canary"] });
    const second = held();
    const refused = restoreSnapshot({ ssh: target.ssh, store: second.store, id: manifest.id });
    refused.catch(() => undefined);
    await stagedWhileReading();
    second.release();
    await expect(refused).rejects.toThrow(`snapshot ${manifest.id} cannot be restored safely: deleted path "../root/canary" has a '..' component`);
    const left = await target.ssh.run(["bash", "-c", "ls -A /workspace; ls -d /tmp/dumont-restore-* 2>/dev/null; pgrep -f 'dumont-pack-[0-9a-f]{64} extract' || true"]);
    expect(left.stdout).toBe("");

    // A workspace that holds anything (here a file, and a stage a killed restore left) waits for the
    // checks: refused, it is left exactly as it was.
    await target.ssh.run(["bash", "-c", "printf 'mine\n' > /workspace/canary.txt && mkdir /workspace/.dumont-stage-old && printf 'x' > /workspace/.dumont-stage-old/x"]);
    const before = (await target.ssh.run(["bash", "-c", "cd /workspace && find . | sort"])).stdout;
    const third = held();
    const waiting = restoreSnapshot({ ssh: target.ssh, store: third.store, id: manifest.id });
    waiting.catch(() => undefined);
    // Its script runs, waiting for the checks.
    const scriptRuns = async () => (await target.ssh.run(["bash", "-c", "pgrep -f 'restore /tmp/dumont-restore-[0-9a-f]{12} first'"], { allowFailure: true })).code === 0;
    for (let tries = 0; tries < 100 && !(await scriptRuns()); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await scriptRuns()).toBe(true);
    for (let look = 0; look < 10; look++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect((await target.ssh.run(["bash", "-c", "cd /workspace && find . | sort"])).stdout).toBe(before);
    }
    third.release();
    await expect(waiting).rejects.toThrow(`snapshot ${manifest.id} cannot be restored safely`);
    expect((await target.ssh.run(["bash", "-c", "cd /workspace && find . | sort && cat canary.txt"])).stdout).toBe(`${before}mine\n`);
  });

  it("a spool removed while the first archive downloads stops the download at once, through tar and the helper, and its stage goes", async () => {
    const target = await host("stop-target");
    // A valid archive that would take about ten seconds to come: 40 MB of zeros, LZ4'd, trickled.
    const archive = execFileSync("bash", ["-c", "d=$(mktemp -d) && head -c 40000000 /dev/zero > \"$d/zeros\" && tar -C \"$d\" -cf - . | lz4 -1 -z -q - - && rm -rf \"$d\""], { maxBuffer: 1 << 26 });
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { "content-length": String(archive.length) });
      let at = 0;
      const trickle = setInterval(() => {
        response.write(archive.subarray(at, (at += archive.length / 200)));
        if (at >= archive.length) clearInterval(trickle), response.end();
      }, 50);
      response.on("close", () => clearInterval(trickle));
    });
    const gateway = new URL(endpoints.s3.endpoint).hostname;
    await new Promise<void>((resolve) => server.listen(0, gateway, resolve));
    const url = `http://${gateway}:${(server.address() as AddressInfo).port}/archive`;
    try {
      for (const pack of ["", await ensurePackHelper(target.ssh)]) {
        const spool = "/var/tmp/stop-spool";
        await target.ssh.run(["bash", "-c", 'find /workspace -mindepth 1 -delete && rm -rf "$1" && mkdir -p "$1/link-0"', "prepare", spool]);
        const running = target.ssh.run(["bash", "-c", restoreArchiveScript(), "restore", spool, "first", "link-0", pack], { stdin: `${url}\n`, allowFailure: true });
        // Under way: part of the archive, not all of it, is in the stage.
        let staged = 0;
        for (let tries = 0; tries < 100 && staged === 0; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          staged = Number((await target.ssh.run(["bash", "-c", "stat -c %s /workspace/.dumont-stage-*/zeros"], { allowFailure: true })).stdout.trim()) || 0;
        }
        expect(staged).toBeGreaterThan(0);
        expect(staged).toBeLessThan(40_000_000);
        const removed = performance.now();
        await target.ssh.run(["rm", "-rf", "--", spool]);
        const result = await running;
        expect({ code: result.code, last: result.stderr.trim().split("\n").at(-1) }).toEqual({ code: 9, last: "this link's lists never came from the controller" });
        expect(performance.now() - removed).toBeLessThan(3000);
        expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("");
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("a later link is downloaded, extracted and checked in its own stage at once, and changes nothing before its turn; without it (the spool removed, or the controller's connection gone), nothing at all", async () => {
    const target = await host("turn-target");
    const made = await target.ssh.run(["bash", "-c", String.raw`set -euo pipefail
rm -rf /var/tmp/turn && mkdir -p /var/tmp/turn && cd /var/tmp/turn && printf 'second\n' > a.txt && printf 'new\n' > b.txt && ln -s ../../etc out
tar --format=posix -cf - ./a.txt ./b.txt ./out | lz4 -1 -z -q - -`], { binaryStdout: true });
    const turnStore = storeFor("turn");
    const id = snapshotId("turn", new Date());
    await turnStore.s3.send(new PutObjectCommand({ Bucket: "snapshots", Key: turnStore.archiveKey(id), Body: made.stdoutBytes }));
    const url = await turnStore.presignDownload(id);
    // Named as restore.ts names a spool: the stages of this restore are named after it.
    const spool = "/var/tmp/dumont-restore-0123456789ab";
    const workspaceNow = async () => (await target.ssh.run(["bash", "-c", String.raw`cd /workspace && for f in $(find . -path './.dumont-stage-*' -prune -o -type f -print | sort); do printf '%s %s' "$f" "$(cat "$f")"; echo; done`])).stdout;
    const staged = async () => (await target.ssh.run(["bash", "-c", "cat /workspace/.dumont-stage-dumont-restore-0123456789ab-*/b.txt 2>/dev/null"], { allowFailure: true })).stdout;
    for (const pack of ["", await ensurePackHelper(target.ssh)]) {
      for (const turn of ["given", "never", "connection lost"]) {
        // The controller's side of a connection that dies (a controller killed): its own.
        const through = turn === "connection lost"
          ? await connect({ host: target.info.address, port: target.info.sshPort, privateKey: key.privateKey, hostKey: target.info.hostKey })
          : target.ssh;
        // The workspace as the link before it left it, and this link's lists as restore.ts sends them.
        await target.ssh.run(["bash", "-c", String.raw`set -e
find /workspace -mindepth 1 -delete && printf 'first\n' > /workspace/a.txt && printf 'deleted\n' > /workspace/gone.txt
rm -rf "$1" && mkdir -p "$1/link-1" && cd "$1/link-1" && printf 'gone.txt\0' > remove-before && : > remove-after
printf './a.txt\0./b.txt\0./out\0' > members && printf 'f ./a.txt\0f ./b.txt\0l ./out\0' > known && printf './a.txt\n./b.txt\n./out\n' > known-listing && : > ready`, "prepare", spool]);
        const before = await workspaceNow();
        expect(before).toBe("./a.txt first\n./gone.txt deleted\n");
        const sums: Buffer[] = [];
        const running = through.run(["bash", "-c", restoreArchiveScript(), "restore", spool, "later", "link-1", pack], {
          stdin: `${url}\n`, allowFailure: true, onStdout: (chunk) => sums.push(chunk),
        });
        running.catch(() => undefined);
        for (let tries = 0; tries < 100 && (await staged()) !== "new\n"; tries++) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await staged()).toBe("new\n");
        // Extracted into its stage and waiting: the workspace is as it was, and no sum has come.
        for (let look = 0; look < 5; look++) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          expect(await workspaceNow()).toBe(before);
        }
        expect(Buffer.concat(sums).length).toBe(0);
        if (turn === "given") {
          await target.ssh.run(["bash", "-c", 'touch "$1/link-1/turn"', "turn", spool]);
          const result = await running;
          expect(result.code).toBe(0);
          expect(await workspaceNow()).toBe("./a.txt second\n./b.txt new\n");
          // A symlink that leaves its folder never reaches the workspace from an archive (the
          // restore makes the snapshot's own last).
          expect((await target.ssh.run(["bash", "-c", "find /workspace -type l"])).stdout).toBe("");
          // With the helper, the MD5s of the files as they were extracted (without it, the
          // verification reads them from the disk).
          const md5 = (text: string) => createHash("md5").update(text).digest("hex");
          expect(Buffer.concat(sums).toString().split("\0").filter(Boolean).sort())
            .toEqual(pack ? [`${md5("second\n")}  ./a.txt`, `${md5("new\n")}  ./b.txt`] : []);
        } else if (turn === "never") {
          await target.ssh.run(["rm", "-rf", "--", spool]);
          const result = await running;
          expect({ code: result.code, last: result.stderr.trim().split("\n").at(-1) }).toEqual({ code: 9, last: "this link's turn to be placed never came from the controller" });
          expect(await workspaceNow()).toBe(before);
        } else {
          // Nobody will give the turn: the script stops waiting once its session is gone.
          through.close();
          const scriptRuns = async () => (await target.ssh.run(["bash", "-c", "pgrep -f 'restore /var/tmp/dumont-restore-0123456789ab later'"], { allowFailure: true })).code === 0;
          for (let tries = 0; tries < 50 && (await scriptRuns()); tries++) await new Promise((resolve) => setTimeout(resolve, 100));
          expect(await scriptRuns()).toBe(false);
          expect(await workspaceNow()).toBe(before);
        }
        expect((await target.ssh.run(["bash", "-c", "ls -d /workspace/.dumont-stage-* 2>/dev/null || true"])).stdout).toBe("");
      }
    }
  });

  it("a copy member (a large file stored once for two names) restores as two files with their own modes and times, through tar and through the helper", async () => {
    const target = await host("copy-target");
    const spool = "/var/tmp/copy-spool";
    const md5 = (text: string) => createHash("md5").update(text).digest("hex");
    const [first, again] = ["bytes\n".repeat(50_000), "again\n".repeat(50_000)];
    // b.bin a copy of a.bin; then, in the second archive, a.bin written again after it (a later
    // round's): tar leaves b.bin one link with a.bin's first mode and time.
    for (const rewritten of [false, true]) {
      const archive = execFileSync("python3", ["-c", `
import io, sys, tarfile
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
    data = (sys.argv[1] * 50000).encode()
    info = tarfile.TarInfo("./a.bin"); info.size = len(data); info.mode = 0o644; info.mtime = 1000000000; t.addfile(info, io.BytesIO(data))
    copy = tarfile.TarInfo("./b.bin"); copy.type = tarfile.LNKTYPE; copy.linkname = "./a.bin"; copy.mode = 0o600; copy.mtime = 1234567890; copy.pax_headers = {"DUMONT.copy": "1"}; t.addfile(copy)
    if sys.argv[2] == "yes":
        data = (sys.argv[3] * 50000).encode()
        info = tarfile.TarInfo("./a.bin"); info.size = len(data); info.mode = 0o640; info.mtime = 1111111111; t.addfile(info, io.BytesIO(data))
sys.stdout.buffer.write(out.getvalue())`, "bytes\n", rewritten ? "yes" : "no", "again\n"], { maxBuffer: 16 * 1024 * 1024 });
      await target.ssh.run(["bash", "-c", 'rm -rf /workspace/* "$1" && mkdir -p "$1" && : > "$1/remove-before" && : > "$1/remove-after" && printf "f ./a.bin\\0f ./b.bin\\0" > "$1/known" && printf "./a.bin\\n./b.bin\\n" > "$1/known-listing"', "prepare", spool]);
      // Without the helper, the controller lists the link's large files with their modes and times
      // (link-lists.ts: largeFileFields), as the manifest has them.
      const aMeta = rewritten ? ["640", "1111111111.0000000000"] : ["644", "1000000000.0000000000"];
      await target.ssh.run(["bash", "-c", 'printf "%s\\0" "$@" > "$0/large-files"', spool, aMeta[0]!, aMeta[1]!, aMeta[1]!, "a.bin", "600", "1234567890.0000000000", "1234567890.0000000000", "b.bin"]);
      const seen: Record<string, string> = {};
      const result = await restoreCraftedArchive(target.ssh, storeFor("copy"), snapshotId("copy", new Date()), spool, execFileSync("lz4", ["-1", "-z", "-q", "-", "-"], { input: archive }), async (by) => {
        seen[by] = (await target.ssh.run(["bash", "-c", "cd /workspace && stat -c '%n %h %a %Y' a.bin b.bin && md5sum a.bin b.bin | cut -c1-32 && [ \"$(stat -c %i a.bin)\" != \"$(stat -c %i b.bin)\" ] && echo apart"])).stdout;
      });
      expect(result.code).toBe(0);
      const apart = `a.bin 1 ${aMeta[0]} ${aMeta[1]!.split(".")[0]}\nb.bin 1 600 1234567890\n${md5(rewritten ? again : first)}\n${md5(first)}\napart\n`;
      expect(seen).toEqual({ tar: apart, helper: apart });
    }
  });

  it("an archive member its manifest does not name is never put in place, and the archive is refused", async () => {
    const source = await host("extra-source");
    const made = await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
rm -rf /tmp/extra && mkdir -p /tmp/extra && cd /tmp/extra && printf 'named\n' > named.txt && printf 'evil\n' > evil.txt
tar --format=posix -cf - ./named.txt ./evil.txt | lz4 -1 -z -q - -`], { binaryStdout: true });
    const extraStore = storeFor("extra");
    const id = snapshotId("extra", new Date());
    const target = await host("extra-target");
    const spool = "/var/tmp/extra-spool";
    await target.ssh.run(["bash", "-c", 'rm -rf /workspace/* "$1" && mkdir -p "$1" && : > "$1/remove-before" && : > "$1/remove-after" && printf "f ./named.txt\\0" > "$1/known" && printf "./named.txt\\n" > "$1/known-listing"', "prepare", spool]);
    const result = await restoreCraftedArchive(target.ssh, extraStore, id, spool, made.stdoutBytes);
    expect(result.code).toBe(8);
    expect(result.stderr).toContain("./evil.txt, which its manifest does not name");
    // Nothing of a refused archive is put in place, and its staging folder is gone.
    expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("");
    // Nor is it taken for merely damaged when its LZ4 stream is broken too (here its checksum cut
    // off: LZ4 fails once everything is decoded).
    const forgedAndDamaged = await restoreCraftedArchive(target.ssh, extraStore, id, spool, made.stdoutBytes.subarray(0, -4));
    expect(forgedAndDamaged.code).toBe(8);
    expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("");

    // Names tar will not write as given: a '..' member (tar skips it, naming it only in a message)
    // and an absolute one (tar strips its "/"). Each is named, and nothing lands anywhere.
    for (const evil of ["./sub/../../escape.txt", "/abs.txt"]) {
      const craftedName = execFileSync("python3", ["-c", `
import io, sys, tarfile
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name in ["./named.txt", sys.argv[1]]:
        info = tarfile.TarInfo(name); info.size = 5; t.addfile(info, io.BytesIO(b"evil\\n"))
sys.stdout.buffer.write(out.getvalue())`, evil]);
      const refusedName = await restoreCraftedArchive(target.ssh, extraStore, id, spool, execFileSync("lz4", ["-1", "-z", "-q", "-", "-"], { input: craftedName }));
      expect(refusedName.code).toBe(8);
      expect(refusedName.stderr).toContain(`the archive holds ${evil}, which its manifest does not name`);
      expect((await target.ssh.run(["bash", "-c", "ls -A /workspace; ls -A / | grep -c -e escape -e abs || true"])).stdout).toBe("0\n");
    }

    // A FIFO member whose header claims a size: \`tar -t\` skips that many bytes, extraction does
    // not, and writes the member hidden there. The listing checked is extraction's own, and so is
    // what is staged: the hidden member is named.
    const crafted = execFileSync("python3", ["-c", `
import io, sys, tarfile
inner = io.BytesIO()
with tarfile.open(fileobj=inner, mode="w", format=tarfile.PAX_FORMAT) as t:
    info = tarfile.TarInfo("./evil.txt"); info.size = 5; t.addfile(info, io.BytesIO(b"evil\\n"))
body = inner.getvalue().rstrip(b"\\0"); body += b"\\0" * (-len(body) % 512)
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
    fifo = tarfile.TarInfo("./named.txt"); fifo.type = tarfile.FIFOTYPE; fifo.size = len(body); t.addfile(fifo, io.BytesIO(body))
sys.stdout.buffer.write(out.getvalue())`]);
    expect(execFileSync("tar", ["-t"], { input: crafted, encoding: "utf8" })).toBe("./named.txt\n");
    const hidden = execFileSync("lz4", ["-1", "-z", "-q", "-", "-"], { input: crafted });
    const caught = await restoreCraftedArchive(target.ssh, extraStore, id, spool, hidden);
    expect(caught.code).toBe(8);
    expect(caught.stderr).toContain("./evil.txt, which its manifest does not name");
    expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("");

    // A name the manifest gives, as a FIFO (a snapshot holds files, folders and symlinks only).
    const fifo = await source.ssh.run(["bash", "-c", "set -euo pipefail; rm -rf /tmp/fifo && mkdir -p /tmp/fifo && cd /tmp/fifo && mkfifo named.txt && tar --format=posix -cf - ./named.txt | lz4 -1 -z -q - -"], { binaryStdout: true });
    const refused = await restoreCraftedArchive(target.ssh, extraStore, id, spool, fifo.stdoutBytes);
    expect(refused.code).toBe(8);
    expect(refused.stderr).toContain("./named.txt, which is neither a file, a folder nor a symlink");
    expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("");
  });

  it("an archive that holds a symlink where its manifest has a folder is refused, and nothing is written through it", async () => {
    // A real snapshot holds a symlink that leaves the workspace, as real workspaces do (venvs,
    // Hugging Face caches). The next link is forged: its manifest is consistent (esc2 a directory
    // holding a file), its archive is not (esc2 a symlink to esc, then esc2/pwned). Plain tar on
    // top of the first archive writes /root/pwned through esc2 -> esc -> /root.
    const source = await host("forge-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && ln -s /root esc && printf 'a\\n' > a.txt"]);
    const forgeStore = storeFor("forge");
    const { manifest: full } = await createSnapshot({ ssh: source.ssh, store: forgeStore, name: "forge-full", parent: "full" });
    const forged = await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
rm -rf /tmp/forge && mkdir -p /tmp/forge/x && cd /tmp/forge
ln -s esc esc2 && printf 'pwned\n' > x/pwned
tar --format=posix -cf - ./esc2 ./x/pwned --transform 's,^\./x/,./esc2/,r' | lz4 -1 -z -q - -`], { binaryStdout: true });
    const archive = forged.stdoutBytes;
    const id = snapshotId("forged", new Date());
    const dir = { type: "dir" as const, size: 0, mode: 0o755, mtime: "1700000000.0000000000" };
    const pwned = { path: "esc2/pwned", type: "file" as const, size: 6, mode: 0o644, mtime: "1700000000.0000000000", md5: createHash("md5").update("pwned\n").digest("hex") };
    await forgeStore.s3.send(new PutObjectCommand({ Bucket: "snapshots", Key: forgeStore.archiveKey(id), Body: archive }));
    await forgeStore.writeManifest({
      ...full, id, name: "forged", kind: "incremental", parent: full.id, chain: [full.id, id],
      archive: { ...full.archive, key: forgeStore.archiveKey(id), bytes: archive.length },
      entries: [...full.entries, { path: "esc2", ...dir }, pwned], included: ["esc2", "esc2/pwned"], deleted: [], discarded: [],
    });
    const target = await host("forge-target");
    // What tar wrote is checked with its type: esc2 is a folder in the manifest, a symlink in the archive.
    await expect(restoreSnapshot({ ssh: target.ssh, store: forgeStore, id })).rejects.toThrow(
      `snapshot ${id} cannot be restored safely: the archive holds the symlink ./esc2, which its manifest does not name as a symlink (not extracted)`);
    expect((await target.ssh.run(["bash", "-c", "ls -A /root"])).stdout).not.toContain("pwned");
    expect((await target.ssh.run(["bash", "-c", "ls -A /workspace"])).stdout).toBe("a.txt\n");
    // The full snapshot alone restores, with its symlink out of the workspace created after the last archive.
    await restoreSnapshot({ ssh: target.ssh, store: forgeStore, id: full.id });
    expect((await target.ssh.run(["readlink", "/workspace/esc"])).stdout).toBe("/root\n");
  });

  it("a link whose removals are refused after it was put in place leaves no symlink out of the workspace behind", async () => {
    // The archive holds a symlink to /etc (as real workspaces do) and its manifest asks to remove a
    // path below another symlink afterwards: the removal is refused (7), and the sweep still runs.
    const source = await host("sweep-source");
    const made = await source.ssh.run(["bash", "-c", String.raw`set -euo pipefail
rm -rf /tmp/sweep && mkdir -p /tmp/sweep/c && cd /tmp/sweep && ln -s /etc z && ln -s c a
tar --format=posix -cf - ./z ./a ./c | lz4 -1 -z -q - -`], { binaryStdout: true });
    const sweepStore = storeFor("sweep");
    const id = snapshotId("sweep", new Date());
    const target = await host("sweep-target");
    const spool = "/var/tmp/sweep-spool";
    await target.ssh.run(["bash", "-c", String.raw`rm -rf "$1" && mkdir -p "$1" /workspace && find /workspace -mindepth 1 -delete && : > "$1/remove-before"
printf 'a/x\0' > "$1/remove-after" && printf 'l ./z\0l ./a\0d ./c\0' > "$1/known" && printf './z\n./a\n./c\n' > "$1/known-listing"`, "prepare", spool]);
    const result = await restoreCraftedArchive(target.ssh, sweepStore, id, spool, made.stdoutBytes);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain("refusing a/x: a is not a real directory");
    expect((await target.ssh.run(["bash", "-c", "cd /workspace && ls -A"])).stdout).toBe("a\nc\n");
  });

  it("folder times and held-back symlinks never reach through a symlink, nor into a folder already there", async () => {
    const target = await host("guard-target");
    await target.ssh.run(["bash", "-c", "rm -rf /root/y /root/x && mkdir -p /workspace /root/y && find /workspace -mindepth 1 -delete && touch -m -d @1000 /root/y && ln -s /root /workspace/d && ln -s /root /workspace/p"]);
    const fields = (...f: string[]) => Buffer.from(f.map((x) => `${x}\0`).join(""));
    // In bash (a host without the helper), and by dumont-pack.
    for (const pack of ["", await ensurePackHelper(target.ssh)]) {
      const times = await target.ssh.run(["bash", "-c", directoryTimesScript(), "dir-times", pack], { stdin: fields("2000", "d/y"), allowFailure: true });
      expect(times.code).toBe(7);
      expect(times.stderr).toContain("refusing d/y: d is not a real directory");
      // A record for the symlink itself leaves it (and what it points to) alone.
      expect((await target.ssh.run(["bash", "-c", directoryTimesScript(), "dir-times", pack], { stdin: fields("2000", "d"), allowFailure: true })).code).toBe(0);
      expect((await target.ssh.run(["stat", "-c", "%Y", "/root/y", "/root"])).stdout.split("\n")[0]).toBe("1000");
      // ln without -T would make /root/x, the link created inside the folder p leads to.
      const linked = await target.ssh.run(["bash", "-c", restoreSymlinksScript(), "symlinks", pack], { stdin: fields("../x", "1700000000", "p"), allowFailure: true });
      expect(linked.code).not.toBe(0);
      expect((await target.ssh.run(["bash", "-c", "ls -A /root"])).stdout).not.toMatch(/^x$/m);
      // Below a symlink: refused, nothing made.
      const below = await target.ssh.run(["bash", "-c", restoreSymlinksScript(), "symlinks", pack], { stdin: fields("../x", "1700000000", "p/z"), allowFailure: true });
      expect(below.code).toBe(7);
      expect((await target.ssh.run(["bash", "-c", "ls -A /root"])).stdout).not.toMatch(/^z$/m);
    }
    // What both make where all is well: a folder's time (to the nanosecond, before 1970 too), and a
    // symlink with its own time, its target untouched.
    for (const pack of ["", await ensurePackHelper(target.ssh)]) {
      await target.ssh.run(["bash", "-c", "find /workspace -mindepth 1 -delete && mkdir -p /workspace/a/b && touch -d @500 /workspace/a/b/t"]);
      expect((await target.ssh.run(["bash", "-c", restoreSymlinksScript(), "symlinks", pack], { stdin: fields("b/t", "1600000000.5", "a/l") })).code).toBe(0);
      expect((await target.ssh.run(["bash", "-c", directoryTimesScript(), "dir-times", pack], { stdin: fields("-1.250000000", "a/b", "1700000000.1234567890", "a") })).code).toBe(0);
      expect((await target.ssh.run(["stat", "-c", "%.9Y %N", "/workspace/a/b", "/workspace/a", "/workspace/a/l", "/workspace/a/b/t"])).stdout).toBe(
        "-1.250000000 '/workspace/a/b'\n1700000000.123456789 '/workspace/a'\n1600000000.500000000 '/workspace/a/l' -> 'b/t'\n500.000000000 '/workspace/a/b/t'\n");
    }
  });
});
