// Where the clouds are and the credentials to reach them, for one stack: the same code runs against
// the local cloud and the real ones, and only this answer differs. For `cloud: local` it is read
// from the running local cloud; for `cloud: real` from the stack's secrets, which environment
// variables (the seed's names) override. Dynamic providers call this in `configure`, so no
// credential is ever captured in a serialized provider.
import { settingProblem } from "../contract/setting-check.ts";
import { regionOfEndpoint, settingDefaults, settingLabel, settingText, type CloudKind } from "../contract/settings-schema.ts";
import { SettingError } from "../lib/errors.ts";
import { readEndpoints, type Endpoints } from "../local-cloud/endpoints.ts";
import type { ObjectStoreSettings } from "../dataplane/object-store/client.ts";
import type { VastClientSettings } from "./vast/client.ts";

/** Stack config (`dumont:<key>`, secrets decrypted) and the process environment. */
export interface AccessSource {
  config(key: string): string | undefined;
  env(name: string): string | undefined;
}

export function processAccessSource(config: (key: string) => string | undefined): AccessSource {
  return { config, env: (name) => process.env[name] };
}

/**
 * Throws a SettingError naming `setting` when a real cloud's endpoint is not https: the Vast API key,
 * the bucket's requests and presigned URLs would cross the internet readable. The local cloud
 * serves plain http on its own bridge, and may.
 */
export function requireHttpsForRealCloud(setting: string, url: string, cloud: CloudKind): void {
  if (cloud === "real" && !/^https:\/\//i.test(url)) {
    throw new SettingError(setting, `'${url}' is not https; a real cloud's endpoint carries keys and presigned URLs, so use its https:// address`);
  }
}

export function cloudKind(source: AccessSource): CloudKind {
  const kind = settingText(source, "cloud") ?? settingDefaults.cloud;
  const problem = settingProblem("cloud", kind);
  if (problem !== undefined) throw new SettingError(settingLabel("cloud"), problem);
  return kind as CloudKind;
}

function localCloudName(source: AccessSource): string {
  return settingText(source, "localCloud") ?? settingDefaults.localCloud;
}

export async function localCloudEndpoints(source: AccessSource): Promise<Endpoints> {
  const name = localCloudName(source);
  const endpoints = await readEndpoints(name);
  if (!endpoints) {
    throw new SettingError("dumont:cloud", `this stack uses the local cloud '${name}', which is not running`, "start it with `npx dumont local-cloud up`");
  }
  return endpoints;
}

/**
 * True when this stack lives in a local cloud that is not running: `down` destroyed everything the
 * cloud held, so deleting or refreshing its resources has nothing left to do.
 */
export async function localCloudIsDown(source: AccessSource): Promise<boolean> {
  if (cloudKind(source) !== "local") return false;
  return (await readEndpoints(localCloudName(source))) === undefined;
}

export async function vastAccess(source: AccessSource): Promise<VastClientSettings> {
  if (cloudKind(source) === "local") {
    const e = await localCloudEndpoints(source);
    return { baseUrl: e.vast.url, apiKey: e.vast.apiKey };
  }
  const apiKey = settingText(source, "vastApiKey");
  if (!apiKey) throw new SettingError(settingLabel("vastApiKey"), "the Vast.ai API key is not set", "pulumi config set --secret dumont:vastApiKey <key>");
  const baseUrl = settingText(source, "vastUrl") ?? settingDefaults.vastUrl;
  requireHttpsForRealCloud(settingLabel("vastUrl"), baseUrl, "real");
  return { baseUrl, apiKey };
}

/** The stack's B2 key pair (on B2 one key works on the S3 and the native API alike). */
function b2KeyPair(source: AccessSource): { keyId: string; applicationKey: string } {
  const keyId = settingText(source, "bucketKeyId");
  const applicationKey = settingText(source, "bucketApplicationKey");
  if (!keyId) throw new SettingError(settingLabel("bucketKeyId"), "the B2 application key id is not set");
  if (!applicationKey) throw new SettingError(settingLabel("bucketApplicationKey"), "the B2 application key is not set", "pulumi config set --secret dumont:bucketApplicationKey <key>");
  return { keyId, applicationKey };
}

export async function objectStoreAccess(source: AccessSource): Promise<ObjectStoreSettings> {
  if (cloudKind(source) === "local") {
    const e = await localCloudEndpoints(source);
    return { endpoint: e.s3.endpoint, region: e.s3.region, accessKeyId: e.s3.accessKeyId, secretAccessKey: e.s3.secretAccessKey };
  }
  const endpoint = settingText(source, "bucketEndpoint") ?? settingDefaults.bucketEndpoint;
  requireHttpsForRealCloud(settingLabel("bucketEndpoint"), endpoint, "real");
  const { keyId: accessKeyId, applicationKey: secretAccessKey } = b2KeyPair(source);
  const region = settingText(source, "bucketRegion") ?? regionOfEndpoint(endpoint) ?? "us-west-004";
  return { endpoint, region, accessKeyId, secretAccessKey };
}

/** Where to authorize on B2's native API and with which key (master, or one with writeKeys/deleteKeys). */
export interface B2KeyAccess {
  /** Base URL of b2_authorize_account: https://api.backblazeb2.com on B2. */
  readonly authorizeUrl: string;
  readonly keyId: string;
  readonly applicationKey: string;
}

/**
 * B2's native API and the key that manages application keys (components/bucket/b2-keys.ts): B2
 * itself with the stack's key, or the local cloud's emulation with its master key (MinIO's root pair).
 */
export async function b2KeyAccess(source: AccessSource): Promise<B2KeyAccess> {
  if (cloudKind(source) === "local") {
    const e = await localCloudEndpoints(source);
    return { authorizeUrl: e.b2.url, keyId: e.s3.accessKeyId, applicationKey: e.s3.secretAccessKey };
  }
  return { authorizeUrl: "https://api.backblazeb2.com", ...b2KeyPair(source) };
}
