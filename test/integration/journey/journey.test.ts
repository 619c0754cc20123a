// The journey on a local cloud of its own, through the real engine: end to end with both failovers
// (and the HTML report rendered by headless Chromium); a failover that fails; a cost cap below the
// worst case; Ctrl-C from a terminal in the middle. Each time: nothing of the run may be left alive.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { isStackLabel } from "../../../components/vast/labels.ts";
import { createJourneyStack, labelPattern, localStandbyName } from "../../../harness/journey-stack.ts";
import { cleanupColour, renderHtml, stepColours } from "../../../harness/report-html.ts";
import { formatReport, metricsJson } from "../../../harness/report-text.ts";
import { meterAgreement } from "../../../harness/report.ts";
import { runJourney, type JourneyOptions } from "../../../harness/run.ts";
import { screenshot } from "../../../harness/screenshot.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { VastClient } from "../../../clouds/vast/client.ts";
import { loadStackContext } from "../../../stacks/stack-context.ts";
import { stackConfigFile } from "../../../stacks/stack-files.ts";
import { countColour, readPng } from "../../support/png.ts";

const cloud = "jny";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
let vast: VastClient;
let work: string;
const stacks: string[] = [];

async function aliveOf(stack: string): Promise<string[]> {
  const instances = (await vast.listInstances()).filter((i) => isStackLabel(stack, i.label)).map((i) => `instance ${i.id}`);
  const standby = await admin.standby(localStandbyName(stack));
  return standby ? [...instances, "standby"] : instances;
}

