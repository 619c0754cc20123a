// The journey's own throwaway stack (journey-<time>-<hex>): its settings file, and the three layers
// of cleanup that run whatever happened — Pulumi destroys the GPUs and the standby (the bucket and
// its snapshot stay, for audit, as the seed kept them); then anything of the run the Vast API still
// lists by label is destroyed directly (a create the engine never recorded); then a leak check lists
// whatever is still alive.
import { rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import type { LocalCloudAdmin } from "../local-cloud/admin-client.ts";
import type { VastClient } from "../clouds/vast/client.ts";
import { whenStackFree } from "../stacks/concurrent-update.ts";
import { engineProgress } from "../stacks/engine-output.ts";
import { writeStackFile, type ConfigValue } from "../stacks/stack-file.ts";
import { statusFile } from "../stacks/standby/status-file.ts";
import { openProjectStack } from "../stacks/workspace.ts";
import { stackConfigFile } from "../stacks/stack-files.ts";
import { defaultBucketName, localStandbyName } from "../contract/stack-names.ts";
import { isStackLabel, slotLabel } from "../components/vast/labels.ts";

export function newJourneyStackName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 13);
  return `journey-${stamp}-${randomBytes(2).toString("hex")}`;
}

/** The pattern `dumont instance list --pattern` takes for a stack's instances (components/vast/labels.ts). */
export function labelPattern(stack: string): string {
  return `${slotLabel(stack, "")}?.*`;
}

export { localStandbyName };

export interface JourneyStackSettings {
  readonly cloud: "local" | "real";
  readonly localCloud: string;
  readonly standby: boolean;
  readonly diskGb: number;
}

/**
 * Settings of a journey stack. Environment variables still override them (GPU_NAMES, GPU_MAX_PRICE,
 * GCP_PROJECT, B2_BUCKET, … see stacks/settings.ts), and the real clouds' keys come only from there.
 */
export function journeyStackConfig(stack: string, s: JourneyStackSettings): Record<string, ConfigValue> {
  const common = { activeSlot: "a", slots: ["a"], autoStandbyEnabled: s.standby, diskGb: s.diskGb, gpuCount: 1, minReliability: 0.95 };
  if (s.cloud === "local") {
    return { ...common, cloud: "local", localCloud: s.localCloud, gpuNames: ["RTX 4090", "RTX 3090"], maxPricePerHour: 0.6, readyTimeoutSeconds: 120 };
  }
  return {
    ...common, cloud: "real", gpuNames: ["RTX 4090", "RTX 3090"], maxPricePerHour: 0.6, readyTimeoutSeconds: 600, verifiedOnly: true,
    gcpMachineType: "e2-medium", gcpDiskSize: Math.max(20, s.diskGb), gcpSpot: true, bucketName: defaultBucketName(stack), bucketForceDestroy: true,
  };
}

export async function createJourneyStack(name: string, settings: JourneyStackSettings): Promise<Stack> {
  writeStackFile(name, journeyStackConfig(name, settings), "# A journey's throwaway stack (dumont journey). Remove with: npx dumont destroy --stack " + name + " --remove");
  return openProjectStack(name);
}

/** URNs of what costs money by the hour: the GPU slots and the standby, with their children. */
async function billedUrns(stack: Stack): Promise<string[]> {
  const resources = ((await stack.exportStack()).deployment?.resources ?? []) as Array<{ urn: string }>;
  return resources.map((r) => r.urn).filter((urn) => urn.includes("dumont:index:GpuInstance") || urn.includes("dumont:index:Standby"));
}

/** Destroys the GPUs and the standby through Pulumi; the bucket with the snapshot stays. */
export async function releaseInstances(stack: Stack, progress: (line: string) => void): Promise<void> {
  const destroy = async () => {
    const urns = await billedUrns(stack);
    if (urns.length === 0) return;
    await stack.destroy({ target: urns, targetDependents: true, onOutput: engineProgress(progress) });
  };
  const whenFree = (work: () => Promise<unknown>) => whenStackFree(work, { progress, intervalMs: 3000, attempts: 60, stack });
  try {
    await whenFree(destroy);
  } catch (error) {
    // An update cut short can leave operations pending; clear them, read what exists, try again.
    progress(`  destroy failed (${(error as Error).message.split("\n").find((l) => l.trim()) ?? "?"}); refreshing the state and retrying`);
    await whenFree(() => stack.refresh({ clearPendingCreates: true }));
    await whenFree(destroy);
  }
}

/** Instances of this stack the Vast API still lists, destroyed directly. Returns their ids. */
export async function sweepInstances(vast: VastClient, stack: string, progress: (line: string) => void): Promise<number[]> {
  const left = (await vast.listInstances()).filter((i) => isStackLabel(stack, i.label));
  for (const instance of left) {
    progress(`  destroying instance ${instance.id} (${instance.label}), which Pulumi's state did not hold`);
    await vast.destroyInstance(instance.id).catch((error) => progress(`  could not destroy ${instance.id}: ${(error as Error).message}`));
  }
  return left.map((i) => i.id);
}

/** Everything of the run that is still alive: Vast instances by label, the local standby by name, billed resources in its state. */
export async function findLeaks(options: { vast: VastClient; stackName: string; stack?: Stack; admin?: LocalCloudAdmin }): Promise<string[]> {
  const leaks = (await options.vast.listInstances())
    .filter((i) => isStackLabel(options.stackName, i.label))
    .map((i) => `Vast instance ${i.id} (${i.label}, ${i.actual_status})`);
  const standby = options.admin ? await options.admin.standby(localStandbyName(options.stackName)) : undefined;
  if (standby) leaks.push(`local standby host ${localStandbyName(options.stackName)}`);
  const remaining = options.stack ? await billedUrns(options.stack).catch(() => []) : [];
  for (const urn of remaining) leaks.push(`still in the stack's state: ${urn.split("::").at(-1)}`);
  return leaks;
}

/** The whole stack: bucket and snapshot too, then its state, settings file and status file. */
export async function removeJourneyStack(stack: Stack, progress: (line: string) => void): Promise<void> {
  await whenStackFree(() => stack.destroy({ onOutput: engineProgress(progress) }), { progress, intervalMs: 3000, attempts: 60, stack });
  await stack.workspace.removeStack(stack.name);
  rmSync(stackConfigFile(stack.name), { force: true });
  rmSync(statusFile(stack.name), { force: true });
}
