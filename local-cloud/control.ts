// Starting, stopping and inspecting a local cloud from the outside (the CLI and the tests).
// `up` checks the machine first and never half-starts; `down` asks the daemon to remove what it
// made and then removes by name whatever is still there (after a crash, say) and checks the system.
import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError } from "../lib/errors.ts";
import { makePrivateDir } from "../lib/tools/private-dir.ts";
import { which } from "../lib/tools/which.ts";
import { LocalCloudAdmin } from "./admin-client.ts";
import type { CloudSettings } from "./settings.ts";
import type { DaemonConfig } from "./daemon.ts";
import { cloudDir, defaultCloudName, isAlive, readEndpoints, type Endpoints } from "./endpoints.ts";
import { imageRoot } from "./images.ts";
import { cloudNames } from "./names.ts";
import { findLeftovers, namespacePids, type Leftovers } from "./network.ts";
import { loopDevicesOf, workspaceDisksDir } from "./workspace-disk.ts";
import { run } from "./system.ts";

const daemonScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "daemon.ts");

export interface UpOptions {
  readonly cloud?: string;
  readonly settings?: Partial<CloudSettings>;
  readonly creditUsd?: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (line: string) => void;
}

/** Checks what the local cloud needs from this machine, before anything is created. */
export async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError(
      "the local cloud needs root: its hosts are network namespaces with their own mounts and sshd",
      "run it as root (sudo -E npx dumont local-cloud up), or in a container or VM where you are root",
    );
  }
  for (const tool of ["ip", "unshare", "ssh-keygen", "minio"]) {
    if (!which(tool)) throw new EnvironmentError(`the local cloud needs '${tool}', which is not on PATH`, "run `bash setup/setup.sh` (it installs or builds it)");
  }
  // Hosts run the images setup built (their own sshd inside), never the controller's filesystem.
  imageRoot("gpu");
  imageRoot("standby");
  const probe = `dmtprobe${process.pid}`.slice(0, 15);
  const added = await run("ip", ["netns", "add", probe], { allowFailure: true });
  await run("ip", ["netns", "del", probe], { allowFailure: true });
  if (added.code !== 0) {
    throw new EnvironmentError(
      `this machine does not let Dumont create network namespaces: ${added.stderr.trim()}`,
      "the local cloud needs CAP_SYS_ADMIN and CAP_NET_ADMIN (a privileged container or a VM)",
    );
  }
}

/** Starts the cloud (or returns the endpoints of the one already running). */
export async function up(options: UpOptions = {}): Promise<Endpoints> {
  const cloud = options.cloud ?? defaultCloudName;
  const progress = options.onProgress ?? (() => {});
  const running = await readEndpoints(cloud);
  if (running) return running;
  await preflight();
  // Anything left by a crashed earlier run would collide with the new one.
  await removeLeftovers(cloud);
  const dir = cloudDir(cloud);
  makePrivateDir(dir);
  const config: DaemonConfig = { cloud, settings: options.settings, creditUsd: options.creditUsd };
  const logFd = openSync(path.join(dir, "daemon.log"), "a");
  progress(`starting local cloud '${cloud}' (log: ${path.join(dir, "daemon.log")})`);
  const child = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", daemonScript, dir, JSON.stringify(config)], {
    detached: true, stdio: ["ignore", logFd, logFd], env: process.env,
  });
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    const endpoints = await readEndpoints(cloud);
    if (endpoints) {
      progress(`local cloud '${cloud}' is up`);
      return endpoints;
    }
    const failure = path.join(dir, "startup-error.txt");
    if (child.exitCode !== null || existsSync(failure)) {
      const reason = existsSync(failure) ? readFileSync(failure, "utf8") : `the daemon exited with ${child.exitCode}`;
      await removeLeftovers(cloud);
      throw new EnvironmentError(`the local cloud did not start: ${reason}`, `see ${path.join(dir, "daemon.log")}`);
    }
    if (Date.now() > deadline) {
      if (child.pid) process.kill(child.pid, "SIGTERM");
      await sleep(2000);
      await removeLeftovers(cloud);
      throw new EnvironmentError("the local cloud did not become ready in time", `see ${path.join(dir, "daemon.log")}`);
    }
    await sleep(100);
  }
}

export interface DownReport {
  /** What was still on the machine after the daemon's own shutdown and had to be removed by name. */
  readonly forced: Leftovers & { processes: number };
}

/** Stops the cloud and removes everything it made: processes, namespaces, links, files. */
export async function down(cloud = defaultCloudName): Promise<DownReport> {
  const endpoints = await readEndpoints(cloud);
  if (endpoints) {
    await new LocalCloudAdmin(endpoints).shutdown().catch(() => undefined);
    for (let i = 0; i < 300 && isAlive(endpoints.pid); i++) await sleep(100);
    if (isAlive(endpoints.pid)) process.kill(endpoints.pid, "SIGKILL");
  }
  const forced = await removeLeftovers(cloud);
  return { forced };
}

/** Removes by name everything of this cloud still on the machine. */
async function removeLeftovers(cloud: string): Promise<Leftovers & { processes: number }> {
  const names = cloudNames(cloud);
  const dir = cloudDir(cloud);
  let processes = 0;
  const minioPid = Number(readFileSafe(path.join(dir, "minio.pid")));
  if (minioPid && isAlive(minioPid) && readFileSafe(`/proc/${minioPid}/cmdline`).includes(dir)) {
    process.kill(minioPid, "SIGKILL");
    processes++;
    for (let i = 0; i < 100 && isAlive(minioPid); i++) await sleep(20);
  }
  const leftovers = await findLeftovers(names, workspaceDisksDir(dir));
  for (const ns of leftovers.namespaces) {
    for (const pid of await namespacePids(ns)) {
      try {
        process.kill(pid, "SIGKILL");
        processes++;
      } catch {
        // gone already
      }
    }
  }
  for (let i = 0; i < 50 && (await Promise.all(leftovers.namespaces.map(namespacePids))).some((p) => p.length > 0); i++) await sleep(20);
  for (const link of leftovers.links) await run("ip", ["link", "del", link], { allowFailure: true });
  for (const ns of leftovers.namespaces) await run("ip", ["netns", "del", ns], { allowFailure: true });
  // A host's disk goes with its namespace's last process; one still bound (a mount kept alive from
  // outside) is detached as soon as nothing holds it.
  for (const device of await loopDevicesOf(workspaceDisksDir(dir))) await run("losetup", ["--detach", device], { allowFailure: true });
  rmSync(dir, { recursive: true, force: true });
  return { ...leftovers, processes };
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

export interface StatusReport {
  readonly running: boolean;
  readonly endpoints?: Endpoints;
  readonly cloud?: Record<string, unknown>;
  /** Kernel objects of this cloud found on the machine (expected only while running). */
  readonly onMachine: Leftovers;
}

export async function status(cloud = defaultCloudName): Promise<StatusReport> {
  const endpoints = await readEndpoints(cloud);
  const onMachine = await findLeftovers(cloudNames(cloud), workspaceDisksDir(cloudDir(cloud)));
  if (!endpoints) return { running: false, onMachine };
  const details = await new LocalCloudAdmin(endpoints).status().catch(() => undefined);
  return { running: true, endpoints, cloud: details, onMachine };
}
