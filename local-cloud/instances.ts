// Rented instances and their lifecycle. Each is a real host (host.ts) that boots created → loading →
// running after the configured delays (unless a stuck-loading fault holds it), and stops, starts,
// reboots and is destroyed on request; host faults report what they did through setStatus. Each
// status change closes a span of the billing meter (billing.ts); reads change nothing.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { meterAt, startMeter } from "./billing.ts";
import type { FaultBook } from "./faults.ts";
import { Host } from "./host.ts";
import type { Hosting } from "./host-indexes.ts";
import { isVisible, vastView, type Instance } from "./instance.ts";
import type { Marketplace } from "./marketplace.ts";
import { linkCounters } from "./network.ts";
import { parseLabel, type RentSpec } from "./requests.ts";
import type { CloudSettings } from "./settings.ts";
import { startTcpForwarder } from "./tcp-forwarder.ts";
import { VastError } from "./vast/error.ts";
import type { ActualStatus } from "./vast/instance-json.ts";
import type { Machine } from "./vast/inventory.ts";

export interface InstancesOptions extends Hosting {
  /** The cloud's own settings object: the admin API changes delays while instances live. */
  readonly settings: CloudSettings;
  readonly faults: FaultBook;
  readonly market: Marketplace;
}

export class Instances {
  private readonly options: InstancesOptions;
  /** Every instance ever rented, destroyed ones too: their charges stay on the bill. */
  private readonly byId = new Map<number, Instance>();
  private nextId = 29_012_000 + Math.floor(Math.random() * 900) * 10;

  constructor(options: InstancesOptions) {
    this.options = options;
  }

  /** Rents `machine`: creates its host, then lists the instance, holds the ask and starts booting. */
  async create(machine: Machine, spec: RentSpec, authorizedKeys: readonly string[]): Promise<Instance> {
    const { names, cloudDir, mirrorUrl, indexes, faults } = this.options;
    const index = indexes.allocate();
    const id = this.nextId++;
    // Whatever image was asked for, the host runs the bare GPU image (images.ts).
    const host = new Host(names, cloudDir, mirrorUrl, { index, name: `i-${id}`, authorizedKeys, onstart: spec.onstart, env: spec.env, image: "gpu", diskGb: spec.diskGb });
    try {
      await host.create();
    } catch (error) {
      // What it made of itself (its folder, its disk, its network) goes with it.
      await host.destroy().catch(() => undefined);
      indexes.release(index);
      throw error;
    }
    const now = Date.now();
    const readLag = faults.take("read-lag");
    const instance: Instance = {
      id, machine, host, ...spec, createdAt: now, apiKey: randomBytes(32).toString("hex"),
      actualStatus: null, intendedStatus: "running", statusMsg: "", visibleAt: now + (readLag?.ms ?? 0),
      stuckLoading: !!faults.take("stuck-loading"), timers: [],
      meter: startMeter(now), traffic: { uploadedBytes: 0, downloadedBytes: 0 }, instanceKeys: [],
    };
    this.byId.set(id, instance);
    this.options.market.rentTo(machine.askId, id);
    this.boot(instance);
    return instance;
  }

  /** A live instance, or Vast's 404. */
  live(id: number): Instance {
    const instance = this.alive(id);
    if (!instance) throw new VastError(404, "no_such_instance", `Instance ${id} not found.`);
    return instance;
  }

  /** The instance with this id unless it is unknown or destroyed (read lag or not). */
  alive(id: number): Instance | undefined {
    const instance = this.byId.get(id);
    return instance && instance.destroyedAt === undefined ? instance : undefined;
  }

  /** Every instance, destroyed ones included, in the order they were rented. */
  all(): IterableIterator<Instance> {
    return this.byId.values();
  }

  living(): Instance[] {
    return [...this.byId.values()].filter((i) => i.destroyedAt === undefined);
  }

  /** The show endpoint's view; undefined once destroyed (and during a read-lag window). */
  show(id: number, now = Date.now()): Record<string, unknown> | undefined {
    const instance = this.byId.get(id);
    return instance && isVisible(instance, now) ? vastView(instance, this.options.names.gateway, now) : undefined;
  }

  list(now = Date.now()): Array<Record<string, unknown>> {
    return [...this.byId.values()].filter((i) => isVisible(i, now)).map((i) => vastView(i, this.options.names.gateway, now));
  }

  setLabel(id: number, label: string): void {
    const valid = parseLabel(label);
    this.live(id).label = valid;
  }

