// Standby hosts: CPU machines made directly through the admin API (the local GCP Spot VM), outside
// Vast's API and its billing. A standby keeps its disk, key and address when its machine stops.
import { Host, type HostInfo } from "./host.ts";
import type { Hosting } from "./host-indexes.ts";
import { parsePublicKey } from "./requests.ts";

/** A standby's disk in GB: the GCP standby's boot disk by default (contract's gcpDiskSize), sparse here. */
const standbyDiskGb = 100;

export class Standbys {
  private readonly hosting: Hosting;
  private readonly byName = new Map<string, Host>();

  constructor(hosting: Hosting) {
    this.hosting = hosting;
  }

  async create(name: string, authorizedKeys: readonly string[]): Promise<HostInfo> {
    if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) throw new Error(`standby name '${name}' must be lowercase letters, digits and dashes`);
    if (this.byName.has(name)) throw new Error(`standby '${name}' already exists`);
    const keys = authorizedKeys.map(parsePublicKey);
    const { names, cloudDir, mirrorUrl, indexes } = this.hosting;
    const host = new Host(names, cloudDir, mirrorUrl, { index: indexes.allocate(), name: `standby-${name}`, authorizedKeys: keys, image: "standby", diskGb: standbyDiskGb });
    this.byName.set(name, host);
    try {
      await host.create();
      await host.start();
    } catch (error) {
      await this.destroy(name);
      throw error;
    }
    return host.info();
  }

  /** Boots a standby whose machine stopped (a Spot VM preempted): same disk, key and address. */
  async start(name: string): Promise<HostInfo> {
    const host = this.byName.get(name);
    if (!host) throw new Error(`no standby '${name}'`);
    if (host.state !== "running") {
      await host.kill();
      await host.start();
    }
    return host.info();
  }

  async destroy(name: string): Promise<boolean> {
    const host = this.byName.get(name);
    if (!host) return false;
    await host.destroy();
    this.byName.delete(name);
    this.hosting.indexes.release(host.spec.index);
    return true;
  }

  host(name: string): Host | undefined {
    return this.byName.get(name);
  }

  hosts(): Host[] {
    return [...this.byName.values()];
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
