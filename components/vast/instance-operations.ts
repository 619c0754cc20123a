// What the Vast instance provider does, outside the serialized provider object (which only imports
// this file): rent the best live offer that is still there, wait until it runs and SSH answers,
// with the host key Dumont installed (host-key-install.ts); never leak an instance, whatever fails.
import { sanitizeHostLine } from "../../dataplane/ssh/sanitize.ts";
import { EnvironmentError } from "../../lib/errors.ts";
import { randomBytes } from "node:crypto";
import { rentLabel } from "./labels.ts";
import { pollUntil, PollTimeout, retry } from "../../lib/retry.ts";
import { connect, HostKeyMismatchError, probeHostKey } from "../../dataplane/ssh/client.ts";
import { fingerprint, keyBlob } from "../../dataplane/ssh/host-key.ts";
import { hostKeyForRent, type InstanceHostKey } from "../../dataplane/ssh/host-key-install.ts";
import { ensureHostTools, gpuTools, HostToolsMissing } from "../../dataplane/ssh/host-tools.ts";
import { sshEndpoints, VastApiError, VastClient, type Offer, type VastClientSettings, type VastInstance } from "../../clouds/vast/client.ts";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc.js";
import { bidFor, checkGpuRequirements, offerQuery, rankOffers, totalPrice, type GpuRequirements, type InputFailure } from "./gpu-query.ts";
import { settingFailures } from "../../contract/setting-check.ts";
import type { SlotOutputs } from "../../contract/stack-outputs.ts";
import type { RentedInstance } from "./rented-instance.ts";

export interface VastInstanceInputs extends GpuRequirements {
  readonly image: string;
  readonly onstart: string;
  readonly env: Readonly<Record<string, string>>;
  /** Base label; each rent gets a unique suffix so that a lost reply can be reconciled by label. */
  readonly label: string;
  readonly sshPublicKey: string;
  /** When given, readiness includes a real login with this key. */
  readonly sshPrivateKey?: string;
  readonly readyTimeoutSeconds: number;
  readonly pollIntervalSeconds: number;
  /**
   * An instance a failover already rented, with these very inputs (stacks/failover/apply.ts), for
   * the engine to take into the state instead of renting one: the rent happens outside the engine,
   * where its start-up costs no recovery time.
   */
  readonly adopt?: RentedInstance;
}

/**
 * The provider's outputs: its inputs, and the rental. A slot's GPU in the stack's outputs is made
 * from these, so the fields they share are the contract's (contract/stack-outputs.ts: SlotOutputs,
 * the instance, its host key, machine, GPU and rates); only its address is named for SSH here.
 */
export interface VastInstanceOutputs extends VastInstanceInputs, Omit<SlotOutputs, "host" | "port"> {
  readonly vastLabel: string;
  readonly offerId: number;
  readonly numGpus: number;
  readonly location: string;
  readonly reliability: number;
  /** Where SSH answers (the slot's host and port). */
  readonly sshHost: SlotOutputs["host"];
  readonly sshPort: SlotOutputs["port"];
  readonly sshPath: "direct" | "proxy";
  readonly publicIp: string;
  readonly status: string;
}

/**
 * The provider's `create` for an instance a failover rented: still there, under the label its
 * rent gave it (the record it came from could be stale), and it becomes the state's as it was rented.
 */
export async function adoptInstance(access: VastClientSettings, inputs: VastInstanceInputs & { readonly adopt: RentedInstance }, log: Log = () => {}): Promise<VastInstanceOutputs> {
  const { adopt, ...rest } = inputs;
  // A record is not proof: the instance must be one this slot's rent made, answering where recorded.
  if (!adopt.vastLabel.startsWith(`${inputs.label}.`)) {
    throw new ProvisioningError(`instance ${adopt.instanceId} is labelled ${JSON.stringify(adopt.vastLabel)}, not as a rent for ${inputs.label}: it is not taken into the stack`);
  }
  const listed = await new VastClient(access).showInstance(adopt.instanceId);
  if (listed === null) {
    // It died after the failover rented it: the state takes it as it was, so that the stack's
    // next health check or failover sees a dead GPU (as for one the engine rented), rather than
    // every update failing on it.
    log(`instance ${adopt.instanceId}, rented by a failover, is gone; recorded as it was rented`);
    return { ...rest, ...adopt, status: "gone" };
  }
  const answersThere = sshEndpoints(listed).some((e) => e.host === adopt.sshHost && e.port === adopt.sshPort);
  if (listed.label !== adopt.vastLabel || !answersThere) {
    throw new ProvisioningError(`instance ${adopt.instanceId}, rented by a failover, is ${listed.label !== adopt.vastLabel ? `labelled ${JSON.stringify(listed.label)}, not ${adopt.vastLabel}` : `no longer at ${adopt.sshHost}:${adopt.sshPort}`}: it is not taken into the stack`);
  }
  return { ...rest, ...adopt };
}

