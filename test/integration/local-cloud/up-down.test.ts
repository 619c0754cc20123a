// `up` never half-starts and `down` leaves nothing behind: checked on the system itself (kernel
// namespaces and links, /proc, the file system), not in the emulator's own bookkeeping.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, status, up } from "../../../local-cloud/control.ts";
import { cloudDir, isAlive } from "../../../local-cloud/endpoints.ts";
import { repoRoot } from "../../../lib/tools/paths.ts";
import { makeKeyPair, rentCheapest, vast, waitForStatus } from "../../support/local-cloud.ts";

const cloud = "lcd";
afterAll(async () => {
  await down(cloud);
});

function systemTraces(name: string) {
  const prefix = `dmt${name}`;
  const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
  const links = spawnSync("ip", ["-o", "link", "show"], { encoding: "utf8" }).stdout;
  const dir = cloudDir(name);
  const processes: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    if (cmdline.includes(dir)) processes.push(`${pid}: ${cmdline}`);
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(dir) || l.includes(`/run/netns/${prefix}`));
  // A host's /workspace disk: a loop device bound to an image in the cloud's folder.
  const loopDevices = spawnSync("losetup", ["--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"], { encoding: "utf8" }).stdout
    .split("\n").filter((l) => l.includes(dir));
  return {
    loopDevices,
    namespaces: netns.split("\n").filter((l) => l.startsWith(prefix)),
    links: links.split("\n").filter((l) => l.includes(`${prefix}`)),
    processes,
    mounts,
    files: existsSync(dir) ? readdirSync(dir) : [],
    netnsFiles: existsSync("/run/netns") ? readdirSync("/run/netns").filter((f) => f.startsWith(prefix)) : [],
  };
}

const nothing = { loopDevices: [], namespaces: [], links: [], processes: [], mounts: [], files: [], netnsFiles: [] };

describe("local cloud up and down", () => {
  it("down removes every namespace, link, mount, process and file that up and its hosts made", async () => {
    const workspaceExisted = existsSync("/workspace");
    const endpoints = await up({ cloud, settings: { loadingDelayMs: 100, runningDelayMs: 100 } });
    // Idempotent: a second up returns the running cloud.
    expect((await up({ cloud })).pid).toBe(endpoints.pid);
    const key = makeKeyPair();
    await vast(endpoints, "POST", "/api/v0/ssh/", { ssh_key: key.publicKey });
    const a = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "down-a" });
    const b = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 3090" } }, { label: "down-b" });
    await waitForStatus(endpoints, a, "running");
    await waitForStatus(endpoints, b, "running");
    await new LocalCloudAdmin(endpoints).createStandby("sb", [key.publicKey]);
    const during = systemTraces(cloud);
    expect(during.namespaces).toHaveLength(3);
    expect(during.processes.length).toBeGreaterThan(0);
    // Each host's /workspace is a disk of its own, through a loop device (workspace-disk.ts).
    expect(during.loopDevices).toHaveLength(3);

    await down(cloud);
    expect(systemTraces(cloud)).toEqual(nothing);
    expect(isAlive(endpoints.pid)).toBe(false);
    expect(isAlive(endpoints.minioPid)).toBe(false);
    if (!workspaceExisted) expect(existsSync("/workspace")).toBe(false);
    expect((await status(cloud)).running).toBe(false);
  });

  it("down after the daemon crashed still removes its hosts and MinIO", async () => {
    const endpoints = await up({ cloud, settings: { loadingDelayMs: 100, runningDelayMs: 100 } });
    const id = await rentCheapest(endpoints, { gpu_name: { eq: "RTX 4090" } }, { label: "crash" });
    await waitForStatus(endpoints, id, "running");
    process.kill(endpoints.pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const report = await down(cloud);
    expect(report.forced.namespaces).toHaveLength(1);
    expect(report.forced.processes).toBeGreaterThan(0);
    expect(systemTraces(cloud)).toEqual(nothing);
    expect(isAlive(endpoints.minioPid)).toBe(false);
  });

  it("without root, up says what it needs and creates nothing", () => {
    const result = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--disable-warning=ExperimentalWarning", path.join(repoRoot, "bin/dumont.ts"), "local-cloud", "up", "--cloud", "lcr"],
      { encoding: "utf8", env: { ...process.env, HOME: "/tmp" } },
    );
    expect(result.status).toBe(3);
    expect(result.stderr).toContain("the local cloud needs root");
    expect(result.stderr).toContain("sudo");
    expect(systemTraces("lcr")).toEqual(nothing);
  });
});
