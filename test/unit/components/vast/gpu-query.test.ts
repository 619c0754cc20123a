// Which GPU a stack gets: the search sent to Vast for its requirements, the order the offers are
// tried in (cheapest first, the more reliable host on a tie), and the offers never tried (a machine
// that just failed, one over the price cap, a GPU model not asked for).
import { describe, expect, it } from "vitest";
import { bidFor, checkGpuRequirements, offerQuery, rankOffers, totalPrice, type GpuRequirements } from "../../../../components/vast/gpu-query.ts";
import type { Offer } from "../../../../clouds/vast/client.ts";
import { defaultInventory, machinesFrom } from "../../../../local-cloud/vast/inventory.ts";
import { offerJson, parseSearchBody, searchOffers } from "../../../../local-cloud/vast/offers.ts";

const requirements: GpuRequirements = {
  gpuNames: ["RTX 4090"], gpuCount: 1, diskGb: 32, maxPricePerHour: 1, minReliability: 0.95, verifiedOnly: true,
  datacenterOnly: false, rentType: "on-demand", bidMargin: 0.25, geolocation: [], directSsh: false, excludeMachineIds: [],
};

let nextId = 1;
const offer = (fields: Partial<Offer> = {}): Offer => {
  const id = fields.id ?? nextId++;
  return { id, machine_id: 1000 + id, gpu_name: "RTX 4090", num_gpus: 1, dph_total: 0.5, dph_base: 0.45, reliability2: 0.99, ...fields };
};
const ids = (offers: readonly Offer[]) => offers.map((o) => o.id);

describe("rankOffers", () => {
  it.each<[string, Offer[], Partial<GpuRequirements>, number[]]>([
    ["cheapest total price first", [offer({ id: 1, dph_total: 0.6 }), offer({ id: 2, dph_total: 0.3 }), offer({ id: 3, dph_total: 0.45 })], {}, [2, 3, 1]],
    ["on a price tie, the more reliable host first", [offer({ id: 1, reliability2: 0.96 }), offer({ id: 2, reliability2: 0.999 }), offer({ id: 3, reliability2: 0.98 })], {}, [2, 3, 1]],
    ["a cheaper offer beats a more reliable one (the search already required the reliability)", [offer({ id: 1, dph_total: 0.5, reliability2: 0.999 }), offer({ id: 2, dph_total: 0.4, reliability2: 0.96 })], {}, [2, 1]],
    ["on a tie in price and reliability, the lower offer id first (the same order on every run)", [offer({ id: 9 }), offer({ id: 4 }), offer({ id: 7 })], {}, [4, 7, 9]],
    ["an excluded machine is never tried, even when it is the cheapest", [offer({ id: 1, machine_id: 55, dph_total: 0.1 }), offer({ id: 2, dph_total: 0.9 })], { excludeMachineIds: [55] }, [2]],
    ["every offer of an excluded machine is left out", [offer({ id: 1, machine_id: 55 }), offer({ id: 2, machine_id: 55 }), offer({ id: 3, machine_id: 66 })], { excludeMachineIds: [55, 66] }, []],
    ["an offer over the price cap is left out (a server that ignored the filter)", [offer({ id: 1, dph_total: 1.0001 }), offer({ id: 2, dph_total: 1 })], {}, [2]],
    ["a GPU model not asked for is left out (a server that ignored the filter)", [offer({ id: 1, gpu_name: "RTX 3090", dph_total: 0.1 }), offer({ id: 2 })], {}, [2]],
    ["any of several models asked for", [offer({ id: 1, gpu_name: "RTX 5090", dph_total: 0.7 }), offer({ id: 2, gpu_name: "RTX 4090", dph_total: 0.8 }), offer({ id: 3, gpu_name: "L40S" })], { gpuNames: ["RTX 4090", "RTX 5090"] }, [1, 2]],
    ["a model name must match exactly, as Vast spells it", [offer({ id: 1, gpu_name: "rtx 4090" }), offer({ id: 2, gpu_name: "RTX 4090 " })], {}, []],
    ["an unreliable host is left out, however cheap (a server that ignored the filter)", [offer({ id: 1, reliability2: 0.5, dph_total: 0.1 }), offer({ id: 2 })], {}, [2]],
    ["an unverified host is left out when only verified ones are wanted", [offer({ id: 1, verified: false, dph_total: 0.1 }), offer({ id: 2, verified: true })], {}, [2]],
    ["an unverified host is fine when verification is not asked for", [offer({ id: 1, verified: false })], { verifiedOnly: false }, [1]],
    ["the wrong number of GPUs is left out", [offer({ id: 1, num_gpus: 2, dph_total: 0.1 }), offer({ id: 2 })], {}, [2]],
    ["a disk smaller than asked for is left out", [offer({ id: 1, disk_space: 16, dph_total: 0.1 }), offer({ id: 2, disk_space: 64 })], {}, [2]],
    ["a host in another country is left out when countries are given", [offer({ id: 1, geolocation: "Texas, US" }), offer({ id: 2, geolocation: "Hesse, DE" })], { geolocation: ["DE"] }, [2]],
    ["no offers, nothing to try", [], {}, []],
  ])("%s", (_, offers, overrides, expected) => {
    expect(ids(rankOffers(offers, { ...requirements, ...overrides }))).toEqual(expected);
  });

  it("leaves the offers it was given as they were", () => {
    const offers = [offer({ id: 1, dph_total: 0.9 }), offer({ id: 2, dph_total: 0.1 })];
    rankOffers(offers, requirements);
    expect(ids(offers)).toEqual([1, 2]);
  });
});

