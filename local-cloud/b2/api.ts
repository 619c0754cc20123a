// Backblaze B2's native API (v4), the calls Dumont makes for an application key limited to its
// bucket and prefix (components/bucket/b2-keys.ts): b2_authorize_account, b2_list_buckets,
// b2_create_key, b2_delete_key, with B2's request and reply shapes, its error envelope
// ({status, code, message}) and its capability checks. Served by the daemon next to the Vast API;
// what a key may do on S3 is enforced by MinIO itself (account.ts, key-policy.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { B2Error, type ApplicationKey, type B2Account, type KeyRequest, type Principal } from "./account.ts";

/** The one version served: v4 is where b2_create_key takes `bucketIds` (v3 took one `bucketId`). */
const apiPrefix = "/b2api/v4/";

interface Call {
  readonly principal: () => Principal;
  readonly body: Record<string, unknown>;
  readonly authorization: string | undefined;
}

interface Operation {
  readonly method: "GET" | "POST";
  readonly handle: (call: Call) => Promise<unknown>;
}

export interface B2ApiOptions {
  readonly account: B2Account;
  /** The S3 endpoint the account's keys also work on (authorize tells clients where it is). */
  readonly s3ApiUrl: string;
}

export class B2Api {
  private readonly account: B2Account;
  private readonly s3ApiUrl: string;
  private readonly operations: Readonly<Record<string, Operation>>;
  /** Where clients reach this API; authorize answers it as the apiUrl of later calls. */
  baseUrl = "";

  constructor(options: B2ApiOptions) {
    this.account = options.account;
    this.s3ApiUrl = options.s3ApiUrl;
    this.operations = {
      b2_authorize_account: { method: "GET", handle: (call) => this.authorize(call.authorization) },
      b2_list_buckets: { method: "POST", handle: async (call) => this.listBuckets(call.principal(), call.body) },
      b2_create_key: {
        method: "POST",
        handle: async (call) => {
          const principal = call.principal();
          need(principal, "writeKeys");
          const request = keyRequest(call.body, this.account.accountId);
          const made = await this.account.createKey(request);
          return { ...this.keyJson(made.key), applicationKey: made.applicationKey };
        },
      },
      b2_delete_key: {
        method: "POST",
        handle: async (call) => {
          need(call.principal(), "deleteKeys");
          return this.keyJson(await this.account.deleteKey(requiredString(call.body, "applicationKeyId")));
        },
      },
    };
  }

  /** Handles a request if it is for this API; returns false for other paths. */
  async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<boolean> {
    const path = new URL(req.url ?? "/", "http://local").pathname;
    if (!path.startsWith("/b2api/")) return false;
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    try {
      if (!path.startsWith(apiPrefix)) throw new B2Error(404, "not_found", `the local cloud serves B2's native API v4 only (${apiPrefix}…), not ${path}`);
      const name = path.slice(apiPrefix.length);
      const operation = Object.hasOwn(this.operations, name) ? this.operations[name] : undefined;
      if (!operation) throw new B2Error(404, "not_found", `${path} is not a B2 call the local cloud serves (${Object.keys(this.operations).join(", ")})`);
      if (req.method !== operation.method) throw new B2Error(405, "method_not_allowed", `${path} takes ${operation.method}`);
      const authorization = req.headers.authorization;
      send(200, await operation.handle({ authorization, body: jsonObject(rawBody), principal: () => this.account.principal(authorization) }));
    } catch (error) {
      if (error instanceof B2Error) send(error.status, { status: error.status, code: error.code, message: error.message });
      else send(500, { status: 500, code: "internal_error", message: (error as Error).message });
    }
    return true;
  }

  private async authorize(authorization: string | undefined) {
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    const pair = basic ? Buffer.from(basic, "base64").toString("utf8") : "";
    const colon = pair.indexOf(":");
    if (colon < 0) throw new B2Error(401, "unauthorized", "b2_authorize_account needs 'Authorization: Basic base64(applicationKeyId:applicationKey)'");
    const { token, principal } = this.account.authorize(pair.slice(0, colon), pair.slice(colon + 1));
    const buckets = principal.bucketIds ? await this.account.buckets() : [];
    // Only what the local cloud serves: no download URL, no partner API.
    return {
      accountId: this.account.accountId,
      authorizationToken: token,
      applicationKeyExpirationTimestamp: null,
      apiInfo: {
        storageApi: {
          infoType: "storageApi",
          apiUrl: this.baseUrl,
          s3ApiUrl: this.s3ApiUrl,
          allowed: {
            buckets: principal.bucketIds?.map((id) => ({ id, name: buckets.find((b) => b.bucketId === id)?.bucketName ?? null })) ?? null,
            capabilities: principal.capabilities,
            namePrefix: principal.namePrefix,
          },
        },
      },
    };
  }

