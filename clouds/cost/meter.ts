// A running tally of what a run has cost so far: each rented thing is added when it appears and
// closed when it is gone; bytes moved are added as they move. `items(now)` prices everything at any
// moment, which is what lets a run stop itself when it reaches its cost cap.
//
// Times are what the controller sees: an instance counts from the moment its rent was asked for,
// and as running from then on (compute is not billed while loading, but the controller cannot see
// that moment exactly). The model therefore errs high, which is the safe side for a cap.
import { b2Cost, standbyCost, totalUsd, vastInstanceCost, type LineItem, type StandbyRate, type VastRates } from "./model.ts";

interface MeteredInstance {
  readonly id: number;
  readonly rates: VastRates;
  readonly from: number;
  to?: number;
  bytesUp: number;
  bytesDown: number;
}

interface MeteredStandby {
  readonly rate: StandbyRate;
  readonly from: number;
  to?: number;
  readonly label: string;
}

export class CostMeter {
  private readonly instances = new Map<number, MeteredInstance>();
  private readonly standbys: MeteredStandby[] = [];
  private snapshot = { bytes: 0, from: 0, egressBytes: 0, transactions: 0 };
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** A GPU instance exists from `since` (ms) on. Adding one twice keeps the first. */
  gpu(id: number, rates: VastRates, since = this.clock()): void {
    if (!this.instances.has(id)) this.instances.set(id, { id, rates, from: since, bytesUp: 0, bytesDown: 0 });
  }

  gpuGone(id: number, at = this.clock()): void {
    const instance = this.instances.get(id);
    if (instance && instance.to === undefined) instance.to = at;
  }

  transfer(id: number, direction: "up" | "down", bytes: number): void {
    const instance = this.instances.get(id);
    if (!instance) return;
    if (direction === "up") instance.bytesUp += bytes;
    else instance.bytesDown += bytes;
  }

  standby(label: string, rate: StandbyRate, since = this.clock()): void {
    if (!this.standbys.some((s) => s.label === label && s.to === undefined)) this.standbys.push({ label, rate, from: since });
  }

  standbyGone(label: string, at = this.clock()): void {
    for (const s of this.standbys) if (s.label === label && s.to === undefined) s.to = at;
  }

  /** The snapshot's bytes in the bucket from now on, and the calls that put them there. */
  snapshotStored(bytes: number, transactions: number, at = this.clock()): void {
    if (this.snapshot.from === 0) this.snapshot.from = at;
    this.snapshot.bytes += bytes;
    this.snapshot.transactions += transactions;
  }

  snapshotDownloaded(bytes: number, transactions: number): void {
    this.snapshot.egressBytes += bytes;
    this.snapshot.transactions += transactions;
  }

  /** GPU instance ids, in the order they appeared. */
  gpuIds(): number[] {
    return [...this.instances.keys()];
  }

  items(now = this.clock()): LineItem[] {
    const items: LineItem[] = [];
    for (const i of this.instances.values()) {
      const seconds = Math.max(0, ((i.to ?? now) - i.from) / 1000);
      items.push(...vastInstanceCost(`GPU ${i.id}`, i.rates, { runningSeconds: seconds, existingSeconds: seconds, bytesUp: i.bytesUp, bytesDown: i.bytesDown }));
    }
    for (const s of this.standbys) items.push(...standbyCost(s.label, s.rate, Math.max(0, ((s.to ?? now) - s.from) / 1000)));
    if (this.snapshot.from > 0) {
      items.push(...b2Cost("snapshot bucket", {
        storedBytes: this.snapshot.bytes, seconds: Math.max(0, (now - this.snapshot.from) / 1000),
        egressBytes: this.snapshot.egressBytes, transactions: this.snapshot.transactions,
      }));
    }
    return items;
  }

  total(now = this.clock()): number {
    return totalUsd(this.items(now));
  }
}
