// Dumont's records in a bucket (stacks/lease/shared-records.ts) against a real MinIO: two
// controllers with their own working copies, as on two machines. What one writes while it holds
// the stack reaches the bucket in order, and the next holder starts from it.
import { CreateBucketCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMinio, type MinioServer } from "../../local-cloud/minio.ts";
import { objectStoreClient } from "../../dataplane/object-store/client.ts";
import { checkoutStateDir } from "../../lib/tools/paths.ts";
import { holdRecords, recordKey, recordsLiveInBucket, recordsSettled, recordWritten, SharedRecords, type LocalRecordFiles } from "../../stacks/lease/shared-records.ts";

let minio: MinioServer;
let dir: string;
const bucket = "records";
const prefix = "team/";

const client = () => objectStoreClient({ endpoint: minio.endpoint, region: "us-east-1", accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey });

/** One controller's working copies, in a state folder of its own. */
function controller(name: string, stack: string): { files: LocalRecordFiles; records: SharedRecords } {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  const files = { slots: path.join(folder, `${stack}.slots.json`), status: path.join(folder, `${stack}.status.json`) };
  return { files, records: new SharedRecords(client(), bucket, prefix, stack, files) };
}

async function inBucket(stack: string, kind: "slots" | "status"): Promise<string | undefined> {
  try {
    const reply = await client().send(new GetObjectCommand({ Bucket: bucket, Key: recordKey(prefix, stack, kind) }));
    return await reply.Body!.transformToString();
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  // Under the checkout's state folder, not /tmp (local-cloud hosts have a private /tmp).
  dir = mkdtempSync(path.join(checkoutStateDir, "records-test-"));
  minio = await startMinio(path.join(dir, "data"), path.join(dir, "minio.log"));
  await client().send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await minio?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("records in the bucket", () => {
  it("live in the bucket for every backend but a folder on this machine", () => {
    expect(recordsLiveInBucket("s3://state/dumont?endpoint=x")).toBe(true);
    expect(recordsLiveInBucket("https://api.pulumi.com")).toBe(true);
    expect(recordsLiveInBucket("file:///srv/state")).toBe(false);
    expect(recordsLiveInBucket(undefined)).toBe(false);
  });

  it("seed the bucket from the first controller, then every holder starts from the bucket's", async () => {
    const one = controller("one", "s1");
    const two = controller("two", "s1");
    writeFileSync(one.files.slots, '{"activeSlot":"a"}\n');
    expect(await one.records.pull()).toBe(false);
    expect(await inBucket("s1", "slots")).toBe('{"activeSlot":"a"}\n');

    // Controller one fails over while it holds the stack: each write is in the bucket once settled.
    const letGo = holdRecords("s1", one.records);
    try {
      writeFileSync(one.files.slots, '{"activeSlot":"a","failover":{"to":"b"}}\n');
      recordWritten("s1", "slots");
      await recordsSettled("s1");
      expect(await inBucket("s1", "slots")).toContain('"failover"');
      writeFileSync(one.files.slots, '{"activeSlot":"b"}\n');
      recordWritten("s1", "slots");
      writeFileSync(one.files.status, '{"lastSync":1}\n');
      recordWritten("s1", "status");
      await recordsSettled("s1");
    } finally {
      letGo();
    }
    expect(await inBucket("s1", "slots")).toBe('{"activeSlot":"b"}\n');

    // Controller two, whose copy is older, takes the stack next: the bucket's records win.
    writeFileSync(two.files.slots, '{"activeSlot":"a"}\n');
    expect(await two.records.pull()).toBe(true);
    expect(readFileSync(two.files.slots, "utf8")).toBe('{"activeSlot":"b"}\n');
    expect(readFileSync(two.files.status, "utf8")).toBe('{"lastSync":1}\n');
    expect(await two.records.pull()).toBe(false);
  });

  it("a controller cut off while holding the stack cannot overwrite the slot record written after it", async () => {
    const stale = controller("stale", "s4");
    const next = controller("next", "s4");
    writeFileSync(stale.files.slots, '{"activeSlot":"a"}\n');
    await stale.records.pull();
    // The stale holder's lease ran out; the next controller took the stack and failed over.
    await next.records.pull();
    writeFileSync(next.files.slots, '{"activeSlot":"b"}\n');
    next.records.push("slots");
    await next.records.flush();
    // The stale one's write lands late (a partition healed): refused, the bucket keeps the newer record.
    writeFileSync(stale.files.slots, '{"activeSlot":"a","late":true}\n');
    stale.records.push("slots");
    await expect(stale.records.flush()).rejects.toThrow(/another controller changed the slot record/);
    expect(await inBucket("s4", "slots")).toBe('{"activeSlot":"b"}\n');
  });

  it("writes nothing once the lease it is kept under is lost", async () => {
    const lease = new AbortController();
    const files = controller("lost-lease", "s5").files;
    const records = new SharedRecords(client(), bucket, prefix, "s5", files, lease.signal);
    await records.pull();
    lease.abort(new Error("lease lost"));
    writeFileSync(files.slots, '{"activeSlot":"b"}\n');
    records.push("slots");
    await expect(records.flush()).rejects.toThrow(/lease lost/);
    expect(await inBucket("s5", "slots")).toBeUndefined();
  });

  it("a reader that holds nothing never writes the bucket, and a write outside a hold stays local", async () => {
    const reader = controller("reader", "s2");
    writeFileSync(reader.files.slots, '{"activeSlot":"a"}\n');
    await reader.records.pull({ readOnly: true });
    recordWritten("s2", "slots");
    await recordsSettled("s2");
    expect(await inBucket("s2", "slots")).toBeUndefined();
  });

  it("says so when a write could not reach the bucket", async () => {
    const lost = new SharedRecords(client(), "no-such-bucket", prefix, "s3", controller("lost", "s3").files);
    writeFileSync(path.join(dir, "lost", "s3.slots.json"), "{}\n");
    lost.push("slots");
    await expect(lost.flush()).rejects.toThrow(/records of stack s3 could not be written to bucket no-such-bucket/);
  });
});
