// Every setting of a Dumont environment, declared once: its stack config key (`dumont:<key>`), the
// environment variable that overrides it (the seed's names where the seed had one), its type and
// range (a zod schema), its default, what it means, and whether it is a secret. Everything else is
// derived from this list: the settings reader (stacks/settings.ts), the check of a value that the reader
// and the providers share (setting-check.ts), the components' defaults, Pulumi.yaml's `config:`
// block and the README's settings table (settings-project-config.ts, settings-readme-table.ts;
// `npm run settings:docs` rewrites both).
import { z } from "zod";
import { defaultBucketName } from "./stack-names.ts";
import { defaultCloudName } from "../local-cloud/endpoints.ts";
import { cloudNamePattern } from "../local-cloud/names.ts";

/** A GPU slot of an environment; its outputs (stack-outputs.ts) and its settings name slots so. */
export const slotSchema = z.enum(["a", "b"]);
export type Slot = z.infer<typeof slotSchema>;
export const slots: readonly Slot[] = slotSchema.options;

const cloudSchema = z.enum(["local", "real"]);
export type CloudKind = z.infer<typeof cloudSchema>;

/** What a default that is not one fixed value is made from. */
export interface DefaultContext {
  readonly stack: string;
  readonly cloud: CloudKind;
  readonly activeSlot: Slot;
  readonly bucketEndpoint: string;
}

/** A default made from the stack or other settings; `rule` says how, for the README. */
export class DerivedDefault<T> {
  readonly rule: string;
  readonly of: (context: DefaultContext) => T;
  constructor(rule: string, of: (context: DefaultContext) => T) {
    this.rule = rule;
    this.of = of;
  }
}

export interface Declaration<T = unknown, D = unknown> {
  /** The environment variable that overrides the stack's value (when set and not empty). */
  readonly env?: string;
  /** Type and range of a valid value: what the reader, the providers and the docs check against. */
  readonly value: z.ZodType<T>;
  /** One fixed value, a DerivedDefault, or undefined: the setting is then optional (or a secret). */
  readonly default: D;
  /** What it is, in one line (the README's meaning column). */
  readonly meaning: string;
  /** For a setting without a default: when it is needed. */
  readonly whenUnset?: string;
  /** A Pulumi secret: set with `pulumi config set --secret`, never printed, never in Pulumi.yaml. */
  readonly secret: boolean;
  /** Who Dumont is on a cloud: its variable still overrides during a failover's pinned updates. */
  readonly credential: boolean;
}

function setting<T, const D extends Readonly<NoInfer<T>> | DerivedDefault<NoInfer<T> | undefined> | undefined = undefined>(declaration: {
  env?: string; value: z.ZodType<T>; default?: D; meaning: string; whenUnset?: string; secret?: boolean; credential?: boolean;
}): Declaration<T, D> {
  return { ...declaration, default: declaration.default as D, secret: declaration.secret ?? false, credential: declaration.credential ?? false };
}

function derived<T>(rule: string, of: (context: DefaultContext) => T): DerivedDefault<T> {
  return new DerivedDefault(rule, of);
}

/** Text that matches `pattern`; `rule` names what matches, for error messages and the README. */
function matching(pattern: RegExp, rule: string) {
  return z.string().regex(pattern, rule).describe(rule);
}

/** Vast refuses a longer onstart script. */
export const vastOnstartLimit = 4048;
/**
 * What a stack's own onstart may use: the rest is Dumont's host-key installer, which runs first
 * (dataplane/ssh/host-key-install.ts checks that it fits).
 */
export const userOnstartLimit = 3400;

const httpUrl = matching(/^https?:\/\/[^\s/]+/, "an http(s) URL");
const defaultImage = "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime";

/** B2's S3 endpoints name their region: https://s3.<region>.backblazeb2.com */
export function regionOfEndpoint(endpoint: string): string | undefined {
  return /^https?:\/\/s3\.([a-z0-9-]+)\.backblazeb2\.com/.exec(endpoint)?.[1];
}

