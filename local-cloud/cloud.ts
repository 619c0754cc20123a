// The local cloud: the marketplace, rented instances, the account, standby hosts and faults, each in
// its own module, put together here. The HTTP layers (vast/api.ts, admin-api.ts) call this; where a
// request spans parts (a rent checks the market, the request and the credit before an instance is
// made), the order of the checks is Vast's.
import { Account, type AccountKey } from "./account.ts";
import { balanceAfter, chargeOf, type Charge } from "./billing.ts";
import { FaultBook, type FaultSpec } from "./faults.ts";
import { applyHostFault, isHostFault, undoHostFaults, type FaultTarget } from "./host-faults.ts";
import type { HostInfo } from "./host.ts";
import { HostIndexes } from "./host-indexes.ts";
import { adminView } from "./instance.ts";
import { attachKey, detachKey, listKeys } from "./instance-keys.ts";
import { minBid } from "./vast/offers.ts";
import { Instances } from "./instances.ts";
import { Marketplace } from "./marketplace.ts";
import type { CloudNames } from "./names.ts";
import { parseRentRequest, type RentRequest } from "./requests.ts";
import { defaultSettings, type CloudSettings } from "./settings.ts";
import { Standbys } from "./standbys.ts";
import { VastError } from "./vast/error.ts";
import type { InventoryRow } from "./vast/inventory.ts";
import type { Offer } from "./vast/offers.ts";

export interface CloudOptions {
  readonly names: CloudNames;
  readonly cloudDir: string;
  /** The package mirror hosts install from (package-mirror.ts). */
  readonly mirrorUrl: string;
  readonly inventory: readonly InventoryRow[];
  readonly settings?: Partial<CloudSettings>;
  readonly creditUsd?: number;
}

export class Cloud {
  readonly names: CloudNames;
  readonly settings: CloudSettings;
  readonly faults = new FaultBook();
  readonly account: Account;
  private readonly market: Marketplace;
  private readonly instances: Instances;
  private readonly standbys: Standbys;

  constructor(options: CloudOptions) {
    this.names = options.names;
    this.settings = { ...defaultSettings, ...options.settings };
    this.account = new Account(options.creditUsd);
    this.market = new Marketplace(options.inventory, this.faults);
    const hosting = { names: options.names, cloudDir: options.cloudDir, mirrorUrl: options.mirrorUrl, indexes: new HostIndexes() };
    this.instances = new Instances({ ...hosting, settings: this.settings, faults: this.faults, market: this.market });
    this.standbys = new Standbys(hosting);
  }

  // ---- marketplace and instances (Vast's API) ----

  availableOffers(allocatedStorageGb: number): Offer[] {
    return this.market.availableOffers(allocatedStorageGb);
  }

  offerFields(): ReadonlySet<string> {
    return this.market.offerFields();
  }

  async rent(askId: number, request: RentRequest): Promise<{ id: number; apiKey: string }> {
    const machine = this.market.rentable(askId);
    const spec = parseRentRequest(request);
    // Vast refuses a bid under the machine's floor (it is never scheduled).
    if (spec.bid !== undefined && spec.bid < minBid(machine)) throw new VastError(400, "invalid_price", `bid $${spec.bid}/h is below this machine's minimum bid $${minBid(machine)}/h`);
    if (this.balance() <= 0) throw new VastError(400, "insufficient_credit", "Your account has insufficient credit to create an instance.");
    const instance = await this.instances.create(machine, spec, this.account.publicKeys());
    const ghost = this.faults.take("ghost-instance");
    if (ghost) {
      // The create went through on Vast's side, but the client is told it failed.
      throw new VastError(500, "server_error", "Something went wrong on the server", ghost.withContract ? { new_contract: instance.id } : {});
    }
    return { id: instance.id, apiKey: instance.apiKey };
  }

  show(id: number): Record<string, unknown> | undefined {
    return this.instances.show(id);
  }

  list(): Array<Record<string, unknown>> {
    return this.instances.list();
  }

