// The local cloud's state and behaviour: the marketplace, the rented instances with their
// lifecycle and billing meter, the account (credit, SSH keys), standby hosts and armed faults.
// The HTTP layers (vast/api.ts, admin-api.ts) translate requests into calls here.
import { randomBytes } from "node:crypto";
import { readFile, truncate } from "node:fs/promises";
import { FaultBook, type FaultSpec } from "./faults.ts";
import { Host, type HostInfo } from "./host.ts";
import { linkCounters } from "./network.ts";
import { maxHostsPerCloud, type CloudNames } from "./names.ts";
import { startTcpForwarder, type Forwarder } from "./tcp-forwarder.ts";
import { instanceJson, type ActualStatus } from "./vast/instance-json.ts";
import { machinesFrom, type InventoryRow, type Machine } from "./vast/inventory.ts";
import { bandwidthCosts, offerJson, storageDph, type Offer } from "./vast/offers.ts";

export interface CloudSettings {
  /** From rent to actual_status "loading". */
  loadingDelayMs: number;
  /** From "loading" to "running" (the host starts then; SSH answers from "running"). */
  runningDelayMs: number;
  /** How long after a host dies the API reports it "offline". */
  statusLagMs: number;
  /** Status code for a bad API key: Vast answers 401, some endpoints 404. */
  authErrorStatus: 401 | 404;
  /** Per-endpoint rate limits as Vast's published thresholds, or none. */
  rateLimits: "off" | "realistic";
}

export const defaultSettings: CloudSettings = {
  loadingDelayMs: 1000,
  runningDelayMs: 2000,
  statusLagMs: 0,
  authErrorStatus: 401,
  rateLimits: "off",
};

/** An answer Vast would give instead of success: status code and body. */
export class VastError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, error: string, msg: string, extra: Record<string, unknown> = {}) {
    super(msg);
    this.status = status;
    this.body = { success: false, error, msg, ...extra };
  }
}

interface Meter {
  runningMs: number;
  onlineMs: number;
  since: number;
  uploadedBytes: number;
  downloadedBytes: number;
}

interface Instance {
  readonly id: number;
  readonly machine: Machine;
  readonly host: Host;
  readonly image: string;
  readonly diskGb: number;
  readonly env: Record<string, string>;
  readonly onstart: string;
  readonly runtype: string;
  readonly bid?: number;
  readonly createdAt: number;
  readonly apiKey: string;
  label: string;
  actualStatus: ActualStatus;
  intendedStatus: "running" | "stopped";
  statusMsg: string;
  visibleAt: number;
  stuckLoading: boolean;
  timers: NodeJS.Timeout[];
  forwarder?: Forwarder;
  meter: Meter;
  instanceKeys: Array<{ id: number; key: string }>;
  destroyedAt?: number;
}

export interface AccountKey {
  readonly id: number;
  key: string;
  readonly createdAt: number;
}

export interface RentRequest {
  readonly image?: unknown;
  readonly disk?: unknown;
  readonly label?: unknown;
  readonly env?: unknown;
  readonly onstart?: unknown;
  readonly runtype?: unknown;
  readonly price?: unknown;
  readonly args?: unknown;
}

export interface CloudOptions {
  readonly names: CloudNames;
  readonly cloudDir: string;
  /** The package mirror hosts install from (package-mirror.ts). */
  readonly mirrorUrl: string;
  readonly inventory: readonly InventoryRow[];
  readonly settings?: Partial<CloudSettings>;
  readonly creditUsd?: number;
}

const gib = 1024 ** 3;

export class Cloud {
  readonly names: CloudNames;
  readonly settings: CloudSettings;
  readonly faults = new FaultBook();
  readonly account = {
    id: 281_337,
    email: "local@dumont.invalid",
    username: "dumont-local",
    apiKey: randomBytes(24).toString("hex"),
    creditUsd: 100,
    keys: [] as AccountKey[],
  };
  private readonly cloudDir: string;
  private readonly mirrorUrl: string;
  private readonly machines: Machine[];
  private readonly rentedAsks = new Map<number, number | "taken">();
  private readonly instances = new Map<number, Instance>();
  private readonly standbys = new Map<string, Host>();
  private readonly usedIndexes = new Set<number>();
  private lastIndex = 0;
  private nextInstanceId = 29_012_000 + Math.floor(Math.random() * 900) * 10;
  private nextKeyId = 1;

