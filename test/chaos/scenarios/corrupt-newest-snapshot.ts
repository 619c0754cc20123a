// The newest snapshot's archive is damaged in the bucket: the failover falls back to the one
// before, verifies it, and reports the recovery point of what it really restored.
import { randomBytes } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { automaticFailover, describeRestore, killActiveGpu, names } from "./common.ts";
import { snapshotCapturedAt } from "../../../stacks/failover/copies.ts";

export const corruptNewestSnapshot: Scenario = {
  id: "corrupt-newest-snapshot",
  fault: "newest snapshot's archive overwritten",
  where: "in the bucket, before a failover from snapshots",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("m", 12), 32 * 1024));
    const older = await s.snapshot("older", "full");
    await new Promise((r) => setTimeout(r, 1500));
    const newest = await s.snapshot("newest", "full");
    const store = await (await s.context()).snapshotStore();
    await store.s3.send(new PutObjectCommand({ Bucket: store.settings.bucket, Key: store.archiveKey(newest.id), Body: randomBytes(newest.archive.bytes) }));
    const victim = await killActiveGpu(world, s);
    const t0 = Date.now();
    const result = await automaticFailover(world, s, victim);
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "snapshot" && result.restored.id === older.id, `restored from ${describeRestore(result)}, expected ${older.id}`);
    const olderAge = (Date.parse((result as { restored: { capturedAt: string } }).restored.capturedAt) - Date.parse(snapshotCapturedAt(older.id))) / 1000;
    expectThat(olderAge === 0 && (result.rpoSeconds ?? 0) > (Date.parse(snapshotCapturedAt(newest.id)) - Date.parse(snapshotCapturedAt(older.id))) / 1000, `the reported RPO ${result.rpoSeconds} s is not the older snapshot's`);
    return { rtoSeconds: (Date.now() - t0) / 1000, rpoSeconds: result.rpoSeconds, detail: `${newest.id} damaged; restored ${older.id}; RPO ${result.rpoSeconds?.toFixed(1)} s is the older snapshot's age` };
  },
};