/**
 * The provider's `check`: one failure per bad input, naming it. During a preview some inputs are
 * not known yet (e.g. a key made in the same update); those are checked when they are.
 */
export function checkInstanceInputs(news: Partial<Record<keyof VastInstanceInputs, unknown>>): InputFailure[] {
  const known = Object.fromEntries(Object.entries(news).filter(([, v]) => v !== unknownValue)) as Partial<VastInstanceInputs>;
  // Inputs that are settings are held to the settings' own rules (contract/settings-schema.ts).
  const failures = [...checkGpuRequirements(known), ...settingFailures(known, ["image", "onstart", "env", "readyTimeoutSeconds"])].filter((f) => f.property in known);
  const present = (key: keyof VastInstanceInputs) => key in known;
  if (present("label") && (typeof known.label !== "string" || known.label === "" || known.label.length > 200)) failures.push({ property: "label", reason: "must be 1-200 characters" });
  if (present("sshPublicKey") && !/^(ssh-|ecdsa-)/.test(String(known.sshPublicKey))) failures.push({ property: "sshPublicKey", reason: "must be an OpenSSH public key line" });
  return failures;
}

/** Instance statuses from which a rental never reaches "running". */
const deadStatuses = new Set(["exited", "offline", "unknown", "stopped", "frozen"]);
const maxMachinesTried = 3;

export class ProvisioningError extends Error {}

type Log = (message: string) => void;

/** Rents, waits, checks SSH; on failure tries other machines, and destroys every instance it made. */
/**
 * `signal` (a failover's: Ctrl-C, the cost cap, a lost lock) stops the wait; an instance already
 * rented is destroyed before the abort goes on.
 */
export async function createInstance(access: VastClientSettings, inputs: VastInstanceInputs, log: Log = () => {}, signal?: AbortSignal): Promise<VastInstanceOutputs> {
  const client = new VastClient(access);
  const excluded = new Set(inputs.excludeMachineIds);
  const failures: string[] = [];
  /** The first rent request: the provider's wait (and a failover's provider_wait) is counted from here, across machines tried. */
  let rentRequestedAt: string | undefined;
  for (let attempt = 1; attempt <= maxMachinesTried; attempt++) {
    const offers = rankOffers(await client.searchOffers(offerQuery({ ...inputs, excludeMachineIds: [...excluded] })), { ...inputs, excludeMachineIds: [...excluded] });
    if (offers.length === 0) {
      throw new ProvisioningError(
        `no Vast offer matches ${inputs.gpuCount}x ${inputs.gpuNames.join("/")} with ${inputs.diskGb} GB disk at ≤ $${inputs.maxPricePerHour}/h, ` +
          `reliability ≥ ${inputs.minReliability}${excluded.size ? `, excluding machines ${[...excluded].join(", ")}` : ""}` +
          (failures.length ? `; earlier attempts: ${failures.join("; ")}` : ""),
      );
    }
    signal?.throwIfAborted();
    rentRequestedAt ??= new Date().toISOString();
    const rented = await rentFirstAvailable(client, offers, inputs, log);
    try {
      return { ...(await waitUntilReady(client, rented, inputs, log, signal)), rentRequestedAt };
    } catch (error) {
      log(`instance ${rented.instanceId} on machine ${rented.offer.machine_id} ${signal?.aborted ? "is not needed any more" : `failed: ${(error as Error).message}`}; destroying it`);
      await destroyAndConfirm(client, rented.instanceId);
      signal?.throwIfAborted();
      failures.push(`machine ${rented.offer.machine_id}: ${(error as Error).message}`);
      excluded.add(rented.offer.machine_id);
      if (error instanceof TimeoutError) break;
    }
  }
  throw new ProvisioningError(`could not get a working GPU instance: ${failures.join("; ")}`);
}

