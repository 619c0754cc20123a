// What an operation needs to act on a stack's environment: its outputs (hosts, pinned host keys,
// the bucket), its key to log in, and clients for the Vast API and the snapshot store, with the
// same credentials the providers use. Read from the stack's state, never from a second source.
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { objectStoreAccess, vastAccess, type AccessSource } from "../clouds/cloud-access.ts";
import { SettingError, UserError } from "../lib/errors.ts";
import { SnapshotStore } from "../dataplane/snapshot/store.ts";
import { connect, type CommandRunner, type SshConnection, type SshTarget } from "../dataplane/ssh/client.ts";
import { asMirrorUser } from "../dataplane/standby/mirror-user.ts";
import { VastClient, type VastClientSettings } from "../clouds/vast/client.ts";
import { readStackOutputs, type SlotOutputs, type StackOutputs } from "../contract/stack-outputs.ts";
import { readSettings, slots, type Settings, type Slot } from "./settings.ts";
import { adoptedSlotOutputs, readSlotRecord, withSlotRecord, type SlotRecord } from "./slot-record.ts";
import { readFileBackendOutputs } from "./file-backend-state.ts";
import { dumontConfig, readStackConfig } from "./stack-config.ts";
import { checkProjectStack } from "./stack-files.ts";
import { toolEnvironment } from "../lib/tools/environment.ts";

/** A slot's GPU, as the stack's outputs state it (contract/stack-outputs.ts). */
export type SlotState = SlotOutputs;
export type { StackOutputs };

export class StackContext {
  /** The stack's name. */
  readonly name: string;
  /** The stack in the engine, opened on first use: read-only commands never start the engine. */
  private readonly engine: { stack?: Promise<Stack> };
  /** The settings from the stack's config, before its slot record is applied. */
  private readonly configured: Settings;
  /** The outputs as the state has them, before the slot record's changes (withRecordedChanges). */
  readonly stated: StackOutputs;
  readonly settings: Settings;
  readonly access: AccessSource;
  readonly outputs: StackOutputs;

  constructor(name: string, configured: Settings, access: AccessSource, outputs: StackOutputs, engine: { stack?: Promise<Stack> } = {}) {
    this.name = name;
    this.engine = engine;
    this.configured = configured;
    const record = readSlotRecord(name);
    this.settings = withSlotRecord(configured, record);
    this.access = access;
    this.stated = outputs;
    this.outputs = withRecordedChanges(outputs, record);
  }

  /** The stack in the engine (stacks/workspace.ts), for updates, refreshes and exports. */
  engineStack(): Promise<Stack> {
    if (!this.engine.stack) {
      const opening = import("./workspace.ts").then(({ openProjectStack }) => openProjectStack(this.name));
      this.engine.stack = opening;
      // A failed opening is not kept: the next caller (a watch's next update) tries again.
      opening.catch(() => {
        if (this.engine.stack === opening) this.engine.stack = undefined;
      });
    }
    return this.engine.stack;
  }

  /** The same stack after a change of its slot record (no engine run: the outputs are as they were). */
  withCurrentRecord(): StackContext {
    return new StackContext(this.name, this.configured, this.access, this.stated, this.engine);
  }

  /**
   * The same stack with the outputs an update just returned (`up` gives them back): no second
   * engine run to read them, seconds of a failover's RTO.
   */
  withOutputs(values: Readonly<Record<string, unknown>>): StackContext {
    return new StackContext(this.name, this.configured, this.access, stackOutputsOf(this.name, values), this.engine);
  }

  /** The slot an instance id belongs to, or the active slot. */
  slot(selector: { slot?: string; instance?: string } = {}): { slot: Slot; state: SlotState } {
    if (selector.slot !== undefined && selector.instance !== undefined) throw new SettingError("--slot/--instance", "give one of them, not both");
    let slot: Slot = this.outputs.activeSlot;
    if (selector.slot !== undefined) {
      const named = slots.find((s) => s === selector.slot);
      if (!named) throw new SettingError("--slot", `'${selector.slot}' is not a slot; slots are ${slots.join(" and ")}`);
      slot = named;
    } else if (selector.instance !== undefined) {
      const found = slots.find((s) => String(this.outputs.slots[s]?.instanceId) === selector.instance);
      if (!found) throw new SettingError("--instance", `instance ${selector.instance} is not in stack ${this.name}`, `its instances: ${this.instanceList()}`);
      slot = found;
    }
    const state = this.outputs.slots[slot];
    if (!state) throw new SettingError("--slot", `slot ${slot} of stack ${this.name} has no GPU`, `its instances: ${this.instanceList()}`);
    return { slot, state };
  }

  private instanceList(): string {
    return slots.map((s) => `${s}=${this.outputs.slots[s]?.instanceId ?? "none"}`).join(", ");
  }

  sshTarget(state: { host: string; port: number; hostKey: string; user?: string }): SshTarget {
    return { host: state.host, port: state.port, username: state.user ?? "root", hostKey: state.hostKey, privateKey: this.outputs.sshPrivateKey };
  }

  connectSlot(selector: { slot?: string; instance?: string } = {}): Promise<SshConnection> {
    return connect(this.sshTarget(this.slot(selector).state));
  }

  /** Connects to a slot's GPU, runs `work`, and always closes the connection. */
  async withSlot<T>(selector: { slot?: string; instance?: string }, work: (ssh: SshConnection, slot: { slot: Slot; state: SlotState }) => Promise<T>): Promise<T> {
    const chosen = this.slot(selector);
    const ssh = await connect(this.sshTarget(chosen.state));
    try {
      return await work(ssh, chosen);
    } finally {
      ssh.close();
    }
  }

