// A client for the Vast.ai REST API, written against Vast's documentation and its observed
// behaviour (research/vast.md): Bearer auth; the {success:false, error, msg} envelope, also inside
// HTTP 200; 429 without Retry-After; {"instances": null} for a destroyed instance; the v1 list with
// pagination. Reads and idempotent writes retry with backoff; renting never does, because a rent
// that errored may still have created an instance (the caller reconciles by label). Ids and SSH
// endpoints in Vast's answers are checked before use (instance-fields.ts).
import { settingLabel } from "../../contract/settings-schema.ts";
import { EnvironmentError, SettingError } from "../../lib/errors.ts";
import { retry } from "../../lib/retry.ts";
import { checkedHost, checkedId, checkedPort, isUnset, isVastId } from "./instance-fields.ts";

export interface VastClientSettings {
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Attempts for retryable calls (429, 502-504, network errors). */
  readonly attempts?: number;
  /** First backoff delay; it grows 2x per attempt, with jitter. */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

export class VastApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, code: string, message: string, body: unknown) {
    super(`Vast API ${method} ${path}: ${status} ${code}: ${message}`);
    this.name = "VastApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }

  get isRateLimit(): boolean {
    return this.status === 429;
  }

  get isAuth(): boolean {
    return this.code === "auth_error" || this.status === 401 || this.status === 403;
  }

  /** The offer was taken or is gone: try the next one. */
  get isOfferUnavailable(): boolean {
    const text = `${this.code} ${this.message}`;
    return /no_such_ask|not available|no longer (available|rentable)|already rented/i.test(text);
  }

  get isNoSuchInstance(): boolean {
    return this.code === "no_such_instance" || this.code === "not_found";
  }

  /** An instance id that Vast created even though it answered with an error. */
  get createdInstanceId(): number | undefined {
    const id = (this.body as { new_contract?: unknown } | undefined)?.new_contract;
    return isVastId(id) ? id : undefined;
  }
}

export type Offer = Readonly<Record<string, unknown>> & {
  readonly id: number;
  readonly machine_id: number;
  readonly gpu_name: string;
  readonly num_gpus: number;
  readonly dph_total: number;
  readonly dph_base: number;
  readonly reliability2: number;
};

export type VastInstance = Readonly<Record<string, unknown>> & {
  readonly id: number;
  readonly actual_status: string | null;
  readonly label: string | null;
};

export interface RentRequest {
  readonly image: string;
  readonly disk: number;
  readonly label: string;
  readonly onstart?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly runtype?: string;
  /** A bid in $/h makes the instance interruptible; absent means on-demand. */
  readonly price?: number;
}

const retryableStatus = new Set([429, 502, 503, 504]);

export class VastClient {
  private readonly settings: Required<VastClientSettings>;

  constructor(settings: VastClientSettings) {
    if (!settings.apiKey) throw new SettingError(settingLabel("vastApiKey"), "the Vast API key is empty", "pulumi config set --secret dumont:vastApiKey <key>   (or export VAST_API_KEY)");
    this.settings = { attempts: 6, backoffMs: 500, timeoutMs: 60_000, ...settings, baseUrl: settings.baseUrl.replace(/\/+$/, "") };
  }