describe("offerQuery", () => {
  it("asks for the model, count, disk, reliability and price cap, rentable on-demand offers, cheapest first", () => {
    expect(offerQuery(requirements)).toEqual({
      gpu_name: { eq: "RTX 4090" },
      num_gpus: { eq: 1 },
      disk_space: { gte: 32 },
      reliability2: { gte: 0.95 },
      dph_total: { lte: 1 },
      rentable: { eq: true },
      rented: { eq: false },
      external: { eq: false },
      verified: { eq: true },
      order: [["dph_total", "asc"]],
      type: "on-demand",
      allocated_storage: 32,
      limit: 64,
    });
  });

  it.each<[string, Partial<GpuRequirements>, Record<string, unknown>, string[]]>([
    ["several models: any of them", { gpuNames: ["RTX 4090", "RTX 5090"] }, { gpu_name: { in: ["RTX 4090", "RTX 5090"] } }, []],
    ["unverified hosts allowed: no verified filter", { verifiedOnly: false }, {}, ["verified"]],
    ["datacenters only", { datacenterOnly: true }, { datacenter: { eq: true } }, []],
    ["a list of countries", { geolocation: ["US", "CA"] }, { geolocation: { in: ["US", "CA"] } }, []],
    ["no countries: anywhere", { geolocation: [] }, {}, ["geolocation"]],
    ["direct SSH: a host with a port to map", { directSsh: true }, { direct_port_count: { gte: 1 } }, []],
    ["prices the disk asked for (Vast's dph_total includes storage)", { diskGb: 200 }, { disk_space: { gte: 200 }, allocated_storage: 200 }, []],
    ["two GPUs on one machine", { gpuCount: 2 }, { num_gpus: { eq: 2 } }, []],
  ])("%s", (_, overrides, expected, absent) => {
    const query = offerQuery({ ...requirements, ...overrides });
    expect(query).toMatchObject(expected);
    for (const key of absent) expect(query).not.toHaveProperty(key);
    for (const key of ["datacenter", "direct_port_count"]) if (!(key in expected)) expect(query).not.toHaveProperty(key);
  });

  it("does not send excluded machines to Vast (they are dropped when ranking) and keeps the caller's lists its own", () => {
    const names = ["RTX 4090", "RTX 5090"];
    const query = offerQuery({ ...requirements, gpuNames: names, excludeMachineIds: [55] });
    expect(JSON.stringify(query)).not.toContain("55");
    (query.gpu_name as { in: string[] }).in.push("L40S");
    expect(names).toEqual(["RTX 4090", "RTX 5090"]);
  });

  it("is a search the local cloud's Vast accepts; its answer, ranked, starts with the cheapest reliable offer and skips an excluded machine", () => {
    const machines = machinesFrom(defaultInventory);
    const market = machines.map((m) => offerJson(m, 32, false));
    const fields = new Set(Object.keys(market[0]!));
    const search = (r: GpuRequirements) => rankOffers(searchOffers(market, parseSearchBody(offerQuery(r), fields)) as Offer[], r);

    const ranked = search(requirements);
    // RTX 4090 offers: $0.26 (unverified, reliability 0.93), $0.29, $0.32, $0.35 (one GPU); two GPUs at $0.62.
    expect(ranked.map((o) => o.dph_base)).toEqual([0.29, 0.32, 0.35]);
    expect(ranked.every((o) => o.reliability2 >= 0.95 && o.verified === true && o.num_gpus === 1)).toBe(true);
    const cheapest = ranked[0]!;
    expect(search({ ...requirements, excludeMachineIds: [cheapest.machine_id] }).map((o) => o.machine_id)).not.toContain(cheapest.machine_id);
    expect(search({ ...requirements, excludeMachineIds: [cheapest.machine_id] })[0]!.dph_base).toBe(0.32);
    expect(search({ ...requirements, maxPricePerHour: 0.2 })).toEqual([]);
  });
});

