// POST /api/v0/bundles/: Vast's offer search, reproduced. Each filter is `field: {op: value}` with
// the real operators; values may arrive as strings (the CLI sends them so) and are coerced; `order`,
// `limit` (at most 64 results), `type` and `allocated_storage` (prices storage) are control keys.
import type { Machine } from "./inventory.ts";

export type Offer = Record<string, unknown>;

export const operators = ["eq", "neq", "gt", "gte", "lt", "lte", "in", "notin"] as const;
export type Operator = (typeof operators)[number];
const controlKeys = new Set(["order", "type", "limit", "allocated_storage", "disable_bundling"]);
const searchTypes = new Set(["ondemand", "on-demand", "bid", "interruptible", "reserved"]);
export const maxSearchResults = 64;

/** $/h of `gb` of storage at `costPerGbMonth`: Vast spreads a month over 720 h. */
export const storageDph = (costPerGbMonth: number, gb: number) => (costPerGbMonth * gb) / 720;

/** Bandwidth prices in $/GB; real hosts set these themselves, from free to a few cents. */
export function bandwidthCosts(machine: Machine): { up: number; down: number } {
  const up = [0.005, 0.01, 0.02, 0][machine.askId % 4]!;
  return { up, down: up / 2 };
}

export function offerJson(machine: Machine, allocatedStorageGb: number, rented: boolean): Offer {
  const m = machine.model;
  const storageTotal = storageDph(machine.storageCost, allocatedStorageGb);
  const dphTotal = machine.dphBase + storageTotal;
  const bandwidth = bandwidthCosts(machine);
  const country = machine.geolocation.split(",").at(-1)!.trim();
  return {
    id: machine.askId, ask_contract_id: machine.askId, bundle_id: machine.askId,
    machine_id: machine.machineId, host_id: machine.hostId,
    gpu_name: machine.gpu, num_gpus: machine.gpus, gpu_ram: m.ramMb, gpu_total_ram: m.ramMb * machine.gpus,
    gpu_frac: 1, gpu_arch: "nvidia", compute_cap: m.computeCap,
    cuda_max_good: 12.8, driver_version: "570.124.04", driver_vers: 570124004,
    cpu_name: m.cpu, cpu_cores: m.cpuCores, cpu_cores_effective: (m.cpuCores / 8) * machine.gpus, cpu_ram: m.cpuRamMb, cpu_arch: "amd64",
    disk_space: machine.diskSpaceGb, disk_bw: 3200, disk_name: "Samsung SSD 990 PRO",
    inet_up: machine.inetUpMbps, inet_down: machine.inetDownMbps,
    inet_up_cost: bandwidth.up, inet_down_cost: bandwidth.down,
    internet_up_cost_per_tb: bandwidth.up * 1024, internet_down_cost_per_tb: bandwidth.down * 1024,
    direct_port_count: 20, static_ip: machine.datacenter, public_ipaddr: null,
    dph_base: machine.dphBase, dph_total: dphTotal, storage_cost: machine.storageCost, storage_total_cost: storageTotal,
    min_bid: minBid(machine), vram_costperhour: machine.dphBase / ((m.ramMb * machine.gpus) / 1024),
    search: { gpuCostPerHour: machine.dphBase, diskHour: storageTotal, totalHour: dphTotal, discountTotalHour: 0, discountedTotalPerHour: dphTotal },
    reliability: machine.reliability, reliability2: machine.reliability,
    score: Math.round(machine.reliability * m.dlperf * machine.gpus * 100) / 100,
    dlperf: m.dlperf * machine.gpus, dlperf_per_dphtotal: (m.dlperf * machine.gpus) / dphTotal,
    flops_per_dphtotal: (m.dlperf * 2.1 * machine.gpus) / dphTotal, total_flops: m.dlperf * 2.1 * machine.gpus,
    verification: machine.verified ? "verified" : "unverified", verified: machine.verified,
    datacenter: machine.datacenter, hosting_type: machine.datacenter ? 1 : 0, external: false,
    rentable: !rented, rented, is_bid: false, vms_enabled: false,
    geolocation: machine.geolocation, geolocode: country,
    start_date: 1_760_000_000, end_date: 1_830_000_000, duration: 60 * 86400,
  };
}

/** A 400 Vast would answer, with its own wording. */
export class SearchError extends Error {}

