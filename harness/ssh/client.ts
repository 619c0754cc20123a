// SSH to GPU and standby hosts through ssh2: the host key is pinned (a different key is refused,
// naming both fingerprints), AES-GCM is preferred (1.6x faster than chacha20 on AES-NI hosts),
// commands are argument lists quoted for the remote shell, and output can be streamed.
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { Readable } from "node:stream";
import { fingerprint, keyBlob, keyLine } from "./host-key.ts";
import { ForwardedKeyAgent } from "./key-agent.ts";
import { quoteCommand } from "./quote.ts";

export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  /** PEM/OpenSSH private key text. */
  readonly privateKey: string | Buffer;
  /**
   * The pinned host key line. Omitted only for a first contact whose key the caller records
   * (see `firstContact`), never to skip verification.
   */
  readonly hostKey?: string;
  readonly connectTimeoutMs?: number;
  /**
   * Forward an agent holding the private key for this connection, so commands on the host can log
   * in to other hosts with it (see key-agent.ts). Off unless asked for.
   */
  readonly forwardAgent?: boolean;
}

export class HostKeyMismatchError extends Error {
  constructor(target: string, expected: string, presented: string) {
    super(`host key of ${target} changed: pinned ${expected}, presented ${presented}. Refusing to connect; if the host was really replaced, re-pin it.`);
    this.name = "HostKeyMismatchError";
  }
}

export class RemoteCommandError extends Error {
  readonly code: number | null;
  readonly stderr: string;
  constructor(command: string, code: number | null, signal: string | undefined, stderr: string) {
    // Host scripts are long: name the command by its first line, and let the host's own words follow.
    const firstLine = command.split("\n")[0]!;
    const shown = firstLine.length > 100 || firstLine !== command ? `${firstLine.slice(0, 100)} …` : command;
    super(`remote command failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${shown}${stderr.trim() ? `\n${stderr.trim().slice(-2000)}` : ""}`);
    this.name = "RemoteCommandError";
    this.code = code;
    this.stderr = stderr;
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What a run with `binaryStdout` returns: stdout as the bytes the host wrote (file names are bytes). */
export interface BinaryRunResult extends RunResult {
  readonly stdoutBytes: Buffer;
}

export interface RunOptions {
  /** Data to send on stdin: a string/Buffer, or a stream piped in full. */
  readonly stdin?: string | Buffer | Readable;
  readonly timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of rejecting (for probes). */
  readonly allowFailure?: boolean;
  /** Called with each stderr line as it arrives (progress of long remote steps). */
  readonly onStderrLine?: (line: string) => void;
  /** Also return stdout undecoded (`stdoutBytes`): UTF-8 decoding would mangle names that are not UTF-8. */
  readonly binaryStdout?: boolean;
}

const preferredAlgorithms: ConnectConfig["algorithms"] = {
  cipher: { prepend: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"] } as never,
};

export class SshConnection {
  readonly client: Client;
  readonly label: string;
  /** The host key the server presented (its OpenSSH line). */
  readonly presentedHostKey: string;

  constructor(client: Client, label: string, presentedHostKey: string) {
    this.client = client;
    this.label = label;
    this.presentedHostKey = presentedHostKey;
  }

  /** Starts argv on the host and returns the channel (stdout is the channel, stderr .stderr). */
  exec(argv: readonly string[]): Promise<ClientChannel> {
    const command = quoteCommand(argv);
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
    });
  }

  /** Runs argv to completion and collects its output (for commands with small output). */
  run(argv: readonly string[], options: RunOptions & { readonly binaryStdout: true }): Promise<BinaryRunResult>;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult | BinaryRunResult> {
    const command = quoteCommand(argv);
    const channel = await this.exec(argv);
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      // A host that dies mid-command may never close the channel itself: the connection's end is
      // the answer then.
      const lost = () => {
        if (timer) clearTimeout(timer);
        reject(new Error(`connection to ${this.label} lost while running: ${command}`));
      };
      this.client.once("close", lost);
      if (options.timeoutMs) {
        timer = setTimeout(() => {
          channel.close();
          reject(new Error(`remote command timed out after ${options.timeoutMs} ms on ${this.label}: ${command}`));
        }, options.timeoutMs);
      }
      channel.on("data", (d: Buffer) => stdout.push(d));
      let partial = "";
      channel.stderr.on("data", (d: Buffer) => {
        stderr.push(d);
        if (!options.onStderrLine) return;
        const lines = (partial + d.toString("utf8")).split("\n");
        partial = lines.pop()!;
        for (const line of lines) options.onStderrLine(line);
      });
      channel.on("exit", () => undefined);
      channel.on("close", (code: number | null, signal?: string) => {
        if (timer) clearTimeout(timer);
        this.client.removeListener("close", lost);
        const stdoutBytes = Buffer.concat(stdout);
        const result = {
          code: code ?? -1, stdout: stdoutBytes.toString("utf8"), stderr: Buffer.concat(stderr).toString("utf8"),
          ...(options.binaryStdout && { stdoutBytes }),
        };
        if (code === 0 || options.allowFailure) resolve(result);
        else reject(new RemoteCommandError(command, code, signal, result.stderr));
      });
      const stdin = options.stdin;
      if (stdin === undefined) channel.end();
      else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) channel.end(stdin);
      else stdin.pipe(channel);
    });
  }

  close(): void {
    this.client.end();
  }
}