export const declarations = {
  cloud: setting({
    env: "DUMONT_CLOUD", value: cloudSchema, default: "local",
    meaning: "where the environment runs: `local` (the local cloud on this machine) or `real` (Vast.ai, GCP, B2)",
  }),
  localCloud: setting({
    env: "DUMONT_LOCAL_CLOUD", value: matching(cloudNamePattern, "1-5 lowercase letters or digits, starting with a letter"), default: defaultCloudName,
    meaning: "the local cloud a local stack lives in (`npx dumont local-cloud up --cloud NAME`)", credential: true,
  }),
  vastUrl: setting({ env: "VAST_URL", value: httpUrl, default: "https://console.vast.ai", meaning: "the Vast.ai API (https for cloud: real)" }),
  vastApiKey: setting({ env: "VAST_API_KEY", value: z.string(), meaning: "the Vast.ai API key", whenUnset: "required for cloud: real", secret: true, credential: true }),

  activeSlot: setting({ value: slotSchema, default: "a", meaning: "the slot whose GPU is in use, until the first failover (the slot record decides after it)" }),
  slots: setting({
    value: z.array(slotSchema), default: derived("`[dumont:activeSlot]`", (c) => [c.activeSlot]),
    meaning: "the slots that have a GPU, until the first failover (the slot record decides after it)",
  }),

  gpuNames: setting({
    env: "GPU_NAMES",
    value: z.array(matching(/\S/, "a GPU model as Vast spells it, e.g. RTX 4090")).min(1, "name at least one GPU model, as Vast spells it (e.g. 'RTX 4090', 'A100 SXM4')"),
    default: ["RTX 4090"], meaning: "acceptable GPU models, as Vast spells them",
  }),
  gpuCount: setting({ env: "GPU_COUNT", value: z.int().min(1).max(16), default: 1, meaning: "GPUs per instance" }),
  diskGb: setting({ env: "GPU_DISK_GB", value: z.int().min(8).max(20_000), default: 32, meaning: "disk of a GPU instance in GB, fixed for its life (Vast's minimum is 8)" }),
  image: setting({
    env: "GPU_IMAGE",
    value: matching(/^[a-z0-9][\w./:@-]*:[\w.@-]+$/i, `an image with a tag, e.g. ${defaultImage} (Vast fails on untagged images)`),
    default: defaultImage, meaning: "the Docker image a GPU instance runs",
  }),
  maxPricePerHour: setting({ env: "GPU_MAX_PRICE", value: z.number().min(0.001).max(128), default: 1.0, meaning: "highest total price of a GPU in $/h (compute and storage)" }),
  minReliability: setting({ env: "GPU_MIN_RELIABILITY", value: z.number().min(0).max(1), default: 0.95, meaning: "lowest reliability of a GPU's host" }),
  verifiedOnly: setting({ value: z.boolean(), default: true, meaning: "only Vast-verified hosts" }),
  datacenterOnly: setting({ value: z.boolean(), default: false, meaning: "only datacenter (\"secure cloud\") hosts" }),
  rentType: setting({
    env: "GPU_RENT_TYPE", value: z.enum(["on-demand", "interruptible"]), default: "on-demand",
    meaning: "on-demand, or interruptible: a bid, far below on-demand, that a higher bid stops (the standby and snapshots keep the data; see dumont:onOutbid)",
  }),
  bidMargin: setting({
    value: z.number().min(0).max(10), default: 0.25,
    meaning: "an interruptible GPU's bid: the offer's minimum bid plus this fraction of it; a bid whose total passes dumont:maxPricePerHour is not made",
  }),
  geolocation: setting({
    env: "GPU_GEOLOCATION", value: z.array(matching(/^[A-Z]{2}$/, "a 2-letter country code")), default: [],
    meaning: "countries a GPU's host may be in, e.g. [US, CA] (empty: anywhere)",
  }),
  directSsh: setting({ value: z.boolean(), default: true, meaning: "prefer a host with a direct SSH port over Vast's proxy" }),
  excludeMachineIds: setting({
    value: z.array(z.int().min(0)), default: [],
    meaning: "Vast machines never to rent, until the first failover (the slot record decides after it)",
  }),
  onstart: setting({
    value: z.string().max(userOnstartLimit, {
      error: (issue) => `is ${String(issue.input).length} characters; at most ${userOnstartLimit} (Vast accepts ${vastOnstartLimit}, and Dumont's host-key installer comes first)`,
    }),
    default: "", meaning: "a script a GPU instance runs at start (a Pulumi secret of the instance)",
  }),
  env: setting({ value: z.record(z.string(), z.string()), default: {}, meaning: "the environment of the onstart script (a Pulumi secret of the instance)" }),
  readyTimeoutSeconds: setting({
    env: "GPU_READY_TIMEOUT", value: z.int().min(10).max(7200), default: 600,
    meaning: "seconds a new GPU has to run and answer SSH before it is destroyed",
  }),

  autoStandbyEnabled: setting({ env: "AUTO_STANDBY_ENABLED", value: z.boolean(), default: false, meaning: "keep a CPU standby that mirrors /workspace" }),
  gcpProject: setting({
    env: "GCP_PROJECT", value: z.string(), meaning: "the GCP project of the standby",
    whenUnset: "required for a standby on cloud: real", credential: true,
  }),
  gcpCredentials: setting({
    env: "GCP_CREDENTIALS", value: z.string(), meaning: "a GCP service-account key (JSON)",
    whenUnset: "required for a standby on cloud: real", secret: true, credential: true,
  }),
  gcpZone: setting({ env: "GCP_ZONE", value: matching(/^[a-z]+-[a-z]+\d+-[a-z]$/, "a GCP zone such as europe-west1-b"), default: "europe-west1-b", meaning: "the standby's GCP zone" }),
  gcpMachineType: setting({
    env: "GCP_MACHINE_TYPE", value: matching(/^[a-z0-9]+-[a-z0-9-]+$/, "a GCP machine type such as e2-medium"), default: "e2-medium",
    meaning: "the standby's GCP machine type",
  }),
  gcpDiskSize: setting({ env: "GCP_DISK_SIZE", value: z.int().min(10).max(65_536), default: 100, meaning: "the standby's boot disk in GB, holding its copy of /workspace" }),
  gcpSpot: setting({ env: "GCP_SPOT", value: z.boolean(), default: true, meaning: "a Spot VM (no automatic restart, stopped on preemption)" }),
  standbySshSourceRanges: setting({ value: z.array(z.string()), default: ["0.0.0.0/0"], meaning: "address ranges the standby's SSH port is open to (keys only)" }),
  standbyHourlyRate: setting({
    env: "STANDBY_HOURLY_RATE", value: z.number().min(0).max(100), meaning: "the standby's $/h, for cost reports",
    whenUnset: "GCP's published rate for the machine type",
  }),

  syncInterval: setting({ env: "SYNC_INTERVAL", value: z.int().min(1).max(86_400), default: 30, meaning: "seconds between standby syncs" }),
  healthCheckInterval: setting({ env: "HEALTH_CHECK_INTERVAL", value: z.int().min(1).max(3600), default: 10, meaning: "seconds between health checks of the active GPU" }),
  failoverThreshold: setting({ env: "FAILOVER_THRESHOLD", value: z.int().min(1).max(100), default: 3, meaning: "failed health checks in a row before a failover" }),
  autoFailover: setting({ env: "AUTO_FAILOVER", value: z.boolean(), default: true, meaning: "fail over without asking when the GPU is unhealthy" }),
  onOutbid: setting({
    value: z.enum(["failover", "wait"]), default: "failover",
    meaning: "an interruptible GPU outbid (Vast stopped it for a higher bid): fail over at once (its machine is not held against it), or wait for it to resume",
  }),
  autoRecovery: setting({ env: "AUTO_RECOVERY", value: z.boolean(), default: true, meaning: "move from the standby back to a new GPU without asking" }),
  controllerLeaseSeconds: setting({
    env: "DUMONT_CONTROLLER_LEASE_SECONDS", value: z.int().min(3).max(3600), default: 30,
    meaning: "how long a controller's lease lasts unrenewed: a dead controller's successor takes over after at most this",
  }),

  bucketName: setting({
    env: "B2_BUCKET", value: matching(/^[a-z0-9][a-z0-9-]{4,61}[a-z0-9]$/, "6-63 lowercase letters, digits and dashes (B2's bucket name rules)"),
    default: derived("`dumont-<stack>`", (c) => defaultBucketName(c.stack)), meaning: "the snapshot bucket (globally unique on B2)",
  }),
  bucketEndpoint: setting({ env: "B2_ENDPOINT", value: httpUrl, default: "https://s3.us-west-004.backblazeb2.com", meaning: "the bucket's S3 endpoint (https for cloud: real)" }),
  bucketRegion: setting({
    env: "B2_REGION", value: z.string(), default: derived("the region in dumont:bucketEndpoint's address", (c) => regionOfEndpoint(c.bucketEndpoint)),
    meaning: "the bucket's region (required for cloud: real when the endpoint's address names none)",
  }),
  bucketKeyId: setting({ env: "B2_KEY_ID", value: z.string(), meaning: "the B2 application key id", whenUnset: "required for cloud: real", secret: true, credential: true }),
  bucketApplicationKey: setting({ env: "B2_APPLICATION_KEY", value: z.string(), meaning: "the B2 application key", whenUnset: "required for cloud: real", secret: true, credential: true }),
  bucketForceDestroy: setting({
    value: z.boolean(), default: derived("true on cloud: local, false on cloud: real", (c) => c.cloud === "local"),
    meaning: "let `destroy` delete a bucket that still holds snapshots",
  }),
  bucketScopedKey: setting({
    // Off for local stacks unless asked: turning it on replaces a stack's bucket resource.
    value: z.boolean(), default: derived("true on cloud: real, false on cloud: local", (c) => c.cloud === "real"),
    meaning: "operations use a key limited to the bucket and the stack's prefix, made with the bucket",
  }),
  snapshotPrefix: setting({
    // A prefix of its own by default: stacks sharing a bucket never list, prune or restore each other's snapshots.
    value: matching(/^[A-Za-z0-9._/-]*\/$|^$/, "a key prefix ending in '/' (or empty)"), default: derived("`snapshots/<stack>/`", (c) => `snapshots/${c.stack}/`),
    meaning: "where in the bucket the stack's snapshots are",
  }),
  snapshotKeep: setting({ value: z.int().min(1).max(10_000), default: 10, meaning: "snapshots `dumont snapshot prune` keeps" }),
  snapshotFullEvery: setting({ value: z.int().min(1).max(1000), default: 7, meaning: "a chain of this many snapshots ends with a full one" }),
};