export function coerce(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(coerce);
  if (value === "true") return true;
  if (value === "false") return false;
  if (value === "None" || value === "null") return null;
  if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return value;
}

export function compare(actual: unknown, op: Operator, expected: unknown, field: string): boolean {
  // Vast matches geolocation filters on the 2-letter country code at the end of the free text.
  if (field === "geolocation" && typeof actual === "string") actual = actual.split(",").at(-1)!.trim();
  switch (op) {
    case "eq": return actual === expected;
    case "neq": return actual !== expected;
    case "gt": return typeof actual === "number" && actual > (expected as number);
    case "gte": return typeof actual === "number" && actual >= (expected as number);
    case "lt": return typeof actual === "number" && actual < (expected as number);
    case "lte": return typeof actual === "number" && actual <= (expected as number);
    case "in": return Array.isArray(expected) && expected.includes(actual);
    case "notin": return Array.isArray(expected) && !expected.includes(actual);
  }
}

export interface SearchQuery {
  readonly filters: ReadonlyArray<{ field: string; op: Operator; value: unknown }>;
  readonly order: ReadonlyArray<[string, "asc" | "desc"]>;
  readonly limit: number;
  readonly allocatedStorageGb: number;
}

/** Validates a request body the way Vast does, naming the bad key or operator. */
export function parseSearchBody(body: unknown, knownFields: ReadonlySet<string>): SearchQuery {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new SearchError("query must be a JSON object");
  const filters: Array<{ field: string; op: Operator; value: unknown }> = [];
  const record = body as Record<string, unknown>;
  for (const [field, condition] of Object.entries(record)) {
    if (controlKeys.has(field)) continue;
    if (!knownFields.has(field)) throw new SearchError(`Error in query parameters: ${field} is not a valid search key`);
    if (typeof condition !== "object" || condition === null || Array.isArray(condition)) {
      throw new SearchError(`Error in query parameters: ${field} must be an object of {op: value}`);
    }
    for (const [op, value] of Object.entries(condition)) {
      if (!(operators as readonly string[]).includes(op)) throw new SearchError(`invalid_request ${op} is not a valid search op`);
      filters.push({ field, op: op as Operator, value: coerce(value) });
    }
  }
  const type = record.type ?? "on-demand";
  if (typeof type !== "string" || !searchTypes.has(type)) throw new SearchError(`invalid_request ${String(type)} is not a valid offer type`);
  let order: Array<[string, "asc" | "desc"]> = [["score", "desc"]];
  if (record.order !== undefined) {
    if (!Array.isArray(record.order)) throw new SearchError("invalid_request order must be a list of [field, direction]");
    order = record.order.map((entry) => {
      const [field, direction = "asc"] = Array.isArray(entry) ? entry : [entry];
      if (typeof field !== "string" || !knownFields.has(field)) throw new SearchError(`invalid_request ${String(field)} is not a valid order key`);
      if (direction !== "asc" && direction !== "desc") throw new SearchError(`invalid_request ${String(direction)} is not a valid order direction`);
      return [field, direction];
    });
  }
  const limitValue = coerce(record.limit ?? maxSearchResults);
  if (typeof limitValue !== "number" || !Number.isInteger(limitValue) || limitValue < 0) throw new SearchError("invalid_request limit must be a non-negative integer");
  const storage = coerce(record.allocated_storage ?? 8);
  if (typeof storage !== "number" || storage <= 0) throw new SearchError("invalid_request allocated_storage must be a positive number");
  return { filters, order, limit: Math.min(limitValue, maxSearchResults), allocatedStorageGb: storage };
}

export function searchOffers(offers: readonly Offer[], query: SearchQuery): Offer[] {
  const matching = offers.filter((offer) => query.filters.every((f) => compare(offer[f.field], f.op, f.value, f.field)));
  const sorted = [...matching].sort((a, b) => {
    for (const [field, direction] of query.order) {
      const x = a[field] as number | string;
      const y = b[field] as number | string;
      if (x === y) continue;
      const less = x < y ? -1 : 1;
      return direction === "asc" ? less : -less;
    }
    return (a.id as number) - (b.id as number);
  });
  return sorted.slice(0, query.limit);
}

/** The emulator's floor for an interruptible bid on a machine: 55% of its on-demand compute price. */
export function minBid(machine: Pick<Machine, "dphBase">): number {
  return Math.round(machine.dphBase * 0.55 * 1000) / 1000;
}