class TimeoutError extends Error {}

interface Rented {
  readonly instanceId: number;
  readonly offer: Offer;
  readonly vastLabel: string;
  /** The host key this rent installed (host-key-install.ts): the only one its host may present. */
  readonly hostKey: string;
}

/**
 * Tries offers in order. An offer taken meanwhile is skipped. A rent that failed ambiguously (5xx,
 * lost reply) is reconciled by its unique label: an instance that exists anyway is adopted.
 */
async function rentFirstAvailable(client: VastClient, offers: readonly Offer[], inputs: VastInstanceInputs, log: Log): Promise<Rented> {
  const unavailable: string[] = [];
  for (const offer of offers) {
    const vastLabel = rentLabel(inputs.label, randomBytes(4).toString("hex"));
    const hostKey = hostKeyForRent(inputs.onstart, inputs.env);
    const instanceId = await rentOne(client, offer, vastLabel, hostKey, inputs, log).catch((error: Error) => {
      if (error instanceof VastApiError && error.isAuth) throw error;
      unavailable.push(`${offer.id} (${error.message})`);
      return undefined;
    });
    if (instanceId === undefined) continue;
    // From here an instance exists and bills: whatever fails destroys it before the error goes on.
    try {
      await client.attachSshKey(instanceId, inputs.sshPublicKey);
    } catch (error) {
      log(`attaching the SSH key to instance ${instanceId} failed (${(error as Error).message}); destroying it`);
      await destroyAndConfirm(client, instanceId);
      throw error;
    }
    return { instanceId, offer, vastLabel, hostKey: hostKey.publicKey };
  }
  throw new ProvisioningError(`every matching offer was taken or failed: ${unavailable.join(", ")}`);
}

/**
 * One offer: its new instance's id, or an error when nothing was rented (the offer was taken, or an
 * ambiguous failure after which no instance with the rent's unique label exists).
 */
async function rentOne(client: VastClient, offer: Offer, vastLabel: string, hostKey: InstanceHostKey, inputs: VastInstanceInputs, log: Log): Promise<number> {
  try {
    return await retry(async () => {
      const bid = inputs.rentType === "interruptible" ? bidFor(offer, inputs) : undefined;
      log(`renting offer ${offer.id} (${offer.num_gpus}x ${offer.gpu_name}, ${bid === undefined ? `$${offer.dph_total.toFixed(4)}/h` : `interruptible, bid $${bid.toFixed(4)}/h (on demand $${offer.dph_base.toFixed(4)}/h)`}, machine ${offer.machine_id})`);
      return (await client.rent(offer.id, {
        image: inputs.image, disk: inputs.diskGb, label: vastLabel, onstart: hostKey.onstart, env: hostKey.env,
        runtype: inputs.directSsh ? "ssh_direc ssh_proxy" : "ssh_proxy", ...(bid !== undefined && { price: bid }),
      })).instanceId;
    }, {
      // A 429 is refused before anything happens: the same rent may be tried again (6 times, 1 s to 32 s apart).
      attempts: 7,
      backoff: { firstMs: 1000, factor: 2 },
      retryIf: (error) => error instanceof VastApiError && error.isRateLimit && !error.isOfferUnavailable,
    });
  } catch (error) {
    if (error instanceof VastApiError && error.isOfferUnavailable) {
      log(`offer ${offer.id} is no longer available; trying the next`);
      throw error;
    }
    if (error instanceof VastApiError && error.isAuth) throw error;
    const adopted = await reconcile(client, vastLabel, error);
    if (adopted !== undefined) {
      log(`the rent of offer ${offer.id} failed (${(error as Error).message}) but instance ${adopted} exists: adopting it`);
      return adopted;
    }
    log(`renting offer ${offer.id} failed: ${(error as Error).message}; trying the next`);
    throw error;
  }
}

