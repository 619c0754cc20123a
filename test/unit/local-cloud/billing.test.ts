// Vast's billing rules as the local cloud applies them: compute while running, storage unless
// offline, bandwidth per GB; a charge is read from the meter without moving it.
import { describe, expect, it } from "vitest";
import { balanceAfter, chargeOf, meterAt, startMeter, type Contract } from "../../../local-cloud/billing.ts";
import { defaultInventory, machinesFrom } from "../../../local-cloud/vast/inventory.ts";

const hour = 3_600_000;
const gib = 1024 ** 3;
// RTX 4090 at $0.32/h, storage $0.15/GB/month, bandwidth $0.005/GB up and $0.0025/GB down.
const machine = machinesFrom(defaultInventory)[0]!;

const contract = (over: Partial<Contract> = {}): Contract => ({
  id: 29_012_340, label: "billing", machine, diskGb: 72, createdAt: 0, actualStatus: "running",
  meter: { runningMs: 0, onlineMs: hour, since: hour }, traffic: { uploadedBytes: 2 * gib, downloadedBytes: 4 * gib }, ...over,
});

describe("the meter", () => {
  it("counts compute only while running and storage unless offline", () => {
    const m = startMeter(1000);
    expect(meterAt(m, "running", 1000 + hour)).toEqual({ runningMs: hour, onlineMs: hour, since: 1000 + hour });
    for (const status of ["stopped", "exited", "loading", "rebooting", "scheduling", null] as const) {
      expect(meterAt(m, status, 1000 + hour)).toEqual({ runningMs: 0, onlineMs: hour, since: 1000 + hour });
    }
    expect(meterAt(m, "offline", 1000 + hour)).toEqual({ runningMs: 0, onlineMs: 0, since: 1000 + hour });
  });

  it("adds up spans exactly, whichever way the time is cut", () => {
    const once = meterAt(startMeter(0), "running", 5 * hour + 17);
    const inSteps = [hour, 2 * hour + 3, 5 * hour + 17].reduce((m, t) => meterAt(m, "running", t), startMeter(0));
    expect(inSteps).toEqual(once);
  });
});

describe("charges", () => {
  it("prices gpu hours, disk hours and traffic as /charges/ reports them", () => {
    const charge = chargeOf(contract(), 2 * hour);
    expect(charge).toMatchObject({ type: "instance", source: "C.29012340", instance_id: 29_012_340, label: "billing", start: 0, end: 7200 });
    expect(charge.items).toEqual([
      { type: "gpu", quantity: 1, rate: 0.32, amount: 0.32, description: "1.000 hours at $0.3200/hour" },
      { type: "disk", quantity: 2, rate: (0.15 * 72) / 720, amount: 2 * ((0.15 * 72) / 720), description: "2.000 hours at $0.0150/hour" },
      { type: "bwu", quantity: 2, rate: 0.005, amount: 0.01, description: "2.000 GB at $0.0050/GB" },
      { type: "bwd", quantity: 4, rate: 0.0025, amount: 0.01, description: "4.000 GB at $0.0025/GB" },
    ]);
    expect(charge.amount).toBeCloseTo(0.32 + 0.03 + 0.01 + 0.01, 12);
  });

  it("bills a bid instead of the machine's price, and a missing label as null", () => {
    const charge = chargeOf(contract({ bid: 0.2, label: "" }), 2 * hour);
    expect(charge.items[0]).toMatchObject({ type: "gpu", rate: 0.2, amount: 0.2 });
    expect(charge.label).toBeNull();
  });

  it("stops at destruction, however late it is read", () => {
    const destroyed = contract({ destroyedAt: 3 * hour });
    expect(chargeOf(destroyed, 10 * hour)).toEqual(chargeOf(destroyed, 3 * hour));
    expect(chargeOf(destroyed, 10 * hour).end).toBe(10_800);
    expect(chargeOf(destroyed, 10 * hour).items[0]!.quantity).toBe(2);
  });

  it("reads without changing the contract: the same answer twice, later reads bill more", () => {
    const c = contract();
    const before = structuredClone(c);
    expect(chargeOf(c, 2 * hour)).toEqual(chargeOf(c, 2 * hour));
    expect(chargeOf(c, 3 * hour).amount).toBeGreaterThan(chargeOf(c, 2 * hour).amount);
    expect(c).toEqual(before);
  });

  it("takes the balance as credit less every charge", () => {
    const charges = [chargeOf(contract(), 2 * hour), chargeOf(contract({ id: 2, destroyedAt: hour }), 2 * hour)];
    expect(balanceAfter(100, charges)).toBeCloseTo(100 - charges[0]!.amount - charges[1]!.amount, 12);
    expect(balanceAfter(100, [])).toBe(100);
  });
});
