// The Vast.ai REST API as the emulator serves it: routes with and without trailing slashes, auth by
// Bearer header or ?api_key=, Vast's error envelope ({success:false, error, msg}) and status codes,
// 429s without Retry-After, the v0 list's deprecation, the v1 list's pagination.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Cloud } from "../cloud.ts";
import { VastError } from "./error.ts";
import { compare, coerce, operators, parseSearchBody, searchOffers, SearchError, type Operator } from "./offers.ts";
import { RateLimiter, tooManyRequestsBody } from "./rate-limit.ts";

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  /** Name for rate limiting (see rate-limit.ts); also shown in logs. */
  readonly endpoint: string;
  readonly auth: boolean;
  readonly handle: (ctx: RequestContext) => Promise<Reply>;
}

interface RequestContext {
  readonly params: string[];
  readonly query: URLSearchParams;
  readonly body: unknown;
}

interface Reply {
  readonly status?: number;
  readonly json?: unknown;
  readonly text?: string;
}

const listPageMax = 25;
const filterableInstanceColumns = new Set([
  "id", "label", "actual_status", "intended_status", "cur_state", "next_state", "machine_id", "host_id", "gpu_name", "geolocation", "image_uuid",
]);

export class VastApi {
  private readonly cloud: Cloud;
  private readonly limiter = new RateLimiter();
  private readonly logTokens = new Map<string, number>();
  private readonly routes: Route[];
  private stormCount = 0;
  /** Base URL clients reach this API at; request_logs' result_url points back here. */
  baseUrl = "";