  private async once(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.settings.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.settings.apiKey}`, "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.settings.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // 429s may be plain text; other non-JSON bodies are reported as they are
    }
    const envelope = parsed as { success?: boolean; error?: string; msg?: string; message?: string; detail?: string } | undefined;
    if (!response.ok || envelope?.success === false) {
      const code = envelope?.error ?? (response.status === 429 ? "rate_limited" : `http_${response.status}`);
      const message = envelope?.msg ?? envelope?.message ?? envelope?.detail ?? (text.slice(0, 300) || response.statusText);
      throw new VastApiError(method, path, response.status, code, message, parsed);
    }
    return parsed;
  }

  /** Calls with retries on rate limits, gateway errors and network failures (timeouts included). */
  private call(method: string, path: string, body?: unknown, retried = true): Promise<unknown> {
    return retry(() => this.once(method, path, body), {
      attempts: retried ? this.settings.attempts : 1,
      backoff: { firstMs: this.settings.backoffMs, factor: 2, jitter: true },
      retryIf: (error) =>
        (error instanceof VastApiError && retryableStatus.has(error.status)) ||
        (!(error instanceof VastApiError) && (error as Error).name !== "AbortError"),
    });
  }

  async searchOffers(query: Readonly<Record<string, unknown>>): Promise<Offer[]> {
    const reply = (await this.call("POST", "/api/v0/bundles/", query)) as { offers?: Offer[] };
    // An offer without a proper id could not be rented (its id goes into the rent's path): left out.
    return (reply.offers ?? []).filter((o) => isVastId(o.id) && isVastId(o.machine_id));
  }

  /** Rents an offer. Not retried: an ambiguous failure must be reconciled by label, never repeated. */
  async rent(offerId: number, request: RentRequest): Promise<{ instanceId: number }> {
    const reply = (await this.call("PUT", `/api/v0/asks/${checkedId(offerId, "offer id")}/`, { client_id: "me", runtype: "ssh_direc ssh_proxy", ...request }, false)) as {
      new_contract?: unknown;
    };
    if (typeof reply.new_contract !== "number") {
      throw new EnvironmentError(`Vast rented offer ${offerId} but returned no new_contract`, "an instance may have been rented anyway: check `npx dumont instance list`");
    }
    return { instanceId: checkedId(reply.new_contract, "new_contract") };
  }

  /** The instance, or null once it is destroyed (or not yet visible right after a rent). */
  async showInstance(id: number): Promise<VastInstance | null> {
    const reply = (await this.call("GET", `/api/v0/instances/${checkedId(id, "instance id")}/?owner=me`)) as { instances?: VastInstance | null | Record<string, never> };
    const instance = reply?.instances;
    // A destroyed instance may also come back as an empty object.
    if (!instance || typeof instance !== "object" || !("id" in instance)) return null;
    checkedId(instance.id, "instances.id");
    return instance as VastInstance;
  }

  /** Every instance (all pages of the v1 list), optionally only those with this label. */
  async listInstances(filter: { label?: string } = {}): Promise<VastInstance[]> {
    const all: VastInstance[] = [];
    let token: string | null = null;
    const filters = filter.label === undefined ? {} : { label: { eq: filter.label } };
    do {
      const query = new URLSearchParams({ limit: "25", select_filters: JSON.stringify(filters) });
      if (token) query.set("after_token", token);
      const reply = (await this.call("GET", `/api/v1/instances/?${query}`)) as { instances?: VastInstance[]; next_token?: string | null };
      if (!Array.isArray(reply?.instances)) throw new EnvironmentError("Vast's instance list did not return a list; refusing to guess which instances exist", "Vast.ai may be having trouble: try again in a few minutes");
      // One at a time, not spread into one call: a page is whatever size the API sends.
      for (const instance of reply.instances) {
        checkedId(instance?.id, "instances[].id");
        all.push(instance);
      }
      token = reply.next_token ?? null;
    } while (token);
    return all;
  }

  /** Destroys an instance; an instance that is already gone counts as destroyed. */
  async destroyInstance(id: number): Promise<void> {
    try {
      await this.call("DELETE", `/api/v0/instances/${checkedId(id, "instance id")}/`, {});
    } catch (error) {
      if (!(error instanceof VastApiError && error.isNoSuchInstance)) throw error;
    }
  }

  async setLabel(id: number, label: string): Promise<void> {
    await this.call("PUT", `/api/v0/instances/${checkedId(id, "instance id")}/`, { label });
  }

  async setState(id: number, state: "running" | "stopped"): Promise<void> {
    await this.call("PUT", `/api/v0/instances/${checkedId(id, "instance id")}/`, { state });
  }

  async attachSshKey(id: number, publicKey: string): Promise<void> {
    await this.call("POST", `/api/v0/instances/${checkedId(id, "instance id")}/ssh/`, { ssh_key: publicKey });
  }

  async currentUser(): Promise<{ id: number; email: string; balance: number; credit: number }> {
    return (await this.call("GET", "/api/v0/users/current/")) as { id: number; email: string; balance: number; credit: number };
  }

  async charges(): Promise<Array<Record<string, unknown>>> {
    const reply = (await this.call("GET", "/api/v0/charges/")) as { results?: Array<Record<string, unknown>> } | Array<Record<string, unknown>>;
    return Array.isArray(reply) ? reply : (reply.results ?? []);
  }
}

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly path: "direct" | "proxy";
}

/**
 * Where SSH answers on a running instance: the direct port when mapped, else Vast's proxy. A field
 * Vast has not filled in yet leaves its endpoint out; one that is filled in with something that is
 * not a host or a port throws VastFieldError.
 */
export function sshEndpoints(instance: VastInstance): SshEndpoint[] {
  const endpoints: SshEndpoint[] = [];
  const ports = instance.ports;
  const mapped = ports && typeof ports === "object" ? (ports as Record<string, unknown>)["22/tcp"] : undefined;
  const direct = Array.isArray(mapped) ? (mapped[0] as { HostPort?: unknown } | undefined)?.HostPort : undefined;
  if (!isUnset(direct) && !isUnset(instance.public_ipaddr)) {
    endpoints.push({ host: checkedHost(instance.public_ipaddr, "public_ipaddr"), port: checkedPort(direct, 'ports["22/tcp"][0].HostPort'), path: "direct" });
  }
  if (!isUnset(instance.ssh_host) && !isUnset(instance.ssh_port)) {
    endpoints.push({ host: checkedHost(instance.ssh_host, "ssh_host"), port: checkedPort(instance.ssh_port, "ssh_port"), path: "proxy" });
  }
  return endpoints;
}
