// Failover on the local cloud through the real engine: a GPU killed while `dumont watch` runs, a
// check that fails twice then recovers, a controller SIGKILLed at each phase, a standby that drops
// off during sync, and two failovers started at once.
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestFiles, validateTestFiles, type TestFilesRecord } from "../../../dataplane/files/test-files.ts";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { VastClient } from "../../../clouds/vast/client.ts";
import { failover } from "../../../stacks/failover/apply.ts";
import { loadStackContext } from "../../../stacks/stack-context.ts";
import { readStatus } from "../../../stacks/standby/status-file.ts";
import { syncStandby } from "../../../stacks/standby/sync.ts";
import { generationPath } from "../../../dataplane/standby/generations.ts";
import { mirrorHome, mirrorUser } from "../../../dataplane/standby/mirror-user.ts";
import { checkHealth, watch } from "../../../stacks/watch.ts";
import { createTestStack, type TestStack } from "../../support/test-stack.ts";

const cloud = "fov";
const stackName = "it-fo";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
let env: TestStack;
let files: TestFilesRecord;
const interval = 1;
const threshold = 3;

const liveInstances = async () => (await new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey }).listInstances()).map((i) => i.id);

async function activeFilesValid(): Promise<{ validated: number; total: number }> {
  const ctx = await loadStackContext(stackName);
  const ssh = await ctx.connectSlot();
  try {
    return await validateTestFiles(ssh, files);
  } finally {
    ssh.close();
  }
}

/** Runs a command of this repo in a child process; resolves with its exit status and output. */
function child(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", ...args], { cwd: repoRoot, env: process.env });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    proc.on("close", (code, signal) => resolve({ code, signal, output }));
  });
}

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 100, runningDelayMs: 200 } });
  admin = new LocalCloudAdmin(endpoints);
  env = await createTestStack(stackName, {
    cloud: "local", localCloud: cloud, gpuNames: ["RTX 4090", "RTX 3090"], diskGb: 16, maxPricePerHour: 0.6, readyTimeoutSeconds: 60,
    autoStandbyEnabled: true, healthCheckInterval: interval, failoverThreshold: threshold, syncInterval: 1,
  });
  await env.stack.up();
  const ctx = await loadStackContext(stackName);
  const ssh = await ctx.connectSlot();
  files = await createTestFiles(ssh, 5);
  ssh.close();
});
afterAll(async () => {
  await env?.cleanup();
  await down(cloud);
});

