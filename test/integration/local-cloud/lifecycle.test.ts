// The emulator speaks Vast's API closely enough that a client written against Vast's docs works
// unchanged, and its instances are real hosts: SSH runs commands in each host's own /workspace.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { down, up } from "../../../local-cloud/control.ts";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { workspaceDiskPath } from "../../../local-cloud/workspace-disk.ts";
import { connect, firstContact, HostKeyMismatchError } from "../../../dataplane/ssh/client.ts";
import { ensureHostTools, gpuTools, standbyTools } from "../../../dataplane/ssh/host-tools.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { directSsh, makeKeyPair, rentCheapest, vast, waitForStatus } from "../../support/local-cloud.ts";

const cloud = "lcl";
let endpoints: Endpoints;
const key = makeKeyPair();

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 200, runningDelayMs: 300 } });
  const added = await vast(endpoints, "POST", "/api/v0/ssh/", { ssh_key: key.publicKey });
  expect(added.status).toBe(200);
});
afterAll(async () => {
  await down(cloud);
});

describe("the Vast API lifecycle over plain HTTP", () => {
  it("search → rent → running → ssh in the host's /workspace → destroy → {instances: null}", async () => {
    const search = await vast(endpoints, "POST", "/api/v0/bundles/", {
      gpu_name: { eq: "RTX 4090" }, num_gpus: { eq: "1" }, verified: { eq: true }, rentable: { eq: true },
      order: [["dph_total", "asc"]], type: "on-demand", limit: 5, allocated_storage: 16,
    }, null);
    expect(search.status).toBe(200);
    const offers = search.body.offers as any[];
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.every((o) => o.gpu_name === "RTX 4090" && o.num_gpus === 1 && o.verified)).toBe(true);
    const prices = offers.map((o) => o.dph_total);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    // dph_total prices the storage asked for: $/GB/month over 720 h.
    expect(offers[0].dph_total).toBeCloseTo(offers[0].dph_base + (offers[0].storage_cost * 16) / 720, 10);

    const rent = await vast(endpoints, "PUT", `/api/v0/asks/${offers[0].id}/`, {
      client_id: "me", image: "pytorch/pytorch:2.4.0", disk: 16, label: "lifecycle", runtype: "ssh_direc ssh_proxy",
      onstart: "echo \"$GREETING\" > /workspace/onstart.txt", env: { GREETING: "hello from onstart", "-p 8080:8080": "1" },
    });
    expect(rent.status).toBe(200);
    expect(rent.body).toMatchObject({ success: true, new_contract: expect.any(Number), instance_api_key: expect.any(String) });
    const id = rent.body.new_contract as number;

    const running = await waitForStatus(endpoints, id, "running");
    expect(running.label).toBe("lifecycle");
    expect(running.extra_env).toContainEqual(["GREETING", "hello from onstart"]);
    expect(running.public_ipaddr).toMatch(/\n$/);
    expect(typeof running.ports["22/tcp"][0].HostPort).toBe("string");

    // The rented offer is gone from the market while the instance lives.
    const again = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "RTX 4090" }, limit: 64 }, null);
    expect(again.body.offers.map((o: any) => o.id)).not.toContain(offers[0].id);

    const target = { ...directSsh(running), privateKey: key.privateKey };
    const first = await firstContact(target);
    const hostKey = first.presentedHostKey;
    first.close();
    const ssh = await connect({ ...target, hostKey });
    try {
      const onstart = await ssh.run(["cat", "/workspace/onstart.txt"]);
      expect(onstart.stdout).toBe("hello from onstart\n");
      const listing = await ssh.run(["sh", "-c", "cd /workspace && echo data > 'a file' && ls"]);
      expect(listing.stdout.split("\n")).toContain("a file");
    } finally {
      ssh.close();
    }
    // Vast's proxy path reaches the same host.
    const viaProxy = await connect({ host: running.ssh_host, port: running.ssh_port, privateKey: key.privateKey, hostKey });
    expect((await viaProxy.run(["cat", "/workspace/a file"])).stdout).toBe("data\n");
    viaProxy.close();

    const destroyed = await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
    expect(destroyed.status).toBe(200);
    expect(destroyed.body.success).toBe(true);
    const gone = await vast(endpoints, "GET", `/api/v0/instances/${id}/`);
    expect(gone.status).toBe(200);
    expect(gone.body).toEqual({ instances: null });
    const afterwards = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "RTX 4090" }, limit: 64 }, null);
    expect(afterwards.body.offers.map((o: any) => o.id)).toContain(offers[0].id);
  });

  it("refuses a host whose key is not the pinned one", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "pinning" });
    const running = await waitForStatus(endpoints, id, "running");
    const other = makeKeyPair("not-the-host");
    await expect(connect({ ...directSsh(running), privateKey: key.privateKey, hostKey: other.publicKey })).rejects.toBeInstanceOf(HostKeyMismatchError);
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
  });

  it("keeps two instances' /workspace apart from each other and from the controller's", async () => {
    const a = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "iso-a" });
    const b = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "iso-b" });
    const [ra, rb] = [await waitForStatus(endpoints, a, "running"), await waitForStatus(endpoints, b, "running")];
    const admin = new LocalCloudAdmin(endpoints);
    const hosts = ((await admin.status()).instances as any[]).reduce((m, i) => ({ ...m, [i.id]: i.host.hostKey }), {} as Record<number, string>);
    const sa = await connect({ ...directSsh(ra), privateKey: key.privateKey, hostKey: hosts[a]! });
    const sb = await connect({ ...directSsh(rb), privateKey: key.privateKey, hostKey: hosts[b]! });
    try {
      await sa.run(["sh", "-c", "echo only-a > /workspace/marker-a"]);
      expect((await sb.run(["ls", "-A", "/workspace"])).stdout).toBe("");
      expect((await sa.run(["ls", "-A", "/workspace"])).stdout).toBe("marker-a\n");
      const controller = existsSync("/workspace") ? readdirSync("/workspace") : [];
      expect(controller).not.toContain("marker-a");
      // Hosts cannot read the controller's state (keys, credentials).
      expect((await sa.run(["ls", "-A", endpoints.dir], { allowFailure: true })).stdout).toBe("");
    } finally {
      sa.close();
      sb.close();
    }
    // Two instances, paged one at a time through the v1 list.
    const page1 = await vast(endpoints, "GET", `/api/v1/instances/?limit=1&order_by=${encodeURIComponent(JSON.stringify([{ col: "id", dir: "asc" }]))}`);
    expect(page1.body.instances).toHaveLength(1);
    expect(page1.body.next_token).toEqual(expect.any(String));
    const page2 = await vast(endpoints, "GET", `/api/v1/instances/?limit=1&after_token=${page1.body.next_token}`);
    expect([page1.body.instances[0].id, page2.body.instances[0].id]).toEqual([a, b].sort((x, y) => x - y));
    expect(page2.body.next_token).toBeNull();
    const labelled = await vast(endpoints, "GET", `/api/v1/instances/?select_filters=${encodeURIComponent(JSON.stringify({ label: { eq: "iso-b" } }))}`);
    expect(labelled.body.instances.map((i: any) => i.id)).toEqual([b]);
    await vast(endpoints, "DELETE", `/api/v0/instances/${a}/`, {});
    await vast(endpoints, "DELETE", `/api/v0/instances/${b}/`, {});
  });

  it("runs the bare GPU image: nothing of the controller's, no rsync, lz4 or curl until Dumont brings them", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "bare" });
    const running = await waitForStatus(endpoints, id, "running");
    const admin = new LocalCloudAdmin(endpoints);
    const hostKey = ((await admin.status()).instances as any[]).find((i) => i.id === id).host.hostKey;
    const ssh = await connect({ ...directSsh(running), privateKey: key.privateKey, hostKey });
    try {
      const probe = async () => (await ssh.run(["sh", "-c", 'for t in rsync lz4 curl node go; do command -v "$t" >/dev/null && echo "$t"; done; true'])).stdout.trim().split("\n").filter(Boolean);
      expect(await probe()).toEqual([]);
      // The checkout, the Go toolchain and the controller's processes are not there.
      expect((await ssh.run(["sh", "-c", `ls -d ${repoRoot} /usr/local/go 2>/dev/null; true`])).stdout).toBe("");
      expect(Number((await ssh.run(["sh", "-c", "ls /proc | grep -c '^[0-9]'"])).stdout.trim())).toBeLessThan(20);
      const installed = await ensureHostTools(ssh, gpuTools);
      expect(installed.sort()).toEqual(["curl", "lz4", "rsync"]);
      expect((await probe()).sort()).toEqual(["curl", "lz4", "rsync"]);
      expect(await ensureHostTools(ssh, gpuTools)).toEqual([]);
    } finally {
      ssh.close();
    }
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
  });

  it("gives an instance a disk of the size it rented, journaled, that it cannot reach the raw image of, gone with it", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "disk", disk: 8 });
    const running = await waitForStatus(endpoints, id, "running");
    const admin = new LocalCloudAdmin(endpoints);
    const host = ((await admin.status()).instances as any[]).find((i) => i.id === id).host;
    expect(host.workspaceDisk).toBe("ext4");
    const image = workspaceDiskPath(endpoints.dir, `i-${id}`);
    const ssh = await connect({ ...directSsh(running), privateKey: key.privateKey, hostKey: host.hostKey });
    try {
      const mounted = (await ssh.run(["sh", "-c", "grep ' /workspace ' /proc/mounts; df -B1 --output=size /workspace | tail -n 1"])).stdout.trim().split("\n");
      expect(mounted[0]).toMatch(/^\/dev\/loop\d+ \/workspace ext4 rw/);
      // 8 GiB less what ext4 keeps for itself (its journal, inode tables).
      expect(Number(mounted[1])).toBeGreaterThan(7.5 * 1024 ** 3);
      expect(Number(mounted[1])).toBeLessThanOrEqual(8 * 1024 ** 3);
      const tooBig = await ssh.run(["fallocate", "-l", "9G", "/workspace/too-big"], { allowFailure: true });
      expect(tooBig.code).not.toBe(0);
      expect(tooBig.stderr).toMatch(/No space left on device/);
      // Root on the host sees of its own folder only etc (read-only) and log: not the image its disk
      // is, not the folders its root is mounted from, nothing of the controller's.
      const seen = await ssh.run(["sh", "-c", "ls -A /run/dumont-host; touch /run/dumont-host/etc/x 2>&1; ls /dev/loop-control /dev/loop0 2>&1; true"]);
      expect(seen.stdout).toMatch(/^etc\nlog\n/);
      expect(seen.stdout).toMatch(/Read-only file system/);
      expect(seen.stdout).toMatch(/loop-control.*No such file or directory\n.*loop0.*No such file or directory/);
    } finally {
      ssh.close();
    }
    expect(execFileSync("dumpe2fs", ["-h", image], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })).toMatch(/features:.*has_journal/);
    expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).toContain(image);
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
    expect(existsSync(image)).toBe(false);
    // No loop device still holds it (a deleted backing file is listed with "(deleted)" after its path).
    expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).not.toContain(image);
  });

  it("follows none of the symlinks and runs none of the tools a host planted when it starts again", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "planted" });
    const running = await waitForStatus(endpoints, id, "running");
    const admin = new LocalCloudAdmin(endpoints);
    const hostKey = ((await admin.status()).instances as any[]).find((i) => i.id === id).host.hostKey;
    // A file of the controller's that a followed symlink would overwrite or mount over.
    const bait = path.join(endpoints.dir, `bait-${id}`);
    writeFileSync(bait, "the controller's\n");
    let ssh = await connect({ ...directSsh(running), privateKey: key.privateKey, hostKey });
    try {
      // Its apt source folder made a symlink to the controller's folder; tools a start used to run
      // (while the controller's filesystem was still mounted at /.controller-root) replaced by ones
      // that write there.
      const planted = (tool: string, interpreter = "/bin/sh") => `if [ -e ${tool} ]; then mv ${tool} ${tool}.real`
        + ` && printf '#!${interpreter}\\necho ${tool} > /.controller-root${bait}\\nexec ${tool}.real "$@"\\n' > ${tool} && chmod +x ${tool}; fi`;
      await ssh.run(["sh", "-c", [
        "set -e",
        "echo kept > /workspace/kept",
        `rm -rf /etc/apt/sources.list.d && ln -s ${path.dirname(bait)} /etc/apt/sources.list.d`,
        ...["/usr/bin/env", "/usr/bin/umount", "/usr/bin/setpriv", "/usr/bin/rmdir"].map((tool) => planted(tool)),
        // The host's /bin/sh (dash) too: the first thing of the host's that runs.
        planted("/usr/bin/dash", "/bin/bash"),
        "test -x /usr/bin/env.real && test -x /usr/bin/dash.real",
      ].join("\n")]);
    } finally {
      ssh.close();
    }
    await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { state: "stopped" });
    await waitForStatus(endpoints, id, "stopped");
    await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { state: "running" });
    await waitForStatus(endpoints, id, "running");
    expect(readFileSync(bait, "utf8")).toBe("the controller's\n");
    expect(existsSync(path.join(path.dirname(bait), "local-cloud.list"))).toBe(false);
    ssh = await connect({ ...directSsh(running), privateKey: key.privateKey, hostKey });
    try {
      // The host is whole again: its apt source is a file of its own, its disk kept what it wrote,
      // and nothing of the controller's is mounted in it.
      expect((await ssh.run(["sh", "-c", "test ! -L /etc/apt/sources.list.d && cat /etc/apt/sources.list.d/local-cloud.list /workspace/kept"])).stdout).toMatch(/^deb \[trusted=yes\] .*\nkept\n$/);
      expect((await ssh.run(["sh", "-c", "ls -d /.controller-root 2>&1; grep -c controller-root /proc/mounts; true"])).stdout).toMatch(/No such file or directory\n0\n/);
      // Root on the host holds what a container's does: chown, setuid and chroot (sshd needs them),
      // not dac_read_search (open_by_handle_at), immutable files, raw packets, mount, device nodes,
      // bpf nor any capability newer than those; none inheritable or ambient to come back at exec.
      const sets = Object.fromEntries((await ssh.run(["sh", "-c", "grep '^Cap' /proc/self/status"])).stdout.trim().split("\n")
        .map((line) => line.split(":\t")).map(([name, hex]) => [name, BigInt(`0x${hex}`)]));
      const holds = (capability: bigint) => ((sets.CapBnd >> capability) & 1n) === 1n;
      expect([0n, 7n, 18n].map(holds)).toEqual([true, true, true]);
      expect([2n, 9n, 13n, 21n, 27n, 39n, 40n].map(holds)).toEqual([false, false, false, false, false, false, false]);
      expect(sets.CapBnd >> 41n).toBe(0n);
      expect([sets.CapInh, sets.CapAmb]).toEqual([0n, 0n]);
      // Nor can it change the kernel's settings (kernel.core_pattern would run its program as root
      // on the controller) or press the magic SysRq key.
      const written = await ssh.run(["sh", "-c", "echo '|/tmp/x' > /proc/sys/kernel/core_pattern && echo core_pattern written; if [ -e /proc/sysrq-trigger ]; then echo h > /proc/sysrq-trigger && echo sysrq written; fi; true"]);
      expect(written.stdout).toBe("");
      expect(written.stderr).toMatch(/core_pattern: Read-only file system/);
    } finally {
      ssh.close();
    }
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
  });

  it("stops, starts and labels an instance, and bills compute only while running", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "billing" });
    await waitForStatus(endpoints, id, "running");
    expect((await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { label: "renamed" })).body.msg).toContain("renamed");
    expect((await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { state: "stopped" })).body.success).toBe(true);
    const stopped = await waitForStatus(endpoints, id, "stopped");
    expect(stopped.intended_status).toBe("stopped");
    const charges1 = (await vast(endpoints, "GET", "/api/v0/charges/")).body.results.find((c: any) => c.instance_id === id);
    await new Promise((r) => setTimeout(r, 300));
    const charges2 = (await vast(endpoints, "GET", "/api/v0/charges/")).body.results.find((c: any) => c.instance_id === id);
    const item = (c: any, type: string) => c.items.find((i: any) => i.type === type);
    // Stopped: the GPU meter stands still, storage keeps running.
    expect(item(charges2, "gpu").quantity).toBeCloseTo(item(charges1, "gpu").quantity, 9);
    expect(item(charges2, "disk").quantity).toBeGreaterThan(item(charges1, "disk").quantity);
    await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { state: "running" });
    await waitForStatus(endpoints, id, "running");
    const user = await vast(endpoints, "GET", "/api/v0/users/current/");
    expect(user.body.balance).toBeLessThan(user.body.credit);
    expect(user.body).not.toHaveProperty("api_key");
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
  });

  it("attaches and lists per-instance SSH keys", async () => {
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "keys" });
    const running = await waitForStatus(endpoints, id, "running");
    const extra = makeKeyPair("instance-key");
    expect((await vast(endpoints, "POST", `/api/v0/instances/${id}/ssh/`, { ssh_key: extra.publicKey })).body.msg).toBe("SSH key attached successfully");
    const listed = await vast(endpoints, "GET", `/api/v0/instances/${id}/ssh/`);
    const keys = JSON.parse(listed.body.ssh_keys);
    expect(keys.map((k: any) => k.public_key)).toContain(extra.publicKey.split(" ").slice(0, 2).join(" ") + " instance-key");
    const first = await firstContact({ ...directSsh(running), privateKey: extra.privateKey });
    expect((await first.run(["true"])).code).toBe(0);
    first.close();
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/ssh/${keys[0].id}/`, {});
    await expect(firstContact({ ...directSsh(running), privateKey: extra.privateKey })).rejects.toThrow(/authentication/i);
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
  });

  it("creates standby hosts directly, outside the Vast API", async () => {
    const admin = new LocalCloudAdmin(endpoints);
    const standby = await admin.createStandby("cpu", [key.publicKey]);
    const ssh = await connect({ host: standby.address, port: standby.sshPort, privateKey: key.privateKey, hostKey: standby.hostKey });
    // The GCP Debian image's equivalent: a shell, tar, curl, md5sum; rsync comes when Dumont needs it.
    const present = async () => (await ssh.run(["sh", "-c", 'for t in "$@"; do command -v "$t" >/dev/null && echo "$t"; done; true', "sh", "bash", "tar", "curl", "md5sum", "rsync"])).stdout.trim().split("\n");
    expect(await present()).toEqual(["bash", "tar", "curl", "md5sum"]);
    expect(await ensureHostTools(ssh, standbyTools)).toEqual(["rsync"]);
    expect(await present()).toEqual(["bash", "tar", "curl", "md5sum", "rsync"]);
    ssh.close();
    expect(await admin.destroyStandby("cpu")).toBe(true);
    expect(await admin.standby("cpu")).toBeUndefined();
  });
});

describe("bad input gets Vast's own error shapes", () => {
  it("unknown filter field and operator", async () => {
    const field = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_nam: { eq: "RTX 4090" } }, null);
    expect(field.status).toBe(400);
    expect(field.body).toEqual({ success: false, error: "invalid_request", msg: expect.stringContaining("gpu_nam is not a valid search key") });
    const op = await vast(endpoints, "POST", "/api/v0/bundles/", { num_gpus: { approx: 1 } }, null);
    expect(op.body.msg).toContain("approx is not a valid search op");
  });

  it("malformed JSON", async () => {
    const reply = await vast(endpoints, "PUT", "/api/v0/asks/1/", "{not json");
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ success: false, error: "invalid_request" });
  });

  it("a bad API key, by header or query", async () => {
    const header = await vast(endpoints, "GET", "/api/v0/users/current/", undefined, "wrong");
    expect(header.status).toBe(401);
    expect(header.body).toEqual({ success: false, error: "auth_error", msg: "Invalid user key" });
    const query = await fetch(`${endpoints.vast.url}/api/v0/users/current/?api_key=${endpoints.vast.apiKey}`);
    expect(query.status).toBe(200);
  });

  it("a missing offer and a destroyed instance", async () => {
    const missing = await vast(endpoints, "PUT", "/api/v0/asks/999/", { image: "x:1", disk: 10 });
    expect(missing.status).toBe(404);
    expect(missing.body.msg).toContain("no_such_ask");
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, {});
    await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
    const twice = await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
    expect(twice.status).toBe(404);
    expect(twice.body).toMatchObject({ success: false, error: "no_such_instance" });
    expect((await vast(endpoints, "PUT", `/api/v0/instances/${id}/`, { label: "x" })).body.error).toBe("no_such_instance");
  });

  it("the deprecated v0 list and bad rent requests", async () => {
    const v0 = await vast(endpoints, "GET", "/api/v0/instances/?owner=me");
    expect(v0.status).toBe(410);
    expect(v0.body.error).toBe("deprecated_endpoint");
    const search = await vast(endpoints, "POST", "/api/v0/bundles/", { limit: 1 }, null);
    const noImage = await vast(endpoints, "PUT", `/api/v0/asks/${search.body.offers[0].id}/`, { disk: 10 });
    expect(noImage.status).toBe(400);
    expect(noImage.body).toMatchObject({ error: "invalid_args", msg: "image is required" });
    const smallDisk = await vast(endpoints, "PUT", `/api/v0/asks/${search.body.offers[0].id}/`, { image: "x:1", disk: 2 });
    expect(smallDisk.body.msg).toContain("at least 8");
  });
});