  constructor(cloud: Cloud) {
    this.cloud = cloud;
    const c = cloud;
    const id = (ctx: RequestContext) => Number(ctx.params[0]);
    this.routes = [
      { method: "POST", pattern: /^\/api\/v0\/bundles$/, endpoint: "POST search", auth: false, handle: async (ctx) => this.search(ctx.body) },
      {
        method: "PUT", pattern: /^\/api\/v0\/search\/asks$/, endpoint: "POST search", auth: false,
        handle: async (ctx) => this.search((ctx.body as { q?: unknown } | null)?.q ?? {}),
      },
      {
        method: "PUT", pattern: /^\/api\/v0\/asks\/(\d+)$/, endpoint: "PUT rent", auth: true,
        handle: async (ctx) => {
          const created = await c.rent(id(ctx), (ctx.body ?? {}) as Record<string, unknown>);
          return { json: { success: true, new_contract: created.id, instance_api_key: created.apiKey } };
        },
      },
      {
        method: "GET", pattern: /^\/api\/v0\/instances$/, endpoint: "GET list", auth: true,
        handle: async () => ({
          status: 410,
          json: { success: false, error: "deprecated_endpoint", msg: "/api/v0/instances/ is deprecated. Use /api/v1/instances/ instead." },
        }),
      },
      { method: "GET", pattern: /^\/api\/v1\/instances$/, endpoint: "GET list", auth: true, handle: async (ctx) => this.list(ctx.query) },
      { method: "GET", pattern: /^\/api\/v0\/instances\/(\d+)$/, endpoint: "GET show", auth: true, handle: async (ctx) => ({ json: { instances: c.show(id(ctx)) ?? null } }) },
      {
        method: "PUT", pattern: /^\/api\/v0\/instances\/(\d+)$/, endpoint: "PUT manage", auth: true,
        handle: async (ctx) => {
          const body = (ctx.body ?? {}) as { state?: unknown; label?: unknown };
          if (body.label !== undefined) {
            c.setLabel(id(ctx), String(body.label));
            return { json: { success: true, msg: `label for ${id(ctx)} set to '${String(body.label)}'` } };
          }
          if (body.state === "running" || body.state === "stopped") {
            await c.setState(id(ctx), body.state);
            return { json: { success: true } };
          }
          throw new VastError(400, "invalid_args", "expected {\"state\": \"running\"|\"stopped\"} or {\"label\": …}");
        },
      },
      {
        method: "DELETE", pattern: /^\/api\/v0\/instances\/(\d+)$/, endpoint: "DELETE destroy", auth: true,
        handle: async (ctx) => {
          await c.destroy(id(ctx));
          return { json: { success: true } };
        },
      },
      {
        method: "PUT", pattern: /^\/api\/v0\/instances\/reboot\/(\d+)$/, endpoint: "PUT reboot", auth: true,
        handle: async (ctx) => {
          await c.reboot(id(ctx));
          return { json: { success: true } };
        },
      },
      {
        method: "PUT", pattern: /^\/api\/v0\/instances\/request_logs\/(\d+)$/, endpoint: "PUT logs", auth: true,
        handle: async (ctx) => {
          c.show(id(ctx)) ?? (() => { throw new VastError(404, "no_such_instance", `Instance ${id(ctx)} not found.`); })();
          const token = randomBytes(12).toString("hex");
          this.logTokens.set(token, id(ctx));
          return { json: { success: true, result_url: `${this.baseUrl}/logs/${token}.txt` } };
        },
      },
      {
        method: "GET", pattern: /^\/logs\/([0-9a-f]+)\.txt$/, endpoint: "GET logs", auth: false,
        handle: async (ctx) => {
          const instance = this.logTokens.get(ctx.params[0]!);
          if (instance === undefined) return { status: 404, text: "not found" };
          return { text: await c.logs(instance) };
        },
      },
      {
        method: "GET", pattern: /^\/api\/v0\/ssh$/, endpoint: "GET ssh", auth: true,
        handle: async () => {
          if (c.account.keys.length === 0) throw new VastError(404, "no_ssh_keys", "No SSH keys found for the user");
          return { json: c.account.keys.map((k) => ({ id: k.id, user_id: c.account.id, key: k.key, created_at: k.createdAt, deleted_at: null })) };
        },
      },
      {
        method: "POST", pattern: /^\/api\/v0\/ssh$/, endpoint: "POST ssh", auth: true,
        handle: async (ctx) => {
          const k = c.addAccountKey(String((ctx.body as { ssh_key?: unknown } | null)?.ssh_key ?? ""));
          return { json: { success: true, key: { id: k.id, user_id: c.account.id, public_key: k.key, created_at: k.createdAt, deleted_at: null } } };
        },
      },
      {
        method: "PUT", pattern: /^\/api\/v0\/ssh\/(\d+)$/, endpoint: "PUT ssh", auth: true,
        handle: async (ctx) => {
          const k = c.updateAccountKey(id(ctx), String((ctx.body as { ssh_key?: unknown } | null)?.ssh_key ?? ""));
          return { json: { success: true, key: { id: k.id, user_id: c.account.id, public_key: k.key, created_at: k.createdAt, deleted_at: null } } };
        },
      },
      {
        method: "DELETE", pattern: /^\/api\/v0\/ssh\/(\d+)$/, endpoint: "DELETE ssh", auth: true,
        handle: async (ctx) => {
          c.deleteAccountKey(id(ctx));
          return { json: { success: true } };
        },
      },
      {
        method: "GET", pattern: /^\/api\/v0\/instances\/(\d+)\/ssh$/, endpoint: "GET instance-ssh", auth: true,
        handle: async (ctx) => ({ json: { success: true, ssh_keys: JSON.stringify(c.instanceKeys(id(ctx))) } }),
      },
      {
        method: "POST", pattern: /^\/api\/v0\/instances\/(\d+)\/ssh$/, endpoint: "POST ssh", auth: true,
        handle: async (ctx) => {
          if (c.faults.take("key-attach-fails")) throw new VastError(500, "server_error", "Internal server error while attaching the key");
          await c.attachInstanceKey(id(ctx), String((ctx.body as { ssh_key?: unknown } | null)?.ssh_key ?? ""));
          return { json: { success: true, msg: "SSH key attached successfully" } };
        },
      },
      {
        method: "DELETE", pattern: /^\/api\/v0\/instances\/(\d+)\/ssh\/(\d+)$/, endpoint: "DELETE instance-ssh", auth: true,
        handle: async (ctx) => {
          await c.detachInstanceKey(id(ctx), Number(ctx.params[1]));
          return { json: { success: true } };
        },
      },
      {
        method: "GET", pattern: /^\/api\/v0\/users\/current$/, endpoint: "GET user", auth: true,
        handle: async () => {
          await c.refreshBandwidth();
          const a = c.account;
          return { json: { id: a.id, email: a.email, username: a.username, balance: c.balance(), credit: a.creditUsd, has_billing: true, ssh_key: a.keys[0]?.key ?? null } };
        },
      },
      {
        method: "GET", pattern: /^\/api\/v0\/charges$/, endpoint: "GET charges", auth: true,
        handle: async () => {
          await c.refreshBandwidth();
          return { json: { success: true, results: c.charges() } };
        },
      },
    ];
  }

  private search(body: unknown): Reply {
    try {
      const query = parseSearchBody(body, this.cloud.offerFields());
      return { json: { offers: searchOffers(this.cloud.availableOffers(query.allocatedStorageGb), query) } };
    } catch (error) {
      if (error instanceof SearchError) throw new VastError(400, "invalid_request", error.message);
      throw error;
    }
  }

