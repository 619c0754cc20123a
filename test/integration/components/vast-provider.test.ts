// The Vast instance provider's work (instance-operations.ts) against the emulator's real API and
// hosts, with the faults that happen on Vast: offers taken mid-rent, errors after a create,
// rate-limit storms, instances stuck loading, destroys of what is already gone.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createInstance, deleteInstance, type VastInstanceInputs } from "../../../components/vast/instance-operations.ts";
import { LocalCloudAdmin } from "../../../local-cloud/admin-client.ts";
import { down, up } from "../../../local-cloud/control.ts";
import type { Endpoints } from "../../../local-cloud/endpoints.ts";
import { hostMount } from "../../../local-cloud/host-files.ts";
import { VastClient, type VastClientSettings } from "../../../clouds/vast/client.ts";
import { connect, probeHostKey } from "../../../dataplane/ssh/client.ts";
import { makeKeyPair, vast } from "../../support/local-cloud.ts";

const cloud = "pvd";
let endpoints: Endpoints;
let admin: LocalCloudAdmin;
let access: VastClientSettings;
const key = makeKeyPair();

const inputs = (overrides: Partial<VastInstanceInputs> = {}): VastInstanceInputs => ({
  gpuNames: ["RTX 4090"], gpuCount: 1, diskGb: 16, maxPricePerHour: 1, minReliability: 0.9, verifiedOnly: true, datacenterOnly: false, rentType: "on-demand", bidMargin: 0.25,
  geolocation: [], directSsh: true, excludeMachineIds: [], image: "pytorch/pytorch:2.4.0", onstart: "", env: {},
  label: "provider-test", sshPublicKey: key.publicKey, sshPrivateKey: key.privateKey, readyTimeoutSeconds: 30, pollIntervalSeconds: 0.2,
  ...overrides,
});

const liveInstances = async () => (await new VastClient(access).listInstances()).map((i) => i.id);

beforeAll(async () => {
  endpoints = await up({ cloud, settings: { loadingDelayMs: 150, runningDelayMs: 250 } });
  admin = new LocalCloudAdmin(endpoints);
  access = { baseUrl: endpoints.vast.url, apiKey: endpoints.vast.apiKey, backoffMs: 50 };
});
afterEach(async () => {
  await admin.clearFaults();
  for (const id of await liveInstances()) await vast(endpoints, "DELETE", `/api/v0/instances/${id}/`, {});
});
afterAll(async () => {
  await down(cloud);
});

