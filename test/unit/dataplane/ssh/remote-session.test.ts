// The remote exit becomes dumont's, as ssh(1) reports it: a signal as 128 + its number, a session
// lost without a status as 255.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { SshConnection } from "../../../../dataplane/ssh/client.ts";
import { exitStatusOf, lostSessionStatus, runSession, type SessionStreams } from "../../../../dataplane/ssh/remote-session.ts";

describe("remote exit status", () => {
  it.each([
    [0, undefined, 0],
    [3, undefined, 3],
    [null, "KILL", 137],
    [null, "SIGTERM", 143],
    [null, "NOT-A-SIGNAL", lostSessionStatus],
    [undefined, undefined, lostSessionStatus],
  ])("code %s, signal %s: %s", (code, signal, status) => {
    expect(exitStatusOf(code, signal)).toBe(status);
  });
});

// sshd may end a command's output before it sends the exit status; the stream can then close first.
describe("runSession's exit status", () => {
  function fakeSession(events: (channel: PassThrough & { stderr: PassThrough }) => void, sameTick = false) {
    const channel = Object.assign(new PassThrough(), { stderr: new PassThrough(), setWindow: () => undefined });
    const connection = { client: { exec: (_command: string, done: (error: Error | undefined, c: unknown) => void) => {
      done(undefined, channel);
      if (sameTick) events(channel);
      else setImmediate(() => events(channel));
    } } } as unknown as SshConnection;
    const streams = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() } as unknown as SessionStreams;
    return runSession(connection, { command: "true" }, streams);
  }

  it("takes an exit status that arrives just after the stream closed", async () => {
    const status = fakeSession((channel) => {
      channel.emit("close");
      setTimeout(() => channel.emit("exit", 3), 20);
    });
    await expect(status).resolves.toBe(3);
  });

  // A quick command: the confirmation, the exit status and the close in one read from the socket.
  it("takes an exit status that arrives in the same tick as the channel", async () => {
    const status = fakeSession((channel) => {
      channel.emit("exit", 7);
      setTimeout(() => channel.emit("close"), 5);
    }, true);
    await expect(status).resolves.toBe(7);
  });

  it("without one, reports the session lost (255)", async () => {
    await expect(fakeSession((channel) => channel.emit("close"))).resolves.toBe(lostSessionStatus);
  });
});
