// Snapshots of an adversarial workspace, made on one host and restored onto others, checked by an
// independent walk of both trees; incrementals; and the failures: a host killed mid-snapshot,
// S3 errors on a fifth of requests, a flipped byte in the archive.
import path from "node:path";
import { CreateBucketCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../harness/local-cloud/admin-client.ts";
import { down, up } from "../../../harness/local-cloud/control.ts";
import type { Endpoints } from "../../../harness/local-cloud/endpoints.ts";
import type { HostInfo } from "../../../harness/local-cloud/host.ts";
import { createSnapshot } from "../../../harness/snapshot/create.ts";
import { restoreSnapshot, RestoreFailed } from "../../../harness/snapshot/restore.ts";
import { SnapshotStore } from "../../../harness/snapshot/store.ts";
import { connect, type SshConnection } from "../../../harness/ssh/client.ts";
import { makeKeyPair } from "../../support/local-cloud.ts";
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
    hosts[name] = { info, ssh: await connect({ host: info.address, port: info.sshPort, privateKey: key.privateKey, hostKey: info.hostKey }) };
  }
  return hosts[name]!;
}
const workspaceOf = (name: string) => path.join(endpoints.dir, "hosts", `standby-${name}`, "workspace");

beforeAll(async () => {
  endpoints = await up({ cloud });
  admin = new LocalCloudAdmin(endpoints);
  store = new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: "snapshots/" });
  await store.s3.send(new CreateBucketCommand({ Bucket: "snapshots" }));
  await store.s3.send(new PutBucketVersioningCommand({ Bucket: "snapshots", VersioningConfiguration: { Status: "Enabled" } }));
  await (await host("source")).ssh.run(["bash", "-c", adversarialWorkspace]);
});
afterAll(async () => {
  for (const h of Object.values(hosts)) h.ssh.close();
  await down(cloud);
});

describe("snapshots", () => {
  it("round-trips an adversarial workspace exactly onto another host", async () => {
    const progress: string[] = [];
    const { manifest } = await createSnapshot({ ssh: (await host("source")).ssh, store, name: "full-1", parent: "full", onProgress: (l) => progress.push(l) });
    expect(manifest.kind).toBe("full");
    expect(progress.some((l) => l.startsWith("uploading"))).toBe(true);
    // The sparse gigabyte compresses to almost nothing.
    expect(manifest.archive.bytes).toBeLessThan(8 * 1024 * 1024);
    const report = await restoreSnapshot({ ssh: (await host("target")).ssh, store, id: manifest.id });
    expect(report.ok).toBe(true);
    expect(treeDifferences(await walkTree(workspaceOf("source")), await walkTree(workspaceOf("target")))).toEqual([]);
    const names = [...(await walkTree(workspaceOf("target"))).keys()];
    expect(names).toEqual(expect.arrayContaining(["new\nline dir/file\nwith newline", "-leading-dash", "it's \"quoted\".txt", "ünïcødé/ファイル/データ.bin", "empty-dir", "dangling-link"]));
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
    expect(manifest.included.filter((p) => manifest.entries.find((e) => e.path === p)?.type === "file").sort()).toEqual(["added/dir/new file", "run.sh"]);
    const full = await store.readManifest(manifest.parent!);
    expect(manifest.archive.bytes).toBeLessThan(full.archive.bytes / 10);
    await restoreSnapshot({ ssh: (await host("target2")).ssh, store, id: manifest.id });
    expect(treeDifferences(await walkTree(workspaceOf("source")), await walkTree(workspaceOf("target2")))).toEqual([]);
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
    expect(treeDifferences(await walkTree(workspaceOf("source")), await walkTree(workspaceOf("target3")))).toEqual([]);
  });

  it("a flipped byte in the archive fails the restore and names the damaged file", async () => {
    const source = await host("corrupt-source");
    await source.ssh.run(["bash", "-c", "cd /workspace && echo a > a.txt && head -c 4000000 /dev/urandom > weights.bin && echo c > c.txt"]);
    const corruptStore = new SnapshotStore({ ...endpoints.s3, bucket: "snapshots", prefix: "corrupt/" });
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
});