describe("failover", () => {
  it("a GPU killed while dumont watch runs: failover starts in time, the new GPU has the synced data, the old one is gone", async () => {
    const events: Array<Record<string, any>> = [];
    const controller = new AbortController();
    const watching = watch({ stack: stackName, log: (e) => events.push({ ...e, t: Date.now() }), signal: controller.signal });
    const waitFor = async (predicate: (e: Record<string, any>) => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = events.find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no such event in ${timeoutMs} ms; last events:\n${events.slice(-25).map((e) => JSON.stringify(e)).join("\n")}`);
    };
    try {
      await waitFor((e) => e.event === "sync", 30_000);
      const before = (await loadStackContext(stackName)).slot().state.instanceId;
      const killedAt = Date.now();
      await admin.fault({ kind: "host-killed", target: String(before) });
      const started = await waitFor((e) => e.event === "failover-started", 60_000);
      // Detection needs `threshold` failed checks, each at most one interval plus its timeout.
      expect(started.t - killedAt).toBeLessThan((interval * 2 * threshold + 5) * 1000);
      expect(started.instance).toBe(before);
      const done = await waitFor((e) => e.event === "failover-done" || e.event === "failover-failed", 180_000);
      expect(done.event).toBe("failover-done");
      expect(done.rpoSeconds).toEqual(expect.any(Number));
      expect(done.rtoSeconds).toEqual(expect.any(Number));
      expect(Object.keys(done.stepSeconds)).toEqual(["provision", "restore", "fence", "swap", "retire"]);
      expect(await liveInstances()).toEqual([done.to]);
      expect(await activeFilesValid()).toMatchObject({ validated: 5, total: 5 });
      expect(readStatus(stackName).watch?.lastFailover).toMatchObject({ from: before, to: done.to });
    } finally {
      controller.abort();
      // A failover in progress finishes its step before the loop sees the abort; do not wait forever.
      await Promise.race([watching, new Promise((r) => setTimeout(r, 120_000))]);
    }
  });

  it("two failed checks and then a good one: no failover", async () => {
    const before = (await loadStackContext(stackName)).slot().state.instanceId;
    const events: Array<Record<string, any>> = [];
    const controller = new AbortController();
    const watching = watch({ stack: stackName, log: (e) => events.push(e), signal: controller.signal });
    try {
      await admin.fault({ kind: "host-hung", target: String(before) });
      const deadline = Date.now() + 30_000;
      while ((readStatus(stackName).watch?.consecutiveFailures ?? 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await admin.clearFaults();
      const recovered = Date.now() + 30_000;
      while (!events.some((e) => e.event === "health" && e.ok && events.indexOf(e) > events.findIndex((x) => x.event === "health" && !x.ok)) && Date.now() < recovered) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, (interval * threshold + 1) * 1000));
    } finally {
      controller.abort();
      await watching;
    }
    const failed = events.filter((e) => e.event === "health" && !e.ok);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...events.filter((e) => e.event === "health").map((e) => e.consecutiveFailures))).toBeLessThan(threshold);
    expect(events.some((e) => e.event === "failover-started")).toBe(false);
    expect((await loadStackContext(stackName)).slot().state.instanceId).toBe(before);
  });

  it.each(["provision", "restore", "swap"])("a controller SIGKILLed after %s: re-running converges to one active GPU with the data", async (phase) => {
    // The standby holds the files: the failover restores from it.
    await syncStandby(await loadStackContext(stackName));
    const killed = await child([path.join("test", "support", "failover-child.ts"), stackName, phase]);
    expect(killed.signal).toBe("SIGKILL");
    const result = await failover({ stack: stackName });
    expect(result.outcome).toBe("failed-over");
    const ctx = await loadStackContext(stackName);
    expect(ctx.outputs.provisionedSlots).toEqual([ctx.outputs.activeSlot]);
    expect(await liveInstances()).toEqual([ctx.slot().state.instanceId]);
    expect(await activeFilesValid()).toMatchObject({ validated: 5, total: 5 });
  });

  it("a standby unreachable during sync: the GPU keeps working, the status says so, sync resumes when it is back", async () => {
    let ctx = await loadStackContext(stackName);
    const standbyName = ctx.outputs.standby!.host && stackName;
    await admin.fault({ kind: "link-cut", target: standbyName });
    await expect(syncStandby(ctx)).rejects.toThrow();
    const status = readStatus(stackName);
    expect(status.consecutiveSyncFailures).toBeGreaterThanOrEqual(1);
    expect(status.lastSyncError?.message).toMatch(/rsync|ssh|connect/i);
    expect((await checkHealth(ctx)).ok).toBe(true);
    await admin.fault({ kind: "link-restored", target: standbyName });
    ctx = await loadStackContext(stackName);
    await syncStandby(ctx);
    expect(readStatus(stackName)).toMatchObject({ consecutiveSyncFailures: 0 });
    expect(readStatus(stackName).lastSyncError).toBeUndefined();
  });

  it("the standby's copy is received by an unprivileged user of its own, none of whose processes outlives a sync", async () => {
    const ctx = await loadStackContext(stackName);
    const standby = await ctx.connectStandby();
    try {
      // Something a hostile GPU might have left running as the mirror user after an earlier copy.
      await standby.run(["sh", "-c", `id -u ${mirrorUser} >/dev/null && setpriv --reuid=${mirrorUser} --regid=${mirrorUser} --init-groups -- sleep 600 >/dev/null 2>&1 &`]);
      const generation = (await syncStandby(ctx)).generation.generation;
      const seen = await standby.run(["sh", "-c", [
        `pgrep -u ${mirrorUser} || echo no-processes`,
        `id -nG ${mirrorUser}`,
        `getent passwd ${mirrorUser} | cut -d: -f6,7`,
        `stat -c '%U %a' ${mirrorHome}`,
        `find ${mirrorHome}/${generationPath(generation)} -mindepth 1 ! -user ${mirrorUser} | head -n 3`,
        "ls -A /root/.dumont-run-keys 2>/dev/null | head -n 3; echo end",
      ].join("; ")]);
      expect(seen.stdout.trim().split("\n")).toEqual([
        "no-processes", mirrorUser, `${mirrorHome}:/usr/sbin/nologin`, `${mirrorUser} 700`, "end",
      ]);
      // The copy itself is whole.
      expect(await validateTestFiles(ctx.standbyMirror(standby), files, { root: generationPath(generation) })).toMatchObject({ validated: 5, total: 5 });
    } finally {
      standby.close();
    }
  });

  it("two failovers started at once: one waits for the other, both end consistent", async () => {
    await syncStandby(await loadStackContext(stackName));
    const active = (await loadStackContext(stackName)).slot().state.instanceId;
    const args = [path.join("bin", "dumont.ts"), "failover", "--stack", stackName, "--gpu-id", String(active)];
    const [first, second] = await Promise.all([child(args), child(args)]);
    expect([first.code, second.code], `${first.output}\n-----\n${second.output}`).toEqual([0, 0]);
    const outputs = [first.output, second.output];
    expect(outputs.filter((o) => o.includes("failover done")).length).toBe(1);
    expect(outputs.filter((o) => o.includes("already failed over")).length).toBe(1);
    expect(outputs.some((o) => o.includes("waiting: stack"))).toBe(true);
    const ctx = await loadStackContext(stackName);
    expect(ctx.slot().state.instanceId).not.toBe(active);
    expect(await liveInstances()).toEqual([ctx.slot().state.instanceId]);
    expect(await activeFilesValid()).toMatchObject({ validated: 5, total: 5 });
  });

  // The RTO is the provider's wait plus the data: the new GPU is rented outside the engine and made
  // active by the slot record; the retire's update takes it into the state afterwards. A GPU that
  // dies between the two still ends in the state (as a dead GPU the next check sees), and nothing
  // is left billing.
  it("the new GPU is active before any engine run; one that dies before the retire leaves nothing behind", async () => {
    await syncStandby(await loadStackContext(stackName));
    const start = await loadStackContext(stackName);
    const from = start.slot();
    const to = from.slot === "a" ? "b" : "a";
    const vast = new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey });
    const lines: string[] = [];
    let rented: number | undefined;
    const result = await failover({
      stack: stackName, onProgress: (line) => lines.push(line),
      afterStep: async (step) => {
        const ctx = await loadStackContext(stackName);
        if (step.kind === "provision") {
          expect(ctx.stated.slots[to], "the state holds no new GPU before the retire").toBeNull();
          rented = ctx.outputs.slots[to]?.instanceId;
          expect(rented).toEqual(expect.any(Number));
        }
        if (step.kind === "swap") {
          expect(ctx.slot().state.instanceId, "the record makes the new GPU the active one").toBe(rented);
          expect(ctx.stated.activeSlot).toBe(from.slot);
          await vast.destroyInstance(rented!);
        }
      },
    });
    expect(result.outcome).toBe("failed-over");
    expect(result.to?.instanceId).toBe(rented);
    const activeLine = lines.findIndex((l) => l.includes(`(instance ${rented}) is active`));
    const firstUpdate = lines.findIndex((l) => /Updating \(/.test(l));
    expect(activeLine, lines.join("\n")).toBeGreaterThan(-1);
    expect(activeLine).toBeLessThan(firstUpdate);
    expect(result.rto?.phases.provider_wait).toBeGreaterThan(0);
    expect(Object.keys(result.rto!.phases)).toEqual(expect.arrayContaining(["prepare", "provider_wait", "restore", "verify", "fence", "swap"]));
    const after = await loadStackContext(stackName);
    expect(after.stated.slots[to]?.instanceId, "the dead GPU is the state's").toBe(rented);
    expect(after.stated.slots[from.slot]).toBeNull();
    expect(await liveInstances()).toEqual([]);
  });
});
