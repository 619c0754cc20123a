// Host faults act at once on a real host (an instance's or a standby's): kill, hang, resume, cut or
// restore the link, exit the container, drop the keys its own scripts added. For an instance the API
// reports it too: "offline" after the status lag, or "exited" at once.
import { UserError } from "../lib/errors.ts";
import { hostFaultKinds, type FaultKind } from "./faults.ts";
import type { Host } from "./host.ts";
import type { Instance } from "./instance.ts";
import type { Instances } from "./instances.ts";
import type { CloudSettings } from "./settings.ts";

export type HostFaultKind = (typeof hostFaultKinds)[number];

export const isHostFault = (kind: FaultKind): kind is HostFaultKind => (hostFaultKinds as readonly string[]).includes(kind);

/** The host a fault hits, and its instance unless it is a standby. */
export interface FaultTarget {
  readonly host: Host;
  readonly instance?: Instance;
}

/** Applies the fault; returns what was done, for the admin API's answer. */
export async function applyHostFault(
  kind: HostFaultKind, { host, instance }: FaultTarget, instances: Instances, settings: CloudSettings,
): Promise<string> {
  switch (kind) {
    case "host-killed":
      // A dead machine does not finish booting either.
      if (instance) instances.halt(instance);
      await host.kill();
      if (instance) instances.setStatusAfter(instance, settings.statusLagMs, "offline", "Host machine is offline");
      return `killed every process on ${host.spec.name}`;
    case "host-hung":
      await host.hang();
      return `stopped (SIGSTOP) every process on ${host.spec.name}`;
    case "host-resumed":
      await host.resume();
      return `resumed ${host.spec.name}`;
    case "link-cut":
    case "link-restored":
      await host.setLink(kind === "link-restored");
      return `${kind === "link-cut" ? "cut" : "restored"} the link of ${host.spec.name}`;
    case "exited":
      if (instance) instances.halt(instance);
      await host.kill();
      if (instance) instances.setStatus(instance, "exited", "Error response from daemon: OCI runtime create failed: container exited with code 137");
      return `${host.spec.name} exited`;
    case "outbid":
      // Vast stops an interruptible instance when a higher bid takes its machine: the contract
      // stays (intended running), the container stops, the data stays on the machine.
      if (!instance || instance.bid === undefined) throw new UserError(`fault 'outbid' needs an interruptible instance; ${host.spec.name} is not one`);
      await instances.outbid(instance);
      return `outbid ${host.spec.name}: stopped, its contract kept`;
    case "outbid-ended":
      if (!instance || instance.bid === undefined) throw new UserError(`fault 'outbid-ended' needs an interruptible instance; ${host.spec.name} is not one`);
      instances.resumeAfterOutbid(instance);
      return `${host.spec.name}'s bid is the highest again: it starts`;
    case "keys-dropped":
      await host.dropSelfManagedKeys();
      return `dropped the keys ${host.spec.name}'s own scripts added to ~/.ssh/authorized_keys`;
  }
}

/** Undoes the host faults that can be undone: resumes hung hosts, restores cut links. */
export async function undoHostFaults(hosts: readonly Host[]): Promise<void> {
  for (const host of hosts) {
    if (host.state === "hung") await host.resume();
    if (!host.linkUp) await host.setLink(true);
  }
}