  constructor(options: CloudOptions) {
    this.names = options.names;
    this.cloudDir = options.cloudDir;
    this.mirrorUrl = options.mirrorUrl;
    this.machines = machinesFrom(options.inventory);
    this.settings = { ...defaultSettings, ...options.settings };
    if (options.creditUsd !== undefined) this.account.creditUsd = options.creditUsd;
  }

  // ---- marketplace -------------------------------------------------------------------------

  /** Offers that can be rented now, priced for `allocatedStorageGb`. */
  availableOffers(allocatedStorageGb: number): Offer[] {
    return this.machines.filter((m) => !this.rentedAsks.has(m.askId)).map((m) => offerJson(m, allocatedStorageGb, false));
  }

  /** Every field an offer has: the keys a search may filter or order on. */
  offerFields(): ReadonlySet<string> {
    return new Set(Object.keys(offerJson(this.machines[0]!, 8, false)));
  }

  // ---- instances ---------------------------------------------------------------------------

  async rent(askId: number, request: RentRequest): Promise<{ id: number; apiKey: string }> {
    const machine = this.machines.find((m) => m.askId === askId);
    if (!machine) throw new VastError(404, "invalid_args", `error 404/3603: no_such_ask Instance type by id ${askId} is not available.`);
    if (this.rentedAsks.has(askId) || this.faults.take("offer-taken", String(askId))) {
      // Someone else got it first; it stays rented by them until the faults are cleared.
      if (!this.rentedAsks.has(askId)) this.rentedAsks.set(askId, "taken");
      throw new VastError(410, "no_such_ask", `error 410/3907: no_such_ask Instance type ${askId} is no longer available.`);
    }
    const spec = validateRent(request);
    if (this.balance() <= 0) throw new VastError(400, "insufficient_credit", "Your account has insufficient credit to create an instance.");
    const index = this.allocateIndex();
    const id = this.nextInstanceId++;
    // Whatever image was asked for, the host runs the bare GPU image (images.ts).
    const host = new Host(this.names, this.cloudDir, this.mirrorUrl, {
      index, name: `i-${id}`, authorizedKeys: this.account.keys.map((k) => k.key), onstart: spec.onstart, env: spec.env, image: "gpu",
    });
    try {
      await host.create();
    } catch (error) {
      this.usedIndexes.delete(index);
      throw error;
    }
    const now = Date.now();
    const readLag = this.faults.take("read-lag");
    const instance: Instance = {
      id, machine, host, ...spec, createdAt: now, apiKey: randomBytes(32).toString("hex"),
      actualStatus: null, intendedStatus: "running", statusMsg: "", visibleAt: now + (readLag?.ms ?? 0),
      stuckLoading: !!this.faults.take("stuck-loading"), timers: [],
      meter: { runningMs: 0, onlineMs: 0, since: now, uploadedBytes: 0, downloadedBytes: 0 }, instanceKeys: [],
    };
    this.instances.set(id, instance);
    this.rentedAsks.set(askId, id);
    this.boot(instance);
    const ghost = this.faults.take("ghost-instance");
    if (ghost) {
      // The create went through on Vast's side, but the client is told it failed.
      throw new VastError(500, "server_error", "Something went wrong on the server", ghost.withContract ? { new_contract: id } : {});
    }
    return { id, apiKey: instance.apiKey };
  }

  /** created → loading → running (host started), each after its delay, unless stuck. */
  private boot(instance: Instance, fromStatus: ActualStatus = null): void {
    this.setStatus(instance, fromStatus, fromStatus === "scheduling" ? "Scheduling: waiting for the GPU" : "");
    instance.timers.push(setTimeout(() => {
      if (!this.instances.has(instance.id)) return;
      this.setStatus(instance, "loading", `Pulling image ${instance.image}`);
      if (instance.stuckLoading) return;
      instance.timers.push(setTimeout(() => void this.startHost(instance), this.settings.runningDelayMs));
    }, this.settings.loadingDelayMs));
  }

