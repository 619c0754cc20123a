// The local cloud's own control surface (not part of Vast's API): arm faults, create standby hosts,
// change timing, read status, shut down. It needs the admin token from endpoints.json.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Cloud } from "./cloud.ts";
import { validateFault } from "./faults.ts";
import { settingKeys, type CloudSettings } from "./settings.ts";

export interface AdminHooks {
  readonly token: string;
  readonly shutdown: () => void;
  readonly s3InjectedErrors: () => number;
}

export async function handleAdmin(cloud: Cloud, hooks: AdminHooks, req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<boolean> {
  const url = new URL(req.url ?? "/", "http://local");
  const path = url.pathname.replace(/\/+$/, "");
  if (!path.startsWith("/admin")) return false;
  const send = (status: number, payload: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(payload));
  };
  if (req.headers.authorization !== `Bearer ${hooks.token}`) {
    send(401, { error: "the admin API needs 'Authorization: Bearer <admin token>' (see endpoints.json)" });
    return true;
  }
  let body: Record<string, unknown> = {};
  try {
    body = rawBody.trim() ? JSON.parse(rawBody) : {};
  } catch {
    send(400, { error: "malformed JSON" });
    return true;
  }
  const route = `${req.method} ${path}`;
  const standby = /^\/admin\/standbys\/([a-z0-9-]+)$/.exec(path)?.[1];
  const standbyToStart = /^\/admin\/standbys\/([a-z0-9-]+)\/start$/.exec(path)?.[1];
  try {
    if (route === "GET /admin/status") {
      send(200, { ...cloud.status(), s3_injected_errors: hooks.s3InjectedErrors() });
    } else if (route === "POST /admin/faults") {
      send(200, await cloud.injectFault(validateFault(body)));
    } else if (route === "DELETE /admin/faults") {
      await cloud.clearFaults();
      send(200, { cleared: true });
    } else if (route === "POST /admin/settings") {
      for (const [key, value] of Object.entries(body)) {
        if (!settingKeys.includes(key as keyof CloudSettings)) throw new Error(`unknown setting '${key}'; known: ${settingKeys.join(", ")}`);
        (cloud.settings as unknown as Record<string, unknown>)[key] = value;
      }
      send(200, cloud.settings);
    } else if (route === "POST /admin/standbys") {
      const keys = body.authorized_keys;
      if (typeof body.name !== "string" || !Array.isArray(keys)) throw new Error("expected {name, authorized_keys: [public key lines]}");
      send(200, await cloud.createStandby(body.name, keys.map(String)));
    } else if (standby && req.method === "GET") {
      const info = cloud.standby(standby);
      send(info ? 200 : 404, info ?? { error: `no standby '${standby}'` });
    } else if (standbyToStart && req.method === "POST") {
      send(200, await cloud.startStandby(standbyToStart));
    } else if (standby && req.method === "DELETE") {
      send(200, { destroyed: await cloud.destroyStandby(standby) });
    } else if (route === "POST /admin/shutdown") {
      send(200, { shutting_down: true });
      hooks.shutdown();
    } else {
      send(404, { error: `${route} is not an admin route` });
    }
  } catch (error) {
    send(400, { error: (error as Error).message });
  }
  return true;
}
