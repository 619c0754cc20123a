// The local cloud's object store: a real MinIO server (built by setup from its Go module) on
// loopback, with credentials generated per cloud. It stands in for Backblaze B2's S3 API.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvironmentError } from "../lib/errors.ts";
import { privateDirMode } from "../lib/tools/private-dir.ts";
import { freePort } from "./ports.ts";

export interface MinioServer {
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The region MinIO says it is in; S3 clients sign for it. */
export const minioRegion = "us-east-1";

export async function startMinio(dataDir: string, logFile: string, timeoutMs = 30_000): Promise<MinioServer> {
  await mkdir(dataDir, { recursive: true, mode: privateDirMode });
  const port = await freePort();
  const accessKeyId = `dumont${randomBytes(6).toString("hex")}`;
  const secretAccessKey = randomBytes(24).toString("base64url");
  const log = createWriteStream(logFile, { flags: "a" });
  const child: ChildProcess = spawn("minio", ["server", dataDir, "--address", `127.0.0.1:${port}`, "--quiet"], {
    env: {
      PATH: process.env.PATH, HOME: path.dirname(dataDir),
      MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey,
      MINIO_BROWSER: "off", MINIO_UPDATE: "off", MINIO_REGION: minioRegion,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null; i++) await sleep(50);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new EnvironmentError(`minio exited with ${child.exitCode} before it was ready (log: ${logFile})`);
    const ready = await fetch(`${endpoint}/minio/health/live`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new EnvironmentError(`minio did not answer on ${endpoint} within ${timeoutMs} ms (log: ${logFile})`);
    }
    await sleep(100);
  }
  return { endpoint, port, accessKeyId, secretAccessKey, pid: child.pid!, stop };
}
