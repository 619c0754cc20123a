// What every chaos scenario runs in: one local cloud for the run, one Pulumi backend, a stack per
// scenario made and destroyed here, a ledger of what the user was told is safe, and the measures
// the results table reports (files lost, instances leaked, GPUs taking writes at the end).
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isStackLabel } from "../../components/vast/labels.ts";
import { LocalCloudAdmin } from "../../local-cloud/admin-client.ts";
import { down, up } from "../../local-cloud/control.ts";
import type { Endpoints } from "../../local-cloud/endpoints.ts";
import { hashFiles } from "../../dataplane/snapshot/workspace-scan.ts";
import type { SshConnection } from "../../dataplane/ssh/client.ts";
import { checkoutStateDir } from "../../lib/tools/paths.ts";
import { makePrivateDir } from "../../lib/tools/private-dir.ts";
import { VastClient, type VastInstance } from "../../clouds/vast/client.ts";
import { loadStackContext, type StackContext } from "../../stacks/stack-context.ts";
import { statusFile } from "../../stacks/standby/status-file.ts";
import { syncStandby, type SyncResult } from "../../stacks/standby/sync.ts";
import { createSnapshot } from "../../dataplane/snapshot/create.ts";
import type { Manifest } from "../../dataplane/snapshot/manifest.ts";
import { setSecretSettings, splitSecretSettings, writeStackFile, type ConfigValue, type StackSetting } from "../../stacks/stack-file.ts";
import { openProjectStack } from "../../stacks/workspace.ts";
import { stackConfigFile } from "../../stacks/stack-files.ts";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { objectStoreClient } from "../../dataplane/object-store/client.ts";

export const chaosDir = path.join(checkoutStateDir, "chaos");

/** The local cloud and backend of one chaos run. */
export class ChaosCloud {
  readonly name: string;
  endpoints!: Endpoints;
  admin!: LocalCloudAdmin;
  vast!: VastClient;

  constructor(name = "chaos") {
    this.name = name;
  }

  /** The run's file backend: every scenario's stack keeps its state there unless it asks for S3. */
  fileBackendUrl = "";

  async start(): Promise<void> {
    const backend = path.join(chaosDir, `backend-${this.name}`);
    rmSync(backend, { recursive: true, force: true });
    makePrivateDir(backend);
    this.fileBackendUrl = `file://${backend}`;
    process.env.PULUMI_BACKEND_URL = this.fileBackendUrl;
    this.endpoints = await up({ cloud: this.name, settings: { loadingDelayMs: 100, runningDelayMs: 200 } });
    this.admin = new LocalCloudAdmin(this.endpoints);
    this.vast = new VastClient({ baseUrl: this.endpoints.vast.url, apiKey: this.endpoints.vast.apiKey });
  }

  async stop(): Promise<void> {
    await down(this.name);
  }

  /**
   * Pulumi's S3 backend in the cloud's MinIO (a bucket of its own, as a team keeps its state in B2),
   * with the credentials the engine reads from the environment.
   */
  async s3Backend(folder: string): Promise<{ url: string; env: Record<string, string> }> {
    const { directEndpoint, region, accessKeyId, secretAccessKey } = this.endpoints.s3;
    const s3 = objectStoreClient({ endpoint: directEndpoint, region, accessKeyId, secretAccessKey });
    await s3.send(new CreateBucketCommand({ Bucket: stateBucket })).catch((error: Error) => {
      if (error.name !== "BucketAlreadyOwnedByYou" && error.name !== "BucketAlreadyExists") throw error;
    });
    // The engine of this process reads them too (the stack is made and destroyed from here).
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey });
    return {
      url: `s3://${stateBucket}/${folder}?endpoint=${encodeURIComponent(directEndpoint)}&s3ForcePathStyle=true&region=${region}`,
      env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: region },
    };
  }
}

/** The MinIO bucket that holds the state of stacks on Pulumi's S3 backend. */
const stateBucket = "dumont-pulumi-state";

const deleted = "(deleted)";