/** The instance a failed rent created anyway, found by its error body or its unique label. */
async function reconcile(client: VastClient, vastLabel: string, error: unknown): Promise<number | undefined> {
  const named = error instanceof VastApiError ? error.createdInstanceId : undefined;
  if (named !== undefined) return named;
  // Vast's read path can lag its create path: look for half a minute (at 0, 1, 3, 7, 15 and 30 s)
  // before concluding nothing exists (an instance found later anyway carries the stack's label and
  // is swept as an orphan).
  const found = await pollUntil(async () => {
    const listed = await client.listInstances({ label: vastLabel }).catch(() => []);
    return listed.length > 0 ? listed : undefined;
  }, { backoff: { firstMs: 1000, factor: 2, maxMs: 15_000 }, timeoutMs: 30_000 }).catch((timeout: unknown) => {
    if (timeout instanceof PollTimeout) return undefined;
    throw timeout;
  });
  if (found === undefined) return undefined;
  for (const extra of found.slice(1)) await destroyAndConfirm(client, extra.id);
  return found[0]!.id;
}

async function waitUntilReady(client: VastClient, rented: Rented, inputs: VastInstanceInputs, log: Log, signal?: AbortSignal): Promise<Omit<VastInstanceOutputs, "rentRequestedAt">> {
  const { instanceId, offer, vastLabel } = rented;
  const deadline = Date.now() + inputs.readyTimeoutSeconds * 1000;
  let lastStatus: string | null | undefined;
  let runningAt: string | undefined;
  const instance = await pollUntil(async () => {
    const shown = await client.showInstance(instanceId);
    const status = shown?.actual_status;
    if (status !== lastStatus) log(`instance ${instanceId}: ${status ?? "provisioning"}${shown?.status_msg ? ` (${sanitizeHostLine(String(shown.status_msg))})` : ""}`);
    if (status === "running") runningAt ??= new Date().toISOString();
    lastStatus = status;
    if (status === "running" && sshEndpoints(shown!).length > 0) return shown!;
    if (status && deadStatuses.has(status)) throw new ProvisioningError(`it went ${status}: ${String(shown?.status_msg ?? "")}`);
    return undefined;
  }, {
    intervalMs: inputs.pollIntervalSeconds * 1000,
    timeoutMs: inputs.readyTimeoutSeconds * 1000,
    timeoutError: () => new TimeoutError(`still ${lastStatus ?? "provisioning"} after ${inputs.readyTimeoutSeconds} s`),
    signal,
  });
  const { endpoint, hostKey, sshReadyAt } = await waitForSsh(instance, rented.hostKey, inputs, deadline, log, signal);
  return {
    ...inputs,
    instanceId, vastLabel, offerId: offer.id, machineId: offer.machine_id,
    gpuName: String(instance!.gpu_name ?? offer.gpu_name), numGpus: Number(instance!.num_gpus ?? offer.num_gpus),
    location: String(offer.geolocation ?? ""), reliability: offer.reliability2,
    sshHost: endpoint.host, sshPort: endpoint.port, sshPath: endpoint.path,
    publicIp: String(instance!.public_ipaddr ?? "").trim(), hostKey,
    // An interruptible GPU's compute is billed at the bid Dumont made; on demand, at dph_base.
    ...(inputs.rentType === "interruptible"
      ? { dphBase: bidFor(offer, inputs), dphTotal: totalPrice(offer, inputs), onDemandPerHour: Number(offer.dph_base) }
      : { dphBase: Number(instance!.dph_base ?? offer.dph_base), dphTotal: Number(instance!.dph_total ?? offer.dph_total) }),
    storageCostPerGbMonth: Number(instance!.storage_cost ?? offer.storage_cost ?? 0),
    inetUpCostPerGb: Number(instance!.inet_up_cost ?? offer.inet_up_cost ?? 0),
    inetDownCostPerGb: Number(instance!.inet_down_cost ?? offer.inet_down_cost ?? 0),
    status: "running", runningAt: runningAt!, sshReadyAt,
  };
}

/**
 * Running is not SSH-ready: try the direct port, then Vast's proxy, until one answers with the host
 * key this rent installed. Until its onstart ran, a host presents its image's own key: that is
 * "not ready yet", never a key to trust; a host still presenting another key at the deadline fails.
 */
