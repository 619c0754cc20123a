// An interruptible GPU (rented at a bid, far below on-demand) outbid under watch: Vast stops it for
// a higher bid, the watch reads that from the API at once (not after its threshold of failed
// checks), fails over to the next offer without holding the outbid machine against it, and the
// run's compute is priced at the bids against on-demand at the same offers.
import { VastClient } from "../../../clouds/vast/client.ts";
import { readSlotRecord } from "../../../stacks/slot-record.ts";
import type { Scenario } from "../scenario.ts";
import { Watching } from "../watching.ts";
import { expectThat } from "../world.ts";
import { names } from "./common.ts";

export const outbidInterruptible: Scenario = {
  id: "outbid-interruptible",
  fault: "an interruptible GPU outbid (Vast stops it for a higher bid)",
  where: "under watch, after a sync",
  async run(world) {
    const s = await world.stack({ rentType: "interruptible" });
    const first = (await s.context()).slot().state;
    expectThat(first.onDemandPerHour !== undefined && first.dphBase < first.onDemandPerHour, `GPU ${first.instanceId} was not rented at a bid below on-demand (${first.dphBase} vs ${first.onDemandPerHour})`);
    await s.onGpu((ssh) => s.ledger.write(ssh, names("work/f", 12)));
    await s.sync();
    let watching: Watching | undefined;
    try {
      watching = new Watching(s.name);
      await watching.next((e) => e.event === "sync", 30_000);
      await world.cloud.admin.fault({ kind: "outbid", target: String(first.instanceId) });
      const outbidAt = Date.now();
      const seen = await watching.next((e) => e.event === "outbid", 30_000);
      const done = await watching.next((e) => e.event === "failover-done" || e.event === "failover-failed", 180_000);
      expectThat(done.event === "failover-done", `watch: ${JSON.stringify(done).slice(0, 300)}`);
      const after = (await s.context()).slot().state;
      expectThat(after.instanceId !== first.instanceId && after.onDemandPerHour !== undefined, `the new GPU ${after.instanceId} is interruptible too`);
      const excluded = readSlotRecord(s.name)?.excludeMachineIds ?? [];
      expectThat(!excluded.includes(first.machineId), `the outbid machine ${first.machineId} was excluded (${excluded.join(", ")})`);
      // Vast's own meter: compute hours at each bid, against the same hours at the offers' on-demand price.
      const { url, apiKey } = world.cloud.endpoints.vast;
      const charges = (await new VastClient({ baseUrl: url, apiKey }).charges()).filter((c) => [first.instanceId, after.instanceId].includes(Number(c.instance_id)));
      const onDemandRate = new Map([[first.instanceId, first.onDemandPerHour!], [after.instanceId, after.onDemandPerHour!]]);
      let atBids = 0;
      let onDemand = 0;
      for (const charge of charges) {
        const gpu = (charge.items as Array<{ type: string; quantity: number; amount: number }>).find((i) => i.type === "gpu");
        atBids += gpu?.amount ?? 0;
        onDemand += (gpu?.quantity ?? 0) * onDemandRate.get(Number(charge.instance_id))!;
      }
      expectThat(atBids > 0 && atBids < onDemand, `compute at the bids $${atBids.toFixed(6)} is not below on-demand $${onDemand.toFixed(6)}`);
      return {
        rtoSeconds: (done.t - outbidAt) / 1000, rpoSeconds: done.rpoSeconds,
        detail: `outbid seen ${((seen.t - outbidAt) / 1000).toFixed(1)} s after it; failed over to ${after.instanceId} (machine ${first.machineId} not excluded); ` +
          `compute $${atBids.toFixed(6)} at the bids, $${onDemand.toFixed(6)} on demand at the same offers (${(100 * (1 - atBids / onDemand)).toFixed(0)}% saved)`,
      };
    } finally {
      await watching?.stop();
    }
  },
};

// dumont:onOutbid wait: the watch neither fails over nor syncs while the GPU is outbid, and goes on
// with the same GPU, its data in place, once its bid is the highest again.
export const outbidWait: Scenario = {
  id: "outbid-wait",
  fault: "an interruptible GPU outbid, then its bid the highest again",
  where: "under watch with dumont:onOutbid wait",
  async run(world) {
    const s = await world.stack({ rentType: "interruptible", onOutbid: "wait" });
    const gpu = (await s.context()).slot().state;
    await s.onGpu((ssh) => s.ledger.write(ssh, names("work/f", 8)));
    await s.sync();
    let watching: Watching | undefined;
    try {
      watching = new Watching(s.name);
      await watching.next((e) => e.event === "sync", 30_000);
      await world.cloud.admin.fault({ kind: "outbid", target: String(gpu.instanceId) });
      const outbidAt = Date.now();
      await watching.next((e) => e.event === "outbid-waiting", 30_000, outbidAt);
      // Several checks' worth of waiting (the threshold is 3 checks of 1 s): no failover, no sync.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const meanwhile = watching.events.filter((e) => e.t >= outbidAt);
      expectThat(!meanwhile.some((e) => String(e.event).startsWith("failover")), `the watch failed over while waiting: ${JSON.stringify(meanwhile.find((e) => String(e.event).startsWith("failover")))}`);
      expectThat(!meanwhile.some((e) => e.event === "sync" || e.event === "sync-failed"), "the watch synced from the outbid GPU");
      await world.cloud.admin.fault({ kind: "outbid-ended", target: String(gpu.instanceId) });
      const resumedAt = Date.now();
      const healthy = await watching.next((e) => e.event === "health" && e.ok === true, 60_000, resumedAt);
      await watching.next((e) => e.event === "sync", 30_000, healthy.t);
      expectThat((await s.context()).slot().state.instanceId === gpu.instanceId, "another GPU is active");
      return { detail: `waited ${((resumedAt - outbidAt) / 1000).toFixed(0)} s without a failover or a sync; GPU ${gpu.instanceId} answered ${((healthy.t - resumedAt) / 1000).toFixed(1)} s after its bid won again, and syncs went on` };
    } finally {
      await watching?.stop();
    }
  },
};
