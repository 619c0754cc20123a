// One local-cloud host: a network namespace on the cloud's bridge, private mount, PID, IPC and UTS namespaces
// with a root filesystem of its image's own (images.ts; the controller's is not visible), and a real
// OpenSSH server with its own host key. Failures are real: kill is
// SIGKILL to every process in the namespace, hang is SIGSTOP, a cut link is a downed interface.
import { spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { chmod, mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createConnection } from "node:net";
import { privateFileMode } from "../lib/tools/private-dir.ts";
import { envFile, hostInitScript, hostStartScript, sshdConfig } from "./host-files.ts";
import { imageRoot, type HostImage } from "./images.ts";
import { createHostNetwork, deleteHostNetwork, namespacePids, setHostLink } from "./network.ts";
import type { CloudNames } from "./names.ts";
import { EnvironmentError } from "../lib/errors.ts";
import { toolsDir } from "../lib/tools/paths.ts";
import { run } from "./system.ts";
import { makeWorkspaceDisk, removeWorkspaceDisk, workspaceDiskPath } from "./workspace-disk.ts";

/** The last step of every host's start (local-cloud/host-init, built by setup). */
const hostInitBinary = path.join(toolsDir, "host-init", "host-init");

export type HostState = "created" | "running" | "killed" | "hung" | "destroyed";

export interface HostSpec {
  readonly index: number;
  /** Name used in paths and logs, e.g. "i-29012345" or "standby-3". */
  readonly name: string;
  readonly authorizedKeys: readonly string[];
  readonly onstart?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The root filesystem it runs. */
  readonly image: HostImage;
  /** The size of its /workspace disk in GB (a rented instance's `disk`), fixed for its life. */
  readonly diskGb: number;
}

export interface HostInfo {
  readonly index: number;
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly sshPort: number;
  /** The host's public key line ("ssh-ed25519 AAAA…"), for pinning. */
  readonly hostKey: string;
  readonly state: HostState;
  readonly linkUp: boolean;
  /** "ext4" (its own disk, workspace-disk.ts) or why /workspace is a folder of the controller's filesystem; "" before its first start. */
  readonly workspaceDisk: string;
}

export class Host {
  readonly spec: HostSpec;
  readonly dir: string;
  /** The image of its /workspace disk (workspace-disk.ts). */
  readonly disk: string;
  readonly names: CloudNames;
  /** The cloud's package mirror, which the host's apt is pointed at. */
  readonly mirrorUrl: string;
  address = "";
  sshPort = 0;
  hostKey = "";
  state: HostState = "created";
  linkUp = true;
  workspaceDisk = "";

  constructor(names: CloudNames, cloudDir: string, mirrorUrl: string, spec: HostSpec) {
    this.spec = spec;
    this.names = names;
    this.mirrorUrl = mirrorUrl;
    this.dir = path.join(cloudDir, "hosts", spec.name);
    this.disk = workspaceDiskPath(cloudDir, spec.name);
  }

  get namespace(): string {
    return this.names.namespace(this.spec.index);
  }

  info(): HostInfo {
    return {
      index: this.spec.index, name: this.spec.name, namespace: this.namespace, address: this.address,
      sshPort: this.sshPort, hostKey: this.hostKey, state: this.state, linkUp: this.linkUp, workspaceDisk: this.workspaceDisk,
    };
  }

  /** Creates the files and the network; the host does not run until start(). */
  async create(): Promise<void> {
    for (const sub of ["root/.ssh", "etc", "log", "run"]) {
      await mkdir(path.join(this.dir, sub), { recursive: true });
    }
    await chmod(path.join(this.dir, "root"), 0o700);
    await chmod(path.join(this.dir, "root/.ssh"), 0o700);
    const etc = path.join(this.dir, "etc");
    // The host's own key, made when it is created (as a container's entrypoint makes one at its
    // first start), in the overlay's upper layer: it hides the image's baked-in key, and whoever
    // has root on the host (an onstart script installing Dumont's key, say) can replace it.
    const sshEtc = path.join(this.dir, "upper", "etc", "ssh");
    await mkdir(sshEtc, { recursive: true, mode: 0o755 });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `dumont-local-${this.spec.name}`, "-f", path.join(sshEtc, "ssh_host_ed25519_key")]);
    this.hostKey = (await readFile(path.join(sshEtc, "ssh_host_ed25519_key.pub"), "utf8")).trim().split(" ").slice(0, 2).join(" ");
    // Like Vast's random HostPort for the container's port 22.
    this.sshPort = 20000 + Math.floor(Math.random() * 20000);
    await writeFile(path.join(etc, "sshd_config"), sshdConfig(this.sshPort));
    // What the instance runs at start and its environment carry the renter's tokens: root's alone on the host.
    await writeFile(path.join(etc, "onstart.sh"), this.spec.onstart ?? "", { mode: privateFileMode });
    await writeFile(path.join(etc, "env"), envFile(this.spec.env ?? {}), { mode: privateFileMode });
    await this.setAuthorizedKeys(this.spec.authorizedKeys);
    await makeWorkspaceDisk(this.disk, this.spec.diskGb);
    this.address = await createHostNetwork(this.names, this.spec.index);
  }

  async setAuthorizedKeys(keys: readonly string[]): Promise<void> {
    await writeFile(path.join(this.dir, "etc", "authorized_keys"), keys.map((k) => `${k.trim()}\n`).join(""), { mode: 0o600 });
  }

  /**
   * Empties what an onstart script (or the user) appended to ~/.ssh/authorized_keys on the host. The
   * host owns that folder and may change it meanwhile: .ssh is opened without following a symlink
   * and the file is reached through that descriptor, also without following one, and without
   * waiting on a FIFO.
   */
  async dropSelfManagedKeys(): Promise<void> {
    const sshDir = await open(path.join(this.dir, "root", ".ssh"), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW).catch(() => undefined);
    if (!sshDir) return;
    try {
      const flags = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
      const file = await open(`/proc/self/fd/${sshDir.fd}/authorized_keys`, flags).catch(() => undefined);
      await file?.close();
    } finally {
      await sshDir.close();
    }
  }

  /** Starts init (mounts, sshd, onstart) and waits until sshd accepts TCP connections. */
  async start(timeoutMs = 15_000): Promise<void> {
    if (!existsSync(hostInitBinary)) throw new EnvironmentError(`the local cloud's host-init is not built (${hostInitBinary})`, "run `bash setup/setup.sh`");
    const child = spawn(
      "ip",
      ["netns", "exec", this.namespace, "unshare", "--mount", "--pid", "--ipc", "--uts", "--fork", "--propagation", "private", "--",
        "sh", "-c", hostInitScript(), "init", this.dir, imageRoot(this.spec.image), this.mirrorUrl, hostStartScript(), this.disk, hostInitBinary],
      { detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    // Only its last few KiB: what init says when it fails, not whatever a host writes there later.
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4096)));
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (!(await this.acceptsTcp())) {
      if (child.exitCode !== null) throw new Error(`host ${this.spec.name} did not start: ${stderr.trim() || `init exited ${child.exitCode}`}`);
      if (Date.now() > deadline) throw new Error(`host ${this.spec.name}: sshd did not listen on ${this.address}:${this.sshPort} within ${timeoutMs} ms`);
      await sleep(50);
    }
    this.state = "running";
    // Written by the init script, in the part of the host's folder the host cannot see.
    this.workspaceDisk = (await readFile(path.join(this.dir, "run", "workspace-disk"), "utf8").catch(() => "unknown (no record)")).trim();
    if (this.workspaceDisk !== "ext4") console.error(`host ${this.spec.name}: /workspace is not a disk of its own: ${this.workspaceDisk}`);
  }

  private acceptsTcp(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: this.address, port: this.sshPort, timeout: 500 });
      socket.once("connect", () => { socket.destroy(); resolve(true); });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => { socket.destroy(); resolve(false); });
    });
  }

  async pids(): Promise<number[]> {
    return namespacePids(this.namespace);
  }

  private async signalAll(signal: NodeJS.Signals): Promise<void> {
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** The machine died: every process in it is killed at once. */
  async kill(): Promise<void> {
    await this.signalAll("SIGCONT");
    await this.signalAll("SIGKILL");
    this.state = "killed";
  }

  /** The machine froze: processes stop but keep their sockets open. */
  async hang(): Promise<void> {
    await this.signalAll("SIGSTOP");
    this.state = "hung";
  }

  async resume(): Promise<void> {
    await this.signalAll("SIGCONT");
    if (this.state === "hung") this.state = "running";
  }

  async setLink(up: boolean): Promise<void> {
    await setHostLink(this.names, this.spec.index, up);
    this.linkUp = up;
  }

  /** Removes the host: processes, network, files. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.kill();
    for (let i = 0; i < 50 && (await this.pids()).length > 0; i++) await sleep(20);
    await deleteHostNetwork(this.names, this.spec.index);
    await rm(this.dir, { recursive: true, force: true });
    await removeWorkspaceDisk(this.disk);
    this.state = "destroyed";
  }
}