  setLabel(id: number, label: string): void {
    this.instances.setLabel(id, label);
  }

  setState(id: number, state: "running" | "stopped"): Promise<void> {
    return this.instances.setState(id, state);
  }

  reboot(id: number): Promise<void> {
    return this.instances.reboot(id);
  }

  destroy(id: number): Promise<void> {
    return this.instances.destroy(id);
  }

  logs(id: number): Promise<string> {
    return this.instances.logs(id);
  }

  // ---- SSH keys ----

  addAccountKey(key: string): AccountKey {
    return this.account.addKey(key);
  }

  updateAccountKey(id: number, key: string): AccountKey {
    return this.account.updateKey(id, key);
  }

  deleteAccountKey(id: number): void {
    this.account.deleteKey(id);
  }

  async attachInstanceKey(id: number, key: string): Promise<void> {
    const instance = this.instances.live(id);
    await attachKey(instance, this.account.nextKeyId(), key);
  }

  async detachInstanceKey(id: number, keyId: number): Promise<void> {
    await detachKey(this.instances.live(id), keyId);
  }

  instanceKeys(id: number): Array<{ id: number; name: string; public_key: string }> {
    return listKeys(this.instances.live(id));
  }

  // ---- billing ----

  /** Samples every live instance's link counters; call before reading charges. */
  refreshBandwidth(): Promise<void> {
    return this.instances.refreshBandwidth();
  }

  /** Per-contract charges, destroyed contracts included, as /charges/ reports them. Changes nothing. */
  charges(now = Date.now()): Charge[] {
    return [...this.instances.all()].map((instance) => chargeOf(instance, now));
  }

  balance(now = Date.now()): number {
    return balanceAfter(this.account.creditUsd, this.charges(now));
  }

  // ---- standby hosts ----

  createStandby(name: string, authorizedKeys: readonly string[]): Promise<HostInfo> {
    return this.standbys.create(name, authorizedKeys);
  }

  startStandby(name: string): Promise<HostInfo> {
    return this.standbys.start(name);
  }

  destroyStandby(name: string): Promise<boolean> {
    return this.standbys.destroy(name);
  }

  standby(name: string): HostInfo | undefined {
    return this.standbys.host(name)?.info();
  }

  // ---- faults ----

  /** Arms an API or S3 fault, or applies a host fault now. */
  async injectFault(spec: FaultSpec): Promise<{ id?: number; applied?: string }> {
    if (!isHostFault(spec.kind)) return { id: this.faults.arm(spec).id };
    return { applied: await applyHostFault(spec.kind, this.hostFor(spec.target ?? ""), this.instances, this.settings) };
  }

  /** Disarms every fault and undoes host faults that can be undone (hangs, cut links). */
  async clearFaults(): Promise<void> {
    this.faults.clear();
    this.market.releaseTaken();
    await undoHostFaults([...this.standbys.hosts(), ...this.instances.living().map((i) => i.host)]);
  }

  /** The host behind an instance id or a standby name. */
  private hostFor(target: string): FaultTarget {
    const instance = this.instances.alive(Number(target));
    if (instance) return { host: instance.host, instance };
    const standby = this.standbys.host(target);
    if (standby) return { host: standby };
    throw new Error(`no live instance or standby host named '${target}'`);
  }

  // ---- the whole cloud ----

  status(): Record<string, unknown> {
    return {
      cloud: this.names.cloud,
      instances: this.instances.living().map(adminView),
      standbys: this.standbys.hosts().map((h) => h.info()),
      faults: this.faults.list(),
      offers_available: this.market.availableOffers(8).length,
      offers_total: this.market.size,
      settings: this.settings,
    };
  }

  /** Destroys every instance and standby host. */
  async shutdown(): Promise<void> {
    for (const instance of this.instances.all()) {
      if (instance.destroyedAt === undefined) await this.instances.destroy(instance.id).catch(() => undefined);
    }
    for (const name of this.standbys.names()) await this.standbys.destroy(name).catch(() => undefined);
  }
}
