// Every fault the local cloud injects, observed the way a client would observe it.
import { CreateBucketCommand, ListBucketsCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { objectStoreClient } from "../../../dataplane/object-store/client.ts";
import { connect, firstContact } from "../../../dataplane/ssh/client.ts";
import { directSsh, makeKeyPair, rentCheapest, vast, waitForStatus } from "../../support/local-cloud.ts";

const cloud = "lcf";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
const key = makeKeyPair();

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 150, runningDelayMs: 250 } });
  admin = new LocalCloudAdmin(endpoints);
  await vast(endpoints, "POST", "/api/v0/ssh/", { ssh_key: key.publicKey });
});
afterEach(async () => {
  await admin.clearFaults();
  const live = (await vast(endpoints, "GET", "/api/v1/instances/")).body.instances as any[];
  for (const i of live) await vast(endpoints, "DELETE", `/api/v0/instances/${i.id}/`, {});
});
afterAll(async () => {
  await down(cloud);
});

async function runningInstance(label: string) {
  const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label });
  const instance = await waitForStatus(endpoints, id, "running");
  const hostKey = ((await admin.status()).instances as any[]).find((i) => i.id === id).host.hostKey as string;
  return { id, instance, target: { ...directSsh(instance), privateKey: key.privateKey, hostKey, connectTimeoutMs: 2000 } };
}