describe("the Vast instance provider", () => {
  it("rents the cheapest matching offer, installs a host key of its own and waits until the host presents it", async () => {
    const outs = await createInstance(access, inputs());
    const search = await vast(endpoints, "POST", "/api/v0/bundles/", {}, null);
    expect(search.body.offers.map((o: any) => o.id)).not.toContain(outs.offerId);
    const host = ((await admin.status()).instances as any[]).find((i) => i.id === outs.instanceId).host;
    // Not the key the host made for itself at its start: the one Dumont generated and installed.
    expect(outs.hostKey).not.toBe(host.hostKey);
    expect(await probeHostKey(host.address, host.sshPort)).toBe(outs.hostKey);
    // The key travelled in the instance's environment; the onstart script kept nothing of it.
    const ssh = await connect({ host: host.address, port: host.sshPort, privateKey: key.privateKey, hostKey: outs.hostKey });
    try {
      const seen = await ssh.run(["sh", "-c", "ls /etc/ssh/ssh_host_ed25519_key.dumont 2>&1; stat -c %a /etc/ssh/ssh_host_ed25519_key"]);
      expect(seen.stdout).toMatch(/No such file[\s\S]*\b600\n$/);
    } finally {
      ssh.close();
    }
    expect([outs.sshHost, outs.sshPort, outs.sshPath]).toEqual([host.address, host.sshPort, "direct"]);
    expect(outs.gpuName).toBe("RTX 4090");
    expect(outs.vastLabel).toMatch(/^provider-test\.[0-9a-f]{8}$/);
    expect(outs.dphTotal).toBeGreaterThan(outs.dphBase);
  });

  it("skips an offer taken between search and rent and rents the next", async () => {
    const cheapest = (await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "RTX 4090" }, verified: { eq: true }, order: [["dph_total", "asc"]] }, null)).body.offers;
    await admin.fault({ kind: "offer-taken", target: String(cheapest[0].id) });
    const lines: string[] = [];
    const outs = await createInstance(access, inputs(), (l) => lines.push(l));
    expect(outs.offerId).not.toBe(cheapest[0].id);
    expect(lines.join("\n")).toContain(`offer ${cheapest[0].id} is no longer available`);
    expect(await liveInstances()).toEqual([outs.instanceId]);
  });

  it("adopts an instance whose create answered with an error, instead of renting a second", async () => {
    await admin.fault({ kind: "ghost-instance" });
    const outs = await createInstance(access, inputs({ label: "ghost" }));
    expect(await liveInstances()).toEqual([outs.instanceId]);
  });

  it("adopts the instance an error body names", async () => {
    await admin.fault({ kind: "ghost-instance", withContract: true });
    const outs = await createInstance(access, inputs({ label: "ghost-named" }));
    expect(await liveInstances()).toEqual([outs.instanceId]);
  });

  it("backs off through a 429 storm", async () => {
    // The client tries each call up to 6 times: a storm of 5 is survivable, whichever calls it hits.
    await admin.fault({ kind: "rate-limit-storm", count: 5 });
    const outs = await createInstance(access, inputs());
    expect(await liveInstances()).toEqual([outs.instanceId]);
  });

  it("gives up on an instance stuck loading after the timeout, and destroys it", async () => {
    await admin.fault({ kind: "stuck-loading" });
    await expect(createInstance(access, inputs({ readyTimeoutSeconds: 2 }))).rejects.toThrow(/still loading after 2 s/);
    expect(await liveInstances()).toEqual([]);
  });

  it("replaces an instance that dies before it is ready with one on another machine", async () => {
    const first = (await vast(endpoints, "POST", "/api/v0/bundles/", { gpu_name: { eq: "RTX 4090" }, verified: { eq: true }, order: [["dph_total", "asc"]] }, null)).body.offers[0];
    await admin.settings({ runningDelayMs: 1500 });
    const creating = createInstance(access, inputs());
    // Kill the first instance while it loads: Vast would report it offline.
    let killed = false;
    for (let i = 0; i < 50 && !killed; i++) {
      const live = ((await admin.status()).instances as any[]);
      if (live.length > 0) {
        await admin.fault({ kind: "exited", target: String(live[0].id) });
        killed = true;
      } else await new Promise((r) => setTimeout(r, 50));
    }
    const outs = await creating;
    await admin.settings({ runningDelayMs: 250 });
    expect(outs.machineId).not.toBe(first.machine_id);
    expect(await liveInstances()).toEqual([outs.instanceId]);
  });

  it("never trusts a host that presents another host key than the one it installed, and destroys it", async () => {
    // What an impostor looks like from the controller: the host's sshd answers with a key Dumont did
    // not make (here the instance's own onstart, which runs after Dumont's installer, swaps it).
    // sshd re-executes on SIGHUP, and a second SIGHUP during that re-exec kills it (the host then
    // never answers at all; CI runs saw it even with a check of sshd's caught signals, which the old
    // image still shows). So the impostor first waits until sshd serves the key Dumont's installer
    // put there: only the re-executed sshd does, and it catches SIGHUP before it accepts anyone.
    const impostor = [
      `k=/etc/ssh/ssh_host_ed25519_key; port=$(awk '$1 == "Port" { print $2 }' ${hostMount}/etc/sshd_config); installed=$(ssh-keygen -y -f $k | cut -d' ' -f2); i=0`,
      `until ssh-keyscan -T 2 -t ed25519 -p "$port" 127.0.0.1 2>/dev/null | grep -qF "$installed" || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.1; done`,
      "rm -f $k; ssh-keygen -q -t ed25519 -N '' -f $k; kill -HUP $(cat /run/sshd.pid)",
      "",
    ].join("\n");
    await admin.settings({ runningDelayMs: 1500 });
    try {
      // The status is polled every 10 s (SSH every 2 s once it is running), so the host is first
      // looked at about 10 s after its rent, well after its onstart swapped the key (about 3 s in: a
      // look in the moment between Dumont's installer and the swap would see Dumont's key, and the
      // host would be trusted); the deadline leaves a loaded machine time.
      await expect(createInstance(access, inputs({ onstart: impostor, readyTimeoutSeconds: 30, pollIntervalSeconds: 10 }))).rejects.toThrow(
        /presents a host key other than the one Dumont installed/,
      );
    } finally {
      await admin.settings({ runningDelayMs: 250 });
    }
    expect(await liveInstances()).toEqual([]);
  });

  it("treats deleting an already destroyed instance as done", async () => {
    const outs = await createInstance(access, inputs());
    await deleteInstance(access, outs.instanceId);
    await deleteInstance(access, outs.instanceId);
    expect(await liveInstances()).toEqual([]);
  });

  it("names what matched nothing", async () => {
    await expect(createInstance(access, inputs({ gpuNames: ["H100 SXM"], maxPricePerHour: 0.5 }))).rejects.toThrow(
      /no Vast offer matches 1x H100 SXM with 16 GB disk at ≤ \$0.5\/h/,
    );
  });
});
