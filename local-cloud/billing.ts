// What a contract costs, by Vast's rules: compute (the GPUs' $/h, or the bid) while the instance is
// running, storage ($/GB/month over 720 h) unless its machine is offline, and bandwidth per GB
// through its link. The meter moves only when the status changes (or the contract ends); a charge
// is worked out from the meter and the time since, so reading one changes nothing.
import type { ActualStatus } from "./vast/instance-json.ts";
import type { Machine } from "./vast/inventory.ts";
import { bandwidthCosts, storageDph } from "./vast/offers.ts";

/** Billable time accrued until `since` (epoch ms); after that, the current status decides. */
export interface Meter {
  readonly runningMs: number;
  readonly onlineMs: number;
  readonly since: number;
}

/** Bytes through the host's link, as last sampled. */
export interface Traffic {
  readonly uploadedBytes: number;
  readonly downloadedBytes: number;
}

export const startMeter = (now: number): Meter => ({ runningMs: 0, onlineMs: 0, since: now });

/** The meter at `now` of a contract whose status has been `status` since the meter's `since`. */
export function meterAt(meter: Meter, status: ActualStatus, now: number): Meter {
  const elapsed = now - meter.since;
  return {
    runningMs: meter.runningMs + (status === "running" ? elapsed : 0),
    onlineMs: meter.onlineMs + (status !== "offline" ? elapsed : 0),
    since: now,
  };
}

/** What is billed of a contract: the instance record satisfies this. */
export interface Contract {
  readonly id: number;
  readonly label: string;
  readonly machine: Machine;
  readonly diskGb: number;
  readonly bid?: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms; the meter stops here. */
  readonly destroyedAt?: number;
  readonly actualStatus: ActualStatus;
  readonly meter: Meter;
  readonly traffic: Traffic;
}

export interface ChargeItem {
  readonly type: string;
  readonly quantity: number;
  readonly rate: number;
  readonly amount: number;
  readonly description: string;
}

/** One contract's line of GET /charges/. */
export interface Charge {
  readonly type: "instance";
  readonly source: string;
  readonly instance_id: number;
  readonly label: string | null;
  readonly start: number;
  readonly end: number;
  readonly amount: number;
  readonly items: readonly ChargeItem[];
}

const gib = 1024 ** 3;
const hours = (ms: number) => ms / 3_600_000;

function item(type: string, quantity: number, rate: number, unit: string): ChargeItem {
  return { type, quantity, rate, amount: quantity * rate, description: `${quantity.toFixed(3)} ${unit} at $${rate.toFixed(4)}/${unit.replace(/s$/, "")}` };
}

/** A contract's charges (gpu, disk, bwu, bwd) at `now`, as /charges/ reports them. */
export function chargeOf(contract: Contract, now: number): Charge {
  const end = contract.destroyedAt ?? now;
  const m = meterAt(contract.meter, contract.actualStatus, end);
  const bandwidth = bandwidthCosts(contract.machine);
  const items = [
    item("gpu", hours(m.runningMs), contract.bid ?? contract.machine.dphBase, "hours"),
    item("disk", hours(m.onlineMs), storageDph(contract.machine.storageCost, contract.diskGb), "hours"),
    item("bwu", contract.traffic.uploadedBytes / gib, bandwidth.up, "GB"),
    item("bwd", contract.traffic.downloadedBytes / gib, bandwidth.down, "GB"),
  ];
  return {
    type: "instance", source: `C.${contract.id}`, instance_id: contract.id, label: contract.label || null,
    start: contract.createdAt / 1000, end: end / 1000,
    amount: items.reduce((sum, i) => sum + i.amount, 0), items,
  };
}

/** Credit left after the charges. */
export function balanceAfter(creditUsd: number, charges: readonly Charge[]): number {
  return creditUsd - charges.reduce((sum, c) => sum + c.amount, 0);
}
