// One rented instance as the cloud keeps it, and the views of it that need nothing else: what Vast's
// API shows, whether it shows yet, and its row in the admin status.
import type { Meter, Traffic } from "./billing.ts";
import type { Host } from "./host.ts";
import type { Forwarder } from "./tcp-forwarder.ts";
import { instanceJson, type ActualStatus } from "./vast/instance-json.ts";
import type { Machine } from "./vast/inventory.ts";

export interface InstanceKey {
  readonly id: number;
  readonly key: string;
}

export interface Instance {
  readonly id: number;
  readonly machine: Machine;
  readonly host: Host;
  readonly image: string;
  readonly diskGb: number;
  readonly env: Record<string, string>;
  readonly onstart: string;
  readonly runtype: string;
  readonly bid?: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly apiKey: string;
  label: string;
  actualStatus: ActualStatus;
  intendedStatus: "running" | "stopped";
  statusMsg: string;
  /** Epoch ms from which show and list see it (a read-lag fault sets it later than creation). */
  readonly visibleAt: number;
  /** A stuck-loading fault: it never gets past "loading". */
  readonly stuckLoading: boolean;
  /** Pending status changes, cleared whenever the instance is stopped, rebooted, killed or destroyed. */
  timers: NodeJS.Timeout[];
  /** Vast's SSH proxy port, from the first time the host runs. */
  forwarder?: Forwarder;
  meter: Meter;
  traffic: Traffic;
  instanceKeys: InstanceKey[];
  destroyedAt?: number;
}

/** Shown and listed: not destroyed, and past any read-lag window. */
export function isVisible(instance: Instance, now: number): boolean {
  return instance.destroyedAt === undefined && now >= instance.visibleAt;
}

/** The show endpoint's and v1 list's JSON; `gateway` is the proxy host Vast's ssh_host names. */
export function vastView(instance: Instance, gateway: string, now: number): Record<string, unknown> {
  const h = instance.host;
  const ssh = instance.forwarder ? { address: h.address, port: h.sshPort, proxyHost: gateway, proxyPort: instance.forwarder.port } : undefined;
  return instanceJson({ ...instance, nowMs: now, ssh });
}

/** The instance's row in GET /admin/status. */
export function adminView(instance: Instance): Record<string, unknown> {
  return {
    id: instance.id, label: instance.label, actual_status: instance.actualStatus, host: instance.host.info(), proxy_port: instance.forwarder?.port ?? null,
  };
}