export type Declarations = typeof declarations;
export type SettingKey = keyof Declarations;
export const settingKeys = Object.keys(declarations) as SettingKey[];

/** A setting's value as read: undefined only when it has no default (or its derived one can be undefined). */
export type SettingValue<K extends SettingKey> = Declarations[K] extends Declaration<infer T, infer D>
  ? D extends DerivedDefault<infer R> ? R : undefined extends D ? T | undefined : T
  : never;

/** Settings that have one fixed default. */
export type FixedDefaultKey = { [K in SettingKey]: Declarations[K]["default"] extends DerivedDefault<unknown> | undefined ? never : K }[SettingKey];

/** The fixed defaults, for components given no value (GpuInstanceArgs, GcpStandbyArgs …). */
export const settingDefaults = Object.freeze(Object.fromEntries(settingKeys.flatMap((key) => {
  const fallback = declarations[key].default;
  return fallback === undefined || fallback instanceof DerivedDefault ? [] : [[key, Object.freeze(fallback)]];
}))) as { readonly [K in FixedDefaultKey]: Readonly<SettingValue<K>> };

/** One setting's names, for messages: "dumont:gpuCount (env GPU_COUNT)". */
export function settingLabel(key: SettingKey): string {
  const { env } = declarations[key] as Declaration;
  return env ? `dumont:${key} (env ${env})` : `dumont:${key}`;
}

