// The views of one instance: whether show and list see it, what they show, its admin status row.
import { describe, expect, it } from "vitest";
import { adminView, isVisible, vastView } from "../../../local-cloud/instance.ts";
import type { Forwarder } from "../../../local-cloud/tcp-forwarder.ts";
import { fakeHost, instanceOn } from "./fakes.ts";

const forwarder = { port: 41_000 } as Forwarder;

describe("an instance's views", () => {
  it("is seen from its visibleAt (a read lag) until it is destroyed", () => {
    const lagging = instanceOn(fakeHost().host, { visibleAt: 5000 });
    expect(isVisible(lagging, 4999)).toBe(false);
    expect(isVisible(lagging, 5000)).toBe(true);
    expect(isVisible({ ...lagging, destroyedAt: 6000 }, 7000)).toBe(false);
  });

  it("shows Vast's proxy endpoint once the host has run, and the direct one only while running", () => {
    const { host } = fakeHost();
    expect(vastView(instanceOn(host, { actualStatus: "loading" }), "10.177.9.1", 2_000_000)).toMatchObject({
      actual_status: "loading", ssh_host: null, ssh_port: null, public_ipaddr: null, ports: undefined,
    });
    const running = vastView(instanceOn(host, { forwarder }), "10.177.9.1", 1_000_000 + 5 * 60_000);
    expect(running).toMatchObject({
      id: 29_012_340, label: "test", ssh_host: "10.177.9.1", ssh_port: 41_000, public_ipaddr: "10.177.9.4\n", machine_dir_ssh_port: 23456,
      ports: { "22/tcp": [{ HostIp: "0.0.0.0", HostPort: "23456" }, { HostIp: "::", HostPort: "23456" }] }, uptime_mins: 5,
    });
    expect(vastView(instanceOn(host, { forwarder, actualStatus: "stopped" }), "10.177.9.1", 2_000_000)).toMatchObject({
      ssh_host: "10.177.9.1", ssh_port: 41_000, public_ipaddr: null, uptime_mins: null,
    });
  });

  it("gives the admin status its host and proxy port", () => {
    const { host } = fakeHost("i-7");
    expect(adminView(instanceOn(host, { forwarder }))).toEqual({
      id: 29_012_340, label: "test", actual_status: "running", host: { name: "i-7", state: "running" }, proxy_port: 41_000,
    });
    expect(adminView(instanceOn(host)).proxy_port).toBeNull();
  });
});
