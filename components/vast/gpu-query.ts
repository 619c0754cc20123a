// Turning GPU requirements into a Vast offer search and a ranking. Pure functions: the provider
// searches live offers with `offerQuery`, then tries them in `rankOffers` order.
import type { Offer } from "../../clouds/vast/client.ts";
import { settingFailures } from "../../contract/setting-check.ts";
import type { SettingValue } from "../../contract/settings-schema.ts";

/** The settings an offer must meet (contract/settings-schema.ts declares each). */
const gpuRequirementKeys = [
  "gpuNames", "gpuCount", "diskGb", "maxPricePerHour", "minReliability", "verifiedOnly", "datacenterOnly", "geolocation", "directSsh", "excludeMachineIds",
  "rentType", "bidMargin",
] as const;

type GpuRequirementKey = (typeof gpuRequirementKeys)[number];

export type GpuRequirements = { readonly [K in GpuRequirementKey]: Readonly<SettingValue<K>> };

export interface InputFailure {
  readonly property: string;
  readonly reason: string;
}

/** Checks requirements as the provider's `check` reports them: one failure per bad property, by the settings' rules. */
export function checkGpuRequirements(r: Partial<Record<GpuRequirementKey, unknown>>): InputFailure[] {
  return settingFailures(r, gpuRequirementKeys);
}

/** The body of POST /api/v0/bundles/ for these requirements, priced for the disk asked for. */
export function offerQuery(r: GpuRequirements): Record<string, unknown> {
  return {
    gpu_name: r.gpuNames.length === 1 ? { eq: r.gpuNames[0] } : { in: [...r.gpuNames] },
    num_gpus: { eq: r.gpuCount },
    disk_space: { gte: r.diskGb },
    reliability2: { gte: r.minReliability },
    // An interruptible GPU's price is its bid, not the on-demand total: ranked here (rankOffers).
    ...(r.rentType !== "interruptible" && { dph_total: { lte: r.maxPricePerHour } }),
    rentable: { eq: true },
    rented: { eq: false },
    external: { eq: false },
    ...(r.verifiedOnly && { verified: { eq: true } }),
    ...(r.datacenterOnly && { datacenter: { eq: true } }),
    ...(r.geolocation.length > 0 && { geolocation: { in: [...r.geolocation] } }),
    ...(r.directSsh && { direct_port_count: { gte: 1 } }),
    // Bids are ranked by their floor: the cheapest bids are not cut off by the limit.
    order: [[r.rentType === "interruptible" ? "min_bid" : "dph_total", "asc"]],
    type: r.rentType === "interruptible" ? "bid" : "on-demand",
    allocated_storage: r.diskGb,
    limit: 64,
  };
}

/**
 * Offers in the order to try them: cheapest total price first, the more reliable host on a tie,
 * without machines excluded (e.g. the one that just failed) and without any over the price cap
 * (the server filters too; this guards against a server that ignores a filter).
 */
export function rankOffers(offers: readonly Offer[], r: GpuRequirements): Offer[] {
  return offers
    .filter((o) => !r.excludeMachineIds.includes(o.machine_id) && meetsRequirements(o, r))
    .sort((a, b) => totalPrice(a, r) - totalPrice(b, r) || b.reliability2 - a.reliability2 || a.id - b.id);
}

/** An interruptible rent's bid for an offer, in $/h of compute: its minimum bid plus the margin. */
export function bidFor(o: Offer, r: Pick<GpuRequirements, "bidMargin">): number {
  // Rounded up to 1/10,000 $/h (a bid a hair under the floor is refused); the epsilon keeps float
  // noise (0.25 × 1.2 = 0.30000000000000004) from adding a step.
  return Math.ceil(Number(o.min_bid ?? o.dph_base) * (1 + r.bidMargin) * 10_000 - 1e-6) / 10_000;
}

/** What the rent of an offer costs per hour: on demand its total; interruptible, the bid and the storage. */
export function totalPrice(o: Offer, r: Pick<GpuRequirements, "rentType" | "bidMargin">): number {
  return r.rentType === "interruptible" ? bidFor(o, r) + (o.dph_total - o.dph_base) : o.dph_total;
}

/**
 * What the search asked the server for, checked again on each offer: a server that ignored one
 * filter (or an offer that changed since) must not get a cheap host that is unreliable, unverified
 * or the wrong size rented. Fields an offer does not carry are not held against it.
 */
export function meetsRequirements(o: Offer, r: GpuRequirements): boolean {
  const has = (field: string) => typeof o[field] !== "undefined" && o[field] !== null;
  return totalPrice(o, r) <= r.maxPricePerHour && r.gpuNames.includes(o.gpu_name)
    && (r.rentType !== "interruptible" || has("min_bid")) && o.num_gpus === r.gpuCount
    && o.reliability2 >= r.minReliability
    && (!r.verifiedOnly || !has("verified") || o.verified === true)
    && (!r.datacenterOnly || !has("datacenter") || o.datacenter === true)
    && (!has("disk_space") || Number(o.disk_space) >= r.diskGb)
    && (r.geolocation.length === 0 || !has("geolocation") || r.geolocation.some((country) => String(o.geolocation).endsWith(country)));
}
