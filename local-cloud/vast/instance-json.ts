// What GET /api/v0/instances/{id}/ and the v1 list return for one instance: Vast's field names,
// types and quirks (string HostPort in `ports`, a trailing newline in public_ipaddr, extra_env as
// [key, value] pairs, ports only while running).
import type { Machine } from "./inventory.ts";
import { bandwidthCosts, minBid, storageDph } from "./offers.ts";

export type ActualStatus = null | "created" | "loading" | "running" | "stopped" | "exited" | "offline" | "rebooting" | "scheduling";

export interface InstanceView {
  readonly id: number;
  readonly machine: Machine;
  readonly label: string;
  readonly image: string;
  readonly diskGb: number;
  readonly env: Readonly<Record<string, string>>;
  readonly onstart: string;
  readonly runtype: string;
  readonly actualStatus: ActualStatus;
  readonly intendedStatus: "running" | "stopped";
  readonly statusMsg: string;
  readonly createdAt: number;
  readonly bid?: number;
  /** Set once the host runs: where SSH answers. */
  readonly ssh?: { readonly address: string; readonly port: number; readonly proxyHost: string; readonly proxyPort: number };
  readonly nowMs: number;
}

export function instanceJson(v: InstanceView): Record<string, unknown> {
  const storageTotal = storageDph(v.machine.storageCost, v.diskGb);
  const compute = v.bid ?? v.machine.dphBase;
  const bandwidth = bandwidthCosts(v.machine);
  const running = v.actualStatus === "running";
  const stopped = v.intendedStatus === "stopped";
  return {
    id: v.id,
    actual_status: v.actualStatus,
    intended_status: v.intendedStatus,
    cur_state: stopped ? "stopped" : "running",
    next_state: stopped ? "stopped" : "running",
    status_msg: v.statusMsg,
    label: v.label || null,
    image_uuid: v.image,
    image_runtype: v.runtype,
    image_args: [],
    extra_env: Object.entries(v.env).map(([key, value]) => [key, value]),
    onstart: v.onstart,
    machine_id: v.machine.machineId,
    host_id: v.machine.hostId,
    bundle_id: v.machine.askId,
    geolocation: v.machine.geolocation,
    verification: v.machine.verified ? "verified" : "unverified",
    hosting_type: v.machine.datacenter ? 1 : 0,
    static_ip: v.machine.datacenter,
    reliability2: v.machine.reliability,
    gpu_name: v.machine.gpu,
    num_gpus: v.machine.gpus,
    gpu_ram: v.machine.model.ramMb,
    gpu_totalram: v.machine.model.ramMb * v.machine.gpus,
    gpu_util: running ? 0 : null,
    cpu_name: v.machine.model.cpu,
    cpu_cores: v.machine.model.cpuCores,
    cpu_ram: v.machine.model.cpuRamMb,
    disk_space: v.diskGb,
    inet_up: v.machine.inetUpMbps,
    inet_down: v.machine.inetDownMbps,
    dph_base: compute,
    dph_total: compute + storageTotal,
    storage_cost: v.machine.storageCost,
    storage_total_cost: storageTotal,
    inet_up_cost: bandwidth.up,
    inet_down_cost: bandwidth.down,
    internet_up_cost_per_tb: bandwidth.up * 1024,
    internet_down_cost_per_tb: bandwidth.down * 1024,
    is_bid: v.bid !== undefined,
    min_bid: minBid(v.machine),
    start_date: v.createdAt / 1000,
    end_date: v.createdAt / 1000 + 60 * 86400,
    duration: 60 * 86400,
    uptime_mins: running ? Math.floor((v.nowMs - v.createdAt) / 60000) : null,
    // Vast's proxy endpoint is known from the start; the direct one only while running.
    ssh_host: v.ssh?.proxyHost ?? null,
    ssh_port: v.ssh?.proxyPort ?? null,
    ssh_idx: v.ssh ? "1" : null,
    direct_port_count: 20,
    public_ipaddr: running && v.ssh ? `${v.ssh.address}\n` : null,
    local_ipaddrs: running && v.ssh ? `${v.ssh.address}\n` : null,
    machine_dir_ssh_port: running && v.ssh ? v.ssh.port : null,
    ports: running && v.ssh ? {
      "22/tcp": [
        { HostIp: "0.0.0.0", HostPort: String(v.ssh.port) },
        { HostIp: "::", HostPort: String(v.ssh.port) },
      ],
    } : undefined,
    template_id: null,
    jupyter_token: null,
  };
}