  private async listBuckets(principal: Principal, body: Record<string, unknown>) {
    need(principal, "listBuckets");
    sameAccount(body, this.account.accountId);
    const bucketId = optionalString(body, "bucketId");
    const bucketName = optionalString(body, "bucketName");
    // As on B2: a key limited to buckets must name one of them.
    if (principal.bucketIds && !bucketId && !bucketName) throw new B2Error(401, "unauthorized", "a key limited to buckets must name its bucket (bucketId or bucketName)");
    const buckets = (await this.account.buckets())
      .filter((b) => (!bucketId || b.bucketId === bucketId) && (!bucketName || b.bucketName === bucketName))
      .filter((b) => !principal.bucketIds || principal.bucketIds.includes(b.bucketId));
    if (principal.bucketIds && buckets.length === 0) throw new B2Error(401, "unauthorized", "this key is not allowed that bucket");
    return {
      buckets: buckets.map((b) => ({
        accountId: this.account.accountId, bucketId: b.bucketId, bucketName: b.bucketName, bucketType: "allPrivate", bucketInfo: {}, options: ["s3"], revision: 1,
      })),
    };
  }

  private keyJson(key: ApplicationKey) {
    return {
      accountId: this.account.accountId, keyName: key.keyName, applicationKeyId: key.keyId, capabilities: key.capabilities,
      expirationTimestamp: null, bucketIds: key.bucketIds, namePrefix: key.namePrefix, options: ["s3"],
    };
  }
}

function need(principal: Principal, capability: string): void {
  if (!principal.capabilities.includes(capability)) throw new B2Error(401, "unauthorized", `this key does not have the '${capability}' capability`);
}

function jsonObject(raw: string): Record<string, unknown> {
  if (raw.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new B2Error(400, "bad_request", "the request body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new B2Error(400, "bad_request", "the request body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new B2Error(400, "bad_request", `${field} must be a string`);
  return value;
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (!value) throw new B2Error(400, "bad_request", `required field ${field} is missing`);
  return value;
}

function sameAccount(body: Record<string, unknown>, accountId: string): void {
  const asked = requiredString(body, "accountId");
  if (asked !== accountId) throw new B2Error(401, "unauthorized", `accountId '${asked}' is not the account of this token`);
}

/** A b2_create_key body, checked as B2 documents it (key names: 1-100 letters, digits and '-'). */
function keyRequest(body: Record<string, unknown>, accountId: string): KeyRequest {
  sameAccount(body, accountId);
  const keyName = requiredString(body, "keyName");
  if (!/^[A-Za-z0-9-]{1,100}$/.test(keyName)) throw new B2Error(400, "bad_request", `keyName '${keyName}': 1-100 letters, digits and '-'`);
  const capabilities = body.capabilities;
  if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === "string")) throw new B2Error(400, "bad_request", "capabilities must be a list of strings");
  const bucketIds = body.bucketIds;
  if (bucketIds !== undefined && bucketIds !== null && (!Array.isArray(bucketIds) || bucketIds.length === 0 || !bucketIds.every((b) => typeof b === "string"))) {
    throw new B2Error(400, "bad_request", "bucketIds must be a non-empty list of bucket ids");
  }
  if (body.bucketId !== undefined) throw new B2Error(400, "bad_request", "v4 b2_create_key takes bucketIds (a list), not bucketId");
  if (body.validDurationInSeconds !== undefined && body.validDurationInSeconds !== null) {
    throw new B2Error(400, "bad_request", "the local cloud does not make keys that expire (validDurationInSeconds)");
  }
  return { keyName, capabilities: capabilities as string[], bucketIds: (bucketIds as string[] | null | undefined) ?? null, namePrefix: optionalString(body, "namePrefix") ?? null };
}