  private async startHost(instance: Instance): Promise<void> {
    if (!this.instances.has(instance.id) || instance.intendedStatus !== "running") return;
    try {
      await instance.host.start();
      instance.forwarder ??= await startTcpForwarder(this.names.gateway, instance.host.address, instance.host.sshPort);
      this.setStatus(instance, "running", `success, running ${instance.image}/ssh`);
    } catch (error) {
      this.setStatus(instance, "exited", `Error response from daemon: OCI runtime create failed: ${(error as Error).message}`);
    }
  }

  private setStatus(instance: Instance, status: ActualStatus, message: string): void {
    this.tick(instance);
    instance.actualStatus = status;
    instance.statusMsg = message;
  }

  /** Accrues billable time since the last change, per Vast's rules (compute while running, storage unless offline). */
  private tick(instance: Instance): void {
    const now = instance.destroyedAt ?? Date.now();
    const elapsed = now - instance.meter.since;
    if (instance.actualStatus === "running") instance.meter.runningMs += elapsed;
    if (instance.actualStatus !== "offline") instance.meter.onlineMs += elapsed;
    instance.meter.since = now;
  }

  private live(id: number): Instance {
    const instance = this.instances.get(id);
    if (!instance || instance.destroyedAt !== undefined) throw new VastError(404, "no_such_instance", `Instance ${id} not found.`);
    return instance;
  }

  /** The show endpoint's view; undefined once destroyed (and during a read-lag window). */
  show(id: number): Record<string, unknown> | undefined {
    const instance = this.instances.get(id);
    if (!instance || instance.destroyedAt !== undefined || Date.now() < instance.visibleAt) return undefined;
    return this.json(instance);
  }

  list(): Array<Record<string, unknown>> {
    return [...this.instances.values()]
      .filter((i) => i.destroyedAt === undefined && Date.now() >= i.visibleAt)
      .map((i) => this.json(i));
  }

  private json(instance: Instance): Record<string, unknown> {
    const h = instance.host;
    const ssh = instance.forwarder
      ? { address: h.address, port: h.sshPort, proxyHost: this.names.gateway, proxyPort: instance.forwarder.port }
      : undefined;
    return instanceJson({ ...instance, nowMs: Date.now(), ssh });
  }

  setLabel(id: number, label: string): void {
    if (label.length > 1024) throw new VastError(400, "label_too_long", "Please limit label length to 1024 characters, ideally less than 128.");
    this.live(id).label = label;
  }

  async setState(id: number, state: "running" | "stopped"): Promise<void> {
    const instance = this.live(id);
    if (state === instance.intendedStatus) return;
    instance.intendedStatus = state;
    this.clearTimers(instance);
    if (state === "stopped") {
      await instance.host.kill();
      this.setStatus(instance, "stopped", "Instance stopped by user");
    } else {
      this.boot(instance, "scheduling");
    }
  }

  async reboot(id: number): Promise<void> {
    const instance = this.live(id);
    this.clearTimers(instance);
    await instance.host.kill();
    this.setStatus(instance, "rebooting", "Rebooting");
    instance.timers.push(setTimeout(() => void this.startHost(instance), this.settings.runningDelayMs));
  }

  async destroy(id: number): Promise<void> {
    const instance = this.live(id);
    this.clearTimers(instance);
    const counters = await linkCounters(this.names, instance.host.spec.index);
    instance.meter.uploadedBytes = counters.uploaded;
    instance.meter.downloadedBytes = counters.downloaded;
    this.tick(instance);
    instance.destroyedAt = Date.now();
    await instance.forwarder?.close();
    await instance.host.destroy();
    this.usedIndexes.delete(instance.host.spec.index);
    this.rentedAsks.delete(instance.machine.askId);
  }