describe("checkGpuRequirements", () => {
  // The reasons' wording follows the settings' own rules (stacks/settings.ts); here, which property is named.
  it("accepts the seed's defaults", () => {
    expect(checkGpuRequirements(requirements)).toEqual([]);
  });

  it.each<[string, Partial<GpuRequirements>, string]>([
    ["no GPU model", { gpuNames: [] }, "gpuNames"],
    ["a blank GPU model", { gpuNames: ["RTX 4090", " "] }, "gpuNames"],
    ["no GPU", { gpuCount: 0 }, "gpuCount"],
    ["half a GPU", { gpuCount: 1.5 }, "gpuCount"],
    ["a disk below Vast's minimum of 8 GB", { diskGb: 7 }, "diskGb"],
    ["a free GPU", { maxPricePerHour: 0 }, "maxPricePerHour"],
    ["a reliability above 1", { minReliability: 1.01 }, "minReliability"],
    ["a reliability below 0", { minReliability: -0.1 }, "minReliability"],
    ["a country that is not a code", { geolocation: ["USA"] }, "geolocation"],
    ["a lower-case country code", { geolocation: ["us"] }, "geolocation"],
  ])("refuses %s, naming the property and why", (_, overrides, property) => {
    const failures = checkGpuRequirements({ ...requirements, ...overrides });
    expect(failures.map((f) => f.property)).toEqual([property]);
    expect(failures[0]!.reason.trim()).not.toBe("");
  });

  it("reports every bad property at once, each once", () => {
    const properties = checkGpuRequirements({}).map((f) => f.property);
    expect(properties).toEqual(expect.arrayContaining(["gpuNames", "gpuCount", "diskGb", "maxPricePerHour", "minReliability"]));
    expect(new Set(properties).size).toBe(properties.length);
  });
});

// Interruptible GPUs: Vast's bid offers, ranked by what the bid costs (the minimum bid plus the
// margin, and the storage), never by the on-demand price; an offer whose bid would pass the cap is
// left out, and one without a minimum bid cannot be bid on.
describe("interruptible rents", () => {
  const bidding: GpuRequirements = { ...requirements, rentType: "interruptible", bidMargin: 0.2 };

  it("search the bid offers, without the on-demand price filter", () => {
    const query = offerQuery(bidding);
    expect(query.type).toBe("bid");
    expect(query).not.toHaveProperty("dph_total");
    expect(offerQuery(requirements)).toMatchObject({ type: "on-demand", dph_total: { lte: 1 } });
  });

  it("bid the minimum bid plus the margin, and price the rent as the bid plus the storage", () => {
    const o = offer({ dph_base: 0.45, dph_total: 0.5, min_bid: 0.25 });
    expect(bidFor(o, bidding)).toBe(0.3);
    expect(totalPrice(o, bidding)).toBeCloseTo(0.35, 10);
    expect(totalPrice(o, requirements)).toBe(0.5);
    // Never under the floor: rounded up to 1/10,000 $/h.
    expect(bidFor(offer({ min_bid: 0.213333 }), { bidMargin: 0 })).toBe(0.2134);
  });

  it("rank by the bid's price, leave out bids over the cap and offers with no minimum bid", () => {
    const offers = [
      offer({ id: 1, dph_base: 0.3, dph_total: 0.35, min_bid: 0.2 }),
      offer({ id: 2, dph_base: 0.9, dph_total: 0.95, min_bid: 0.1 }),
      offer({ id: 3, dph_base: 2.0, dph_total: 2.05, min_bid: 0.9 }),
      offer({ id: 4, dph_base: 0.1, dph_total: 0.15 }),
    ];
    expect(ids(rankOffers(offers, bidding))).toEqual([2, 1]);
    expect(ids(rankOffers(offers, requirements))).toEqual([4, 1, 2]);
  });
});

