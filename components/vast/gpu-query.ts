// Turning GPU requirements into a Vast offer search and a ranking. Pure functions: the provider
// searches live offers with `offerQuery`, then tries them in `rankOffers` order.
import type { Offer } from "../../harness/vast/client.ts";

export interface GpuRequirements {
  readonly gpuNames: readonly string[];
  readonly gpuCount: number;
  readonly diskGb: number;
  readonly maxPricePerHour: number;
  readonly minReliability: number;
  readonly verifiedOnly: boolean;
  readonly datacenterOnly: boolean;
  readonly geolocation: readonly string[];
  readonly directSsh: boolean;
  readonly excludeMachineIds: readonly number[];
}

export interface InputFailure {
  readonly property: string;
  readonly reason: string;
}

/** Checks requirements as the provider's `check` reports them: one failure per bad property. */
export function checkGpuRequirements(r: Partial<GpuRequirements>): InputFailure[] {
  const failures: InputFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (!Array.isArray(r.gpuNames) || r.gpuNames.length === 0 || r.gpuNames.some((n) => typeof n !== "string" || n.trim() === "")) {
    fail("gpuNames", "name at least one GPU model, as Vast spells it (e.g. 'RTX 4090', 'A100 SXM4')");
  }
  if (!Number.isInteger(r.gpuCount) || r.gpuCount! < 1) fail("gpuCount", "must be a whole number ≥ 1");
  if (!Number.isInteger(r.diskGb) || r.diskGb! < 8) fail("diskGb", "must be a whole number of GB ≥ 8 (Vast's minimum)");
  if (typeof r.maxPricePerHour !== "number" || !(r.maxPricePerHour > 0)) fail("maxPricePerHour", "must be a positive $/h");
  if (typeof r.minReliability !== "number" || r.minReliability < 0 || r.minReliability > 1) fail("minReliability", "must be between 0 and 1");
  for (const code of r.geolocation ?? []) if (!/^[A-Z]{2}$/.test(code)) fail("geolocation", `'${code}' is not a 2-letter country code`);
  return failures;
}

/** The body of POST /api/v0/bundles/ for these requirements, priced for the disk asked for. */
export function offerQuery(r: GpuRequirements): Record<string, unknown> {
  return {
    gpu_name: r.gpuNames.length === 1 ? { eq: r.gpuNames[0] } : { in: [...r.gpuNames] },
    num_gpus: { eq: r.gpuCount },
    disk_space: { gte: r.diskGb },
    reliability2: { gte: r.minReliability },
    dph_total: { lte: r.maxPricePerHour },
    rentable: { eq: true },
    rented: { eq: false },
    external: { eq: false },
    ...(r.verifiedOnly && { verified: { eq: true } }),
    ...(r.datacenterOnly && { datacenter: { eq: true } }),
    ...(r.geolocation.length > 0 && { geolocation: { in: [...r.geolocation] } }),
    ...(r.directSsh && { direct_port_count: { gte: 1 } }),
    order: [["dph_total", "asc"]],
    type: "on-demand",
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
    .filter((o) => !r.excludeMachineIds.includes(o.machine_id) && o.dph_total <= r.maxPricePerHour && r.gpuNames.includes(o.gpu_name))
    .sort((a, b) => a.dph_total - b.dph_total || b.reliability2 - a.reliability2 || a.id - b.id);
}
