// The cost model: from rates and usage (seconds, bytes) to line items, one per thing a provider bills.
// Pure functions, so the worked examples from the providers' own published numbers are unit tests.
import { SettingError } from "../../lib/errors.ts";
import { settingLabel } from "../../contract/settings-schema.ts";
import { b2BytesPerGb, b2Rates, gcpDiskRates, gcpMachineRates, hoursPerMonth, standbyDiskType, vastBytesPerGb } from "./rates.ts";

export interface LineItem {
  readonly provider: "vast" | "gcp" | "b2";
  /** What was billed: "GPU 1234", "standby", "snapshot bucket". */
  readonly resource: string;
  /** compute, storage, bandwidth up, … */
  readonly what: string;
  readonly quantity: number;
  readonly unit: string;
  readonly rate: number;
  readonly rateUnit: string;
  readonly usd: number;
}

/** What a Vast instance costs, as the rental states it (the provider's outputs carry these). */
export interface VastRates {
  /** $/h of compute while running: dph_base, or the bid of an interruptible instance. */
  readonly dphBase: number;
  /** $/GB/month of the allocated disk, billed while the instance exists. */
  readonly storageCostPerGbMonth: number;
  readonly diskGb: number;
  readonly inetUpCostPerGb: number;
  readonly inetDownCostPerGb: number;
  /** An interruptible instance's on-demand compute price at the same offer (dphBase is then its bid). */
  readonly onDemandPerHour?: number;
}