/** Opens a connection whose host key must equal the pinned one. */
export function connect(target: SshTarget): Promise<SshConnection> {
  const label = `${target.host}:${target.port}`;
  if (!target.hostKey) throw new Error(`no pinned host key for ${label}; use firstContact() to record one`);
  return open(target, target.hostKey);
}

/**
 * Trust on first use, recorded: connects without a pinned key and returns the key the host
 * presented, which the caller must store and pin for every later connection.
 */
export async function firstContact(target: SshTarget): Promise<SshConnection> {
  return open(target, undefined);
}

function open(target: SshTarget, pinned: string | undefined): Promise<SshConnection> {
  const label = `${target.host}:${target.port}`;
  const client = new Client();
  let presented = "";
  let mismatch: Error | undefined;
  const expected = pinned ? keyBlob(pinned) : undefined;
  return new Promise((resolve, reject) => {
    let connection: SshConnection | undefined;
    client.once("ready", () => resolve((connection = new SshConnection(client, label, presented))));
    // Without TCP_NODELAY every channel open waits on delayed ACKs (~90 ms per remote command).
    client.once("connect", () => client.setNoDelay(true));
    // ssh2 may report more than one error for one failed connection (e.g. a timeout, then the lost
    // socket); only the first settles the promise, later ones close what is left.
    client.on("error", (error) => {
      if (!connection) reject(mismatch ?? error);
      client.end();
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.username ?? "root",
      privateKey: target.privateKey,
      readyTimeout: target.connectTimeoutMs ?? 15_000,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      algorithms: preferredAlgorithms,
      ...(target.forwardAgent && { agent: new ForwardedKeyAgent(target.privateKey), agentForward: true }),
      hostVerifier: (key: Buffer) => {
        presented = keyLine(key);
        if (expected && !key.equals(expected)) {
          mismatch = new HostKeyMismatchError(label, fingerprint(expected), fingerprint(key));
          return false;
        }
        return true;
      },
    });
  });
}

/**
 * The host key a server presents, without logging in: the key exchange completes (so the server
 * really speaks SSH), then the connection is dropped before authentication.
 */
export function probeHostKey(host: string, port: number, timeoutMs = 10_000): Promise<string> {
  const client = new Client();
  return new Promise((resolve, reject) => {
    let presented = "";
    const timer = setTimeout(() => {
      client.end();
      reject(new Error(`no SSH handshake from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on("handshake", () => {
      clearTimeout(timer);
      client.end();
      resolve(presented);
    });
    client.on("error", (error) => {
      clearTimeout(timer);
      client.end();
      if (presented) resolve(presented);
      else reject(error);
    });
    client.connect({
      host, port, username: "root", readyTimeout: timeoutMs, algorithms: preferredAlgorithms,
      // Recording, not trusting: the caller pins what is returned here.
      hostVerifier: (key: Buffer) => {
        presented = keyLine(key);
        return true;
      },
      authHandler: () => false,
    });
  });
}