/** A file the scenario wrote, with the content it has now. */
interface Written {
  readonly md5: string;
}

/**
 * What the user was told is safe: the workspace's files at the start of the last sync or snapshot
 * that succeeded. "Files lost" counts those whose content is not on the active GPU at the end.
 */
export class Ledger {
  private readonly current = new Map<string, Written>();
  private acknowledged = new Map<string, Written>();
  /** Contents written since the last acknowledgement: a file holding one of them was not lost, only not yet copied. */
  private readonly since = new Map<string, Set<string>>();

  /** Writes files of `bytes` random bytes each on the host, remembering their MD5s. */
  async write(ssh: SshConnection, paths: readonly string[], bytes = 4096): Promise<void> {
    const records: Buffer[] = [];
    for (const p of paths) {
      const content = randomBytes(bytes);
      const md5 = createHash("md5").update(content).digest("hex");
      this.current.set(p, { md5 });
      this.since.set(p, (this.since.get(p) ?? new Set()).add(md5));
      records.push(Buffer.from(`${p}\0${content.length}\0`), content);
    }
    await ssh.run(["bash", "-c", `set -euo pipefail; cd /workspace
while IFS= read -r -d '' p && IFS= read -r -d '' n; do mkdir -p "$(dirname "./$p")"; head -c "$n" > "./$p"; done`], { stdin: Buffer.concat(records) });
  }

  /** The files as they are now: taken before a copy starts, acknowledged if it succeeds. */
  state(): ReadonlyMap<string, Written> {
    return new Map(this.current);
  }

  acknowledge(state: ReadonlyMap<string, Written>): void {
    this.acknowledged = new Map(state);
    for (const [p, w] of state) if (this.current.get(p)?.md5 === w.md5) this.since.delete(p);
  }

  /** Files removed on the host by the scenario itself: their absence is a later state, not a loss. */
  forget(paths: readonly string[]): void {
    for (const p of paths) {
      this.current.delete(p);
      this.since.set(p, (this.since.get(p) ?? new Set()).add(deleted));
    }
  }

  get acknowledgedCount(): number {
    return this.acknowledged.size;
  }

  /** Acknowledged files whose content on this host is neither the acknowledged one nor a later one. */
  async lostOn(ssh: SshConnection): Promise<string[]> {
    const paths = [...this.acknowledged.keys()];
    const sums = await hashFiles(ssh, paths, { missingOk: true });
    return paths.filter((p) => {
      const got = sums.get(p);
      return got !== this.acknowledged.get(p)!.md5 && !this.since.get(p)?.has(got ?? deleted);
    });
  }
}

/** One scenario's stack: made from settings, with the ledger and the measures. */
export class ChaosStack {
  readonly cloud: ChaosCloud;
  readonly name: string;
  readonly ledger = new Ledger();

  /** Where the stack's Pulumi state lives: the run's file backend, or an S3 backend. */
  readonly backendUrl: string;

  /** The settings file's values, as last written. */
  private settings: Readonly<Record<string, ConfigValue>>;

  constructor(cloud: ChaosCloud, name: string, settings: Readonly<Record<string, ConfigValue>>, backendUrl: string) {
    this.cloud = cloud;
    this.name = name;
    this.settings = settings;
    this.backendUrl = backendUrl;
  }

  /**
   * Points this process (and the commands it starts) at the stack's backend: scenarios run one
   * after another, and each stack's operations select its backend first.
   */
  private selectBackend(): void {
    process.env.PULUMI_BACKEND_URL = this.backendUrl;
  }

  /** Secret settings (stacks/stack-file.ts: secret) are set through Pulumi once the stack exists, before its first up. */
  static async create(cloud: ChaosCloud, name: string, settings: Readonly<Record<string, StackSetting>> = {}, backendUrl = cloud.fileBackendUrl): Promise<ChaosStack> {
    if (!name.startsWith("it-")) throw new Error("chaos stacks are named it-… (git ignores their settings files)");
    const { plain, secrets } = splitSecretSettings({
      cloud: "local", localCloud: cloud.name, gpuNames: ["RTX 4090", "RTX 3090"], diskGb: 16, maxPricePerHour: 0.6, readyTimeoutSeconds: 60,
      autoStandbyEnabled: true, healthCheckInterval: 1, failoverThreshold: 3, syncInterval: 2, ...settings,
    });
    writeStackFile(name, plain);
    process.env.PULUMI_BACKEND_URL = backendUrl;
    const stack = await openProjectStack(name);
    await setSecretSettings(stack, secrets);
    await stack.up();
    return new ChaosStack(cloud, name, plain, backendUrl);
  }