describe("faults, seen from the client", () => {
  it("an offer taken between search and rent", async () => {
    const search = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "H100 SXM" }, order: [["dph_total", "asc"]] }, null);
    const offer = search.body.offers[0];
    await admin.fault({ kind: "offer-taken", target: String(offer.id) });
    const rent = await vast(endpoints, "PUT", `/api/v0/asks/${offer.id}/`, { image: "x:1", disk: 10 });
    expect(rent.status).toBe(410);
    expect(rent.body).toMatchObject({ success: false, error: "no_such_ask" });
    const after = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "H100 SXM" } }, null);
    expect(after.body.offers.map((o: any) => o.id)).not.toContain(offer.id);
  });

  it("a 429 storm, with Vast's bodies and no Retry-After", async () => {
    await admin.fault({ kind: "rate-limit-storm", count: 3 });
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await vast(endpoints, "GET", "/api/v0/users/current/"));
    expect(replies.map((r) => r.status)).toEqual([429, 429, 429, 200]);
    expect(replies.some((r) => r.text === "API requests too frequent")).toBe(true);
    expect(replies.some((r) => r.body?.detail?.startsWith("API requests too frequent"))).toBe(true);
    expect(replies.every((r) => r.headers.get("retry-after") === null)).toBe(true);
  });

  it("an error returned while the instance was created anyway", async () => {
    await admin.fault({ kind: "ghost-instance" });
    const search = await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "RTX 3090" }, limit: 1 }, null);
    const rent = await vast(endpoints, "PUT", `/api/v0/asks/${search.body.offers[0].id}/`, { image: "x:1", disk: 10, label: "ghost-1" });
    expect(rent.status).toBe(500);
    expect(rent.body.new_contract).toBeUndefined();
    const listed = await vast(endpoints, "GET", `/api/v1/instances/?select_filters=${encodeURIComponent(JSON.stringify({ label: { eq: "ghost-1" } }))}`);
    expect(listed.body.instances).toHaveLength(1);
  });

  it("stuck in loading", async () => {
    await admin.fault({ kind: "stuck-loading" });
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "stuck" });
    await waitForStatus(endpoints, id, "loading");
    await new Promise((r) => setTimeout(r, 1000));
    expect((await vast(endpoints, "GET", `/api/v0/instances/${id}/`)).body.instances.actual_status).toBe("loading");
  });

  it("a read lag right after create", async () => {
    await admin.fault({ kind: "read-lag", ms: 600 });
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "lag" });
    expect((await vast(endpoints, "GET", `/api/v0/instances/${id}/`)).body).toEqual({ instances: null });
    await waitForStatus(endpoints, id, "running");
  });

  it("a host killed: SSH fails and the API reports it offline", async () => {
    const { id, target } = await runningInstance("killed");
    await admin.fault({ kind: "host-killed", target: String(id) });
    await expect(connect(target)).rejects.toThrow();
    await waitForStatus(endpoints, id, "offline");
  });

  it("a host hung: SSH times out while the API still says running; clearing resumes it", async () => {
    const { id, target } = await runningInstance("hung");
    await admin.fault({ kind: "host-hung", target: String(id) });
    await expect(connect(target)).rejects.toThrow(/timed out|handshake/i);
    expect((await vast(endpoints, "GET", `/api/v0/instances/${id}/`)).body.instances.actual_status).toBe("running");
    await admin.clearFaults();
    const ssh = await connect(target);
    expect((await ssh.run(["echo", "back"])).stdout).toBe("back\n");
    ssh.close();
  });

  it("a cut link, then restored", async () => {
    const { id, target } = await runningInstance("link");
    // Three rounds: a connection tried on the cut link and given up after 2 s once left the
    // gateway's address lookup to fail the first connection after the restore (one round in eight)
    for (let round = 0; round < 3; round++) {
      await admin.fault({ kind: "link-cut", target: String(id) });
      await expect(connect(target)).rejects.toThrow();
      await admin.fault({ kind: "link-restored", target: String(id) });
      const ssh = await connect(target);
      ssh.close();
    }
  });

  it("exited: the container is gone and the status says why", async () => {
    const { id, target } = await runningInstance("exited");
    await admin.fault({ kind: "exited", target: String(id) });
    const instance = (await vast(endpoints, "GET", `/api/v0/instances/${id}/`)).body.instances;
    expect(instance.actual_status).toBe("exited");
    expect(instance.status_msg).toContain("OCI runtime");
    await expect(connect(target)).rejects.toThrow();
  });

  it("keys an onstart script added are dropped later; keys Vast manages stay", async () => {
    const own = makeKeyPair("onstart-key");
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, {
      label: "keys", onstart: `mkdir -p ~/.ssh && echo '${own.publicKey}' >> ~/.ssh/authorized_keys`,
    });
    const instance = await waitForStatus(endpoints, id, "running");
    const target = { ...directSsh(instance), connectTimeoutMs: 2000 };
    // onstart runs right after sshd starts
    let first;
    for (let i = 0; i < 20 && !first; i++) first = await firstContact({ ...target, privateKey: own.privateKey }).catch(() => new Promise((r) => setTimeout(r, 100)).then(() => undefined));
    expect(first).toBeDefined();
    (first as any).close();
    await admin.fault({ kind: "keys-dropped", target: String(id) });
    await expect(firstContact({ ...target, privateKey: own.privateKey })).rejects.toThrow(/authentication/i);
    const managed = await firstContact({ ...target, privateKey: key.privateKey });
    managed.close();
  });

  it("S3 errors and latency at the object store", async () => {
    const s3 = (maxAttempts: number) => objectStoreClient({ ...endpoints.s3, maxAttempts });
    await s3(1).send(new CreateBucketCommand({ Bucket: "fault-test" }));
    await admin.fault({ kind: "s3-errors", rate: 1, status: 503 });
    const failed = await s3(1).send(new ListBucketsCommand({})).catch((e) => e);
    expect(failed.name).toBe("SlowDown");
    await admin.fault({ kind: "s3-errors", rate: 1, status: 500 });
    await admin.clearFaults();
    await admin.fault({ kind: "s3-latency", ms: 300 });
    const t0 = performance.now();
    const buckets = await s3(1).send(new ListBucketsCommand({}));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(buckets.Buckets?.map((b) => b.Name)).toContain("fault-test");
    expect((await admin.status()).s3_injected_errors).toBeGreaterThanOrEqual(1);
  });

  it("a bad key answered with 404, as some Vast endpoints do", async () => {
    await admin.fault({ kind: "auth-404" });
    const reply = await vast(endpoints, "GET", "/api/v0/instances/1/", undefined, "wrong");
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe("auth_error");
  });

  it("refuses an unknown fault kind, naming the known ones", async () => {
    await expect(admin.fault({ kind: "meteor" as never })).rejects.toThrow(/unknown fault kind 'meteor'; known: offer-taken/);
  });
});
