// The cost model against worked examples from the providers' own published numbers: Vast's API
// reference (show_instance / show_instances examples, per-second billing, loading not billed), GCP's
// list prices, Backblaze's pricing page, and the seed guide's own cost line.
import { describe, expect, it } from "vitest";
import { b2Cost, formatUsd, standbyCost, standbyRate, totalUsd, vastHourlyRate, vastInstanceCost, vastStoragePerHour } from "../../../../clouds/cost/model.ts";
import { SettingError } from "../../../../lib/errors.ts";

const rtx4090 = { dphBase: 0.32, storageCostPerGbMonth: 0, diskGb: 32, inetUpCostPerGb: 0, inetDownCostPerGb: 0 };
const usd = (items: Parameters<typeof totalUsd>[0]) => totalUsd(items);

describe("Vast", () => {
  it("show_instance.yaml: storage_cost 0.149333 × 10 GB / 720 = storage_total_cost 0.002074074; dph_total 1.0020741", () => {
    const rates = { dphBase: 1.0, storageCostPerGbMonth: 0.149333, diskGb: 10, inetUpCostPerGb: 0, inetDownCostPerGb: 0 };
    expect(vastStoragePerHour(rates)).toBeCloseTo(0.002074074, 8);
    expect(vastHourlyRate(rates)).toBeCloseTo(1.0020740740740741, 6);
  });

  it("show_instances.yaml: 0.15 × 10.08 GB / 720 = 0.0021; 0.8 + 0.0021 = dph_total 0.8021", () => {
    const rates = { dphBase: 0.8, storageCostPerGbMonth: 0.15, diskGb: 10.08, inetUpCostPerGb: 0, inetDownCostPerGb: 0 };
    expect(vastHourlyRate(rates)).toBeCloseTo(0.8021, 6);
  });

  it("per-second billing: a 10-minute rental costs 10 minutes", () => {
    const items = vastInstanceCost("GPU", rtx4090, { runningSeconds: 600, existingSeconds: 600, bytesUp: 0, bytesDown: 0 });
    expect(usd(items)).toBeCloseTo(0.32 / 6, 10);
  });

  it("compute is not billed while loading, storage is", () => {
    const rates = { ...rtx4090, storageCostPerGbMonth: 0.15 };
    const items = vastInstanceCost("GPU", rates, { runningSeconds: 600, existingSeconds: 720, bytesUp: 0, bytesDown: 0 });
    expect(items.find((i) => i.what.startsWith("compute"))!.usd).toBeCloseTo(0.32 * (600 / 3600), 10);
    expect(items.find((i) => i.what.startsWith("storage"))!.usd).toBeCloseTo(((0.15 * 32) / 720) * (720 / 3600), 10);
  });

  it("bandwidth is per GB moved (GB = 2^30 bytes, as Vast's CLI converts ×1024 to TB), outside dph_total", () => {
    const rates = { ...rtx4090, inetUpCostPerGb: 0.02, inetDownCostPerGb: 0.01 };
    const items = vastInstanceCost("GPU", rates, { runningSeconds: 0, existingSeconds: 0, bytesUp: 2 * 2 ** 30, bytesDown: 3 * 2 ** 30 });
    expect(usd(items)).toBeCloseTo(2 * 0.02 + 3 * 0.01, 10);
    expect(vastHourlyRate(rates)).toBe(0.32);
  });

  it("the seed guide's line: $0.32/h, 0.049 h, 2 GPUs → $0.0314", () => {
    const oneGpu = vastInstanceCost("GPU", rtx4090, { runningSeconds: 0.049 * 3600, existingSeconds: 0.049 * 3600, bytesUp: 0, bytesDown: 0 });
    expect(formatUsd(2 * usd(oneGpu))).toBe("$0.0314");
  });
});

describe("GCP standby", () => {
  it("e2-medium on demand, us-central1 list price $0.033503/h: a 730-hour month is $24.46", () => {
    const rate = standbyRate({ machineType: "e2-medium", diskGb: 10, spot: false });
    expect(rate.machinePerHour * 730).toBeCloseTo(24.46, 2);
  });

  it("pd-balanced at $0.10/GB-month: 100 GB for a 730-hour month is $10.00", () => {
    const rate = standbyRate({ machineType: "e2-medium", diskGb: 100, spot: true });
    expect(rate.diskPerHour * 730).toBeCloseTo(10, 6);
  });

  it("e2-medium Spot at $0.02212/h (SkyPilot catalog) for half an hour, plus 20 GB disk", () => {
    const rate = standbyRate({ machineType: "e2-medium", diskGb: 20, spot: true });
    const items = standbyCost("standby", rate, 1800);
    expect(items[0]!.usd).toBeCloseTo(0.01106, 6);
    expect(items[1]!.usd).toBeCloseTo((20 * 0.1 * 0.5) / 730, 8);
  });

  it("a machine type without a known price is an error naming the setting that fixes it", () => {
    expect(() => standbyRate({ machineType: "n2-standard-8", diskGb: 20, spot: true })).toThrow(SettingError);
    expect(() => standbyRate({ machineType: "n2-standard-8", diskGb: 20, spot: true })).toThrow(/dumont:standbyHourlyRate/);
    expect(standbyRate({ machineType: "n2-standard-8", diskGb: 20, spot: true, hourlyOverride: 0.05 }).machinePerHour).toBe(0.05);
  });
});

describe("Backblaze B2", () => {
  it("$6.95/TB per 30 days: 1 TB for 30 days is $6.95, or $6.8805 with the first 10 GB free", () => {
    const month = 720 * 3600;
    expect(usd(b2Cost("b", { storedBytes: 1e12, seconds: month, egressBytes: 0, transactions: 0 }))).toBeCloseTo(6.95, 6);
    expect(usd(b2Cost("b", { storedBytes: 1e12, seconds: month, egressBytes: 0, transactions: 0, countFreeStorage: true }))).toBeCloseTo(6.8805, 6);
  });

  it("egress is free up to 3× what is stored, then $0.01/GB; transactions are free", () => {
    const stored = 100e9;
    expect(usd(b2Cost("b", { storedBytes: stored, seconds: 0, egressBytes: 3 * stored, transactions: 10_000 }))).toBe(0);
    expect(usd(b2Cost("b", { storedBytes: stored, seconds: 0, egressBytes: 4 * stored, transactions: 0 }))).toBeCloseTo(100 * 0.01, 8);
  });
});
