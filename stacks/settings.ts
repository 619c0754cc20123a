// Every setting of a Dumont environment: its stack config key, the environment variable that
// overrides it (the seed's names where the seed had one), its default, and its check. Read once at
// the start of a program or an operation; a bad value stops it there, with an error that names the
// setting, before anything is rented.
import type { GpuRequirements } from "../components/vast/gpu-query.ts";
import { requireHttpsForRealCloud } from "../harness/cloud-access.ts";
import { SettingError } from "../harness/errors.ts";

export type Slot = "a" | "b";
export const slots: readonly Slot[] = ["a", "b"];
export type CloudKind = "local" | "real";

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
  readonly autoRecovery: boolean;
  /** How long a controller's lease in the bucket lasts unrenewed: a dead controller's successor takes over after at most this. */
  readonly controllerLeaseSeconds: number;
}

export interface BucketSettings {
  readonly name: string;
  readonly endpoint: string;
  readonly region: string;
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

/** One setting's names, for messages: "dumont:gpuCount (env GPU_COUNT)". */
function label(key: string, envName?: string): string {
  return envName ? `dumont:${key} (env ${envName})` : `dumont:${key}`;
}

class Reader {
  readonly source: SettingSource;
  constructor(source: SettingSource) {
    this.source = source;
  }

  raw(key: string, envName?: string): string | undefined {
    const fromEnv = envName ? this.source.env(envName) : undefined;
    return fromEnv !== undefined && fromEnv !== "" ? fromEnv : this.source.config(key);
  }

  string(key: string, envName: string | undefined, fallback: string, pattern?: RegExp, rule?: string): string {
    const value = this.raw(key, envName) ?? fallback;
    if (pattern && !pattern.test(value)) throw new SettingError(label(key, envName), `'${value}' is not valid: ${rule}`);
    return value;
  }

  number(key: string, envName: string | undefined, fallback: number, min: number, max: number, integer = false): number {
    const text = this.raw(key, envName);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === "" || Number.isNaN(value) || (integer && !Number.isInteger(value))) {
      throw new SettingError(label(key, envName), `'${text}' is not ${integer ? "a whole number" : "a number"}`);
    }
    if (value < min || value > max) throw new SettingError(label(key, envName), `${value} is outside ${min}…${max}`);
    return value;
  }

  boolean(key: string, envName: string | undefined, fallback: boolean): boolean {
    const text = this.raw(key, envName);
    if (text === undefined) return fallback;
    const normalized = text.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(normalized)) return true;
    if (["false", "0", "no", "off"].includes(normalized)) return false;
    throw new SettingError(label(key, envName), `'${text}' is not true or false`);
  }

  /** A list: YAML list in config (JSON text), or comma-separated in the environment. */
  list(key: string, envName: string | undefined, fallback: readonly string[]): string[] {
    const fromEnv = envName ? this.source.env(envName) : undefined;
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv.split(",").map((s) => s.trim()).filter(Boolean);
    const text = this.source.config(key);
    if (text === undefined) return [...fallback];
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // a plain string: one item, or several separated by commas
    }
    return text.split(",").map((s) => s.trim()).filter(Boolean);
  }

  map(key: string): Record<string, string> {
    const text = this.source.config(key);
    if (text === undefined) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SettingError(label(key), "must be a map of names to values");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new SettingError(label(key), "must be a map of names to values");
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
}

const vastBaseUrl = "https://console.vast.ai";

/** B2's S3 endpoints name their region: https://s3.<region>.backblazeb2.com */
export function regionOfEndpoint(endpoint: string): string | undefined {
  return /^https?:\/\/s3\.([a-z0-9-]+)\.backblazeb2\.com/.exec(endpoint)?.[1];
}

