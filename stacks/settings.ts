// The settings of a Dumont environment, read from its stack config and the environment by their
// declarations (contract/settings-schema.ts). Read once at the start of a program or an operation; a bad
// value stops it there, with an error that names the setting, before anything is rented.
import type { GpuRequirements } from "../components/vast/gpu-query.ts";
import { requireHttpsForRealCloud } from "../clouds/cloud-access.ts";
import { SettingError } from "../lib/errors.ts";
import { parseSetting } from "../contract/setting-check.ts";
import {
  declarations, DerivedDefault, settingInput, settingLabel, valueShape,
  type CloudKind, type DefaultContext, type Declaration, type SettingKey, type SettingValue, type Slot, type ValueShape,
} from "../contract/settings-schema.ts";

export { slots, type CloudKind, type Slot } from "../contract/settings-schema.ts";

/** Where raw setting values come from: stack config (plain text of the value) and the environment. */
export interface SettingSource {
  /** The value of `dumont:<key>` as text (lists and maps as JSON), or undefined. */
  config(key: string): string | undefined;
  /** Whether `dumont:<key>` is set at all (for secrets, without reading them). */
  hasConfig(key: string): boolean;
  env(name: string): string | undefined;
}

/** The offer requirements the Vast provider uses, plus what the instance runs. */
export interface GpuSettings extends GpuRequirements {
  readonly image: string;
  readonly onstart: string;
  readonly env: Readonly<Record<string, string>>;
  readonly readyTimeoutSeconds: number;
}

export interface StandbySettings {
  readonly enabled: boolean;
  readonly gcpProject?: string;
  readonly gcpZone: string;
  readonly gcpMachineType: string;
  readonly gcpDiskSize: number;
  readonly gcpSpot: boolean;
  readonly sshSourceRanges: readonly string[];
  /** The standby's $/h when the published rate Dumont knows is not the one paid (region, Spot moves). */
  readonly hourlyRate?: number;
}

export interface HealthSettings {
  readonly syncIntervalSeconds: number;
  readonly healthCheckIntervalSeconds: number;
  readonly failoverThreshold: number;
  readonly autoFailover: boolean;
  /** An interruptible GPU outbid: fail over at once, or wait for it to resume. */
  readonly onOutbid: "failover" | "wait";
  readonly autoRecovery: boolean;
  /** How long a controller's lease in the bucket lasts unrenewed: a dead controller's successor takes over after at most this. */
  readonly controllerLeaseSeconds: number;
}

export interface BucketSettings {
  readonly name: string;
  readonly endpoint: string;
  /** Undefined only on the local cloud with an endpoint that names no region. */
  readonly region?: string;
  readonly prefix: string;
  readonly forceDestroy: boolean;
  /**
   * Whether operations use an application key limited to the bucket and the stack's prefix, made
   * with the bucket (B2's native key API; the local cloud emulates it, and MinIO enforces the key).
   */
  readonly scopedKey: boolean;
}

export interface SnapshotSettings {
  readonly keep: number;
  readonly fullEvery: number;
}

export interface Settings {
  readonly stack: string;
  readonly cloud: CloudKind;
  readonly localCloud: string;
  readonly vastUrl: string;
  readonly activeSlot: Slot;
  readonly provisionedSlots: readonly Slot[];
  readonly gpu: GpuSettings;
  readonly standby: StandbySettings;
  readonly health: HealthSettings;
  readonly bucket: BucketSettings;
  readonly snapshots: SnapshotSettings;
}

/** True and false as Pulumi's boolean type takes them in a stack's config. */
const configBooleans: ReadonlyMap<string, boolean> = new Map([["true", true], ["false", false]]);
/** What a variable may also say, as shell scripts do (any case). */
const variableBooleans: ReadonlyMap<string, boolean> = new Map([...configBooleans, ["1", true], ["yes", true], ["on", true], ["0", false], ["no", false], ["off", false]]);

/**
 * A value from its text, as the setting's type reads it: whole numbers, decimals, true/false, lists
 * (YAML lists arrive as JSON; a plain text is split at commas, as in a variable) and maps (JSON).
 * The stack's config is read as Pulumi's declared types read it (Pulumi.yaml), so the engine never
 * refuses what Dumont accepts; a variable may also say yes/no, on/off or 1/0. Text that is not of
 * the type stays text, for the check to name it.
 */
function decode(text: string, shape: ValueShape, from: "variable" | "config"): unknown {
  const trimmed = text.trim();
  switch (shape.type) {
    case "integer":
      return /^[-+]?\d+$/.test(text) ? Number(text) : text;
    case "number":
      return trimmed === "" || Number.isNaN(Number(trimmed)) ? text : Number(trimmed);
    case "boolean":
      return (from === "config" ? configBooleans.get(text) : variableBooleans.get(trimmed.toLowerCase())) ?? text;
    case "array":
      return listItems(text).map((item) => decode(item, shape.items ?? {}, from));
    case "object":
      return mapOf(text) ?? text;
    default:
      return text;
  }
}

