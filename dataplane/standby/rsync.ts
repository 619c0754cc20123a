// Mirroring /workspace between the standby and a GPU in one hop: rsync always runs on the standby
// (Dumont's own machine) and pulls from the GPU (a sync) or pushes to it (a restore) over SSH, with
// a key made for the run (run-key.ts) and the GPU's pinned host key (a known_hosts file written for
// the run). The GPU host never logs in anywhere, so it is handed no credential at all; the
// controller's key is never forwarded. The seed relayed through the controller's /tmp; this never
// touches the controller's disk.
import { randomBytes } from "node:crypto";
import type { CommandRunner } from "../ssh/client.ts";
import { bulkTransferMs } from "../ssh/command-bounds.ts";

export interface RsyncPeer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The peer's pinned host key line. */
  readonly hostKey: string;
  /** The run key's private half on the standby (relative to its home). */
  readonly identityFile: string;
}

export interface RsyncResult {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  /** Bytes rsync sent over the wire (compressed or not, deltas only). */
  readonly bytesSent: number;
  readonly filesTransferred: number;
  readonly filesTotal: number;
  /** Sum of the sizes of every file on the sending side. */
  readonly bytesTotal: number;
}

/** Where a mirror reads and writes: both default to /workspace/; paths end with '/'. */
export interface MirrorPaths {
  readonly source?: string;
  readonly destination?: string;
  /** Unchanged files are hard-linked from this folder (relative to the destination) instead of sent. */
  readonly linkDest?: string;
  /**
   * A lock file (relative to the standby's home) the rsync holds: an rsync left running by a dead
   * controller and a new one never write the same folder at once (the new one waits 60 s).
   */
  readonly lock?: string;
  readonly timeoutMs?: number;
  /** Stops the copy at once (the controller lost the stack's lease). */
  readonly signal?: AbortSignal;
}

/**
 * What a copy keeps: contents, symlinks, modes, times, hard links, sparse files, FIFOs and sockets.
 * Not owners or device nodes: the standby's side runs as the unprivileged mirror user
 * (mirror-user.ts), which can set neither, so files restored from the standby belong to the GPU's
 * root, as Vast's containers run everything. (Snapshots keep owners.)
 */
export const copiedAttributes = ["-rlptHS", "--specials"] as const;

export function knownHostsLine(peer: RsyncPeer): string {
  const name = peer.port === 22 ? peer.host : `[${peer.host}]:${peer.port}`;
  return `${name} ${peer.hostKey.trim().split(/\s+/).slice(0, 2).join(" ")}\n`;
}

/**
 * The remote shell rsync uses: the run key only (no agent, nothing forwarded), pinned host key, no
 * prompts, AES-GCM (fast on AES-NI), keepalives so a dead peer is noticed in seconds. rsync splits
 * this string on spaces, so no value has spaces.
 */
export function rsyncRemoteShell(knownHostsFile: string, port: number, identityFile: string): string {
  return [
    "ssh", "-p", String(port), "-i", identityFile, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "ForwardAgent=no",
    "-o", "ClearAllForwardings=yes", "-o", "PermitLocalCommand=no", "-F", "/dev/null",
    "-o", `UserKnownHostsFile=${knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-c", "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com",
  ].join(" ");
}

/** Parses the --stats summary rsync prints. */
export function parseRsyncStats(output: string): { bytesSent: number; filesTransferred: number; filesTotal: number; bytesTotal: number } {
  const number = (label: RegExp) => Number((label.exec(output)?.[1] ?? "0").replaceAll(",", ""));
  return {
    bytesSent: number(/Total bytes sent: ([\d,]+)/),
    filesTransferred: number(/Number of regular files transferred: ([\d,]+)/),
    filesTotal: number(/Number of files: ([\d,]+)/),
    bytesTotal: number(/Total file size: ([\d,]+)/),
  };
}

/**
 * A path rsync may use as it is: no spaces, quotes or shell characters, ends with '/', and no '..'
 * unless it is a sibling folder for --link-dest (which rsync resolves from the destination).
 */
function checkedPath(path: string, sibling = false): string {
  const body = sibling ? path.replace(/^\.\.\//, "") : path;
  if (!/^[A-Za-z0-9_./-]+\/$/.test(body) || body.split("/").includes("..")) throw new Error(`refusing rsync path ${JSON.stringify(path)}`);
  return path;
}

/**
 * Makes one side an exact copy of the other, rsync running on `standby`: "pull" copies the GPU
 * `peer`'s folder (default /workspace/) into the standby's `destination`; "push" copies the standby's
 * `source` into the GPU's folder (default /workspace/). Deletions propagate; `copiedAttributes` are kept.
 * `standby` runs as the mirror user: paths are relative to its home.
 */
export async function mirrorWorkspace(standby: CommandRunner, peer: RsyncPeer, direction: "pull" | "push", options: MirrorPaths = {}): Promise<RsyncResult> {
  // A host or user that an ssh command line would read as an option (-oProxyCommand=…) is refused.
  if (!/^[A-Za-z0-9][A-Za-z0-9.:-]*$/.test(peer.host) || !/^[a-z_][a-z0-9_-]*$/.test(peer.user)) throw new Error(`refusing rsync peer ${JSON.stringify(`${peer.user}@${peer.host}`)}`);
  const knownHosts = `.dumont-run-keys/known-hosts-${randomBytes(6).toString("hex")}`;
  const started = new Date();
  await standby.run(["sh", "-c", 'umask 077 && mkdir -p .dumont-run-keys && cat > "$1"', "known-hosts", knownHosts], { stdin: knownHostsLine(peer), timeoutMs: 30_000 });
  try {
    // The remote path has no characters a remote shell would split or expand.
    const remote = (folder: string) => `${peer.user}@${peer.host}:${checkedPath(folder)}`;
    const [from, to] = direction === "pull"
      ? [remote(options.source ?? "/workspace/"), checkedPath(options.destination ?? "/workspace/")]
      : [checkedPath(options.source ?? "/workspace/"), remote(options.destination ?? "/workspace/")];
    const result = await standby.run([
      ...(options.lock ? ["flock", "-w", "60", checkedPath(`${options.lock}/`).slice(0, -1)] : []),
      "rsync", ...copiedAttributes, "--delete", "--partial", "--stats", "--timeout=60",
      ...(options.linkDest ? [`--link-dest=${checkedPath(options.linkDest, true)}`] : []),
      "-e", rsyncRemoteShell(knownHosts, peer.port, checkedPath(`${peer.identityFile}/`).slice(0, -1)),
      from, to,
    ], { timeoutMs: options.timeoutMs ?? bulkTransferMs, signal: options.signal });
    const finished = new Date();
    return {
      startedAt: started.toISOString(), finishedAt: finished.toISOString(), seconds: (finished.getTime() - started.getTime()) / 1000,
      ...parseRsyncStats(result.stdout),
    };
  } finally {
    await standby.run(["rm", "-f", "--", knownHosts], { allowFailure: true, timeoutMs: 30_000 }).catch(() => undefined);
  }
}
