// The Vast client against a real HTTP server on 127.0.0.1 that answers as scripted: which failures
// are retried (rate limits, gateway errors, dropped connections, timeouts of reads), how long it
// waits between tries, and what is never repeated — a rent, which may have created an instance
// even when it answered with an error. Also where SSH answers on an instance Vast describes.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { afterEach, describe, expect, it } from "vitest";
import { sshEndpoints, VastApiError, VastClient, type VastClientSettings, type VastInstance } from "../../../../clouds/vast/client.ts";

/** One scripted answer: a status and a body (JSON unless a string), a dropped connection, or none at all. */
type Answer = { readonly status: number; readonly body?: unknown } | "drop" | "hang";

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly authorization?: string;
  readonly body: string;
  readonly at: number;
}

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** A server answering its script in order, one answer per request; a request past the end gets a 500 (never retried). */
async function vastServer(script: readonly Answer[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      seen.push({ method: request.method!, path: request.url!, authorization: request.headers.authorization, body: Buffer.concat(chunks).toString(), at: performance.now() });
      const answer = script[seen.length - 1] ?? { status: 500, body: { success: false, error: "script_exhausted", msg: `request ${seen.length} was not expected` } };
      if (answer === "hang") return;
      if (answer === "drop") {
        request.socket.destroy();
        return;
      }
      const text = typeof answer.body === "string" ? answer.body : answer.body === undefined ? "" : JSON.stringify(answer.body);
      response.writeHead(answer.status, { "content-type": typeof answer.body === "string" ? "text/plain" : "application/json" });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A client with tiny delays: a test waits milliseconds where Vast's client waits seconds. */
const clientOf = (url: string, settings: Partial<VastClientSettings> = {}) => new VastClient({ baseUrl: url, apiKey: "unit-key", attempts: 3, backoffMs: 1, timeoutMs: 5_000, ...settings });

const ok = (body: unknown = {}): Answer => ({ status: 200, body });
const user = { id: 7, email: "u@example.com", balance: 10, credit: 0 };
const rentRequest = { image: "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", disk: 32, label: "dumont-unit-a.0f3c" };

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("it did not fail");
}

describe("retries of a read", () => {
  it.each<[string, Answer, number]>([
    ["429 rate limit: retried", { status: 429, body: "API requests too frequent" }, 3],
    ["502 bad gateway: retried", { status: 502, body: "<html>Bad Gateway</html>" }, 3],
    ["503 unavailable: retried", { status: 503, body: { detail: "unavailable" } }, 3],
    ["504 gateway timeout: retried", { status: 504, body: "" }, 3],
    ["a dropped connection: retried", "drop", 3],
    ["500 server error: not retried", { status: 500, body: { success: false, error: "server_error", msg: "boom" } }, 1],
    ["400 bad request: not retried", { status: 400, body: { success: false, error: "invalid_args", msg: "bad" } }, 1],
    ["401 bad key: not retried", { status: 401, body: { detail: "Invalid API key" } }, 1],
    ["403 forbidden: not retried", { status: 403, body: { success: false, error: "auth_error", msg: "no" } }, 1],
    ["404 not found: not retried", { status: 404, body: { success: false, error: "not_found", msg: "gone" } }, 1],
    ["an error inside HTTP 200: not retried", { status: 200, body: { success: false, error: "invalid_request", msg: "no" } }, 1],
  ])("%s (%i request(s) with 3 attempts allowed)", async (_, answer, requests) => {
    const { url, seen } = await vastServer([answer, answer, answer, answer]);
    await expect(clientOf(url).currentUser()).rejects.toThrow();
    expect(seen).toHaveLength(requests);
  });

  it("a read that is rate limited, then hits a gateway error and a dropped connection, succeeds on the next try", async () => {
    const { url, seen } = await vastServer([{ status: 429, body: "API requests too frequent" }, { status: 502, body: "" }, "drop", ok(user)]);
    expect(await clientOf(url, { attempts: 4 }).currentUser()).toEqual(user);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(Array(4).fill("GET /api/v0/users/current/"));
  });

  it("gives up after its attempts with the last error, which says it is a rate limit", async () => {
    const { url, seen } = await vastServer(Array(6).fill({ status: 429, body: "API requests too frequent" }));
    const error = await failureOf(clientOf(url, { attempts: 5 }).currentUser());
    expect(seen).toHaveLength(5);
    expect(error).toBeInstanceOf(VastApiError);
    expect((error as VastApiError).isRateLimit).toBe(true);
    expect(error.message).toBe("Vast API GET /api/v0/users/current/: 429 rate_limited: API requests too frequent");
  });

  it("a read that times out is tried again", async () => {
    const { url, seen } = await vastServer(["hang", ok(user)]);
    expect(await clientOf(url, { timeoutMs: 200 }).currentUser()).toEqual(user);
    expect(seen).toHaveLength(2);
  });

  it("a bad key fails at once and says so", async () => {
    const { url, seen } = await vastServer([{ status: 401, body: { detail: "Invalid API key" } }]);
    const error = (await failureOf(clientOf(url).currentUser())) as VastApiError;
    expect(error.isAuth).toBe(true);
    expect(error.message).toContain("Invalid API key");
    expect(seen[0]!.authorization).toBe("Bearer unit-key");
  });

  it("waits longer after each rate limit: at least half the first delay, doubled per try", async () => {
    const backoffMs = 40;
    const { url, seen } = await vastServer([...Array(3).fill({ status: 429, body: "API requests too frequent" }), ok(user)]);
    await clientOf(url, { attempts: 4, backoffMs }).currentUser();
    const gaps = seen.slice(1).map((r, i) => r.at - seen[i]!.at);
    // Jitter is 2/3–4/3× of backoffMs·2^(try-1) (lib/retry.ts); timers may fire up to a millisecond early.
    gaps.forEach((gap, i) => expect(gap, `wait before try ${i + 2}`).toBeGreaterThanOrEqual(backoffMs * 0.5 * 2 ** i - 1));
    expect(gaps).toHaveLength(3);
  });

  it("does not wait after a failure it will not retry", async () => {
    const { url } = await vastServer([{ status: 400, body: { success: false, error: "invalid_args", msg: "bad" } }]);
    const started = performance.now();
    await expect(clientOf(url, { backoffMs: 10_000 }).currentUser()).rejects.toThrow(/400 invalid_args: bad/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("a rent is never repeated", () => {
  it.each<[string, Answer]>([
    ["a 429", { status: 429, body: "API requests too frequent" }],
    ["a 502", { status: 502, body: "" }],
    ["a 503", { status: 503, body: "" }],
    ["a 504", { status: 504, body: "" }],
    ["a dropped connection", "drop"],
    ["a timeout", "hang"],
  ])("after %s: one request, and the error goes to the caller (who reconciles by label)", async (_, answer) => {
    const { url, seen } = await vastServer([answer, ok({ success: true, new_contract: 4242 })]);
    await expect(clientOf(url, { attempts: 6, timeoutMs: 200 }).rent(99, rentRequest)).rejects.toThrow();
    expect(seen).toHaveLength(1);
    expect(`${seen[0]!.method} ${seen[0]!.path}`).toBe("PUT /api/v0/asks/99/");
  });

  it("a rent that failed but created an instance names the instance", async () => {
    const { url, seen } = await vastServer([{ status: 504, body: { success: false, error: "timeout", msg: "took too long", new_contract: 4242 } }]);
    const error = (await failureOf(clientOf(url).rent(99, rentRequest))) as VastApiError;
    expect(error.createdInstanceId).toBe(4242);
    expect(seen).toHaveLength(1);
  });

  it("a rent that succeeds returns the new instance, having sent the label and image", async () => {
    const { url, seen } = await vastServer([ok({ success: true, new_contract: 4242 })]);
    expect(await clientOf(url).rent(99, rentRequest)).toEqual({ instanceId: 4242 });
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ client_id: "me", ...rentRequest });
  });

  it.each<[string, unknown, RegExp]>([
    ["no new_contract", { success: true }, /returned no new_contract/],
    ["a new_contract that is not an id", { success: true, new_contract: -1 }, /new_contract/],
  ])("a rent answered with %s fails without trying again", async (_, body, message) => {
    const { url, seen } = await vastServer([ok(body), ok({ success: true, new_contract: 4242 })]);
    await expect(clientOf(url).rent(99, rentRequest)).rejects.toThrow(message);
    expect(seen).toHaveLength(1);
  });

  it("an offer that was taken says so, for the caller to try the next one", async () => {
    const { url } = await vastServer([{ status: 400, body: { success: false, error: "no_such_ask", msg: "Instance type no longer available" } }]);
    expect(((await failureOf(clientOf(url).rent(99, rentRequest))) as VastApiError).isOfferUnavailable).toBe(true);
  });

  it("refuses an offer id that is not an id before it calls Vast", async () => {
    const { url, seen } = await vastServer([]);
    await expect(clientOf(url).rent(0.5, rentRequest)).rejects.toThrow(/offer id/);
    expect(seen).toEqual([]);
  });
});

describe("idempotent writes", () => {
  it.each<[string, (c: VastClient) => Promise<void>, string]>([
    ["a destroy", (c) => c.destroyInstance(5), "DELETE /api/v0/instances/5/"],
    ["a label change", (c) => c.setLabel(5, "dumont-unit-b.00"), "PUT /api/v0/instances/5/"],
    ["a stop", (c) => c.setState(5, "stopped"), "PUT /api/v0/instances/5/"],
    ["an SSH key attachment", (c) => c.attachSshKey(5, "ssh-ed25519 AAAA"), "POST /api/v0/instances/5/ssh/"],
  ])("%s is retried after a gateway error", async (_, call, request) => {
    const { url, seen } = await vastServer([{ status: 503, body: "" }, ok({ success: true })]);
    await call(clientOf(url));
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual([request, request]);
  });

  it.each([["no_such_instance"], ["not_found"]])("destroying an instance that is already gone (%s) succeeds", async (code) => {
    const { url, seen } = await vastServer([{ status: 404, body: { success: false, error: code, msg: "gone" } }]);
    await expect(clientOf(url).destroyInstance(5)).resolves.toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it("a destroy refused for another reason fails", async () => {
    const { url } = await vastServer([{ status: 403, body: { success: false, error: "auth_error", msg: "not yours" } }]);
    await expect(clientOf(url).destroyInstance(5)).rejects.toThrow(/403 auth_error: not yours/);
  });
});

describe("answers", () => {
  it.each<[string, unknown]>([
    ["instances: null", { instances: null }],
    ["an empty object", { instances: {} }],
  ])("an instance shown as %s is gone", async (_, body) => {
    const { url } = await vastServer([ok(body)]);
    expect(await clientOf(url).showInstance(5)).toBeNull();
  });

  it("offers without a proper id or machine id are left out: they could not be rented", async () => {
    const good = { id: 1, machine_id: 10, gpu_name: "RTX 4090", dph_total: 0.3 };
    const { url } = await vastServer([ok({ offers: [good, { ...good, id: "1" }, { ...good, machine_id: null }, { ...good, id: 2.5 }] })]);
    expect(await clientOf(url).searchOffers({})).toEqual([good]);
  });

  it("lists every page of instances, passing the label filter and the page token", async () => {
    const { url, seen } = await vastServer([ok({ instances: [{ id: 1 }], next_token: "t2" }), ok({ instances: [{ id: 2 }], next_token: null })]);
    expect((await clientOf(url).listInstances({ label: "dumont-unit-a" })).map((i) => i.id)).toEqual([1, 2]);
    const queries = seen.map((r) => new URL(r.path, url).searchParams);
    expect(queries.map((q) => q.get("select_filters"))).toEqual(Array(2).fill(JSON.stringify({ label: { eq: "dumont-unit-a" } })));
    expect(queries.map((q) => q.get("after_token"))).toEqual([null, "t2"]);
  });

  it("refuses to guess which instances exist from a list that is not a list", async () => {
    const { url } = await vastServer([ok({ instances: null })]);
    await expect(clientOf(url).listInstances()).rejects.toThrow(/refusing to guess/);
  });
});

describe("SSH endpoints of an instance", () => {
  const instance = (fields: Record<string, unknown>) => ({ id: 7, actual_status: "running", label: null, ...fields }) as VastInstance;
  const running = { public_ipaddr: "203.0.113.9\n", ports: { "22/tcp": [{ HostIp: "0.0.0.0", HostPort: "41022" }] }, ssh_host: "ssh4.vast.ai", ssh_port: 12345 };

  it("lists the direct port, then the proxy", () => {
    expect(sshEndpoints(instance(running))).toEqual([
      { host: "203.0.113.9", port: 41022, path: "direct" },
      { host: "ssh4.vast.ai", port: 12345, path: "proxy" },
    ]);
  });

  it("leaves out what Vast has not filled in yet", () => {
    expect(sshEndpoints(instance({ public_ipaddr: null, ports: null, ssh_host: null, ssh_port: null }))).toEqual([]);
    expect(sshEndpoints(instance({ ...running, public_ipaddr: "" }))).toEqual([{ host: "ssh4.vast.ai", port: 12345, path: "proxy" }]);
    expect(sshEndpoints(instance({ ...running, ports: { "22/tcp": null } }))).toHaveLength(1);
  });

  it.each([
    ["ssh_host", { ssh_host: "-oProxyCommand=sh" }],
    ["ssh_port", { ssh_port: 70000 }],
    ["public_ipaddr", { public_ipaddr: "1.2.3.4 -p 1" }],
    ['ports["22/tcp"][0].HostPort', { ports: { "22/tcp": [{ HostPort: "22; reboot" }] } }],
  ])("refuses a malformed %s", (field, fields) => {
    expect(() => sshEndpoints(instance({ ...running, ...fields }))).toThrow(`Vast returned ${field} =`);
  });
});
