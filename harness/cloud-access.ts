// Where the clouds are and the credentials to reach them, for one stack: the same code runs against
// the local cloud and the real ones, and only this answer differs. For `cloud: local` it is read
// from the running local cloud; for `cloud: real` from the stack's secrets, which environment
// variables (the seed's names) override. Dynamic providers call this in `configure`, so no
// credential is ever captured in a serialized provider.
import { SettingError } from "./errors.ts";
import { defaultCloudName, readEndpoints, type Endpoints } from "./local-cloud/endpoints.ts";
import type { ObjectStoreSettings } from "./object-store/client.ts";
import type { VastClientSettings } from "./vast/client.ts";

/** Stack config (`dumont:<key>`, secrets decrypted) and the process environment. */
export interface AccessSource {
  config(key: string): string | undefined;
  env(name: string): string | undefined;
}

export function processAccessSource(config: (key: string) => string | undefined): AccessSource {
  return { config, env: (name) => process.env[name] };
}

function pick(source: AccessSource, key: string, envName: string): string | undefined {
  const fromEnv = source.env(envName);
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : source.config(key);
}

/**
 * Throws a SettingError naming `setting` when a real cloud's endpoint is not https: the Vast API key,
 * the bucket's requests and presigned URLs would cross the internet readable. The local cloud
 * serves plain http on its own bridge, and may.
 */
export function requireHttpsForRealCloud(setting: string, url: string, cloud: "local" | "real"): void {
  if (cloud === "real" && !/^https:\/\//i.test(url)) {
    throw new SettingError(setting, `'${url}' is not https; a real cloud's endpoint carries keys and presigned URLs, so use its https:// address`);
  }
}

export function cloudKind(source: AccessSource): "local" | "real" {
  const kind = pick(source, "cloud", "DUMONT_CLOUD") ?? "local";
  if (kind !== "local" && kind !== "real") throw new SettingError("dumont:cloud (env DUMONT_CLOUD)", `'${kind}' is not 'local' or 'real'`);
  return kind;
}

export async function localCloudEndpoints(source: AccessSource): Promise<Endpoints> {
  const name = pick(source, "localCloud", "DUMONT_LOCAL_CLOUD") ?? defaultCloudName;
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
  return (await readEndpoints(pick(source, "localCloud", "DUMONT_LOCAL_CLOUD") ?? defaultCloudName)) === undefined;
}

export async function vastAccess(source: AccessSource): Promise<VastClientSettings> {
  if (cloudKind(source) === "local") {
    const e = await localCloudEndpoints(source);
    return { baseUrl: e.vast.url, apiKey: e.vast.apiKey };
  }
  const apiKey = pick(source, "vastApiKey", "VAST_API_KEY");
  if (!apiKey) throw new SettingError("dumont:vastApiKey (env VAST_API_KEY)", "the Vast.ai API key is not set", "pulumi config set --secret dumont:vastApiKey <key>");
  const baseUrl = pick(source, "vastUrl", "VAST_URL") ?? "https://console.vast.ai";
  requireHttpsForRealCloud("dumont:vastUrl (env VAST_URL)", baseUrl, "real");
  return { baseUrl, apiKey };
}

/** The stack's B2 key pair (on B2 one key works on the S3 and the native API alike). */
function b2KeyPair(source: AccessSource): { keyId: string; applicationKey: string } {
  const keyId = pick(source, "bucketKeyId", "B2_KEY_ID");
  const applicationKey = pick(source, "bucketApplicationKey", "B2_APPLICATION_KEY");
  if (!keyId) throw new SettingError("dumont:bucketKeyId (env B2_KEY_ID)", "the B2 application key id is not set");
  if (!applicationKey) throw new SettingError("dumont:bucketApplicationKey (env B2_APPLICATION_KEY)", "the B2 application key is not set", "pulumi config set --secret dumont:bucketApplicationKey <key>");
  return { keyId, applicationKey };
}

export async function objectStoreAccess(source: AccessSource): Promise<ObjectStoreSettings> {
  if (cloudKind(source) === "local") {
    const e = await localCloudEndpoints(source);
    return { endpoint: e.s3.endpoint, region: e.s3.region, accessKeyId: e.s3.accessKeyId, secretAccessKey: e.s3.secretAccessKey };
  }
  const endpoint = pick(source, "bucketEndpoint", "B2_ENDPOINT") ?? "https://s3.us-west-004.backblazeb2.com";
  requireHttpsForRealCloud("dumont:bucketEndpoint (env B2_ENDPOINT)", endpoint, "real");
  const { keyId: accessKeyId, applicationKey: secretAccessKey } = b2KeyPair(source);
  const region = pick(source, "bucketRegion", "B2_REGION") ?? /s3\.([a-z0-9-]+)\.backblazeb2\.com/.exec(endpoint)?.[1] ?? "us-west-004";
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
