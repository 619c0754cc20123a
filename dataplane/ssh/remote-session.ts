// A person at the controller working on a host: an interactive shell (on a pseudo-terminal when
// the controller's stdin is a terminal) or one command, streamed both ways, ending with the remote
// exit status. Unlike SshConnection.run, nothing here is bounded or kept: the output is the user's
// own and goes straight to their terminal or pipe, and they decide when it ends.
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import type { ClientChannel } from "ssh2";
import type { SshConnection } from "./client.ts";

/** The controller's side of a session: normally process.stdin, process.stdout and process.stderr. */
export interface SessionStreams {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  readonly stdout: Writable & { isTTY?: boolean; rows?: number; columns?: number };
  readonly stderr: Writable;
}

export interface SessionRequest {
  /**
   * The command line to run, passed to the remote shell as OpenSSH passes it (so `cd /workspace && ls`
   * works); undefined for a login shell.
   */
  readonly command?: string;
}

/** What ssh(1) uses when the session ends without an exit status (the connection dropped). */
export const lostSessionStatus = 255;

/** How long an exit status may arrive after the session's stream closed. */
const exitStatusGraceMs = 2000;

/** A remote exit as a shell reports it: the code, or 128 + the signal's number for a killed command. */
export function exitStatusOf(code: number | null | undefined, signal: string | undefined): number {
  if (typeof code === "number") return code;
  if (signal) {
    const number = (constants.signals as Record<string, number | undefined>)[`SIG${signal.replace(/^SIG/, "")}`];
    return number === undefined ? lostSessionStatus : 128 + number;
  }
  return lostSessionStatus;
}

/** A session's channel, and its exit status once the host sent it. */
interface OpenSession {
  readonly channel: ClientChannel;
  readonly exit: { status?: number };
}

function openChannel(connection: SshConnection, request: SessionRequest, streams: SessionStreams, pty: boolean): Promise<OpenSession> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | undefined, channel: ClientChannel) => {
      if (error) return reject(error);
      // Listened for at once, before an await lets go of the tick: a quick command's exit status
      // can arrive in the same read as the channel's confirmation, and ssh2 emits it right then
      // (its output waits in the stream; an event nobody listened for is gone).
      const exit: { status?: number } = {};
      channel.on("exit", (code: number | null, signal?: string) => {
        exit.status = exitStatusOf(code, signal);
      });
      resolve({ channel, exit });
    };
    if (request.command !== undefined) connection.client.exec(request.command, done);
    else if (pty) {
      const term = process.env.TERM && process.env.TERM !== "dumb" ? process.env.TERM : "xterm-256color";
      connection.client.shell({ term, rows: streams.stdout.rows ?? 24, cols: streams.stdout.columns ?? 80 }, done);
    }
    // No terminal (a pipe or a file on stdin): a shell that reads its commands from stdin, as ssh(1) does.
    else connection.client.shell(false, done);
  });
}

/**
 * Runs a shell or a command on the connected host until it ends and returns its exit status. A
 * login shell gets a pseudo-terminal when stdin is a terminal (raw mode, window size followed);
 * a command never does, so its output can be piped byte for byte. stdin is forwarded until it
 * ends; the terminal is always given back in the mode it was in.
 */
export async function runSession(connection: SshConnection, request: SessionRequest, streams: SessionStreams): Promise<number> {
  const pty = request.command === undefined && streams.stdin.isTTY === true && typeof streams.stdin.setRawMode === "function";
  const { channel, exit } = await openChannel(connection, request, streams, pty);
  const onResize = () => channel.setWindow(streams.stdout.rows ?? 24, streams.stdout.columns ?? 80, 0, 0);
  return new Promise((resolve) => {
    const finish = () => {
      streams.stdin.unpipe(channel);
      if (pty) {
        streams.stdin.setRawMode!(false);
        streams.stdout.removeListener("resize", onResize);
      }
      // Stop reading stdin, or an idle terminal (or a pipe nobody closes) would keep dumont alive.
      streams.stdin.pause();
      resolve(exit.status ?? lostSessionStatus);
    };
    // The stream closes once its output ended and stdin is done, and sshd may send the end of the
    // output before the exit status: that is waited for a moment. A connection lost mid-session
    // closes the channel without one (ssh(1)'s 255 then).
    channel.on("close", () => {
      if (exit.status !== undefined) return finish();
      const late = setTimeout(finish, exitStatusGraceMs);
      channel.once("exit", () => {
        clearTimeout(late);
        finish();
      });
    });
    channel.pipe(streams.stdout, { end: false });
    channel.stderr.pipe(streams.stderr, { end: false });
    if (pty) {
      streams.stdin.setRawMode!(true);
      streams.stdout.on("resize", onResize);
    }
    streams.stdin.pipe(channel);
    streams.stdin.resume();
  });
}