  private clearTimers(instance: Instance): void {
    for (const t of instance.timers) clearTimeout(t);
    instance.timers = [];
  }

  /** Log text served at request_logs' result_url: what the onstart script printed. */
  async logs(id: number): Promise<string> {
    const host = this.live(id).host;
    return readFile(`${host.dir}/log/onstart.log`, "utf8").catch(() => "");
  }

  // ---- SSH keys ----------------------------------------------------------------------------

  addAccountKey(key: string): AccountKey {
    const entry = { id: this.nextKeyId++, key: validKey(key), createdAt: Date.now() / 1000 };
    this.account.keys.push(entry);
    return entry;
  }

  updateAccountKey(id: number, key: string): AccountKey {
    const entry = this.account.keys.find((k) => k.id === id);
    if (!entry) throw new VastError(400, "no_ssh_key", "No ssh key provided");
    entry.key = validKey(key);
    return entry;
  }

  deleteAccountKey(id: number): void {
    const before = this.account.keys.length;
    this.account.keys = this.account.keys.filter((k) => k.id !== id);
    if (this.account.keys.length === before) throw new VastError(400, "no_ssh_key", "No ssh key provided");
  }

  async attachInstanceKey(id: number, key: string): Promise<void> {
    const instance = this.live(id);
    instance.instanceKeys.push({ id: this.nextKeyId++, key: validKey(key) });
    await this.writeKeys(instance);
  }

  async detachInstanceKey(id: number, keyId: number): Promise<void> {
    const instance = this.live(id);
    const before = instance.instanceKeys.length;
    instance.instanceKeys = instance.instanceKeys.filter((k) => k.id !== keyId);
    if (instance.instanceKeys.length === before) throw new VastError(404, "no_such_ssh_key", `SSH key ${keyId} is not attached to instance ${id}.`);
    await this.writeKeys(instance);
  }

  instanceKeys(id: number): Array<{ id: number; name: string; public_key: string }> {
    return this.live(id).instanceKeys.map((k) => ({ id: k.id, name: `key-${k.id}`, public_key: k.key }));
  }

  /** Vast owns the host's key set: account keys from creation time plus instance keys. */
  private async writeKeys(instance: Instance): Promise<void> {
    await instance.host.setAuthorizedKeys([...instance.host.spec.authorizedKeys, ...instance.instanceKeys.map((k) => k.key)]);
  }

  // ---- billing -----------------------------------------------------------------------------

  async refreshBandwidth(): Promise<void> {
    for (const instance of this.instances.values()) {
      if (instance.destroyedAt !== undefined) continue;
      const counters = await linkCounters(this.names, instance.host.spec.index);
      instance.meter.uploadedBytes = counters.uploaded;
      instance.meter.downloadedBytes = counters.downloaded;
    }
  }

  /** Per-contract charges (gpu, disk, bwu, bwd) from the meters, as /charges/ reports them. */
  charges(): Array<Record<string, unknown>> {
    return [...this.instances.values()].map((instance) => {
      this.tick(instance);
      const m = instance.meter;
      const compute = instance.bid ?? instance.machine.dphBase;
      const storage = storageDph(instance.machine.storageCost, instance.diskGb);
      const bandwidth = bandwidthCosts(instance.machine);
      const hours = (ms: number) => ms / 3_600_000;
      const item = (type: string, quantity: number, rate: number, unit: string) => ({
        type, quantity, rate, amount: quantity * rate, description: `${quantity.toFixed(3)} ${unit} at $${rate.toFixed(4)}/${unit.replace(/s$/, "")}`,
      });
      const items = [
        item("gpu", hours(m.runningMs), compute, "hours"),
        item("disk", hours(m.onlineMs), storage, "hours"),
        item("bwu", m.uploadedBytes / gib, bandwidth.up, "GB"),
        item("bwd", m.downloadedBytes / gib, bandwidth.down, "GB"),
      ];
      return {
        type: "instance", source: `C.${instance.id}`, instance_id: instance.id, label: instance.label || null,
        start: instance.createdAt / 1000, end: (instance.destroyedAt ?? Date.now()) / 1000,
        amount: items.reduce((sum, i) => sum + i.amount, 0), items,
      };
    });
  }

