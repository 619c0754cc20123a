// Helpers for tests against a local cloud: start one under its own name (so a developer's own
// cloud is untouched), talk to its Vast API over plain HTTP, make SSH key pairs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Endpoints } from "../../local-cloud/endpoints.ts";
import type { HostInfo } from "../../local-cloud/host.ts";
import { namespacePids } from "../../local-cloud/network.ts";
import { hostWorkspaceView } from "../../local-cloud/workspace-disk.ts";

export interface KeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly privateKeyPath: string;
}

export function makeKeyPair(comment = "dumont-test"): KeyPair {
  const dir = mkdtempSync(path.join(tmpdir(), "dumont-key-"));
  const file = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim(), privateKeyPath: file };
}

export interface ApiReply {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

/** A plain HTTP call to the emulator's Vast API, authenticated with the cloud's key unless told otherwise. */
export async function vast(endpoints: Endpoints, method: string, route: string, body?: unknown, apiKey: string | null = endpoints.vast.apiKey): Promise<ApiReply> {
  const response = await fetch(`${endpoints.vast.url}${route}`, {
    method,
    headers: { "content-type": "application/json", ...(apiKey !== null && { authorization: `Bearer ${apiKey}` }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain-text bodies (some 429s) stay in `text`
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

export async function waitForStatus(endpoints: Endpoints, id: number, status: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await vast(endpoints, "GET", `/api/v0/instances/${id}/`)).body?.instances;
    if (last?.actual_status === status) return last;
    await sleep(100);
  }
  throw new Error(`instance ${id} did not reach '${status}' in ${timeoutMs} ms (last: ${last?.actual_status})`);
}

/** Rents the cheapest offer matching `filters` and returns the new instance id. */
export async function rentCheapest(endpoints: Endpoints, filters: Record<string, unknown>, request: Record<string, unknown>): Promise<number> {
  const search = await vast(endpoints, "POST", "/api/v0/bundles/", { ...filters, order: [["dph_total", "asc"]], limit: 1 }, null);
  const offer = search.body.offers[0];
  if (!offer) throw new Error(`no offer matches ${JSON.stringify(filters)}`);
  const rent = await vast(endpoints, "PUT", `/api/v0/asks/${offer.id}/`, { image: "pytorch/pytorch:2.4.0", disk: 16, ...request });
  if (rent.status !== 200) throw new Error(`rent failed: ${rent.status} ${rent.text}`);
  return rent.body.new_contract;
}

/** Direct SSH endpoint of a running instance, as a client reads it from the API. */
export function directSsh(instance: any): { host: string; port: number } {
  return { host: String(instance.public_ipaddr).trim(), port: Number(instance.ports["22/tcp"][0].HostPort) };
}

/** A running local-cloud host's /workspace as this machine sees it (its disk is mounted in the host's own namespace only). */
export async function hostWorkspace(info: HostInfo): Promise<string> {
  const view = hostWorkspaceView(await namespacePids(info.namespace));
  if (!view) throw new Error(`host ${info.name} runs no process through which its /workspace can be read`);
  return view;
}
