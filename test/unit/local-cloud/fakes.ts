// Stand-ins for the local cloud's unit tests: a host that records what is done to it instead of
// touching namespaces, and an instance record on it.
import { startMeter } from "../../../local-cloud/billing.ts";
import type { Host, HostState } from "../../../local-cloud/host.ts";
import type { Instance } from "../../../local-cloud/instance.ts";
import { defaultInventory, machinesFrom } from "../../../local-cloud/vast/inventory.ts";

export interface FakeHost {
  readonly host: Host;
  /** What was done to it, in order: "kill", "hang", "resume", "link down", "keys …". */
  readonly calls: string[];
}

export function fakeHost(name = "i-29012340", authorizedKeys: readonly string[] = []): FakeHost {
  const calls: string[] = [];
  const fake = {
    spec: { index: 3, name, authorizedKeys, image: "gpu" },
    dir: `/nonexistent/hosts/${name}`,
    address: "10.177.9.4",
    sshPort: 23456,
    hostKey: "ssh-ed25519 AAAAhostkey",
    state: "running" as HostState,
    linkUp: true,
    dropSelfManagedKeys: async () => { calls.push("keys dropped"); },
    info: () => ({ name, state: fake.state }),
    kill: async () => { calls.push("kill"); fake.state = "killed"; },
    hang: async () => { calls.push("hang"); fake.state = "hung"; },
    resume: async () => { calls.push("resume"); if (fake.state === "hung") fake.state = "running"; },
    setLink: async (up: boolean) => { calls.push(`link ${up ? "up" : "down"}`); fake.linkUp = up; },
    setAuthorizedKeys: async (keys: readonly string[]) => { calls.push(`keys ${keys.join(" | ")}`); },
  };
  return { host: fake as unknown as Host, calls };
}

export function instanceOn(host: Host, over: Partial<Instance> = {}): Instance {
  return {
    id: 29_012_340, machine: machinesFrom(defaultInventory)[0]!, host, image: "pytorch/pytorch:2.4.0", diskGb: 16, env: {}, onstart: "",
    runtype: "ssh", createdAt: 1_000_000, apiKey: "k", label: "test", actualStatus: "running", intendedStatus: "running",
    statusMsg: "", visibleAt: 1_000_000, stuckLoading: false, timers: [], meter: startMeter(1_000_000),
    traffic: { uploadedBytes: 0, downloadedBytes: 0 }, instanceKeys: [], ...over,
  };
}