async function waitForSsh(instance: VastInstance, hostKey: string, inputs: VastInstanceInputs, deadline: number, log: Log, signal?: AbortSignal) {
  const endpoints = sshEndpoints(instance).filter((e) => inputs.directSsh || e.path === "proxy");
  let lastError = "";
  // A host that presented another key says more than a connection that dropped later (sshd
  // restarting, a proxy hiccup): the deadline's message names the key if any endpoint showed one.
  let wrongKey = "";
  /** When SSH first answered with the installed key: the provider's part ends there; the tools Dumont installs next are Dumont's. */
  let sshReadyAt = "";
  return pollUntil(async () => {
    for (const endpoint of endpoints) {
      try {
        if (inputs.sshPrivateKey) {
          const connection = await connect({ host: endpoint.host, port: endpoint.port, privateKey: inputs.sshPrivateKey, hostKey, connectTimeoutMs: 10_000 });
          try {
            await connection.run(["true"], { timeoutMs: 10_000 });
            sshReadyAt = new Date().toISOString();
            log(`SSH answers on ${endpoint.host}:${endpoint.port} (${endpoint.path}) with the host key Dumont installed`);
            // Real GPU images are bare: what Dumont's data plane needs is installed now, as part of
            // the instance being ready (an image that cannot get it fails here, named).
            const installed = await ensureHostTools(connection, gpuTools);
            if (installed.length > 0) log(`installed ${installed.join(", ")} (the image lacked them)`);
          } finally {
            connection.close();
          }
        } else {
          const presented = await probeHostKey(endpoint.host, endpoint.port);
          if (!keyBlob(presented).equals(keyBlob(hostKey))) throw new HostKeyMismatchError(`${endpoint.host}:${endpoint.port}`, fingerprint(hostKey), fingerprint(presented));
          sshReadyAt = new Date().toISOString();
          log(`SSH answers on ${endpoint.host}:${endpoint.port} (${endpoint.path}) with the host key Dumont installed`);
        }
        return { endpoint, hostKey, sshReadyAt };
      } catch (error) {
        if (error instanceof HostToolsMissing) throw error;
        lastError = `${endpoint.path} ${endpoint.host}:${endpoint.port}: ${(error as Error).message}`;
        if (error instanceof HostKeyMismatchError) {
          wrongKey = `${endpoint.path} ${endpoint.host}:${endpoint.port} presents a host key other than the one Dumont installed (${(error as Error).message}); ` +
            "its onstart did not install the key, its sshd does not read /etc/ssh/ssh_host_ed25519_key, or something else answers there";
        }
      }
    }
    return undefined;
  }, {
    intervalMs: Math.min(inputs.pollIntervalSeconds, 2) * 1000,
    timeoutMs: deadline - Date.now(),
    signal,
    timeoutError: () => new TimeoutError(`running, but SSH did not answer as expected before the deadline (${wrongKey || lastError})`),
  });
}

/** Destroys and checks: Vast answers {"instances": null} once it is really gone. */
export async function destroyAndConfirm(client: VastClient, instanceId: number, timeoutMs = 60_000): Promise<void> {
  await client.destroyInstance(instanceId);
  await pollUntil(async () => (await client.showInstance(instanceId)) === null, {
    intervalMs: 1000,
    timeoutMs,
    timeoutError: () => new EnvironmentError(`instance ${instanceId} still exists ${timeoutMs / 1000} s after it was destroyed`, `it may still bill: destroy it with \`npx dumont instance destroy ${instanceId}\``),
  });
}

export async function deleteInstance(access: VastClientSettings, instanceId: number): Promise<void> {
  await destroyAndConfirm(new VastClient(access), instanceId);
}

/** For `pulumi refresh`: the instance as it is now, or undefined when it no longer exists. */
export async function readInstance(access: VastClientSettings, instanceId: number, props: VastInstanceOutputs): Promise<VastInstanceOutputs | undefined> {
  const instance = await new VastClient(access).showInstance(instanceId);
  if (!instance) return undefined;
  return { ...props, status: String(instance.actual_status ?? "provisioning") };
}

export async function relabel(access: VastClientSettings, instanceId: number, label: string): Promise<void> {
  await new VastClient(access).setLabel(instanceId, label);
}