  async setState(id: number, state: "running" | "stopped"): Promise<void> {
    const instance = this.live(id);
    if (state === instance.intendedStatus) return;
    instance.intendedStatus = state;
    this.halt(instance);
    if (state === "stopped") {
      await instance.host.kill();
      this.setStatus(instance, "stopped", "Instance stopped by user");
    } else {
      this.boot(instance, "scheduling");
    }
  }

  /** A higher bid took the machine: the container stops, the contract and its data stay, Vast still intends it to run. */
  async outbid(instance: Instance): Promise<void> {
    this.halt(instance);
    await instance.host.kill();
    this.setStatus(instance, "stopped", "Outbid: a higher bid is running on this machine");
  }

  /** The bid is the highest again: the instance is scheduled and starts, as after a stop. */
  resumeAfterOutbid(instance: Instance): void {
    if (instance.actualStatus !== "stopped" || instance.intendedStatus !== "running") return;
    this.halt(instance);
    this.boot(instance, "scheduling");
  }

  async reboot(id: number): Promise<void> {
    const instance = this.live(id);
    this.halt(instance);
    await instance.host.kill();
    this.setStatus(instance, "rebooting", "Rebooting");
    instance.timers.push(setTimeout(() => void this.startHost(instance), this.options.settings.runningDelayMs));
  }

  /** Ends the contract (its meter stops), removes the host and puts the ask back on the market. */
  async destroy(id: number): Promise<void> {
    const instance = this.live(id);
    this.halt(instance);
    await this.sampleTraffic(instance);
    const now = Date.now();
    instance.meter = meterAt(instance.meter, instance.actualStatus, now);
    instance.destroyedAt = now;
    await instance.forwarder?.close();
    await instance.host.destroy();
    this.options.indexes.release(instance.host.spec.index);
    this.options.market.release(instance.machine.askId);
  }

  /** Log text served at request_logs' result_url: what the onstart script printed (its last MiB). */
  async logs(id: number): Promise<string> {
    const host = this.live(id).host;
    return readHostLog(`${host.dir}/log/onstart.log`);
  }

  /** Samples the kernel's byte counters of every live instance's link (bandwidth charges). */
  async refreshBandwidth(): Promise<void> {
    for (const instance of this.byId.values()) {
      if (instance.destroyedAt === undefined) await this.sampleTraffic(instance);
    }
  }

  /** Cancels the instance's pending status changes (booting, a lagging "offline"). */
  halt(instance: Instance): void {
    for (const t of instance.timers) clearTimeout(t);
    instance.timers = [];
  }

  setStatus(instance: Instance, status: ActualStatus, message: string): void {
    instance.meter = meterAt(instance.meter, instance.actualStatus, instance.destroyedAt ?? Date.now());
    instance.actualStatus = status;
    instance.statusMsg = message;
  }

  setStatusAfter(instance: Instance, delayMs: number, status: ActualStatus, message: string): void {
    instance.timers.push(setTimeout(() => this.setStatus(instance, status, message), delayMs));
  }

  /** created → loading → running (host started), each after its delay, unless stuck. */
  private boot(instance: Instance, fromStatus: ActualStatus = null): void {
    this.setStatus(instance, fromStatus, fromStatus === "scheduling" ? "Scheduling: waiting for the GPU" : "");
    instance.timers.push(setTimeout(() => {
      if (!this.byId.has(instance.id)) return;
      this.setStatus(instance, "loading", `Pulling image ${instance.image}`);
      if (instance.stuckLoading) return;
      instance.timers.push(setTimeout(() => void this.startHost(instance), this.options.settings.runningDelayMs));
    }, this.options.settings.loadingDelayMs));
  }

  private async startHost(instance: Instance): Promise<void> {
    if (!this.byId.has(instance.id) || instance.intendedStatus !== "running") return;
    try {
      await instance.host.start();
      instance.forwarder ??= await startTcpForwarder(this.options.names.gateway, instance.host.address, instance.host.sshPort);
      this.setStatus(instance, "running", `success, running ${instance.image}/ssh`);
    } catch (error) {
      this.setStatus(instance, "exited", `Error response from daemon: OCI runtime create failed: ${(error as Error).message}`);
    }
  }

  private async sampleTraffic(instance: Instance): Promise<void> {
    const counters = await linkCounters(this.options.names, instance.host.spec.index);
    instance.traffic = { uploadedBytes: counters.uploaded, downloadedBytes: counters.downloaded };
  }
}

const servedLogBytes = 1 << 20;

/**
 * A log the host writes (its folder is the host's): a symlink it planted there is not followed, a
 * FIFO is not waited on, and only a regular file's last MiB is read. "" when there is none.
 */
async function readHostLog(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return "";
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return "";
    const length = Math.min(stats.size, servedLogBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, stats.size - length);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}
