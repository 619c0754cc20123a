// SSH to GPU and standby hosts through ssh2: the host key is pinned (a different key is refused,
// naming both fingerprints), AES-GCM is preferred (1.6x faster than chacha20 on AES-NI hosts),
// commands are argument lists quoted for the remote shell, and output can be streamed. Every host
// is treated as hostile: a command's wait and the output kept of it are bounded (command-bounds.ts),
// and what the host wrote is sanitized before it reaches a message (sanitize.ts).
import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { Readable } from "node:stream";
import { fingerprint, keyBlob, keyLine } from "./host-key.ts";
import { DumontError, EnvironmentError } from "../../lib/errors.ts";
import { defaultCommandMs, defaultStdoutBytes, longestTimerMs, stderrKeptBytes, stderrLineBytes } from "./command-bounds.ts";
import { ByteTail, CappedBytes, LineSplitter } from "./output-limits.ts";
import { quoteCommand } from "./quote.ts";
import { sanitizeHostLine, sanitizeHostText, withSanitizedMessage } from "./sanitize.ts";

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
}

export class HostKeyMismatchError extends DumontError {
  constructor(target: string, expected: string, presented: string) {
    super(`host key of ${target} changed: pinned ${expected}, presented ${presented}. Refusing to connect; if the host was really replaced, re-pin it.`);
  }
}

/** A remote command named in a message: its first line (host scripts are long), sanitized and cut. */
function shownCommand(command: string): string {
  const newline = command.indexOf("\n");
  const shown = sanitizeHostLine(newline === -1 ? command : command.slice(0, newline), 100);
  return newline !== -1 && !shown.endsWith("…") ? `${shown} …` : shown;
}

export class RemoteCommandError extends DumontError {
  readonly code: number | null;
  /** The end of what the command wrote to stderr, sanitized. */
  readonly stderr: string;
  constructor(command: string, code: number | null, signal: string | undefined, stderr: string) {
    const said = stderr.trim();
    super(`remote command failed (${signal ? `signal ${sanitizeHostLine(signal, 20)}` : `exit ${code}`}): ${shownCommand(command)}${said ? `\n${sanitizeHostText(said)}` : ""}`);
    this.code = code;
    this.stderr = stderr;
  }
}

/** A command that ran past its bound; its channel is closed (the host may still run it). */
export class RemoteCommandTimeout extends DumontError {
  constructor(command: string, label: string, timeoutMs: number) {
    super(`remote command timed out after ${formatDuration(timeoutMs)} on ${label}: ${shownCommand(command)}`);
  }
}

/** A command that wrote more to stdout than its result may hold; it is stopped, its channel closed. */
export class RemoteOutputTooLarge extends DumontError {
  constructor(command: string, label: string, cap: number) {
    super(`${label} wrote more than ${formatBytes(cap)} to stdout for: ${shownCommand(command)}; the command was stopped`, {
      hint: "a host's output is bounded so that a broken or hostile host cannot fill the controller's memory",
    });
  }
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function formatBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024;
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  /** The end of what the command wrote to stderr (its last 64 KiB), sanitized: for showing, not parsing. */
  readonly stderr: string;
}

/** What a run with `binaryStdout` returns: stdout as the bytes the host wrote (file names are bytes). */
export interface BinaryRunResult extends RunResult {
  readonly stdoutBytes: Buffer;
}

