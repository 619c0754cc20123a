// What the providers charge, as published. Vast prices every instance itself (its own dph_base,
// storage_cost and bandwidth costs come with the rental, so they are never tabulated here); GCP and
// B2 publish list prices, which are kept here with their source and date. GCP Spot prices move (Google
// may change them once a day), so a stack can override the standby's rate with dumont:standbyHourlyRate.

/** Hours in a month as each provider counts them for monthly prices. */
export const hoursPerMonth = {
  /** Vast: storage_cost is $/GB/month over a 30-day month ("storage_cost × disk / 720" = storage_total_cost). */
  vast: 720,
  /** GCP: monthly disk prices are prorated over 730 hours. */
  gcp: 730,
  /** B2: "$/TB per 30 days". */
  b2: 720,
} as const;

/** Vast's bandwidth prices are $/GB; its CLI turns them into $/TB with ×1024, so a GB is 2^30 bytes. */
export const vastBytesPerGb = 2 ** 30;
/** Backblaze prices in decimal units ($/TB, 1 TB = 1000 GB = 10^12 bytes). */
export const b2BytesPerGb = 1e9;

export interface GcpMachineRate {
  /** $/hour on demand, us-central1 list price. */
  readonly onDemand: number;
  /** $/hour as a Spot VM, where a published figure is known. */
  readonly spot?: number;
}

/**
 * us-central1 list prices (cloud.google.com/compute/vm-instance-pricing, read 2026-11). Spot for
 * e2-medium: SkyPilot's catalog (catalogs/v7/gcp/vms.csv), $0.02212/h in us-central1/us-east1/
 * us-west1. Other regions differ; set dumont:standbyHourlyRate for an exact figure.
 */
export const gcpMachineRates: Readonly<Record<string, GcpMachineRate>> = {
  "e2-micro": { onDemand: 0.008376 },
  "e2-small": { onDemand: 0.016751 },
  "e2-medium": { onDemand: 0.033503, spot: 0.02212 },
  "e2-standard-2": { onDemand: 0.067006 },
  "e2-standard-4": { onDemand: 0.134012 },
};

/** $/GB/month of persistent disk, us-central1 (cloud.google.com/compute/disks-image-pricing). */
export const gcpDiskRates: Readonly<Record<string, number>> = {
  "pd-standard": 0.04,
  "pd-balanced": 0.1,
  "pd-ssd": 0.17,
};

/** The standby's boot disk type (components/standby/gcp-standby.ts). */
export const standbyDiskType = "pd-balanced";

/**
 * Backblaze B2 pay-as-you-go (backblaze.com/cloud-storage/pricing, as quoted 2026-09): $6.95 per TB
 * per 30 days, the first 10 GB free; egress free up to 3× the average stored, then $0.01/GB; class
 * A, B and C transactions free.
 */
export const b2Rates = {
  storagePerTbMonth: 6.95,
  freeStorageGb: 10,
  egressPerGb: 0.01,
  freeEgressMultipleOfStorage: 3,
  perTransaction: 0,
} as const;