  /** The standby's login connection, as the user that owns its copies (dataplane/standby/mirror-user.ts). */
  standbyMirror(admin: SshConnection): CommandRunner {
    return asMirrorUser(admin, this.outputs.standby!.user);
  }

  connectStandby(): Promise<SshConnection> {
    if (!this.outputs.standby) throw new SettingError("dumont:autoStandbyEnabled", `stack ${this.name} has no standby`, "set dumont:autoStandbyEnabled to true and run dumont up");
    return connect(this.sshTarget(this.outputs.standby));
  }

  async snapshotStore(): Promise<SnapshotStore> {
    const access = await objectStoreAccess(this.access);
    const b = this.outputs.bucket;
    // The key scoped to the bucket and prefix is used when the stack has one; the account key only made it.
    const credentials = b.keyId ? { accessKeyId: b.keyId, secretAccessKey: this.outputs.bucketKey } : access;
    return new SnapshotStore({
      ...access, ...credentials, endpoint: b.endpoint || access.endpoint, region: b.region || access.region, bucket: b.name, prefix: b.prefix, stack: this.name,
    });
  }

  /** A Vast client with the stack's credentials; `limits` bound its retries (health checks must answer in seconds). */
  async vast(limits: Pick<VastClientSettings, "attempts" | "timeoutMs" | "backoffMs"> = {}): Promise<VastClient> {
    return new VastClient({ ...(await vastAccess(this.access)), ...limits });
  }
}

/**
 * The outputs with what a failover changed in the slot record ahead of the next update: a GPU it
 * rented (stacks/failover/rent.ts) is the slot's, and the slot a swap made active is the active one
 * (stacks/failover/apply.ts). The outputs say so too once the retire's update ran.
 */
export function withRecordedChanges(outputs: StackOutputs, record: SlotRecord | undefined): StackOutputs {
  let result = outputs;
  const adopted = record?.adopted;
  if (adopted && record.slots.includes(adopted.slot) && !outputs.slots[adopted.slot]) {
    result = {
      ...result, slots: { ...result.slots, [adopted.slot]: adoptedSlotOutputs(adopted) },
      provisionedSlots: [...new Set([...result.provisionedSlots, adopted.slot])].sort(),
    };
  }
  const active = record?.activeSlot;
  return active && result.slots[active] ? { ...result, activeSlot: active } : result;
}

export async function loadStackContext(stackName: string, options: { requireOutputs?: boolean } = {}): Promise<StackContext> {
  checkProjectStack(stackName);
  const engine: { stack?: Promise<Stack> } = {};
  // A file backend's outputs are read from its files, the config with one CLI start, both at once
  // (opening the stack and two engine reads took over a second); any other backend, or state this
  // reader does not know for certain, goes through the opened stack.
  const env = { ...process.env, ...toolEnvironment() };
  let [config, outputs] = env.PULUMI_BACKEND_URL?.startsWith("file:///")
    ? await Promise.all([readStackConfig(stackName, env), readFileBackendOutputs(stackName, env)])
    : [undefined, undefined];
  if (!config || !outputs) {
    const { openProjectStack } = await import("./workspace.ts");
    engine.stack = openProjectStack(stackName);
    const stack = await engine.stack;
    // Two engine reads at once (each starts the CLI: most of a second).
    const [all, raw] = await Promise.all([stack.getAllConfig(), stack.outputs()]);
    config = dumontConfig(all);
    outputs = outputValues(raw);
  }
  const values = config;
  const access: AccessSource = { config: (k) => values[k], env: (n) => process.env[n] };
  const settings = readSettings({ config: (k) => values[k], hasConfig: (k) => k in values, env: (n) => process.env[n] }, stackName);
  if ((options.requireOutputs ?? true) && !outputs.activeSlot) {
    throw new SettingError("--stack", `stack ${stackName} has no environment yet`, `run \`npx dumont up --stack ${stackName}\` first`);
  }
  return new StackContext(stackName, settings, access, stackOutputsOf(stackName, outputs, options), engine);
}

/** The values of an engine's output map (`stack.outputs()`, an update's result). */
export function outputValues(map: Readonly<Record<string, { readonly value: unknown }>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([name, output]) => [name, output.value]));
}

/**
 * The stack's outputs (their values, by name) read through their declaration: a UserError that
 * names the first one that is not as Dumont writes it. With `requireOutputs: false`, for operations
 * that work on a stack without an environment (`up`, which writes the outputs again, among them),
 * the outputs the stack lacks or that are not as Dumont writes them are absent instead: no slots,
 * no standby, no bucket.
 */
export function stackOutputsOf(stackName: string, values: Readonly<Record<string, unknown>>, options: { requireOutputs?: boolean } = {}): StackOutputs {
  const { outputs, problems } = readStackOutputs(values);
  if ((options.requireOutputs ?? true) && problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new UserError(`stack ${stackName}: ${problems[0]}${more}, so its outputs are not as this version of Dumont writes them`, `\`npx dumont up --stack ${stackName}\` writes the stack's outputs again`);
  }
  // Absent outputs stay undefined, as before the first up; the lists and maps are empty.
  return { provisionedSlots: [], slots: { a: null, b: null }, standby: null, bucketKey: "", ...outputs } as StackOutputs;
}
