// Host faults: what each does to the host and, for an instance, what the API reports afterwards.
import { afterEach, describe, expect, it, vi } from "vitest";
import { faultKinds, FaultBook, hostFaultKinds } from "../../../local-cloud/faults.ts";
import { applyHostFault, isHostFault, undoHostFaults } from "../../../local-cloud/host-faults.ts";
import { HostIndexes } from "../../../local-cloud/host-indexes.ts";
import { Instances } from "../../../local-cloud/instances.ts";
import { Marketplace } from "../../../local-cloud/marketplace.ts";
import { cloudNames } from "../../../local-cloud/names.ts";
import { defaultSettings } from "../../../local-cloud/settings.ts";
import { defaultInventory } from "../../../local-cloud/vast/inventory.ts";
import { fakeHost, instanceOn } from "./fakes.ts";

function setup(statusLagMs = 0) {
  const settings = { ...defaultSettings, statusLagMs };
  const faults = new FaultBook();
  const instances = new Instances({
    names: cloudNames("t"), cloudDir: "/nonexistent", mirrorUrl: "http://mirror.invalid", indexes: new HostIndexes(),
    settings, faults, market: new Marketplace(defaultInventory, faults),
  });
  return { settings, instances };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("host faults", () => {
  it("are exactly the host fault kinds", () => {
    expect(faultKinds.filter(isHostFault)).toEqual([...hostFaultKinds]);
  });

  it("host-killed: the host dies, pending boot steps are dropped, the API says offline after the status lag", async () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const { settings, instances } = setup(500);
    const { host, calls } = fakeHost();
    const instance = instanceOn(host, { actualStatus: "loading" });
    const boot = vi.fn();
    instance.timers.push(setTimeout(boot, 100));
    expect(await applyHostFault("host-killed", { host, instance }, instances, settings)).toBe("killed every process on i-29012340");
    expect(calls).toEqual(["kill"]);
    vi.advanceTimersByTime(499);
    expect(instance.actualStatus).toBe("loading");
    vi.advanceTimersByTime(1);
    expect(boot).not.toHaveBeenCalled();
    expect(instance).toMatchObject({ actualStatus: "offline", statusMsg: "Host machine is offline" });
    // The meter's span closed at the change: storage billed until then (loading is not running).
    expect(instance.meter).toEqual({ runningMs: 0, onlineMs: 1_000_500, since: 2_000_500 });
  });

  it("exited: the container is gone and the status says why, at once", async () => {
    vi.useFakeTimers({ now: 1_000_000 + 60_000 });
    const { settings, instances } = setup();
    const { host, calls } = fakeHost();
    const instance = instanceOn(host);
    expect(await applyHostFault("exited", { host, instance }, instances, settings)).toBe("i-29012340 exited");
    expect(calls).toEqual(["kill"]);
    expect(instance.actualStatus).toBe("exited");
    expect(instance.statusMsg).toBe("Error response from daemon: OCI runtime create failed: container exited with code 137");
    expect(instance.meter).toEqual({ runningMs: 60_000, onlineMs: 60_000, since: 1_060_000 });
  });

  it("acts on a standby's host alone", async () => {
    const { settings, instances } = setup();
    const { host, calls } = fakeHost("standby-cpu");
    expect(await applyHostFault("host-killed", { host }, instances, settings)).toBe("killed every process on standby-cpu");
    expect(await applyHostFault("host-hung", { host }, instances, settings)).toBe("stopped (SIGSTOP) every process on standby-cpu");
    expect(await applyHostFault("host-resumed", { host }, instances, settings)).toBe("resumed standby-cpu");
    expect(await applyHostFault("link-cut", { host }, instances, settings)).toBe("cut the link of standby-cpu");
    expect(await applyHostFault("link-restored", { host }, instances, settings)).toBe("restored the link of standby-cpu");
    expect(calls).toEqual(["kill", "hang", "resume", "link down", "link up"]);
  });

  it("clearing resumes hung hosts and restores cut links, and leaves the rest alone", async () => {
    const hung = fakeHost("a");
    const cut = fakeHost("b");
    const fine = fakeHost("c");
    await hung.host.hang();
    await cut.host.setLink(false);
    hung.calls.length = 0;
    cut.calls.length = 0;
    await undoHostFaults([hung.host, cut.host, fine.host]);
    expect([hung.calls, cut.calls, fine.calls]).toEqual([["resume"], ["link up"], []]);
    expect(hung.host.state).toBe("running");
    expect(cut.host.linkUp).toBe(true);
  });
});
