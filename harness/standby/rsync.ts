// Mirroring /workspace between two hosts in one hop: rsync runs on one host and pushes to the
// other over SSH. The sending host logs in with the controller's forwarded agent (the key never
// leaves the controller) and checks the receiver's host key against the pinned one (a known_hosts
// file written for this run), so keys are pinned both ways. The seed relayed through the
// controller's /tmp; this never touches the controller's disk.
import { randomBytes } from "node:crypto";
import type { SshConnection } from "../ssh/client.ts";

export interface RsyncPeer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The receiver's pinned host key line. */
  readonly hostKey: string;
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
   * A lock file (relative to the receiver's home) the receiving rsync holds: an rsync left running by
   * a dead controller and a new one never write the same folder at once (the new one waits 60 s).
   */
  readonly receiverLock?: string;
  readonly timeoutMs?: number;
}

export function knownHostsLine(peer: RsyncPeer): string {
  const name = peer.port === 22 ? peer.host : `[${peer.host}]:${peer.port}`;
  return `${name} ${peer.hostKey.trim().split(/\s+/).slice(0, 2).join(" ")}\n`;
}

/**
 * The remote shell rsync uses: pinned host key, no prompts, AES-GCM (fast on AES-NI), keepalives so
 * a dead peer is noticed in seconds. rsync splits this string on spaces, so no value has spaces.
 */
export function rsyncRemoteShell(knownHostsFile: string, port: number): string {
  return [
    "ssh", "-p", String(port), "-o", `UserKnownHostsFile=${knownHostsFile}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
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
 * Makes the peer's folder (default /workspace/) an exact copy of the sender's: deletions propagate,
 * modes, times, symlinks, hard links and sparse files are kept. `sender` must be connected with
 * forwardAgent.
 */
export async function mirrorWorkspace(sender: SshConnection, receiver: RsyncPeer, options: MirrorPaths = {}): Promise<RsyncResult> {
  const knownHosts = `/tmp/dumont-known-hosts-${randomBytes(6).toString("hex")}`;
  const started = new Date();
  await sender.run(["sh", "-c", 'umask 077 && cat > "$1"', "known-hosts", knownHosts], { stdin: knownHostsLine(receiver) });
  try {
    // The remote path has no characters a remote shell would split or expand.
    const destination = `${receiver.user}@${receiver.host}:${checkedPath(options.destination ?? "/workspace/")}`;
    const result = await sender.run([
      "rsync", "-aHS", "--delete", "--numeric-ids", "--partial", "--stats", "--timeout=60",
      ...(options.linkDest ? [`--link-dest=${checkedPath(options.linkDest, true)}`] : []),
      ...(options.receiverLock ? [`--rsync-path=flock -w 60 ${checkedPath(`${options.receiverLock}/`).slice(0, -1)} rsync`] : []),
      "-e", rsyncRemoteShell(knownHosts, receiver.port),
      checkedPath(options.source ?? "/workspace/"), destination,
    ], { timeoutMs: options.timeoutMs ?? 6 * 3600_000 });
    const finished = new Date();
    return {
      startedAt: started.toISOString(), finishedAt: finished.toISOString(), seconds: (finished.getTime() - started.getTime()) / 1000,
      ...parseRsyncStats(result.stdout),
    };
  } finally {
    await sender.run(["rm", "-f", "--", knownHosts], { allowFailure: true }).catch(() => undefined);
  }
}