function listItems(text: string): string[] {
  const parsed = parseJson(text);
  if (Array.isArray(parsed)) return parsed.map(String);
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function mapOf(text: string): Record<string, string> | undefined {
  const parsed = parseJson(text);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads one setting at a time: its text decoded, or its default; checked either way. */
function settingReader(source: SettingSource, stack: string) {
  const context: DefaultContext = {
    stack,
    get cloud() { return read("cloud"); },
    get activeSlot() { return read("activeSlot"); },
    get bucketEndpoint() { return read("bucketEndpoint"); },
  };
  function read<K extends SettingKey>(key: K): SettingValue<K> {
    const declaration = declarations[key] as Declaration;
    const input = settingInput(source, key);
    const fallback = declaration.default;
    const value = input !== undefined ? decode(input.text, valueShape(key), input.from) : fallback instanceof DerivedDefault ? fallback.of(context) : fallback;
    if (value === undefined) return undefined as SettingValue<K>;
    const parsed = parseSetting(key, value);
    if ("problem" in parsed) throw new SettingError(settingLabel(key), parsed.problem);
    return parsed.value as SettingValue<K>;
  }
  return read;
}

export function readSettings(source: SettingSource, stack: string): Settings {
  const read = settingReader(source, stack);
  const cloud = read("cloud");
  const gpu: GpuSettings = {
    gpuNames: read("gpuNames"), gpuCount: read("gpuCount"), diskGb: read("diskGb"), image: read("image"),
    maxPricePerHour: read("maxPricePerHour"), minReliability: read("minReliability"), verifiedOnly: read("verifiedOnly"),
    datacenterOnly: read("datacenterOnly"), geolocation: read("geolocation"), directSsh: read("directSsh"),
    rentType: read("rentType"), bidMargin: read("bidMargin"),
    excludeMachineIds: read("excludeMachineIds"), onstart: read("onstart"), env: read("env"), readyTimeoutSeconds: read("readyTimeoutSeconds"),
  };
  const standby: StandbySettings = {
    enabled: read("autoStandbyEnabled"), gcpProject: read("gcpProject"), gcpZone: read("gcpZone"), gcpMachineType: read("gcpMachineType"),
    gcpDiskSize: read("gcpDiskSize"), gcpSpot: read("gcpSpot"), sshSourceRanges: read("standbySshSourceRanges"), hourlyRate: read("standbyHourlyRate"),
  };
  const health: HealthSettings = {
    syncIntervalSeconds: read("syncInterval"), healthCheckIntervalSeconds: read("healthCheckInterval"), failoverThreshold: read("failoverThreshold"),
    autoFailover: read("autoFailover"), onOutbid: read("onOutbid"), autoRecovery: read("autoRecovery"), controllerLeaseSeconds: read("controllerLeaseSeconds"),
  };
  const endpoint = read("bucketEndpoint");
  requireHttpsForRealCloud(settingLabel("bucketEndpoint"), endpoint, cloud);
  const bucket: BucketSettings = {
    name: read("bucketName"), endpoint, region: read("bucketRegion"), prefix: read("snapshotPrefix"),
    forceDestroy: read("bucketForceDestroy"), scopedKey: read("bucketScopedKey"),
  };
  const settings: Settings = {
    stack, cloud, gpu, standby, health, bucket,
    snapshots: { keep: read("snapshotKeep"), fullEvery: read("snapshotFullEvery") },
    activeSlot: read("activeSlot"),
    provisionedSlots: [...new Set(read("slots"))],
    localCloud: read("localCloud"),
    vastUrl: read("vastUrl"),
  };
  requireHttpsForRealCloud(settingLabel("vastUrl"), settings.vastUrl, cloud);
  checkCrossFieldRules(settings, source);
  return settings;
}

/** Rules between settings, and credentials a real stack needs before it can spend money. */
export function checkCrossFieldRules(settings: Settings, source: SettingSource): void {
  if (!settings.provisionedSlots.includes(settings.activeSlot)) {
    throw new SettingError(settingLabel("slots"), `the active slot '${settings.activeSlot}' (dumont:activeSlot) must be provisioned; slots are ${settings.provisionedSlots.join(", ") || "none"}`);
  }
  if (settings.cloud !== "real") return;
  if (!settings.bucket.region) throw new SettingError(settingLabel("bucketRegion"), `cannot tell the region from ${settings.bucket.endpoint}; set it`);
  const needSecret = (key: SettingKey) => {
    const { env, meaning } = declarations[key] as Declaration;
    if (!source.hasConfig(key) && !(env && source.env(env))) {
      throw new SettingError(settingLabel(key), `${meaning} is required for cloud: real`, `pulumi config set --secret dumont:${key} <value>   (or export ${env})`);
    }
  };
  needSecret("vastApiKey");
  needSecret("bucketKeyId");
  needSecret("bucketApplicationKey");
  if (settings.standby.enabled) {
    needSecret("gcpCredentials");
    if (!settings.standby.gcpProject) throw new SettingError(settingLabel("gcpProject"), "the GCP project of the standby is required when dumont:autoStandbyEnabled is true");
  }
}