  /** Changes settings in the stack's settings file (as a person editing it would); nothing runs. */
  reconfigure(changes: Readonly<Record<string, ConfigValue>>): void {
    this.settings = { ...this.settings, ...changes };
    writeStackFile(this.name, this.settings);
  }

  context(): Promise<StackContext> {
    this.selectBackend();
    return loadStackContext(this.name);
  }

  /** Runs `work` on the active GPU (or a slot's) over SSH. */
  async onGpu<T>(work: (ssh: SshConnection, ctx: StackContext) => Promise<T>, slot?: string): Promise<T> {
    const ctx = await this.context();
    return ctx.withSlot({ slot }, (ssh) => work(ssh, ctx));
  }

  /** A standby sync; on success, what the files were at its start is acknowledged as safe. */
  async sync(): Promise<SyncResult> {
    const state = this.ledger.state();
    const result = await syncStandby(await this.context());
    this.ledger.acknowledge(state);
    return result;
  }

  /** A snapshot of the active GPU; on success its files are acknowledged as safe. */
  async snapshot(name: string, parent: "auto" | "full" = "auto"): Promise<Manifest> {
    const state = this.ledger.state();
    const ctx = await this.context();
    const store = await ctx.snapshotStore();
    const made = await ctx.withSlot({}, (ssh) => createSnapshot({ ssh, store, name, parent }));
    this.ledger.acknowledge(state);
    return made.manifest;
  }

  /** This stack's instances that Vast still lists (running, stopped or anything but destroyed). */
  async instances(): Promise<VastInstance[]> {
    return (await this.cloud.vast.listInstances()).filter((i) => isStackLabel(this.name, i.label));
  }

  /** The measures every scenario reports. */
  async measure(): Promise<{ filesLost: number; lostFiles: string[]; instancesLeaked: number; activeGpus: number; activeInstance?: number }> {
    const ctx = await this.context();
    const active = ctx.outputs.slots[ctx.outputs.activeSlot];
    const instances = await this.instances();
    const lostFiles = active ? await ctx.withSlot({}, (ssh) => this.ledger.lostOn(ssh)).catch(() => ["(active GPU unreachable)"]) : ["(no active GPU)"];
    return {
      filesLost: lostFiles.length, lostFiles,
      instancesLeaked: instances.filter((i) => i.id !== active?.instanceId).length,
      activeGpus: instances.filter((i) => i.actual_status === "running").length,
      activeInstance: active?.instanceId,
    };
  }

  /** Destroys the stack and anything of it Vast still lists; returns what had to be swept. */
  async destroy(): Promise<number[]> {
    this.selectBackend();
    const stack = await openProjectStack(this.name).catch(() => undefined);
    if (stack) {
      await stack.cancel().catch(() => undefined);
      await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(this.name, { force: true }).catch(() => undefined);
    }
    const swept: number[] = [];
    for (const i of await this.instances().catch(() => [])) {
      await this.cloud.vast.destroyInstance(i.id).catch(() => undefined);
      swept.push(i.id);
    }
    await this.cloud.admin.destroyStandby(this.name).catch(() => undefined);
    rmSync(stackConfigFile(this.name), { force: true });
    rmSync(statusFile(this.name), { force: true });
    return swept;
  }
}

/** Polls until `predicate` holds or the time is up. */
export async function until(what: string | (() => string), predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    // Described at the timeout, so what it names (a process's last line) is what was last seen.
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(100);
  }
}

/** A failed expectation of a scenario, with what was seen. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