type TextSource = { config(key: string): string | undefined; env(name: string): string | undefined };

/** A setting's text and where it is from: its environment variable when set and not empty, else the stack's config. */
export function settingInput(source: TextSource, key: SettingKey): { readonly text: string; readonly from: "variable" | "config" } | undefined {
  const { env } = declarations[key] as Declaration;
  const fromEnv = env ? source.env(env) : undefined;
  if (fromEnv !== undefined && fromEnv !== "") return { text: fromEnv, from: "variable" };
  const fromConfig = source.config(key);
  return fromConfig === undefined ? undefined : { text: fromConfig, from: "config" };
}

export function settingText(source: TextSource, key: SettingKey): string | undefined {
  return settingInput(source, key)?.text;
}

/** What zod says a valid value is, as JSON Schema (the parts Dumont reads): type, range and rules. */
export interface ValueShape {
  readonly type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  /** A list's items. */
  readonly items?: ValueShape;
  /** A map's values. */
  readonly additionalProperties?: ValueShape;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxLength?: number;
  /** For text with a pattern: the rule in words (matching's). */
  readonly description?: string;
}

const shapes = new Map<SettingKey, ValueShape>();

/** A setting's value shape, for the reader (how to read its text) and the docs (type and range). */
export function valueShape(key: SettingKey): ValueShape {
  let shape = shapes.get(key);
  if (!shape) shapes.set(key, (shape = z.toJSONSchema(declarations[key].value as z.ZodType) as ValueShape));
  return shape;
}