  balance(): number {
    return this.account.creditUsd - this.charges().reduce((sum, c) => sum + (c.amount as number), 0);
  }

  // ---- standby hosts and host faults -------------------------------------------------------

  async createStandby(name: string, authorizedKeys: readonly string[]): Promise<HostInfo> {
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) throw new Error(`standby name '${name}' must be lowercase letters, digits and dashes`);
    if (this.standbys.has(name)) throw new Error(`standby '${name}' already exists`);
    const index = this.allocateIndex();
    const host = new Host(this.names, this.cloudDir, this.mirrorUrl, { index, name: `standby-${name}`, authorizedKeys: authorizedKeys.map(validKey), image: "standby" });
    this.standbys.set(name, host);
    try {
      await host.create();
      await host.start();
    } catch (error) {
      await this.destroyStandby(name);
      throw error;
    }
    return host.info();
  }

  /** Boots a standby whose machine stopped (a Spot VM preempted): same disk, key and address. */
  async startStandby(name: string): Promise<HostInfo> {
    const host = this.standbys.get(name);
    if (!host) throw new Error(`no standby '${name}'`);
    if (host.state !== "running") {
      await host.kill();
      await host.start();
    }
    return host.info();
  }

  async destroyStandby(name: string): Promise<boolean> {
    const host = this.standbys.get(name);
    if (!host) return false;
    await host.destroy();
    this.standbys.delete(name);
    this.usedIndexes.delete(host.spec.index);
    return true;
  }

  standby(name: string): HostInfo | undefined {
    return this.standbys.get(name)?.info();
  }

  /** The host behind an instance id or a standby name. */
  private hostFor(target: string): { host: Host; instance?: Instance } {
    const instance = this.instances.get(Number(target));
    if (instance && instance.destroyedAt === undefined) return { host: instance.host, instance };
    const standby = this.standbys.get(target);
    if (standby) return { host: standby };
    throw new Error(`no live instance or standby host named '${target}'`);
  }

  /** Arms an API or S3 fault, or applies a host fault now. */
  async injectFault(spec: FaultSpec): Promise<{ id?: number; applied?: string }> {
    const target = spec.target ?? "";
    switch (spec.kind) {
      case "host-killed": {
        const { host, instance } = this.hostFor(target);
        // A dead machine does not finish booting either.
        if (instance) this.clearTimers(instance);
        await host.kill();
        if (instance) {
          instance.timers.push(setTimeout(() => this.setStatus(instance, "offline", "Host machine is offline"), this.settings.statusLagMs));
        }
        return { applied: `killed every process on ${host.spec.name}` };
      }
      case "host-hung": {
        const { host } = this.hostFor(target);
        await host.hang();
        return { applied: `stopped (SIGSTOP) every process on ${host.spec.name}` };
      }
      case "host-resumed": {
        const { host } = this.hostFor(target);
        await host.resume();
        return { applied: `resumed ${host.spec.name}` };
      }
      case "link-cut":
      case "link-restored": {
        const { host } = this.hostFor(target);
        await host.setLink(spec.kind === "link-restored");
        return { applied: `${spec.kind === "link-cut" ? "cut" : "restored"} the link of ${host.spec.name}` };
      }
      case "exited": {
        const { host, instance } = this.hostFor(target);
        if (instance) this.clearTimers(instance);
        await host.kill();
        if (instance) this.setStatus(instance, "exited", "Error response from daemon: OCI runtime create failed: container exited with code 137");
        return { applied: `${host.spec.name} exited` };
      }
      case "keys-dropped": {
        const { host } = this.hostFor(target);
        await truncate(host.selfManagedKeysFile, 0).catch(() => undefined);
        return { applied: `dropped the keys ${host.spec.name}'s own scripts added to ~/.ssh/authorized_keys` };
      }
      default:
        return { id: this.faults.arm(spec).id };
    }
  }

  /** Disarms every fault and undoes host faults that can be undone (hangs, cut links). */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    for (const [askId, holder] of this.rentedAsks) if (holder === "taken") this.rentedAsks.delete(askId);
    const hosts = [...this.standbys.values(), ...[...this.instances.values()].filter((i) => i.destroyedAt === undefined).map((i) => i.host)];
    for (const host of hosts) {
      if (host.state === "hung") await host.resume();
      if (!host.linkUp) await host.setLink(true);
    }
  }

  status(): Record<string, unknown> {
    return {
      cloud: this.names.cloud,
      instances: [...this.instances.values()].filter((i) => i.destroyedAt === undefined).map((i) => ({
        id: i.id, label: i.label, actual_status: i.actualStatus, host: i.host.info(), proxy_port: i.forwarder?.port ?? null,
      })),
      standbys: [...this.standbys.values()].map((h) => h.info()),
      faults: this.faults.list(),
      offers_available: this.availableOffers(8).length,
      offers_total: this.machines.length,
      settings: this.settings,
    };
  }

  /**
   * The next free host index after the last one handed out. Reusing an address at once would let
   * other hosts' stale ARP entries point at a link that no longer exists (seconds of timeouts).
   */
  private allocateIndex(): number {
    for (let step = 1; step <= maxHostsPerCloud; step++) {
      const i = ((this.lastIndex + step - 1) % maxHostsPerCloud) + 1;
      if (!this.usedIndexes.has(i)) {
        this.usedIndexes.add(i);
        this.lastIndex = i;
        return i;
      }
    }
    throw new VastError(503, "no_capacity", `the local cloud holds at most ${maxHostsPerCloud} hosts`);
  }

  /** Destroys every instance and standby host. */
  async shutdown(): Promise<void> {
    for (const instance of this.instances.values()) {
      if (instance.destroyedAt === undefined) await this.destroy(instance.id).catch(() => undefined);
    }
    for (const name of [...this.standbys.keys()]) await this.destroyStandby(name).catch(() => undefined);
  }
}

