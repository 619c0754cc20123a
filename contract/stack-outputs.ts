// What a Dumont stack exports, declared once (a zod schema, as the settings are in settings-schema.ts):
// its slots' GPUs, its standby, its bucket and the key that logs in to them. Everything else is
// derived from this list: the program's exports (stacks/program.ts writes them from the
// environment's components, typed by it), the operations' view of a stack (stacks/stack-context.ts
// reads them back through it, so outputs Dumont did not write stop an operation in one line that
// names the output), the Vast provider's outputs (components/vast/instance-operations.ts:
// VastInstanceOutputs shares the slot's fields) and the standby component's outputs. A slot's
// fields are also the cost model's rates (clouds/cost/model.ts: VastRates).
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { declarations, slotSchema } from "./settings-schema.ts";

/** A slot's GPU: the Vast instance, where it answers SSH with which pinned host key, and what Vast bills for it. */
export const slotOutputsSchema = z.object({
  instanceId: z.int(),
  /** Where SSH answers: the instance's direct port, or Vast's proxy. */
  host: z.string(),
  port: z.int(),
  /** The host key Dumont installed at the instance's start: the only one its host may present. */
  hostKey: z.string(),
  machineId: z.int(),
  gpuName: z.string(),
  /** $/h in total, compute and storage (Vast's dph_total). */
  dphTotal: z.number(),
  /** $/h of compute (Vast's dph_base). */
  dphBase: z.number(),
  storageCostPerGbMonth: z.number(),
  inetUpCostPerGb: z.number(),
  inetDownCostPerGb: z.number(),
  /** The disk the instance was rented with, in GB (fixed for its life). */
  diskGb: z.int(),
  /**
   * When Dumont first asked Vast for it, when Vast first showed it running (where Vast's meter
   * starts: the cost model bills from here) and when its SSH first answered with the installed host
   * key (a failover's provider_wait ends here). ISO times; absent in stacks made before they were kept.
   */
  /** An interruptible GPU's on-demand compute price at the same offer (dphBase is then the bid): what the bid saved. */
  onDemandPerHour: z.number().optional(),
  rentRequestedAt: z.iso.datetime().optional(),
  runningAt: z.iso.datetime().optional(),
  sshReadyAt: z.iso.datetime().optional(),
}).readonly();
export type SlotOutputs = z.infer<typeof slotOutputsSchema>;

/** The CPU standby that mirrors /workspace: where it answers SSH, as which user, with which pinned host key. */
export const standbyOutputsSchema = z.object({
  host: z.string(),
  port: z.int(),
  user: z.string(),
  hostKey: z.string(),
}).readonly();
export type StandbyOutputs = z.infer<typeof standbyOutputsSchema>;

/** The snapshot bucket, as operations reach it. */
export const bucketOutputsSchema = z.object({
  name: z.string(),
  endpoint: z.string(),
  region: z.string(),
  prefix: z.string(),
  /** The id of the key limited to the bucket and prefix (empty when dumont:bucketScopedKey is off). */
  keyId: z.string(),
}).readonly();
export type BucketOutputs = z.infer<typeof bucketOutputsSchema>;

/** Every output of a Dumont stack, by its name. */
export const stackOutputsSchema = z.object({
  cloud: declarations.cloud.value,
  localCloud: declarations.localCloud.value,
  activeSlot: slotSchema,
  provisionedSlots: z.array(slotSchema).readonly(),
  /** Each slot's GPU, null for a slot without one. */
  slots: z.record(slotSchema, slotOutputsSchema.nullable()).readonly(),
  standby: standbyOutputsSchema.nullable(),
  bucket: bucketOutputsSchema,
  /** The application key of bucket.keyId (a secret; empty when dumont:bucketScopedKey is off). */
  bucketKey: z.string(),
  sshPublicKey: z.string(),
  /** The key operations log in to the GPUs and the standby with (a secret). */
  sshPrivateKey: z.string(),
});
export type StackOutputs = Readonly<z.infer<typeof stackOutputsSchema>>;
export type StackOutputName = keyof StackOutputs;
export const stackOutputNames = Object.keys(stackOutputsSchema.shape) as StackOutputName[];

/** A shape's fields as a Pulumi resource's outputs: each one an Output of its value. */
export type OutputsOf<T> = { readonly [K in keyof T]-?: pulumi.Output<T[K]> };

/** A value as a Pulumi program may give it: the value, or any part of it still an Output (or a promise). */
export type Declared<T> = pulumi.Input<T extends object ? { readonly [K in keyof T]: Declared<T[K]> } : T>;

/** The stack's outputs as the program declares them: each one a Declared value of its shape. */
export type DeclaredStackOutputs = { readonly [K in StackOutputName]: Declared<StackOutputs[K]> };

/**
 * Each output of `values` (a stack's outputs, by name) that is as Dumont writes it, and for each
 * other one a problem that names it: "output slots.a.hostKey is missing". The values themselves
 * never appear in a problem (some are secrets), only what kind of value they are.
 */
export function readStackOutputs(values: Readonly<Record<string, unknown>>): { readonly outputs: Partial<StackOutputs>; readonly problems: readonly string[] } {
  const outputs: Partial<Record<StackOutputName, unknown>> = {};
  const problems: string[] = [];
  for (const name of stackOutputNames) {
    const result = (stackOutputsSchema.shape[name] as z.ZodType).safeParse(values[name]);
    if (result.success) outputs[name] = result.data;
    else problems.push(describeIssue(name, result.error.issues[0]!, values[name]));
  }
  return { outputs: outputs as Partial<StackOutputs>, problems };
}

/** What each JSON type is, in words. */
const kinds: Readonly<Record<string, string>> = {
  string: "text", number: "a number", int: "a whole number", boolean: "true or false", array: "a list", object: "a map", null: "null",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return kinds.array!;
  if (typeof value === "number" && !Number.isInteger(value)) return "a fraction";
  return kinds[typeof value] ?? typeof value;
}

function describeIssue(name: StackOutputName, issue: z.core.$ZodIssue, value: unknown): string {
  const path = issue.path.reduce<string>((text, step) => (typeof step === "number" ? `${text}[${step}]` : `${text}.${String(step)}`), name);
  const at = issue.path.reduce<unknown>((v, step) => (v as Record<PropertyKey, unknown> | null | undefined)?.[step], value);
  if (at === undefined) return `output ${path} is missing`;
  switch (issue.code) {
    case "invalid_type":
      return `output ${path} is ${kindOf(at)}, not ${kinds[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `output ${path} is not ${issue.values.map((v) => `'${String(v)}'`).join(" or ")}`;
    default:
      return `output ${path} is not what Dumont writes (${issue.message})`;
  }
}