export interface RunOptions {
  /** Data to send on stdin: a string/Buffer, or a stream piped in full. */
  readonly stdin?: string | Buffer | Readable;
  /**
   * How long the command may take, channel opening included (default: command-bounds.ts
   * defaultCommandMs). Past it the channel is closed and the run rejects with RemoteCommandTimeout.
   */
  readonly timeoutMs?: number;
  /**
   * How much stdout the result may hold (default: command-bounds.ts defaultStdoutBytes). A command
   * that writes more is stopped and the run rejects with RemoteOutputTooLarge.
   */
  readonly maxStdoutBytes?: number;
  /** Resolve with a non-zero exit code instead of rejecting (for probes). */
  readonly allowFailure?: boolean;
  /** Called with each stderr line as it arrives (progress of long remote steps), sanitized and at most 64 KiB. */
  readonly onStderrLine?: (line: string) => void;
  /** Also return stdout undecoded (`stdoutBytes`; `stdout` is then decoded only when read): UTF-8 decoding would mangle names that are not UTF-8. */
  readonly binaryStdout?: boolean;
  /**
   * Hands each chunk of stdout to this parser as it arrives instead of keeping it (the result's
   * stdout is then empty), so that a listing of a million entries is never held whole next to what
   * is made of it. `maxStdoutBytes` still bounds the total. A parser that throws stops the command
   * and rejects the run with its error.
   */
  readonly onStdout?: (chunk: Buffer) => void;
  /**
   * Stops the command (its channel closed, the host told to kill it) and rejects with the signal's
   * reason: a controller that lost the stack's lease must stop writing at once, not after the step.
   */
  readonly signal?: AbortSignal;
  /** How errors name the command, when argv wraps it (runs it as another user, say). */
  readonly shownAs?: string;
}

function checkedTimeout(timeoutMs: number): number {
  if (!(timeoutMs > 0 && timeoutMs <= longestTimerMs)) throw new RangeError(`a remote command's timeout must be from 1 ms to ${longestTimerMs} ms, not ${timeoutMs}`);
  return timeoutMs;
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

  /**
   * Starts argv on the host and returns the channel (stdout is the channel, stderr .stderr). Nothing
   * here bounds it: the caller reads what it needs and closes the channel (most want run()).
   */
  exec(argv: readonly string[]): Promise<ClientChannel> {
    const command = quoteCommand(argv);
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => (error ? reject(withSanitizedMessage(error)) : resolve(channel)));
    });
  }

  /**
   * Runs argv to completion and collects its output, within bounds: a timeout (the command's or
   * the default), a cap on stdout, the end of stderr. Whatever ends a run early closes its channel.
   */
  run(argv: readonly string[], options: RunOptions & { readonly binaryStdout: true }): Promise<BinaryRunResult>;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult | BinaryRunResult> {
    const command = quoteCommand(argv);
    const shown = options.shownAs ?? command;
    const timeoutMs = checkedTimeout(options.timeoutMs ?? defaultCommandMs);
    const stdout = new CappedBytes(options.maxStdoutBytes ?? defaultStdoutBytes);
    const stderr = new ByteTail(stderrKeptBytes);
    const onStderrLine = options.onStderrLine;
    const onStdout = options.onStdout;
    const stderrLines = onStderrLine && new LineSplitter(stderrLineBytes, (line) => onStderrLine(sanitizeHostLine(line, stderrLineBytes)));
    return new Promise((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      /** The first outcome wins; later events (data still arriving, the channel's close) only clean up. */
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client.removeListener("close", lost);
        options.signal?.removeEventListener("abort", aborted);
        outcome();
      };
      // Stop the command and close its channel: the host is told to stop sending; whatever it
      // still sends before it answers is read and dropped (reading on keeps the channel's close
      // event coming, pausing would hold it back).
      const stop = (open: ClientChannel) => {
        try {
          open.signal("KILL");
        } catch {
          // the channel is already closing
        }
        open.close();
      };
      const timer = setTimeout(() => {
        settle(() => reject(new RemoteCommandTimeout(shown, this.label, timeoutMs)));
        if (channel) stop(channel);
      }, timeoutMs);
      // A host that dies mid-command may never close the channel itself: the connection's end is
      // the answer then.
      const lost = () => settle(() => reject(new DumontError(`connection to ${this.label} lost while running: ${shownCommand(shown)}`)));
      this.client.once("close", lost);
      const aborted = () => {
        settle(() => reject(options.signal!.reason ?? new DumontError(`stopped: ${shownCommand(command)}`)));
        if (channel) stop(channel);
      };
      if (options.signal?.aborted) {
        aborted();
        return;
      }
      options.signal?.addEventListener("abort", aborted, { once: true });

      const started = (open: ClientChannel) => {
        channel = open;
        open.on("data", (d: Buffer) => {
          if (settled) return;
          const kept = onStdout ? stdout.count(d) : stdout.add(d);
          if (!kept) {
            settle(() => reject(new RemoteOutputTooLarge(shown, this.label, stdout.cap)));
            stop(open);
            return;
          }
          try {
            onStdout?.(d);
          } catch (error) {
            settle(() => reject(error));
            stop(open);
          }
        });
        open.stderr.on("data", (d: Buffer) => {
          if (settled) return;
          stderr.add(d);
          stderrLines?.add(d);
        });
        open.on("close", (code: number | null, signal?: string) => settle(() => {
          const said = sanitizeHostText(stderr.text(), stderrKeptBytes);
          const result = runResult(code ?? -1, stdout.bytes(), said, options.binaryStdout === true);
          if (code === 0 || options.allowFailure) resolve(result);
          else reject(new RemoteCommandError(shown, code, signal, said));
        }));
        const stdin = options.stdin;
        if (stdin === undefined) open.end();
        else if (typeof stdin === "string" || Buffer.isBuffer(stdin)) open.end(stdin);
        else {
          // pipe() leaves a source's error to its owner: here it fails the run (a list that could
          // not be made) instead of leaving the command waiting for the rest of its input.
          stdin.once("error", (error: Error) => {
            settle(() => reject(error));
            stop(open);
          });
          stdin.pipe(open);
        }
      };
      try {
        this.client.exec(command, (error, open) => {
          if (error) settle(() => reject(withSanitizedMessage(error)));
          else if (settled) open.close(); // the run timed out (or the connection went) before the channel opened
          else started(open);
        });
      } catch (error) {
        settle(() => reject(error));
      }
    });
  }

  close(): void {
    this.client.end();
  }
}

