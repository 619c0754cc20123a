// Two controllers for one stack, as on two machines: separate state folders (DUMONT_STATE_DIR, so
// their local locks and records know nothing of each other), the same Pulumi backend and bucket.
// Exactly one watch acts; the active one is SIGKILLed and the other takes over within the lease;
// then the GPU dies and exactly one failover runs. The team's variant keeps the state in Pulumi's
// S3 backend in the cloud's MinIO (as in B2): Dumont's records then live in the stack's bucket, and
// the controller that takes over reads the slot record the failover left there.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { passphraseFile } from "../../../lib/tools/environment.ts";
import { Controller } from "../controller.ts";
import type { Scenario } from "../scenario.ts";
import { chaosDir, expectThat, until } from "../world.ts";
import { killActiveGpu, names } from "./common.ts";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { recordKey } from "../../../stacks/lease/shared-records.ts";
import type { SlotRecord } from "../../../stacks/slot-record.ts";

const leaseSeconds = 6;


function twoControllersOn(backend: "file" | "s3"): Scenario {
  return {
    id: backend === "file" ? "two-controllers" : "two-controllers-s3-backend",
    fault: "two watches with separate state folders; the active one SIGKILLed, then the GPU dies",
    where: backend === "file" ? "one stack, shared backend and bucket" : "one stack, state in Pulumi's S3 backend (MinIO), shared bucket",
    async run(world) {
      const s3 = backend === "s3" ? await world.cloud.s3Backend("two-controllers") : undefined;
      const s = await world.stack({ controllerLeaseSeconds: leaseSeconds }, "", s3?.url);
      const controllerEnv = (folder: string) => ({
        ...process.env, ...s3?.env, DUMONT_STATE_DIR: folder, PULUMI_BACKEND_URL: s.backendUrl, PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
      });
      await s.onGpu((ssh) => s.ledger.write(ssh, names("t", 8)));
      await s.sync();
      const controllers: Controller[] = [];
      const folders = ["one", "two"].map((n) => path.join(chaosDir, `controller-${n}`));
      try {
        for (const folder of folders) {
          rmSync(folder, { recursive: true, force: true });
          mkdirSync(folder, { recursive: true });
          // Same backend and passphrase (a team shares them); nothing else of this process's state.
          controllers.push(new Controller(["watch", "--stack", s.name], controllerEnv(folder)));
        }
        const roleOf = (c: Controller) => (c.events().some((e) => e.event === "watch-active") ? "active" : "waiting");
        await until("one watch active and the other waiting", () => {
          const roles = controllers.map(roleOf);
          return roles.includes("active") && controllers.every((c) => c.events().some((e) => e.event === "watch-active" || e.event === "watch-waiting"));
        }, 120_000);
        const active = controllers.find((c) => roleOf(c) === "active")!;
        const standbyWatch = controllers.find((c) => c !== active)!;
        expectThat(roleOf(standbyWatch) === "waiting", "both watches are active");
        await active.waitFor(/"event":"sync"/, 60_000);
        expectThat(!standbyWatch.events().some((e) => e.role === "active"), "the waiting watch acted while the other held the lease");

        // The active controller's machine dies: the other takes over within the lease.
        await active.killGroup();
        const killedAt = Date.now();
        await standbyWatch.waitFor(/"event":"watch-active"/, (leaseSeconds + 10) * 1000);
        const takeoverSeconds = (Date.now() - killedAt) / 1000;
        expectThat(takeoverSeconds <= leaseSeconds + 3, `takeover took ${takeoverSeconds.toFixed(1)} s (lease ${leaseSeconds} s)`);
        await standbyWatch.waitFor(/"event":"sync"/, 60_000, /"event":"watch-active"/);

        // A third watch joins and waits: it must not act while the second holds the lease.
        const late = new Controller(["watch", "--stack", s.name], controllerEnv(folders[0]!));
        controllers.push(late);
        await late.waitFor(/"event":"watch-waiting"/, 60_000);

        const victim = await killActiveGpu(world, s);
        const diedAt = Date.now();
        let rtoSeconds: number;
        let resumed = "";
        if (!s3) {
          const done = await standbyWatch.waitFor(/"event":"failover-(done|failed)"/, 300_000);
          rtoSeconds = (Date.now() - diedAt) / 1000;
          expectThat(done.includes("failover-done"), `the active watch's failover: ${done.slice(0, 300)}`);
          // Long enough for a second watch to have started a failover of its own, had it acted.
          await new Promise((r) => setTimeout(r, leaseSeconds * 1000));
          const started = controllers.map((c) => c.events().filter((e) => e.event === "failover-started").length);
          expectThat(started.reduce((a, b) => a + b, 0) === 1, `failovers started per controller: ${started.join(", ")}`);
          expectThat(!late.events().some((e) => e.role === "active"), "the late watch acted while another held the lease");
        } else {
          // The active controller's machine dies in the middle of the failover, right after the new
          // GPU was restored. The late watch's state folder never saw this failover: only the bucket's
          // slot record tells it one is under way, and from which step to go on.
          await standbyWatch.waitFor(/\[fence\]/, 300_000, /"event":"failover-started"/);
          await standbyWatch.killGroup();
          await late.waitFor(/"event":"watch-active"/, (leaseSeconds + 30) * 1000);
          const done = await late.waitFor(/"event":"failover-(done|failed)"/, 300_000);
          rtoSeconds = (Date.now() - diedAt) / 1000;
          expectThat(done.includes("failover-done"), `the late watch's failover: ${done.slice(0, 300)}`);
          const lateEvents = late.events();
          expectThat(lateEvents.some((e) => e.event === "failover-pending"), "the late watch did not resume the failover the bucket's record holds");
          const provisions = controllers.flatMap((c) => c.lines).filter((l) => l.includes("[provision]")).length;
          expectThat(provisions === 1, `the failover provisioned ${provisions} GPUs (the resumed one must not rent again)`);
          resumed = "; the active controller SIGKILLed mid-failover, the third resumed it from the bucket's record";
        }
        const instances = (await s.instances()).map((i) => i.id);
        expectThat(!instances.includes(victim), `the dead GPU ${victim} is still listed`);
        let records = "";
        if (s3) {
          // The failover's slot record is in the stack's bucket, where the next controller reads it,
          // and this process (a third machine) sees the new active slot from there.
          const ctx = await s.context();
          const store = await ctx.snapshotStore();
          const key = recordKey(store.settings.prefix, s.name, "slots");
          const reply = await store.s3.send(new GetObjectCommand({ Bucket: store.settings.bucket, Key: key }));
          const record = JSON.parse(await reply.Body!.transformToString()) as SlotRecord;
          expectThat(record.activeSlot === ctx.outputs.activeSlot && !record.failover, `the bucket's slot record ${JSON.stringify(record)} is not the stack's state (active ${ctx.outputs.activeSlot})`);
          const state = await store.s3.send(new ListObjectsV2Command({ Bucket: "dumont-pulumi-state", Prefix: "two-controllers/.pulumi/stacks/" }));
          expectThat((state.Contents ?? []).some((o) => o.Key?.includes(s.name)), "the stack's Pulumi state is not in the S3 backend");
          records = `; state in the S3 backend, slot record in the bucket (${key}: active ${record.activeSlot})`;
        }
        return {
          rtoSeconds,
          detail: `one watch active at a time; takeover ${takeoverSeconds.toFixed(1)} s after SIGKILL (lease ${leaseSeconds} s); one failover from ${victim}${resumed}${records}`,
        };
      } catch (error) {
        const tails = controllers.map((c, i) => `controller ${i + 1}:\n  ${c.lines.slice(-8).join("\n  ")}`).join("\n");
        throw new Error(`${(error as Error).message}\n${tails}`, { cause: error });
      } finally {
        for (const c of controllers) await c.killGroup();
        for (const folder of folders) rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

export const twoControllers = twoControllersOn("file");
export const twoControllersS3Backend = twoControllersOn("s3");
