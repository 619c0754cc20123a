// The S3 endpoint Dumont is given: an HTTP relay in front of MinIO, listening on the cloud's
// gateway address so that hosts and the controller reach it at the same URL (presigned URLs are
// signed for one host name). The Host header passes through untouched, so SigV4 signatures stay
// valid. When an S3 fault is armed, it answers some requests with S3 errors or delays them, or (a
// stalled store) accepts hosts' requests and never answers them until the fault is cleared.
import { createServer, request as httpRequest, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultBook } from "./faults.ts";

export interface S3Proxy {
  readonly endpoint: string;
  readonly port: number;
  /** Requests answered with an injected error, for tests to check that faults really fired. */
  readonly injectedErrors: () => number;
  close(): Promise<void>;
}

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

export function startS3Proxy(listenHost: string, targetPort: number, faults: FaultBook): Promise<S3Proxy> {
  let injected = 0;
  const seen = new Map<number, number>();
  const server: Server = createServer(async (req, res) => {
    // Hosts' transfers stall; the controller (which reaches the relay from the gateway address
    // itself) is still answered, so the test sees how the data path alone copes.
    if (faults.standing("s3-stall") && req.socket.remoteAddress !== listenHost) {
      while (faults.standing("s3-stall") && !req.socket.destroyed) await sleep(200);
      req.socket.destroy();
      return;
    }
    // One client cut off from the store (a controller on the wrong side of a partition): its
    // requests, told apart by the application id in their user agent, are never answered.
    const partition = faults.standing("s3-partition");
    if (partition && String(req.headers["user-agent"] ?? "").split(" ").includes(`app/${partition.target}`)) {
      while (faults.standing("s3-partition") === partition && !req.socket.destroyed) await sleep(200);
      req.socket.destroy();
      return;
    }
    const latency = faults.standing("s3-latency");
    if (latency?.ms) await sleep(latency.ms);
    const errors = faults.standing("s3-errors");
    const n = errors ? (seen.get(errors.id) ?? 0) : 0;
    if (errors) seen.set(errors.id, n + 1);
    if (errors && failsAt(n, errors.rate ?? 1)) {
      injected++;
      const status = errors.status ?? 503;
      req.resume();
      res.writeHead(status, { "content-type": "application/xml", connection: "close" });
      res.end(s3ErrorXml(status));
      return;
    }
    const upstream = httpRequest(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: ${error.message}`);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, listenHost, () => {
      const address = server.address();
      if (!address || typeof address === "string") return reject(new Error("proxy has no port"));
      resolve({
        endpoint: `http://${listenHost}:${address.port}`,
        port: address.port,
        injectedErrors: () => injected,
        close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}
