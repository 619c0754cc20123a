// The journey's steps, in order, for each variant. The first six are the seed guide's Test 1
// (find offer … validate); the standby steps are its Test 3 (GPU → CPU standby → new GPU). "both"
// runs Test 1, then Test 3 on the GPU Test 1 failed over to.

export type Variant = "snapshot" | "standby" | "both";
export const variants: readonly Variant[] = ["snapshot", "standby", "both"];

export type StepId =
  | "find-offer" | "create-gpu" | "create-files" | "create-snapshot" | "failover" | "validate"
  | "standby-sync" | "gpu-lost" | "standby-associations" | "standby-failover" | "standby-validate";

export interface StepDefinition {
  readonly id: StepId;
  readonly title: string;
  /** The seed metric that holds this step's seconds, where the seed had one. */
  readonly metric?: string;
}

const definitions: Record<StepId, StepDefinition> = {
  "find-offer": { id: "find-offer", title: "Find the cheapest matching GPU offer", metric: "time_find_offer" },
  "create-gpu": { id: "create-gpu", title: "Create the GPU environment and wait for SSH", metric: "time_create_gpu" },
  "create-files": { id: "create-files", title: "Create test files and record their MD5s", metric: "time_create_files" },
  "create-snapshot": { id: "create-snapshot", title: "Snapshot /workspace to the bucket (LZ4)", metric: "time_create_snapshot" },
  failover: { id: "failover", title: "Fail over to a new GPU and restore the snapshot", metric: "time_failover" },
  validate: { id: "validate", title: "Validate every MD5 on the new GPU", metric: "time_validate" },
  "standby-sync": { id: "standby-sync", title: "Sync /workspace to the CPU standby", metric: "time_standby_sync" },
  "gpu-lost": { id: "gpu-lost", title: "Lose the GPU (destroy it, as the seed's Test 3 does)", metric: "time_gpu_lost" },
  "standby-associations": { id: "standby-associations", title: "Check the standby holds the GPU's data" },
  "standby-failover": { id: "standby-failover", title: "Fail over from the CPU standby to a new GPU", metric: "time_standby_failover" },
  "standby-validate": { id: "standby-validate", title: "Validate every MD5 on the standby's new GPU", metric: "time_standby_validate" },
};

export function journeySteps(variant: Variant): StepDefinition[] {
  const test1: StepId[] = ["find-offer", "create-gpu", "create-files", "create-snapshot", "failover", "validate"];
  const test3: StepId[] = ["standby-sync", "gpu-lost", "standby-associations", "standby-failover", "standby-validate"];
  const ids: StepId[] = variant === "snapshot" ? test1
    : variant === "standby" ? ["find-offer", "create-gpu", "create-files", ...test3]
    : [...test1, ...test3];
  return ids.map((id) => definitions[id]);
}

export function usesStandby(variant: Variant): boolean {
  return variant !== "snapshot";
}
