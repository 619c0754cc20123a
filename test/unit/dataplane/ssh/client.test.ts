// SshConnection.run against a host that misbehaves, with ssh2's client and channel replaced by
// fakes (no network): every run ends within its bound, keeps bounded output, closes the channel it
// gives up on, and shows the host's words sanitized.
import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { Readable } from "node:stream";
import type { Client } from "ssh2";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DumontError } from "../../../../lib/errors.ts";
import { connect, RemoteCommandError, RemoteCommandTimeout, RemoteOutputTooLarge, SshConnection } from "../../../../dataplane/ssh/client.ts";
import { makeKeyPair } from "../../../support/local-cloud.ts";
import { defaultCommandMs, stderrKeptBytes } from "../../../../dataplane/ssh/command-bounds.ts";

/** The channel of one remote command, driven by the test as the host would. */
class FakeChannel extends EventEmitter {
  readonly stderr = new EventEmitter();
  readonly signals: string[] = [];
  closed = false;
  stdin: unknown;

  end(data?: unknown): void {
    if (data !== undefined) this.stdin = data;
  }

  write(): boolean {
    return true;
  }

  signal(name: string): void {
    this.signals.push(name);
  }

  close(): void {
    this.closed = true;
  }

  out(text: string | Buffer): void {
    this.emit("data", Buffer.from(text));
  }

  err(text: string | Buffer): void {
    this.stderr.emit("data", Buffer.from(text));
  }

  exit(code: number | null, signal?: string): void {
    this.emit("close", code, signal);
  }
}

/** A connection whose commands open FakeChannels (after `openDelayMs`, or never with `Infinity`). */
function fakeConnection(openDelayMs = 0) {
  const channels: FakeChannel[] = [];
  const client = Object.assign(new EventEmitter(), {
    exec(_command: string, cb: (error: Error | undefined, channel: FakeChannel) => void) {
      const channel = new FakeChannel();
      channels.push(channel);
      if (openDelayMs === 0) cb(undefined, channel);
      else if (Number.isFinite(openDelayMs)) setTimeout(() => cb(undefined, channel), openDelayMs);
    },
  });
  const connection = new SshConnection(client as unknown as Client, "gpu.example:41022", "");
  return { connection, client, channels, channel: () => channels.at(-1)! };
}

/** The error a run failed with (a run that succeeds fails the test). */
function failure(run: Promise<unknown>): Promise<Error> {
  return run.then(() => {
    throw new Error("the run succeeded");
  }, (error: Error) => error);
}

const script = ["bash", "-c", "set -euo pipefail\nfind /workspace -printf x", "scan"];

afterEach(() => {
  vi.useRealTimers();
});

