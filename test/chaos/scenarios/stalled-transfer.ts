// The object store stops answering the hosts (connections accepted, nothing sent): a snapshot
// upload and a failover's restore each end within their bound with an error that says the
// transfer stalled, nothing is left half made, and once the store answers again the failover runs.
import { createSnapshot } from "../../../dataplane/snapshot/create.ts";
import { failover } from "../../../stacks/failover/apply.ts";
import type { Scenario } from "../scenario.ts";
import { expectThat } from "../world.ts";
import { describeRestore, killActiveGpu, names } from "./common.ts";

/** dumont-pack upload gives up on a part after 30 s below 30 KiB moved and tries it again for at most 90 s; the other parts are not tried; then the upload is aborted. */
const uploadBoundSeconds = 240;
/** A restore's download gives up after 30 s below 1 KB/s, retrying for at most 60 s. */
const restoreBoundSeconds = 150;

export const stalledTransfer: Scenario = {
  id: "stalled-transfer",
  fault: "object store stalls the hosts' transfers",
  where: "during a snapshot upload, then a failover's restore",
  async run(world) {
    const s = await world.stack({ autoStandbyEnabled: false });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("t", 6)));
    const good = await s.snapshot("good", "full");
    await s.onGpu((ssh) => ssh.run(["bash", "-c", "head -c 120M /dev/urandom > /workspace/bulk.bin"]));
    const ctx = await s.context();
    const store = await ctx.snapshotStore();
    let armed = false;
    const t0 = Date.now();
    const upload = await ctx.withSlot({}, (ssh) => createSnapshot({
      ssh, store, name: "stalled", parent: "full", partSize: 5 * 1024 * 1024, concurrency: 2,
      onProgress: (line) => {
        if (!armed && /part\(s\) uploaded/.test(line)) {
          armed = true;
          void world.cloud.admin.fault({ kind: "s3-stall" });
        }
      },
    })).then(() => "completed", (e: Error) => e.message);
    const uploadSeconds = (Date.now() - t0) / 1000;
    expectThat(armed && upload !== "completed", `the upload ${armed ? "completed through a stalled store" : "ended before the store stalled"}`);
    expectThat(uploadSeconds <= uploadBoundSeconds, `the stalled upload took ${uploadSeconds.toFixed(0)} s (bound ${uploadBoundSeconds} s)`);
    expectThat(/too slow|timed out|stall/i.test(upload), `the upload's error does not say it stalled: ${upload.slice(0, 200)}`);
    expectThat(!(await store.list()).some((x) => x.name === "stalled"), "a snapshot of the stalled upload is listed");

    const victim = await killActiveGpu(world, s);
    const t1 = Date.now();
    const restore = await failover({ stack: s.name, trigger: "automatic", fromInstanceId: victim, onProgress: world.log }).then(() => "completed", (e: Error) => e.message);
    const restoreSeconds = (Date.now() - t1) / 1000;
    expectThat(restore !== "completed", "the failover restored through a stalled store");
    expectThat(restoreSeconds <= restoreBoundSeconds, `the stalled failover took ${restoreSeconds.toFixed(0)} s (bound ${restoreBoundSeconds} s)`);
    await world.cloud.admin.clearFaults();
    expectThat(/too slow|timed out|stall|failed/i.test(restore), `the failover's error does not say why: ${restore.slice(0, 200)}`);
    const result = await failover({ stack: s.name, onProgress: world.log });
    expectThat(result.outcome === "failed-over" && result.restored?.kind === "snapshot" && result.restored.id === good.id, `after the store recovered: ${describeRestore(result)}`);
    return {
      rtoSeconds: (Date.now() - t1) / 1000, rpoSeconds: result.rpoSeconds,
      detail: `upload ended after ${uploadSeconds.toFixed(0)} s (${upload.split("\n")[0]!.slice(0, 70)}); failover's restore ended after ${restoreSeconds.toFixed(0)} s; re-run restored ${describeRestore(result)}`,
    };
  },
};