export interface VastUsage {
  /** Seconds in the running state (compute is not billed while loading). */
  readonly runningSeconds: number;
  /** Seconds from creation to destruction (storage is billed in every state but offline). */
  readonly existingSeconds: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** Vast's storage $/h for a disk: storage_cost × disk / 720 (its storage_total_cost). */
export function vastStoragePerHour(rates: Pick<VastRates, "storageCostPerGbMonth" | "diskGb">): number {
  return (rates.storageCostPerGbMonth * rates.diskGb) / hoursPerMonth.vast;
}

/** Vast's dph_total: compute plus storage at the allocated disk, bandwidth excluded. */
export function vastHourlyRate(rates: VastRates): number {
  return rates.dphBase + vastStoragePerHour(rates);
}

export function vastInstanceCost(resource: string, rates: VastRates, usage: VastUsage): LineItem[] {
  const runningHours = usage.runningSeconds / 3600;
  const existingHours = usage.existingSeconds / 3600;
  const upGb = usage.bytesUp / vastBytesPerGb;
  const downGb = usage.bytesDown / vastBytesPerGb;
  const storagePerHour = vastStoragePerHour(rates);
  return [
    { provider: "vast", resource, what: "compute (running)", quantity: runningHours, unit: "h", rate: rates.dphBase, rateUnit: "$/h", usd: runningHours * rates.dphBase },
    { provider: "vast", resource, what: `storage (${rates.diskGb} GB)`, quantity: existingHours, unit: "h", rate: storagePerHour, rateUnit: "$/h", usd: existingHours * storagePerHour },
    { provider: "vast", resource, what: "bandwidth up", quantity: upGb, unit: "GB", rate: rates.inetUpCostPerGb, rateUnit: "$/GB", usd: upGb * rates.inetUpCostPerGb },
    { provider: "vast", resource, what: "bandwidth down", quantity: downGb, unit: "GB", rate: rates.inetDownCostPerGb, rateUnit: "$/GB", usd: downGb * rates.inetDownCostPerGb },
  ];
}

export interface StandbyRate {
  readonly machinePerHour: number;
  readonly diskPerHour: number;
  readonly machineType: string;
  readonly diskGb: number;
  readonly spot: boolean;
  /** Where the machine rate came from, for the report. */
  readonly source: string;
}

export interface StandbyPricing {
  readonly machineType: string;
  readonly diskGb: number;
  readonly spot: boolean;
  /** dumont:standbyHourlyRate, when the stack states its own rate. */
  readonly hourlyOverride?: number;
}

/** The standby's $/h: its machine (Spot or on demand) and its boot disk. */
export function standbyRate(p: StandbyPricing): StandbyRate {
  const diskPerHour = (p.diskGb * gcpDiskRates[standbyDiskType]!) / hoursPerMonth.gcp;
  const base = { machineType: p.machineType, diskGb: p.diskGb, spot: p.spot, diskPerHour };
  if (p.hourlyOverride !== undefined) return { ...base, machinePerHour: p.hourlyOverride, source: "dumont:standbyHourlyRate" };
  const listed = gcpMachineRates[p.machineType];
  const rate = p.spot ? listed?.spot : listed?.onDemand;
  if (rate === undefined) {
    throw new SettingError(
      settingLabel("standbyHourlyRate"),
      `no published ${p.spot ? "Spot" : "on-demand"} price for ${p.machineType} is known to Dumont`,
      `set the standby's $/h from the GCP pricing page: pulumi config set dumont:standbyHourlyRate 0.0xx (known: ${Object.keys(gcpMachineRates).join(", ")})`,
    );
  }
  return { ...base, machinePerHour: rate, source: `GCP ${p.spot ? "Spot" : "on-demand"} list price, us-central1` };
}

export function standbyCost(resource: string, rate: StandbyRate, seconds: number): LineItem[] {
  const hours = seconds / 3600;
  return [
    { provider: "gcp", resource, what: `${rate.machineType}${rate.spot ? " Spot" : ""}`, quantity: hours, unit: "h", rate: rate.machinePerHour, rateUnit: "$/h", usd: hours * rate.machinePerHour },
    { provider: "gcp", resource, what: `${standbyDiskType} ${rate.diskGb} GB`, quantity: hours, unit: "h", rate: rate.diskPerHour, rateUnit: "$/h", usd: hours * rate.diskPerHour },
  ];
}

export interface B2Usage {
  /** Bytes kept, and for how long. */
  readonly storedBytes: number;
  readonly seconds: number;
  /** Bytes downloaded (restores). */
  readonly egressBytes: number;
  readonly transactions: number;
  /**
   * Whether B2's free allowance (first 10 GB stored) may be counted. It is per account, so a run
   * that cannot know what else the account stores does not count it.
   */
  readonly countFreeStorage?: boolean;
}

export function b2Cost(resource: string, usage: B2Usage): LineItem[] {
  const storedGb = usage.storedBytes / b2BytesPerGb;
  const billableGb = Math.max(0, storedGb - (usage.countFreeStorage ? b2Rates.freeStorageGb : 0));
  const months = usage.seconds / 3600 / hoursPerMonth.b2;
  const perGbMonth = b2Rates.storagePerTbMonth / 1000;
  // Egress is free up to 3× the average stored over the month; only what exceeds that is billed.
  const egressGb = usage.egressBytes / b2BytesPerGb;
  const billableEgressGb = Math.max(0, egressGb - b2Rates.freeEgressMultipleOfStorage * storedGb);
  return [
    { provider: "b2", resource, what: "storage", quantity: billableGb * months, unit: "GB-month", rate: perGbMonth, rateUnit: "$/GB-month", usd: billableGb * months * perGbMonth },
    { provider: "b2", resource, what: "egress beyond 3× stored", quantity: billableEgressGb, unit: "GB", rate: b2Rates.egressPerGb, rateUnit: "$/GB", usd: billableEgressGb * b2Rates.egressPerGb },
    { provider: "b2", resource, what: "transactions", quantity: usage.transactions, unit: "calls", rate: b2Rates.perTransaction, rateUnit: "$/call", usd: usage.transactions * b2Rates.perTransaction },
  ];
}

/** $/month of keeping `bytes` in B2 (no free allowance counted). */
export function b2MonthlyStorage(bytes: number): number {
  return (bytes / b2BytesPerGb) * (b2Rates.storagePerTbMonth / 1000);
}

export function totalUsd(items: readonly LineItem[]): number {
  return items.reduce((sum, item) => sum + item.usd, 0);
}

/** Dollars as the seed printed them ($0.0314), with small non-zero amounts still visible. */
export function formatUsd(usd: number): string {
  if (usd > 0 && usd < 0.000001) return "<$0.000001";
  if (usd > 0 && usd < 0.0001) return `$${usd.toFixed(6)}`;
  return `$${usd.toFixed(4)}`;
}