describe("SshConnection.run within bounds", () => {
  it("collects stdout and stderr of a command that ends", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(["echo", "hi"], { stdin: "input" });
    channel().out("hi\n");
    channel().err("a warning\n");
    channel().exit(0);
    await expect(run).resolves.toEqual({ code: 0, stdout: "hi\n", stderr: "a warning\n" });
    expect(channel().stdin).toBe("input");
  });

  it("fails a run whose input cannot be made, and stops the command waiting for it", async () => {
    const { connection, channel } = fakeConnection();
    const input = Readable.from((function* () {
      yield "first\0";
      throw new Error("a name that stands for no bytes");
    })());
    const error = await failure(connection.run(["cat"], { stdin: input }));
    expect(error.message).toBe("a name that stands for no bytes");
    expect(channel().closed).toBe(true);
    expect(channel().signals).toEqual(["KILL"]);
  });

  it("keeps stdout as bytes when asked, decoding it only when read", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(["cat"], { binaryStdout: true });
    channel().out(Buffer.from([0x72, 0xe9, 0x00]));
    channel().exit(0);
    const result = await run;
    expect([...result.stdoutBytes]).toEqual([0x72, 0xe9, 0x00]);
    expect(result.stdout).toBe("r\ufffd\0");
  });

  it("stops a command that writes more stdout than its cap, naming the command and the cap", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(script, { maxStdoutBytes: 1024 * 1024 });
    const chunk = Buffer.alloc(32 * 1024, 120);
    for (let i = 0; i < 40; i++) channel().out(chunk);
    const error = await failure(run);
    expect(error).toBeInstanceOf(RemoteOutputTooLarge);
    expect(error).toBeInstanceOf(DumontError);
    expect(error.message).toContain("more than 1 MiB");
    expect(error.message).toContain("gpu.example:41022");
    expect(error.message).toContain("bash -c 'set -euo pipefail …");
    expect(channel().signals).toEqual(["KILL"]);
    expect(channel().closed).toBe(true);
    // What still arrives before the host closes is read and dropped; the close settles nothing more.
    channel().out(chunk);
    channel().exit(null, "KILL");
  });

  it("hands stdout to a parser as it arrives, keeps none of it, and still bounds it", async () => {
    const { connection, channel } = fakeConnection();
    const seen: string[] = [];
    const run = connection.run(["cat", "list"], { onStdout: (chunk) => seen.push(chunk.toString()), maxStdoutBytes: 8 });
    channel().out("abc");
    channel().out("def");
    channel().exit(0);
    await expect(run).resolves.toMatchObject({ code: 0, stdout: "" });
    expect(seen).toEqual(["abc", "def"]);

    const capped = connection.run(["cat", "list"], { onStdout: (chunk) => seen.push(chunk.toString()), maxStdoutBytes: 8 });
    channel().out("12345");
    channel().out("6789");
    expect(await failure(capped)).toBeInstanceOf(RemoteOutputTooLarge);
    expect(seen.at(-1)).toBe("12345");
    expect(channel().signals).toEqual(["KILL"]);
  });

  it("stops the command when its parser refuses what it wrote, with the parser's error", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(["cat", "list"], { onStdout: () => {
      throw new DumontError("unexpected md5sum output");
    } });
    channel().out("noise");
    expect((await failure(run)).message).toBe("unexpected md5sum output");
    expect(channel().signals).toEqual(["KILL"]);
    expect(channel().closed).toBe(true);
    channel().out("more noise");
    channel().exit(null, "KILL");
  });

  it("times out a command that never ends, closing its channel", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(script, { timeoutMs: 30 });
    channel().out("partial");
    const error = await failure(run);
    expect(error).toBeInstanceOf(RemoteCommandTimeout);
    expect(error.message).toBe("remote command timed out after 30 ms on gpu.example:41022: bash -c 'set -euo pipefail …");
    expect(channel().closed).toBe(true);
  });

  it("times out a command whose channel never opens, and closes the channel if it opens late", async () => {
    const { connection, channels } = fakeConnection(60);
    await expect(connection.run(["true"], { timeoutMs: 20 })).rejects.toBeInstanceOf(RemoteCommandTimeout);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(channels[0]!.closed).toBe(true);
  });

  it("stops a command at once when its signal aborts (a lost lease), killing it on the host", async () => {
    const { connection, channel } = fakeConnection();
    const lease = new AbortController();
    const run = connection.run(["rsync", "-a", "src/", "dst/"], { signal: lease.signal });
    channel().out("half of it");
    lease.abort(new DumontError("lost the lease of stack t"));
    expect((await failure(run)).message).toBe("lost the lease of stack t");
    expect(channel().signals).toEqual(["KILL"]);
    expect(channel().closed).toBe(true);
    const already = await failure(connection.run(["true"], { signal: lease.signal }));
    expect(already.message).toBe("lost the lease of stack t");
  });

  it("gives every command a bound, even one that names none", async () => {
    vi.useFakeTimers();
    const { connection, channel } = fakeConnection();
    const run = connection.run(["sleep", "infinity"]);
    const outcome = failure(run);
    await vi.advanceTimersByTimeAsync(defaultCommandMs - 1);
    expect(channel().closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBeInstanceOf(RemoteCommandTimeout);
    expect(channel().closed).toBe(true);
  });

  it("refuses a timeout that Node's timers cannot hold", async () => {
    const { connection } = fakeConnection();
    await expect(connection.run(["true"], { timeoutMs: 30 * 24 * 3600_000 })).rejects.toThrow(RangeError);
    await expect(connection.run(["true"], { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });

  it("keeps the end of a stderr flood, sanitized, in the failure", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(script);
    const flood = Buffer.from("\x1b]0;owned\x07\x1b[2J\x1b[31mnoise\r\n".repeat(1000));
    for (let i = 0; i < 200; i++) channel().err(flood);
    channel().err("find: the real reason\n");
    channel().exit(1);
    const error = await failure(run) as RemoteCommandError;
    expect(error).toBeInstanceOf(RemoteCommandError);
    expect(error.code).toBe(1);
    expect(error.stderr.length).toBeLessThanOrEqual(stderrKeptBytes * 2);
    expect(error.stderr).not.toMatch(/[\x1b\x07\x9b]/);
    expect(error.message).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(error.message.length).toBeLessThan(2300);
    expect(error.message).toMatch(/^remote command failed \(exit 1\): bash -c 'set -euo pipefail …\n/);
    expect(error.message).toMatch(/find: the real reason$/);
  });

  it("resolves a failed probe with its sanitized stderr", async () => {
    const { connection, channel } = fakeConnection();
    const run = connection.run(["test", "-d", "/x"], { allowFailure: true });
    channel().err("\x1b[31mno\x1b[0m\n");
    channel().exit(1);
    await expect(run).resolves.toEqual({ code: 1, stdout: "", stderr: "no\n" });
  });

  it("hands on stderr lines sanitized and bounded", async () => {
    const { connection, channel } = fakeConnection();
    const lines: string[] = [];
    const run = connection.run(script, { onStderrLine: (l) => lines.push(l) });
    channel().err("progress 1\n\x1b]0;t\x07progress\r 2\n");
    channel().err(Buffer.alloc(1024 * 1024, 65));
    channel().err("\nround-read 1 0\n");
    channel().exit(0);
    await run;
    expect(lines[0]).toBe("progress 1");
    expect(lines[1]).toBe("progress\\x0d 2");
    expect(lines[2]!.length).toBeLessThanOrEqual(64 * 1024);
    expect(lines[3]).toBe("round-read 1 0");
  });

  it("rejects with the connection's loss, naming only the command's first line", async () => {
    const { connection, client } = fakeConnection();
    const run = connection.run(script);
    client.emit("close");
    await expect(run).rejects.toThrow("connection to gpu.example:41022 lost while running: bash -c 'set -euo pipefail …");
  });
});

// connect() against servers that fail the way a dying host does, on real local sockets.
const key = makeKeyPair("connect-test");
let server: Server | undefined;
const sockets: Socket[] = [];

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server!.address() as { port: number }).port;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

describe("connect to a host that dies as it answers", () => {
  it("fails at once when the server sends its banner and closes (ssh2 reports no error then: it used to wait forever)", async () => {
    const port = await listen((socket) => {
      socket.write("SSH-2.0-OpenSSH_9.2\r\n");
      setTimeout(() => socket.destroy(), 100);
    });
    const started = Date.now();
    await expect(connect({ host: "127.0.0.1", port, privateKey: key.privateKey, hostKey: key.publicKey, connectTimeoutMs: 5_000 }))
      .rejects.toThrow(/closed before SSH was ready/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("fails within its timeout when the server accepts and never speaks", async () => {
    const port = await listen(() => undefined);
    const started = Date.now();
    await expect(connect({ host: "127.0.0.1", port, privateKey: key.privateKey, hostKey: key.publicKey, connectTimeoutMs: 1_000 }))
      .rejects.toThrow(/Timed out while waiting for handshake/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });
});
