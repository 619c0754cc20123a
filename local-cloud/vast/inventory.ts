// The emulator's marketplace: machines with realistic GPUs, prices and host qualities, one offer
// (ask) each. Prices are in the range Vast.ai listed in 2026 for these GPUs; a test that needs a
// different market passes its own rows.

/** One row: a machine and its ask. Money in $, sizes as Vast reports them. */
export interface InventoryRow {
  readonly gpu: string;
  readonly gpus: number;
  /** $/h for the whole machine's GPUs (Vast's dph_base). */
  readonly dphBase: number;
  readonly reliability: number;
  readonly geolocation: string;
  readonly verified: boolean;
  readonly datacenter: boolean;
  readonly inetDownMbps: number;
  readonly inetUpMbps: number;
  /** $/GB/month */
  readonly storageCost: number;
  readonly diskSpaceGb: number;
}

interface GpuModel {
  readonly ramMb: number;
  readonly computeCap: number;
  readonly dlperf: number;
  readonly cpu: string;
  readonly cpuCores: number;
  readonly cpuRamMb: number;
}

const gpuModels: Readonly<Record<string, GpuModel>> = {
  "RTX 3090": { ramMb: 24576, computeCap: 860, dlperf: 22.1, cpu: "AMD Ryzen 9 5950X", cpuCores: 32, cpuRamMb: 64296 },
  "RTX 4090": { ramMb: 24564, computeCap: 890, dlperf: 39.8, cpu: "AMD Ryzen 9 7950X", cpuCores: 32, cpuRamMb: 128591 },
  "RTX 5090": { ramMb: 32607, computeCap: 1200, dlperf: 58.3, cpu: "AMD EPYC 9354 32-Core", cpuCores: 64, cpuRamMb: 257180 },
  "RTX A6000": { ramMb: 49140, computeCap: 860, dlperf: 27.4, cpu: "AMD EPYC 7443P 24-Core", cpuCores: 48, cpuRamMb: 257691 },
  "L40S": { ramMb: 46068, computeCap: 890, dlperf: 46.0, cpu: "Intel Xeon Gold 6448Y", cpuCores: 64, cpuRamMb: 515583 },
  "A100 SXM4": { ramMb: 81920, computeCap: 800, dlperf: 61.2, cpu: "AMD EPYC 7742 64-Core", cpuCores: 128, cpuRamMb: 1031870 },
  "H100 SXM": { ramMb: 81559, computeCap: 900, dlperf: 108.5, cpu: "Intel Xeon Platinum 8480+", cpuCores: 112, cpuRamMb: 2063500 },
  "Tesla V100": { ramMb: 16384, computeCap: 700, dlperf: 12.9, cpu: "Intel Xeon E5-2698 v4", cpuCores: 40, cpuRamMb: 257849 },
};

export const knownGpuNames = Object.keys(gpuModels);

const row = (gpu: string, gpus: number, dphBase: number, reliability: number, geolocation: string,
  verified = true, datacenter = false, inetDownMbps = 900, inetUpMbps = 700, storageCost = 0.15, diskSpaceGb = 500): InventoryRow =>
  ({ gpu, gpus, dphBase, reliability, geolocation, verified, datacenter, inetDownMbps, inetUpMbps, storageCost, diskSpaceGb });

export const defaultInventory: readonly InventoryRow[] = [
  row("RTX 4090", 1, 0.32, 0.995, "California, US"),
  row("RTX 4090", 1, 0.29, 0.981, "Ontario, CA"),
  row("RTX 4090", 1, 0.35, 0.998, "Texas, US", true, true, 2500, 2000, 0.2),
  row("RTX 4090", 2, 0.62, 0.992, "Bavaria, DE"),
  row("RTX 4090", 1, 0.26, 0.93, "Hanoi, VN", false),
  row("RTX 3090", 1, 0.16, 0.987, "Oregon, US"),
  row("RTX 3090", 1, 0.14, 0.962, "Quebec, CA"),
  row("RTX 5090", 1, 0.58, 0.991, "Washington, US", true, true, 5000, 4000, 0.25),
  row("RTX A6000", 1, 0.47, 0.996, "New Jersey, US", true, true),
  row("L40S", 1, 0.79, 0.997, "Virginia, US", true, true, 3000, 3000, 0.22),
  row("A100 SXM4", 1, 1.12, 0.999, "Iowa, US", true, true, 10000, 10000, 0.3, 2000),
  row("A100 SXM4", 8, 8.4, 0.998, "Utah, US", true, true, 10000, 10000, 0.3, 8000),
  row("H100 SXM", 1, 2.19, 0.999, "Texas, US", true, true, 10000, 10000, 0.35, 2000),
  row("H100 SXM", 1, 1.89, 0.972, "Noord-Holland, NL", true, false, 1000, 1000),
  row("Tesla V100", 1, 0.12, 0.955, "Yutakachō, Shinagawa District, Tokyo, JP"),
];

export interface Machine extends InventoryRow {
  readonly askId: number;
  readonly machineId: number;
  readonly hostId: number;
  readonly model: GpuModel;
}

export function machinesFrom(rows: readonly InventoryRow[]): Machine[] {
  return rows.map((r, i) => {
    const model = gpuModels[r.gpu];
    if (!model) throw new Error(`inventory row ${i}: unknown GPU '${r.gpu}' (known: ${knownGpuNames.join(", ")})`);
    return { ...r, model, askId: 4_120_000 + i * 37, machineId: 12_000 + i * 11, hostId: 80_000 + i * 7 };
  });
}
