// The journey's variants: the seed guide's Test 1 (failover from a snapshot), its Test 3 (GPU → CPU
// standby → new GPU), or both. A file of its own: the command line lists them without loading the steps.
export type Variant = "snapshot" | "standby" | "both";
export const variants: readonly Variant[] = ["snapshot", "standby", "both"];