function validKey(key: string): string {
  if (typeof key !== "string" || !/^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(key.trim())) {
    throw new VastError(400, "invalid_args", "ssh_key must be an OpenSSH public key line");
  }
  return key.trim();
}

function validateRent(request: RentRequest): {
  image: string; diskGb: number; label: string; env: Record<string, string>; onstart: string; runtype: string; bid?: number;
} {
  const fail = (msg: string) => new VastError(400, "invalid_args", msg);
  if (typeof request.image !== "string" || request.image.trim() === "") throw fail("image is required");
  const diskGb = request.disk === undefined ? 10 : Number(request.disk);
  if (!Number.isFinite(diskGb) || diskGb < 8) throw fail("disk must be a number of GB, at least 8");
  const label = request.label === undefined || request.label === null ? "" : String(request.label);
  if (label.length > 256) throw fail("label must be at most 256 characters");
  const env: Record<string, string> = {};
  // Vast applies env only as a JSON object; a docker-flags string is ignored.
  if (typeof request.env === "object" && request.env !== null && !Array.isArray(request.env)) {
    for (const [key, value] of Object.entries(request.env)) {
      if (String(value).length > 256) throw fail(`env ${key}: values are limited to 256 characters`);
      env[key] = String(value);
    }
  }
  const onstart = typeof request.onstart === "string" ? request.onstart : "";
  const args = Array.isArray(request.args) ? request.args.join(" ") : "";
  if (onstart.length + args.length > 4096) throw fail("args, args_str and onstart together are limited to 4096 characters");
  let bid: number | undefined;
  if (request.price !== undefined && request.price !== null) {
    bid = Number(request.price);
    if (!Number.isFinite(bid) || bid < 0.001 || bid > 128) throw new VastError(400, "invalid_price", "price must be between 0.001 and 128 $/h");
  }
  return { image: request.image, diskGb, label, env, onstart, runtype: typeof request.runtype === "string" ? request.runtype : "ssh", bid };
}
