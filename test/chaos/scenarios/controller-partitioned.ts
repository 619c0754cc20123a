// The active controller is cut off from the bucket while it holds the stack's watch lease (its
// requests to the store go unanswered; everything else still works for it, as on the wrong side of
// a partition). It must stop acting before the lease can be taken by another: the waiting
// controller takes over only after the cut-off one said it stopped, and only the new one fails
// over when the GPU then dies. When the partition heals, the old one comes back as a waiter.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { passphraseFile } from "../../../lib/tools/environment.ts";
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { chaosDir, expectThat, until } from "../world.ts";
import { killActiveGpu, names } from "./common.ts";

const leaseSeconds = 6;


/** When this process saw the first event at or after line `from` that matches (each controller's lines carry their arrival times). */
async function seenAt(controller: Controller, what: string, from: number, predicate: (e: Record<string, any>) => boolean, timeoutMs: number): Promise<number> {
  let at: number | undefined;
  await until(what, () => {
    const index = controller.lines.findIndex((line, i) => i >= from && (() => {
      try {
        return predicate(JSON.parse(line) as Record<string, any>);
      } catch {
        return false;
      }
    })());
    if (index >= 0) at = controller.times[index];
    return at !== undefined;
  }, timeoutMs);
  return at!;
}

export const controllerPartitioned: Scenario = {
  id: "controller-partitioned",
  fault: "the active watch cut off from the bucket while it holds the lease; then the GPU dies",
  where: "one stack, two controllers, the store unreachable for one of them",
  async run(world) {
    const s = await world.stack({ controllerLeaseSeconds: leaseSeconds });
    await s.onGpu((ssh) => s.ledger.write(ssh, names("p", 8)));
    await s.sync();
    const ids = ["controller-one", "controller-two"];
    const folders = ids.map((id) => path.join(chaosDir, id));
    const controllers: Controller[] = [];
    try {
      for (const [i, folder] of folders.entries()) {
        rmSync(folder, { recursive: true, force: true });
        mkdirSync(folder, { recursive: true });
        // The application id in each controller's S3 user agent is what the partition cuts.
        controllers.push(new Controller(["watch", "--stack", s.name], {
          ...process.env, DUMONT_STATE_DIR: folder, PULUMI_BACKEND_URL: s.backendUrl, PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile, AWS_SDK_UA_APP_ID: ids[i],
        }));
      }
      await until("one watch active", () => controllers.some((c) => c.events().some((e) => e.event === "watch-active")), 120_000);
      const activeIndex = controllers.findIndex((c) => c.events().some((e) => e.event === "watch-active"));
      const [cut, other] = [controllers[activeIndex]!, controllers[1 - activeIndex]!];
      await cut.waitFor(/"event":"sync"/, 60_000);
      await until("the other watch waiting", () => other.events().some((e) => e.event === "watch-waiting"), 60_000);

      const [cutFrom, otherFrom] = [cut.lines.length, other.lines.length];
      await world.cloud.admin.fault({ kind: "s3-partition", target: ids[activeIndex] });
      const partitionedAt = Date.now();
      // Both moments are the arrival times of the controllers' own lines, read after both happened:
      // the order between them is what the controllers did, not the order this scenario looked.
      const stoppedAt = await seenAt(cut, "the cut-off watch to stop acting", cutFrom, (e) => e.event === "watch-lease-lost", (leaseSeconds + 30) * 1000);
      const takenAt = await seenAt(other, "the other watch to take over", otherFrom, (e) => e.event === "watch-active", (leaseSeconds * 3 + 30) * 1000);
      expectThat(stoppedAt <= takenAt, `the other watch took over ${((stoppedAt - takenAt) / 1000).toFixed(1)} s before the cut-off one stopped`);
      const stoppedAfter = (stoppedAt - partitionedAt) / 1000;
      expectThat(stoppedAfter <= leaseSeconds, `the cut-off watch stopped ${stoppedAfter.toFixed(1)} s after the partition (lease ${leaseSeconds} s)`);
      // Nothing the cut-off watch printed after the other took over says it acted.
      const late = cut.lines.slice(cutFrom).filter((line, i) => cut.times[cutFrom + i]! >= takenAt && /"event":"(sync|failover-started|failover-progress|orphan)"/.test(line));
      expectThat(late.length === 0, `the cut-off watch acted after the other took over: ${late[0]}`);

      // The GPU dies while the partition lasts: the new active watch alone fails over.
      await other.waitFor(/"event":"sync"/, 60_000, /"event":"watch-active"/);
      const victim = await killActiveGpu(world, s);
      const done = await other.waitFor(/"event":"failover-(done|failed)"/, 300_000);
      expectThat(done.includes("failover-done"), `the new active watch's failover: ${done.slice(0, 300)}`);
      const started = controllers.map((c) => c.events().filter((e) => e.event === "failover-started").length);
      expectThat(started[activeIndex] === 0 && started[1 - activeIndex] === 1, `failovers started per controller: ${started.join(", ")}`);

      // The partition heals: the old controller waits for the lease the new one holds.
      const healedFrom = cut.events().length;
      await world.cloud.admin.clearFaults();
      await until("the healed watch to wait", () => cut.events().slice(healedFrom).some((e) => e.event === "watch-waiting"), (leaseSeconds * 3 + 60) * 1000);
      expectThat(!cut.events().slice(healedFrom).some((e) => e.event === "watch-active"), "the healed watch took the lease the active one holds");
      const instances = (await s.instances()).map((i) => i.id);
      expectThat(!instances.includes(victim), `the dead GPU ${victim} is still listed`);
      return {
        detail: `cut-off watch stopped ${stoppedAfter.toFixed(1)} s after the partition, ${((takenAt - stoppedAt) / 1000).toFixed(1)} s before the other took over (lease ${leaseSeconds} s); one failover, by the other`,
      };
    } catch (error) {
      const tails = controllers.map((c, i) => `controller ${i + 1}:\n  ${c.lines.slice(-8).join("\n  ")}`).join("\n");
      throw new Error(`${(error as Error).message}\n${tails}`, { cause: error });
    } finally {
      await world.cloud.admin.clearFaults().catch(() => undefined);
      for (const c of controllers) await c.killGroup();
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    }
  },
};
