// A running tally of what a run has cost so far: each rented thing is added when it appears and
// closed when it is gone; bytes moved are added as they move. `items(now)` prices everything at any
// moment, which is what lets a run stop itself when it reaches its cost cap.
//
// Times are Vast's rules with the provider's own clocks (contract/stack-outputs.ts): storage from
// the rent request until the instance is gone, compute from when Vast first showed it running until
// it was stopped or gone. Where a time is unknown (an older stack) the earlier one stands in, so
// the model errs high, the safe side for a cap.
import { b2Cost, standbyCost, totalUsd, vastInstanceCost, type LineItem, type StandbyRate, type VastRates } from "./model.ts";

interface MeteredInstance {
  readonly id: number;
  readonly rates: VastRates;
  readonly from: number;
  /** Compute is billed from here (Vast showed it running) … */
  readonly runningFrom: number;
  /** … until it was stopped (or `to`). */
  stoppedAt?: number;
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

/** Seconds an instance's compute is billed: from running until stopped or gone. */
function runningSeconds(i: MeteredInstance, now: number): number {
  const end = i.to ?? now;
  return Math.max(0, (Math.min(end, i.stoppedAt ?? end) - i.runningFrom) / 1000);
}

export class CostMeter {
  private readonly instances = new Map<number, MeteredInstance>();
  private readonly standbys: MeteredStandby[] = [];
  private snapshot = { bytes: 0, from: 0, egressBytes: 0, transactions: 0 };
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /**
   * A GPU instance exists from `since` (ms) on, and runs from `runningSince` (default: `since`).
   * Adding one twice keeps the first.
   */
  gpu(id: number, rates: VastRates, since = this.clock(), runningSince = since): void {
    if (!this.instances.has(id)) this.instances.set(id, { id, rates, from: since, runningFrom: Math.max(since, runningSince), bytesUp: 0, bytesDown: 0 });
  }

  /** The instance was stopped (fenced): compute stops; storage goes on until it is gone. */
  gpuStopped(id: number, at = this.clock()): void {
    const instance = this.instances.get(id);
    if (instance && instance.stoppedAt === undefined) instance.stoppedAt = at;
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
      const existingSeconds = Math.max(0, ((i.to ?? now) - i.from) / 1000);
      items.push(...vastInstanceCost(`GPU ${i.id}`, i.rates, { runningSeconds: runningSeconds(i, now), existingSeconds, bytesUp: i.bytesUp, bytesDown: i.bytesDown }));
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

  /**
   * The interruptible GPUs' compute at their bids against the same running hours on demand at the
   * same offers; undefined when none was interruptible.
   */
  interruptibleCompute(now = this.clock()): { atBidsUsd: number; onDemandUsd: number } | undefined {
    const bidding = [...this.instances.values()].filter((i) => i.rates.onDemandPerHour !== undefined);
    if (bidding.length === 0) return undefined;
    let atBidsUsd = 0;
    let onDemandUsd = 0;
    for (const i of bidding) {
      const hours = runningSeconds(i, now) / 3600;
      atBidsUsd += hours * i.rates.dphBase;
      onDemandUsd += hours * i.rates.onDemandPerHour!;
    }
    return { atBidsUsd, onDemandUsd };
  }

  total(now = this.clock()): number {
    return totalUsd(this.items(now));
  }
}
