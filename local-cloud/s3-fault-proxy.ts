// The S3 endpoint Dumont is given: a relay in front of MinIO (local-cloud/s3-relay, Go), listening
// on the cloud's gateway address so that hosts and the controller reach it at the same URL
// (presigned URLs are signed for one host name). The Host header passes through untouched, so
// SigV4 signatures stay valid.
//
// The relay carries the bytes; this file decides, for each request, what the relay does with it.
// When an S3 fault is armed, some requests are answered with S3 errors or delayed, or (a stalled
// store) hosts' requests are held and never answered until the fault is cleared.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError } from "../lib/errors.ts";
import { toolsDir } from "../lib/tools/paths.ts";
import type { FaultBook } from "./faults.ts";

export interface S3Proxy {
  readonly endpoint: string;
  readonly port: number;
  /** Requests answered with an injected error, for tests to check that faults really fired. */
  readonly injectedErrors: () => number;
  close(): Promise<void>;
}

/** What the relay does with one request. */
type Decision = { action: "relay" } | { action: "close" } | { action: "error"; status: number; body: string };

/** The longest a stall or a partition holds one request (the Node relay's server cut requests at 5 minutes). */
const maxHoldMs = 10 * 60_000;

/** The relay's build, made by setup/setup.sh. */
export const s3RelayBinary = path.join(toolsDir, "s3-relay", "s3-relay");

function s3ErrorXml(status: number): string {
  const [code, message] = status === 503 ? ["SlowDown", "Please reduce your request rate."] : ["InternalError", "We encountered an internal error. Please try again."];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>dumont-fault</RequestId></Error>`;
}

/**
 * Whether request number n (from 0) of a fault fails, for a fault rate r: failures are spread evenly
 * (exactly r of any run of requests, rounded), so a test of "20% of requests fail" is not left to luck.
 */
export function failsAt(n: number, rate: number): boolean {
  return Math.floor((n + 1) * rate) > Math.floor(n * rate);
}

/** Decides each request from the faults armed when it arrives. */
class FaultDecider {
  injected = 0;
  private readonly seen = new Map<number, number>();

  private readonly faults: FaultBook;
  private readonly gateway: string;

  constructor(faults: FaultBook, gateway: string) {
    this.faults = faults;
    this.gateway = gateway;
  }

  /**
   * `withdrawn` turns true when the client has gone away: a held request is then let go. A held
   * upload's client that left is only seen once its body was read (the relay's server reads it
   * first), so no request is held longer than maxHoldMs either.
   */
  async decide(remoteAddress: string, userAgent: string, withdrawn: () => boolean): Promise<Decision> {
    const { faults } = this;
    const heldSince = Date.now();
    const letGo = () => withdrawn() || Date.now() - heldSince > maxHoldMs;
    // Hosts' transfers stall; the controller (which reaches the relay from the gateway address
    // itself) is still answered, so the test sees how the data path alone copes.
    if (faults.standing("s3-stall") && remoteAddress !== this.gateway) {
      while (faults.standing("s3-stall") && !letGo()) await sleep(200);
      return { action: "close" };
    }
    // One client cut off from the store (a controller on the wrong side of a partition): its
    // requests, told apart by the application id in their user agent, are never answered.
    const partition = faults.standing("s3-partition");
    if (partition && userAgent.split(" ").includes(`app/${partition.target}`)) {
      while (faults.standing("s3-partition") === partition && !letGo()) await sleep(200);
      return { action: "close" };
    }
    const latency = faults.standing("s3-latency");
    if (latency?.ms) await sleep(latency.ms);
    const errors = faults.standing("s3-errors");
    const n = errors ? (this.seen.get(errors.id) ?? 0) : 0;
    if (errors) this.seen.set(errors.id, n + 1);
    if (errors && failsAt(n, errors.rate ?? 1)) {
      this.injected++;
      const status = errors.status ?? 503;
      return { action: "error", status, body: s3ErrorXml(status) };
    }
    return { action: "relay" };
  }
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return typeof value === "string" ? value : "";
}

/** The decision server the relay asks, on loopback, with a token of its own. */
function startDecisionServer(decider: FaultDecider, token: string): Promise<{ server: Server; url: string }> {
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer(async (req, res) => {
    const given = Buffer.from(header(req, "authorization"));
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || req.url !== "/decide") {
      res.writeHead(403).end();
      return;
    }
    req.resume();
    const decision = await decider.decide(header(req, "x-remote-address"), header(req, "x-client-user-agent"), () => req.socket.destroyed);
    if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(decision));
  });
  // The relay closes its idle connections first (after 60 s): it never reuses one this end closed.
  server.keepAliveTimeout = 10 * 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/decide` }));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

export async function startS3Proxy(listenHost: string, targetPort: number, faults: FaultBook, logFile: string): Promise<S3Proxy> {
  if (!existsSync(s3RelayBinary)) throw new EnvironmentError(`the local cloud's S3 relay is not built (${s3RelayBinary})`, "run `bash setup/setup.sh`");
  const decider = new FaultDecider(faults, listenHost);
  const token = randomBytes(24).toString("hex");
  const decisions = await startDecisionServer(decider, token);
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(s3RelayBinary, ["-listen", `${listenHost}:0`, "-target", `127.0.0.1:${targetPort}`, "-decide", decisions.url], {
    // Its stdin stays open for as long as this process lives: the relay exits when it closes.
    env: { DUMONT_S3_RELAY_TOKEN: token }, stdio: ["pipe", "pipe", "pipe"],
  });
  child.stderr!.pipe(log);
  let closing = false;
  const close = async () => {
    closing = true;
    await stopChild(child);
    decisions.server.closeAllConnections();
    await new Promise<void>((done) => decisions.server.close(() => done()));
    log.end();
  };
  const lines = createInterface({ input: child.stdout! });
  const startTimeout = new AbortController();
  const first = await Promise.race([
    new Promise<string | undefined>((resolve) => {
      lines.once("line", resolve);
      child.once("exit", () => resolve(undefined));
      // A relay that cannot be started at all (not executable, say) is named, not thrown later.
      child.once("error", (error) => {
        log.write(`s3-relay: ${error.message}\n`);
        resolve(undefined);
      });
    }),
    sleep(10_000, undefined, { signal: startTimeout.signal }).then(() => undefined, () => undefined),
  ]);
  startTimeout.abort();
  const port = Number(/^listening .*:(\d+)$/.exec(first ?? "")?.[1]);
  if (!port) {
    await close();
    throw new EnvironmentError(`the local cloud's S3 relay did not start (log: ${logFile})`);
  }
  lines.on("line", (line) => log.write(`${line}\n`));
  // A relay that dies leaves the cloud without its S3 endpoint: the daemon's log says so.
  child.once("exit", (code, signal) => {
    if (!closing) console.log(`${new Date().toISOString()} the S3 relay exited (${signal ?? `code ${code}`}); see ${logFile}`);
  });
  return { endpoint: `http://${listenHost}:${port}`, port, injectedErrors: () => decider.injected, close };
}