function journey(name: string, overrides: Partial<JourneyOptions> = {}) {
  const stack = `journey-it-${name}`;
  stacks.push(stack);
  const lines: string[] = [];
  const running = runJourney({
    cloud: "local", variant: "snapshot", files: 3, workspaceBytes: 0, timeLimitSeconds: 900, stack, localCloud: cloud, keepSnapshot: true,
    outputDir: work, signal: new AbortController().signal, write: (line) => lines.push(line), ...overrides,
  });
  return { stack, lines, running };
}

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 100, runningDelayMs: 200 } });
  admin = new LocalCloudAdmin(endpoints);
  vast = new VastClient({ baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey });
  work = mkdtempSync(path.join(tmpdir(), "dumont-journey-"));
  process.env.PULUMI_BACKEND_URL = `file://${path.join(work, "state")}`;
});
afterAll(async () => {
  await down(cloud);
  for (const stack of stacks) rmSync(stackConfigFile(stack), { force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("journey", () => {
  it("end to end, snapshot then standby failover: every MD5 validated, nothing left alive, snapshot kept, report rendered", async () => {
    const { stack, running, lines } = journey("e2e", { variant: "both" });
    const report = await running;
    expect(report.failure, lines.join("\n")).toBeUndefined();
    expect(report.success).toBe(true);
    expect(report.validation).toMatchObject({ validated: 3, total: 3 });
    expect(report.standbyValidation).toMatchObject({ validated: 3, total: 3 });
    expect(report.steps.every((s) => s.status === "ok")).toBe(true);
    const { gpuInstanceId, failoverGpuId, standbyFailoverGpuId, snapshotId } = report.resources;
    expect(new Set([gpuInstanceId, failoverGpuId, standbyFailoverGpuId]).size).toBe(3);
    expect(await aliveOf(stack)).toEqual([]);
    expect(report.cleanup.leaks).toEqual([]);
    // The snapshot stays for audit, in the bucket the stack still holds.
    const store = await (await loadStackContext(stack, { requireOutputs: false })).snapshotStore();
    expect((await store.list()).map((s) => s.id)).toContain(snapshotId);
    // The model prices the GPUs by the provider's own times, as Vast's meter does (session 6: 3.7%
    // apart on this journey; 68% when it counted from the rent request). The bound leaves room for
    // the meter's whole seconds on a run this short: three GPUs of 7-9 s each by session 16, where
    // a second per GPU is 12% of the compute (session 16's CI run measured 10.7% apart).
    expect(report.cost.vastBilled).toBeGreaterThan(0);
    expect(meterAgreement(report)!.apart, formatReport(report)).toBeLessThan(0.15);
    const metrics = metricsJson(report);
    expect(metrics).toMatchObject({ success: true, files_validated: 3, gpu_instance_id: gpuInstanceId, failover_gpu_id: failoverGpuId, snapshot_id: snapshotId });
    // Each failover's RTO, by phase: the provider's wait and the data are among them.
    expect(metrics.rto_seconds).toEqual(expect.any(Number));
    expect((metrics.rto_phases as Record<string, number>).provider_wait).toBeGreaterThan(0);
    expect((metrics.standby as Record<string, unknown>).rto_seconds).toEqual(expect.any(Number));
    expect(formatReport(report)).toMatch(/Files OK:\s+3\/3/);
    expect(existsSync(path.join(work, `failover_files_${gpuInstanceId}.json`))).toBe(true);

    // The HTML report renders offline: Chromium's screenshot shows the timeline's bars.
    const html = path.join(work, "report.html");
    const png = path.join(work, "report.png");
    writeFileSync(html, renderHtml(report));
    await screenshot(html, png);
    const image = readPng(png);
    expect(image.width).toBe(1100);
    expect(countColour(image, stepColours.ok)).toBeGreaterThan(500);
    expect(countColour(image, cleanupColour)).toBeGreaterThan(20);
  });

  it("a failover step that fails (the bucket errors on every request): success false with the reason, and still nothing left", async () => {
    const { stack, running, lines } = journey("fail", {
      beforeStep: async (step) => {
        if (step === "failover") await admin.fault({ kind: "s3-errors", rate: 1, count: 1_000_000 });
      },
    });
    try {
      const report = await running;
      expect(report.success).toBe(false);
      expect(report.failure?.step, lines.join("\n")).toBe("failover");
      expect(report.failure?.reason).toBeTruthy();
      expect(report.steps.find((s) => s.id === "failover")?.status).toBe("failed");
      expect(report.steps.find((s) => s.id === "validate")?.status).toBe("not run");
      expect(metricsJson(report)).toMatchObject({ success: false, failure_reason: expect.stringContaining("failover:") });
      expect(report.cleanup.errors).toEqual([]);
      expect(await aliveOf(stack)).toEqual([]);
    } finally {
      await admin.clearFaults();
    }
  });

  it("--max-cost below the worst case: refuses before renting anything", async () => {
    const chargedBefore = (await vast.charges()).length;
    const { stack, running } = journey("cap", { maxCostUsd: 0.001 });
    const report = await running;
    expect(report.success).toBe(false);
    expect(report.failure).toMatchObject({ step: "find-offer", reason: expect.stringMatching(/worst case .* above --max-cost \$0\.001; nothing was rented/) });
    expect(report.steps.find((s) => s.id === "create-gpu")?.status).toBe("not run");
    expect((await vast.charges()).length).toBe(chargedBefore);
    expect(await aliveOf(stack)).toEqual([]);
  });

  it("Ctrl-C in the middle of the failover (SIGINT to the terminal's process group): exit 130, cleaned up, reported", async () => {
    const stack = "journey-it-ctrlc";
    stacks.push(stack);
    const metrics = path.join(work, "ctrlc-metrics.json");
    const child = spawn(process.execPath, [
      "--disable-warning=ExperimentalWarning", path.join(repoRoot, "bin", "dumont.ts"), "journey", "--local-cloud", cloud, "--variant", "snapshot",
      "--stack", stack, "--metrics", metrics, "--html", path.join(work, "ctrlc.html"),
    ], { cwd: work, env: process.env, detached: true });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (!output.includes("[5/6]") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(output, output).toContain("[5/6]");
    await new Promise((r) => setTimeout(r, 1500)); // inside the failover's provisioning `up`
    process.kill(-child.pid!, "SIGINT");
    const code = await exited;
    expect(code, output).toBe(130);
    expect(output).toContain("interrupted (Ctrl-C)");
    const written = JSON.parse(readFileSync(metrics, "utf8"));
    expect(written).toMatchObject({ success: false, failure_reason: expect.stringContaining("interrupted (Ctrl-C)") });
    expect(written.cleanup.leaks).toEqual([]);
    expect(await aliveOf(stack)).toEqual([]);
  });
});

describe("dumont cost and dumont instance", () => {
  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", path.join(repoRoot, "bin", "dumont.ts"), ...args], { cwd: repoRoot, env: process.env });
      let stdout = "", stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("cost shows the burn rate from the stack's own rates; instance list/destroy --pattern find and remove the run's GPUs", async () => {
    const stack = "journey-it-cost";
    stacks.push(stack);
    const s = await createJourneyStack(stack, { cloud: "local", localCloud: cloud, standby: true, diskGb: 16 });
    try {
      await s.up();
      const ctx = await loadStackContext(stack);
      const gpu = ctx.slot().state;
      const cost = await cli(["cost", "--stack", stack, "--json"]);
      expect(cost.code, cost.stderr).toBe(0);
      const burn = JSON.parse(cost.stdout);
      const storage = (gpu.storageCostPerGbMonth * gpu.diskGb) / 720;
      const standby = 0.02212 + (100 * 0.1) / 730; // e2-medium Spot, 100 GB pd-balanced (the settings' defaults)
      expect(burn.perHour).toBeCloseTo(gpu.dphBase + storage + standby, 8);
      expect((await cli(["cost", "--stack", stack])).stdout).toMatch(/burn rate: \$\d+\.\d{4}\/h/);

      const listed = await cli(["instance", "list", "--stack", stack, "--pattern", labelPattern(stack), "--json"]);
      expect(JSON.parse(listed.stdout).map((i: { id: number }) => i.id)).toEqual([gpu.instanceId]);
      const destroyed = await cli(["instance", "destroy", "--stack", stack, "--pattern", labelPattern(stack), "--json"]);
      expect(JSON.parse(destroyed.stdout)).toEqual({ destroyed: [gpu.instanceId] });
      expect(await vast.showInstance(gpu.instanceId)).toBeNull();
      const bad = await cli(["instance", "status", "nope", "--stack", stack]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/'nope' is not an instance id/);
    } finally {
      await s.destroy().catch(() => undefined);
      await s.workspace.removeStack(stack).catch(() => undefined);
    }
  });
});