  private list(query: URLSearchParams): Reply {
    const parseJson = (name: string, fallback: unknown) => {
      const raw = query.get(name);
      if (raw === null) return fallback;
      try {
        return JSON.parse(raw);
      } catch {
        throw new VastError(400, "invalid_request", `${name} is not valid JSON`);
      }
    };
    const limitRaw = Number(query.get("limit") ?? listPageMax);
    const limit = !Number.isFinite(limitRaw) || limitRaw <= 0 ? 5 : Math.min(Math.floor(limitRaw), listPageMax);
    const filters = parseJson("select_filters", {}) as Record<string, Record<string, unknown>>;
    let rows = this.cloud.list();
    const total = rows.length;
    for (const [column, condition] of Object.entries(filters ?? {})) {
      if (!filterableInstanceColumns.has(column)) throw new VastError(400, "invalid_request", `Error in query parameters: ${column} is not a valid search key`);
      for (const [op, value] of Object.entries(condition ?? {})) {
        if (!(operators as readonly string[]).includes(op)) throw new VastError(400, "invalid_request", `invalid_request ${op} is not a valid search op`);
        rows = rows.filter((r) => compare(r[column], op as Operator, coerce(value), column));
      }
    }
    const order = parseJson("order_by", [{ col: "id", dir: "asc" }]) as Array<{ col: string; dir?: string }>;
    rows.sort((a, b) => {
      for (const { col, dir } of order) {
        const x = a[col] as number | string;
        const y = b[col] as number | string;
        if (x !== y) return (x < y ? -1 : 1) * (dir === "desc" ? -1 : 1);
      }
      return (a.id as number) - (b.id as number);
    });
    let start = 0;
    const token = query.get("after_token");
    if (token) {
      const offset = Number(Buffer.from(token, "base64url").toString("utf8").replace(/^offset:/, ""));
      if (!Number.isInteger(offset) || offset < 0) throw new VastError(400, "invalid_token", "after_token is not a token this API issued");
      start = offset;
    }
    const page = rows.slice(start, start + limit);
    const next = start + limit < rows.length ? Buffer.from(`offset:${start + limit}`).toString("base64url") : null;
    const labelCounts: Record<string, number> = {};
    for (const r of rows) labelCounts[String(r.label ?? "")] = (labelCounts[String(r.label ?? "")] ?? 0) + 1;
    return { json: { success: true, instances_found: rows.length, total_instances: total, label_counts: labelCounts, next_token: next, instances: page } };
  }

  private identity(req: IncomingMessage, query: URLSearchParams): string | undefined {
    const header = req.headers.authorization;
    if (header?.startsWith("Bearer ")) return header.slice("Bearer ".length).trim();
    return query.get("api_key") ?? undefined;
  }

  /** Handles a request if it is for this API; returns false for other paths (e.g. /admin). */
  async handle(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://local");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (!path.startsWith("/api/") && !path.startsWith("/logs/")) return false;
    const route = this.routes.find((r) => r.method === req.method && r.pattern.test(path));
    const send = (status: number, payload: unknown, contentType = "application/json") => {
      res.writeHead(status, { "content-type": contentType });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    if (!route) {
      const known = this.routes.some((r) => r.pattern.test(path));
      send(known ? 405 : 404, { success: false, error: known ? "method_not_allowed" : "not_found", msg: `${req.method} ${path} is not an API route` });
      return true;
    }
    const key = this.identity(req, url.searchParams);
    if (route.auth && key !== this.cloud.account.apiKey) {
      const status = this.cloud.faults.take("auth-404") ? 404 : this.cloud.settings.authErrorStatus;
      send(status, { success: false, error: "auth_error", msg: "Invalid user key" });
      return true;
    }
    const identity = key ?? req.socket.remoteAddress ?? "anonymous";
    const storm = this.cloud.faults.take("rate-limit-storm");
    if (storm || (this.cloud.settings.rateLimits === "realistic" && !this.limiter.allow(identity, route.endpoint))) {
      const reply = tooManyRequestsBody(route.endpoint, this.stormCount++);
      send(429, reply.body, reply.contentType);
      return true;
    }
    let body: unknown = null;
    if (rawBody.trim() !== "") {
      try {
        body = JSON.parse(rawBody);
      } catch {
        send(400, { success: false, error: "invalid_request", msg: "Malformed JSON in request body" });
        return true;
      }
    }
    try {
      const reply = await route.handle({ params: route.pattern.exec(path)!.slice(1), query: url.searchParams, body });
      if (reply.text !== undefined) send(reply.status ?? 200, reply.text, "text/plain");
      else send(reply.status ?? 200, reply.json);
    } catch (error) {
      if (error instanceof VastError) send(error.status, error.body);
      else send(500, { success: false, error: "server_error", msg: (error as Error).message });
    }
    return true;
  }
}