export function readSettings(source: SettingSource, stack: string): Settings {
  const r = new Reader(source);
  const cloud = r.string("cloud", "DUMONT_CLOUD", "local", /^(local|real)$/, "expected 'local' (the local cloud) or 'real' (Vast.ai, GCP, B2)") as CloudKind;
  const activeSlot = r.string("activeSlot", undefined, "a", /^[ab]$/, "expected 'a' or 'b'") as Slot;
  const provisioned = r.list("slots", undefined, [activeSlot]);
  for (const slot of provisioned) if (!slots.includes(slot as Slot)) throw new SettingError(label("slots"), `'${slot}' is not a slot; slots are 'a' and 'b'`);
  const gpuNames = r.list("gpuNames", "GPU_NAMES", ["RTX 4090"]);
  if (gpuNames.length === 0) throw new SettingError(label("gpuNames", "GPU_NAMES"), "name at least one GPU model, e.g. RTX 4090");
  const geolocation = r.list("geolocation", "GPU_GEOLOCATION", []);
  for (const code of geolocation) if (!/^[A-Z]{2}$/.test(code)) throw new SettingError(label("geolocation", "GPU_GEOLOCATION"), `'${code}' is not a 2-letter country code`);
  const excludeMachineIds = r.list("excludeMachineIds", undefined, []).map((v) => {
    if (!/^\d+$/.test(v)) throw new SettingError(label("excludeMachineIds"), `'${v}' is not a machine id`);
    return Number(v);
  });
  const onstart = r.string("onstart", undefined, "");
  if (onstart.length > 4048) throw new SettingError(label("onstart"), `is ${onstart.length} characters; Vast accepts at most 4048`);
  const gpu: GpuSettings = {
    gpuNames, geolocation, excludeMachineIds, onstart,
    gpuCount: r.number("gpuCount", "GPU_COUNT", 1, 1, 16, true),
    diskGb: r.number("diskGb", "GPU_DISK_GB", 32, 8, 20_000, true),
    image: r.string("image", "GPU_IMAGE", "pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime", /^[a-z0-9][\w./:@-]*:[\w.@-]+$/i, "an image with a tag, e.g. pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime (Vast fails on untagged images)"),
    maxPricePerHour: r.number("maxPricePerHour", "GPU_MAX_PRICE", 1.0, 0.001, 128),
    minReliability: r.number("minReliability", "GPU_MIN_RELIABILITY", 0.95, 0, 1),
    verifiedOnly: r.boolean("verifiedOnly", undefined, true),
    datacenterOnly: r.boolean("datacenterOnly", undefined, false),
    directSsh: r.boolean("directSsh", undefined, true),
    env: r.map("env"),
    readyTimeoutSeconds: r.number("readyTimeoutSeconds", "GPU_READY_TIMEOUT", 600, 10, 7200, true),
  };
  const standby: StandbySettings = {
    enabled: r.boolean("autoStandbyEnabled", "AUTO_STANDBY_ENABLED", false),
    gcpProject: r.raw("gcpProject", "GCP_PROJECT"),
    gcpZone: r.string("gcpZone", "GCP_ZONE", "europe-west1-b", /^[a-z]+-[a-z]+\d+-[a-z]$/, "a GCP zone such as europe-west1-b"),
    gcpMachineType: r.string("gcpMachineType", "GCP_MACHINE_TYPE", "e2-medium", /^[a-z0-9]+-[a-z0-9-]+$/, "a GCP machine type such as e2-medium"),
    gcpDiskSize: r.number("gcpDiskSize", "GCP_DISK_SIZE", 100, 10, 65_536, true),
    gcpSpot: r.boolean("gcpSpot", "GCP_SPOT", true),
    sshSourceRanges: r.list("standbySshSourceRanges", undefined, ["0.0.0.0/0"]),
    hourlyRate: r.raw("standbyHourlyRate", "STANDBY_HOURLY_RATE") === undefined ? undefined : r.number("standbyHourlyRate", "STANDBY_HOURLY_RATE", 0, 0, 100),
  };
  const health: HealthSettings = {
    syncIntervalSeconds: r.number("syncInterval", "SYNC_INTERVAL", 30, 1, 86_400, true),
    healthCheckIntervalSeconds: r.number("healthCheckInterval", "HEALTH_CHECK_INTERVAL", 10, 1, 3600, true),
    failoverThreshold: r.number("failoverThreshold", "FAILOVER_THRESHOLD", 3, 1, 100, true),
    autoFailover: r.boolean("autoFailover", "AUTO_FAILOVER", true),
    autoRecovery: r.boolean("autoRecovery", "AUTO_RECOVERY", true),
    controllerLeaseSeconds: r.number("controllerLeaseSeconds", "DUMONT_CONTROLLER_LEASE_SECONDS", 30, 3, 3600, true),
  };
  const endpoint = r.string("bucketEndpoint", "B2_ENDPOINT", "https://s3.us-west-004.backblazeb2.com", /^https?:\/\/[^\s/]+/, "an http(s) URL");
  requireHttpsForRealCloud(label("bucketEndpoint", "B2_ENDPOINT"), endpoint, cloud);
  const bucketName = r.string(
    "bucketName", "B2_BUCKET", `dumont-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
    /^[a-z0-9][a-z0-9-]{4,61}[a-z0-9]$/, "6-63 lowercase letters, digits and dashes (B2's bucket name rules)",
  );
  const region = r.raw("bucketRegion", "B2_REGION") ?? regionOfEndpoint(endpoint);
  if (cloud === "real" && !region) throw new SettingError(label("bucketRegion", "B2_REGION"), `cannot tell the region from ${endpoint}; set it`);
  // A prefix of its own by default: stacks sharing a bucket never list, prune or restore each other's snapshots.
  const prefix = r.string("snapshotPrefix", undefined, `snapshots/${stack}/`, /^[A-Za-z0-9._/-]*\/$|^$/, "a key prefix ending in '/'");
  const bucket: BucketSettings = {
    name: bucketName, endpoint, region: region ?? "us-east-1", prefix,
    forceDestroy: r.boolean("bucketForceDestroy", undefined, cloud === "local"),
    // Off for local stacks unless asked: turning it on replaces a stack's bucket resource.
    scopedKey: r.boolean("bucketScopedKey", undefined, cloud === "real"),
  };
  const snapshots: SnapshotSettings = {
    keep: r.number("snapshotKeep", undefined, 10, 1, 10_000, true),
    fullEvery: r.number("snapshotFullEvery", undefined, 7, 1, 1000, true),
  };
  const settings: Settings = {
    stack, cloud, gpu, standby, health, bucket, snapshots, activeSlot,
    provisionedSlots: [...new Set(provisioned as Slot[])],
    localCloud: r.string("localCloud", "DUMONT_LOCAL_CLOUD", "main", /^[a-z][a-z0-9]{0,4}$/, "1-5 lowercase letters or digits"),
    vastUrl: r.string("vastUrl", "VAST_URL", vastBaseUrl, /^https?:\/\//, "an http(s) URL"),
  };
  requireHttpsForRealCloud(label("vastUrl", "VAST_URL"), settings.vastUrl, cloud);
  checkCrossFieldRules(settings, source);
  return settings;
}

/** Rules between settings, and credentials a real stack needs before it can spend money. */
export function checkCrossFieldRules(settings: Settings, source: SettingSource): void {
  if (!settings.provisionedSlots.includes(settings.activeSlot)) {
    throw new SettingError(label("slots"), `the active slot '${settings.activeSlot}' (dumont:activeSlot) must be provisioned; slots are ${settings.provisionedSlots.join(", ") || "none"}`);
  }
  if (settings.cloud !== "real") return;
  const needSecret = (key: string, envName: string, what: string) => {
    if (!source.hasConfig(key) && !source.env(envName)) {
      throw new SettingError(label(key, envName), `${what} is required for cloud: real`, `pulumi config set --secret dumont:${key} <value>   (or export ${envName})`);
    }
  };
  needSecret("vastApiKey", "VAST_API_KEY", "the Vast.ai API key");
  needSecret("bucketKeyId", "B2_KEY_ID", "the B2 application key id");
  needSecret("bucketApplicationKey", "B2_APPLICATION_KEY", "the B2 application key");
  if (settings.standby.enabled) {
    needSecret("gcpCredentials", "GCP_CREDENTIALS", "a GCP service-account key (JSON)");
    if (!settings.standby.gcpProject) throw new SettingError(label("gcpProject", "GCP_PROJECT"), "the GCP project of the standby is required when dumont:autoStandbyEnabled is true");
  }
}