/** A run's result; with `binary`, stdout is kept as bytes and decoded only if asked for. */
function runResult(code: number, bytes: Buffer, stderr: string, binary: boolean): RunResult | BinaryRunResult {
  if (!binary) return { code, stdout: bytes.toString("utf8"), stderr };
  return {
    code, stderr, stdoutBytes: bytes,
    get stdout() {
      return bytes.toString("utf8");
    },
  };
}

/** Whatever runs commands as SshConnection does: a connection, or one that runs them as another user. */
export type CommandRunner = Pick<SshConnection, "run">;

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
  const readyTimeoutMs = target.connectTimeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    let connection: SshConnection | undefined;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      reject(error);
      client.end();
    };
    // ssh2 clears its ready timeout when the socket closes, and a socket closed before the
    // handshake ended (a host killed while it accepted the connection) emits no error: without
    // these two, connecting to a GPU that died at that moment waited forever (session 16: a
    // watch's sync stuck on "connecting to the GPU" for 300 s in chaos two-controllers).
    const deadline = setTimeout(() => fail(new Error(`Timed out while waiting for handshake with ${label} (${readyTimeoutMs} ms)`)), readyTimeoutMs + 2_000);
    client.once("close", () => fail(mismatch ?? new Error(`the connection to ${label} closed before SSH was ready`)));
    client.once("ready", () => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve((connection = new SshConnection(client, label, presented)));
    });
    // Without TCP_NODELAY every channel open waits on delayed ACKs (~90 ms per remote command).
    client.once("connect", () => client.setNoDelay(true));
    // ssh2 may report more than one error for one failed connection (e.g. a timeout, then the lost
    // socket); only the first settles the promise, later ones close what is left.
    client.on("error", (error) => {
      if (!connection) fail(mismatch ?? withSanitizedMessage(error));
      else client.end();
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.username ?? "root",
      privateKey: target.privateKey,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      algorithms: preferredAlgorithms,
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
      reject(new EnvironmentError(`no SSH handshake from ${host}:${port} within ${timeoutMs} ms`, "is the host running, and its SSH port reachable from here?"));
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
      else reject(withSanitizedMessage(error));
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
