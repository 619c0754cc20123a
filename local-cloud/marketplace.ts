// The marketplace: one ask per inventory machine, on offer while nobody holds it. The holder is one
// of our instances, or "someone else" after an offer-taken fault, until the faults are cleared.
import type { FaultBook } from "./faults.ts";
import { VastError } from "./vast/error.ts";
import { machinesFrom, type InventoryRow, type Machine } from "./vast/inventory.ts";
import { offerJson, type Offer } from "./vast/offers.ts";

export class Marketplace {
  private readonly machines: readonly Machine[];
  private readonly faults: FaultBook;
  /** Ask id → the instance renting it, or "taken" by another renter (a fault). */
  private readonly holders = new Map<number, number | "taken">();

  constructor(inventory: readonly InventoryRow[], faults: FaultBook) {
    this.machines = machinesFrom(inventory);
    this.faults = faults;
  }

  /** How many asks there are, held or not. */
  get size(): number {
    return this.machines.length;
  }

  /** Offers that can be rented now, priced for `allocatedStorageGb`. */
  availableOffers(allocatedStorageGb: number): Offer[] {
    return this.machines.filter((m) => !this.holders.has(m.askId)).map((m) => offerJson(m, allocatedStorageGb, false));
  }

  /** Every field an offer has: the keys a search may filter or order on. */
  offerFields(): ReadonlySet<string> {
    return new Set(Object.keys(offerJson(this.machines[0]!, 8, false)));
  }

  /**
   * The machine behind an ask nobody holds: 404 for an unknown ask, 410 for a held one. An armed
   * offer-taken fault for the ask fires here: someone else got it first, and keeps it.
   */
  rentable(askId: number): Machine {
    const machine = this.machines.find((m) => m.askId === askId);
    if (!machine) throw new VastError(404, "invalid_args", `error 404/3603: no_such_ask Instance type by id ${askId} is not available.`);
    if (this.holders.has(askId) || this.faults.take("offer-taken", String(askId))) {
      if (!this.holders.has(askId)) this.holders.set(askId, "taken");
      throw new VastError(410, "no_such_ask", `error 410/3907: no_such_ask Instance type ${askId} is no longer available.`);
    }
    return machine;
  }

  rentTo(askId: number, instanceId: number): void {
    this.holders.set(askId, instanceId);
  }

  release(askId: number): void {
    this.holders.delete(askId);
  }

  /** Puts back the asks faults gave to someone else. */
  releaseTaken(): void {
    for (const [askId, holder] of this.holders) if (holder === "taken") this.holders.delete(askId);
  }
}
