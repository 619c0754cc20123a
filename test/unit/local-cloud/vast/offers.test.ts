import { describe, expect, it } from "vitest";
import { defaultInventory, machinesFrom } from "../../../../local-cloud/vast/inventory.ts";
import { offerJson, parseSearchBody, searchOffers, SearchError, storageDph } from "../../../../local-cloud/vast/offers.ts";

const machines = machinesFrom(defaultInventory);
const offers = machines.map((m) => offerJson(m, 8, false));
const fields = new Set(Object.keys(offers[0]!));
const search = (body: unknown) => searchOffers(offers, parseSearchBody(body, fields));

describe("offer search", () => {
  it("filters with every operator and coerces string values as the CLI sends them", () => {
    expect(search({ num_gpus: { eq: "2" } }).map((o) => o.num_gpus)).toEqual([2]);
    expect(search({ num_gpus: { gt: 1 } }).every((o) => (o.num_gpus as number) > 1)).toBe(true);
    expect(search({ gpu_name: { in: ["L40S", "RTX 5090"] } }).map((o) => o.gpu_name).sort()).toEqual(["L40S", "RTX 5090"]);
    expect(search({ gpu_name: { notin: ["RTX 4090"] } }).some((o) => o.gpu_name === "RTX 4090")).toBe(false);
    expect(search({ verified: { eq: "false" } }).every((o) => o.verified === false)).toBe(true);
    expect(search({ reliability2: { gte: 0.999 }, dph_total: { lte: 1.2 } }).map((o) => o.gpu_name)).toEqual(["A100 SXM4"]);
  });

  it("matches geolocation on the country code at the end of the host's free text", () => {
    const japan = search({ geolocation: { eq: "JP" } });
    expect(japan.map((o) => o.geolocation)).toEqual(["Yutakachō, Shinagawa District, Tokyo, JP"]);
    expect(search({ geolocation: { in: ["US", "CA"] } }).every((o) => /, (US|CA)$/.test(o.geolocation as string))).toBe(true);
  });

  it("orders by several keys and caps results at 64 whatever the limit", () => {
    const cheapest = search({ order: [["dph_total", "asc"]], limit: 3 }).map((o) => o.dph_total as number);
    expect(cheapest).toEqual([...cheapest].sort((a, b) => a - b));
    expect(cheapest).toHaveLength(3);
    const many = searchOffers(Array.from({ length: 100 }, (_, i) => ({ ...offers[0]!, id: i })), parseSearchBody({ limit: 500 }, fields));
    expect(many).toHaveLength(64);
  });

  it("prices storage from allocated_storage: $/GB/month over 720 hours", () => {
    const q = parseSearchBody({ allocated_storage: 100 }, fields);
    expect(q.allocatedStorageGb).toBe(100);
    const priced = offerJson(machines[0]!, 100, false);
    expect(priced.dph_total).toBeCloseTo(machines[0]!.dphBase + storageDph(machines[0]!.storageCost, 100), 12);
    expect(storageDph(0.149333, 10)).toBeCloseTo(0.002074074, 6); // Vast's own documented example
  });

  it("names the bad key, operator or type in its error", () => {
    expect(() => parseSearchBody({ gpu: { eq: 1 } }, fields)).toThrow(new SearchError("Error in query parameters: gpu is not a valid search key"));
    expect(() => parseSearchBody({ num_gpus: { like: 1 } }, fields)).toThrow(/like is not a valid search op/);
    expect(() => parseSearchBody({ type: "spot" }, fields)).toThrow(/spot is not a valid offer type/);
    expect(() => parseSearchBody({ order: [["nope", "asc"]] }, fields)).toThrow(/nope is not a valid order key/);
    for (const type of ["ondemand", "on-demand", "bid", "interruptible", "reserved"]) expect(() => parseSearchBody({ type }, fields)).not.toThrow();
  });
});
