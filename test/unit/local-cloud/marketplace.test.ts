// The marketplace: an ask is on offer while nobody holds it; an offer-taken fault gives it to
// someone else until the faults are cleared.
import { describe, expect, it } from "vitest";
import { FaultBook } from "../../../local-cloud/faults.ts";
import { Marketplace } from "../../../local-cloud/marketplace.ts";
import { VastError } from "../../../local-cloud/vast/error.ts";
import { defaultInventory, machinesFrom } from "../../../local-cloud/vast/inventory.ts";

const asks = machinesFrom(defaultInventory).map((m) => m.askId);
const [first, second] = asks as [number, number];

function market() {
  const faults = new FaultBook();
  return { faults, market: new Marketplace(defaultInventory, faults) };
}

const offered = (m: Marketplace) => m.availableOffers(8).map((o) => o.id);

function refusal(f: () => unknown): Record<string, unknown> & { status: number } {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(VastError);
    return { status: (error as VastError).status, ...(error as VastError).body };
  }
  throw new Error("expected a refusal");
}

describe("the marketplace", () => {
  it("offers every machine of the inventory, priced for the storage asked", () => {
    const { market: m } = market();
    expect(m.size).toBe(defaultInventory.length);
    expect(offered(m)).toEqual(asks);
    const [small, large] = [m.availableOffers(8)[0]!, m.availableOffers(100)[0]!];
    expect(large.dph_total as number).toBeGreaterThan(small.dph_total as number);
    expect(m.offerFields()).toContain("gpu_name");
    expect(m.offerFields()).toContain("dph_total");
  });

  it("takes a rented ask off the market until it is released", () => {
    const { market: m } = market();
    expect(m.rentable(first).askId).toBe(first);
    m.rentTo(first, 29_012_000);
    expect(offered(m)).not.toContain(first);
    expect(refusal(() => m.rentable(first))).toEqual({
      status: 410, success: false, error: "no_such_ask", msg: `error 410/3907: no_such_ask Instance type ${first} is no longer available.`,
    });
    m.release(first);
    expect(offered(m)).toContain(first);
  });

  it("answers 404 for an ask that does not exist", () => {
    expect(refusal(() => market().market.rentable(999))).toEqual({
      status: 404, success: false, error: "invalid_args", msg: "error 404/3603: no_such_ask Instance type by id 999 is not available.",
    });
  });

  it("gives an ask to someone else when an offer-taken fault fires, until the faults are cleared", () => {
    const { faults, market: m } = market();
    faults.arm({ kind: "offer-taken", target: String(first) });
    expect(m.rentable(second).askId).toBe(second);
    expect(refusal(() => m.rentable(first)).status).toBe(410);
    expect(faults.list()).toEqual([]);
    // Taken for good: the fault has fired, the ask stays gone.
    expect(refusal(() => m.rentable(first)).status).toBe(410);
    expect(offered(m)).not.toContain(first);
    m.releaseTaken();
    expect(offered(m)).toContain(first);
  });

  it("does not spend a fault on an ask that is already held, nor release our own rentals with the faults", () => {
    const { faults, market: m } = market();
    m.rentTo(first, 29_012_000);
    faults.arm({ kind: "offer-taken", target: String(first) });
    expect(refusal(() => m.rentable(first)).status).toBe(410);
    expect(faults.list()).toHaveLength(1);
    m.releaseTaken();
    expect(offered(m)).not.toContain(first);
  });
});
