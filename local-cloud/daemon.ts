// The local cloud's long-running process, started by `dumont local-cloud up` (control.ts):
//   node local-cloud/daemon.ts CLOUD_DIR CONFIG_JSON
// It builds the bridge, starts MinIO, the S3 proxy and the package mirror, serves the Vast API, B2's
// native API and the admin API, and writes endpoints.json once everything answers. On SIGTERM or an admin shutdown it
// removes all it made. If it cannot start completely it removes what it made and says why in
// startup-error.txt.
import { randomBytes } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { privateDirMode } from "../lib/tools/private-dir.ts";
import { handleAdmin } from "./admin-api.ts";
import { B2Account } from "./b2/account.ts";
import { B2Api } from "./b2/api.ts";
import { MinioUsers } from "./b2/minio-users.ts";
import { Cloud } from "./cloud.ts";
import type { Endpoints } from "./endpoints.ts";
import { minioRegion, startMinio, type MinioServer } from "./minio.ts";
import { cloudNames } from "./names.ts";
import { createBridge, deleteBridge } from "./network.ts";
import { startS3Proxy, type S3Proxy } from "./s3-fault-proxy.ts";
import { defaultInventory } from "./vast/inventory.ts";
import { VastApi } from "./vast/api.ts";
import { mirrorFolder } from "./images.ts";
import { startPackageMirror, type PackageMirror } from "./package-mirror.ts";
import type { CloudSettings } from "./settings.ts";

export interface DaemonConfig {
  readonly cloud: string;
  readonly settings?: Partial<CloudSettings>;
  readonly creditUsd?: number;
}

const [cloudDir, configJson] = process.argv.slice(2);
if (!cloudDir || !configJson) {
  console.error("usage: daemon.ts CLOUD_DIR CONFIG_JSON (started by `dumont local-cloud up`)");
  process.exit(2);
}
const config = JSON.parse(configJson) as DaemonConfig;
const names = cloudNames(config.cloud);
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

// What has been made so far, in order, so that teardown removes exactly that.
const made: { bridge?: boolean; minio?: MinioServer; proxy?: S3Proxy; mirror?: PackageMirror; server?: Server; cloud?: Cloud } = {};
let stopping = false;

async function teardown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log("shutting down");
  await made.cloud?.shutdown().catch((e) => log(`shutdown of hosts: ${e}`));
  await made.proxy?.close().catch(() => undefined);
  await made.mirror?.close().catch(() => undefined);
  made.server?.closeAllConnections();
  await new Promise<void>((done) => (made.server ? made.server.close(() => done()) : done()));
  await made.minio?.stop().catch(() => undefined);
  if (made.bridge) await deleteBridge(names);
  log("stopped");
}

async function start(): Promise<Endpoints> {
  await mkdir(cloudDir!, { recursive: true, mode: privateDirMode });
  await createBridge(names);
  made.bridge = true;
  log(`bridge ${names.bridge} at ${names.gateway}/24`);

  made.minio = await startMinio(path.join(cloudDir!, "minio-data"), path.join(cloudDir!, "minio.log"));
  await writeFile(path.join(cloudDir!, "minio.pid"), String(made.minio.pid));
  log(`minio on ${made.minio.endpoint}`);

  made.mirror = await startPackageMirror(names.gateway, mirrorFolder());
  log(`package mirror on ${made.mirror.url}`);

  const cloud = new Cloud({
    names, cloudDir: cloudDir!, mirrorUrl: made.mirror.url, inventory: defaultInventory, settings: config.settings, creditUsd: config.creditUsd,
  });
  made.cloud = cloud;
  made.proxy = await startS3Proxy(names.gateway, made.minio.port, cloud.faults, path.join(cloudDir!, "s3-relay.log"));
  log(`s3 endpoint ${made.proxy.endpoint}`);

  const api = new VastApi(cloud);
  // Keys are managed on MinIO itself, not through the fault proxy: S3 faults are for the data path.
  const minioRoot = { endpoint: made.minio.endpoint, region: minioRegion, accessKeyId: made.minio.accessKeyId, secretAccessKey: made.minio.secretAccessKey };
  const b2Dir = path.join(cloudDir!, "b2");
  await mkdir(b2Dir, { recursive: true, mode: privateDirMode });
  const b2 = new B2Api({ account: new B2Account(minioRoot, new MinioUsers(minioRoot, b2Dir)), s3ApiUrl: made.proxy.endpoint });
  const adminToken = randomBytes(24).toString("hex");
  const proxy = made.proxy;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      try {
        const handled =
          (await api.handle(req, res, raw)) ||
          (await b2.handle(req, res, raw)) ||
          (await handleAdmin(cloud, { token: adminToken, shutdown: () => void stop(0), s3InjectedErrors: proxy.injectedErrors }, req, res, raw));
        if (!handled) {
          res.writeHead(404, { "content-type": "application/json" });
          res.end(JSON.stringify({ success: false, error: "not_found", msg: `${req.url} is not served here` }));
        }
      } catch (error) {
        // A client may authenticate with ?api_key= (Vast allows it): the log never holds the key.
        log(`request ${req.method} ${req.url?.replace(/([?&]api_key=)[^&]*/gi, "$1[redacted]")} failed: ${(error as Error).stack}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      }
    });
  });
  made.server = server;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
  api.baseUrl = `http://127.0.0.1:${port}`;
  b2.baseUrl = api.baseUrl;
  log(`vast api on ${api.baseUrl}`);

  return {
    cloud: names.cloud,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    dir: cloudDir!,
    vast: { url: api.baseUrl, apiKey: cloud.account.apiKey },
    admin: { url: `${api.baseUrl}/admin`, token: adminToken },
    s3: {
      endpoint: made.proxy.endpoint, region: minioRegion,
      accessKeyId: made.minio.accessKeyId, secretAccessKey: made.minio.secretAccessKey, directEndpoint: made.minio.endpoint,
    },
    b2: { url: b2.baseUrl },
    network: { bridge: names.bridge, gateway: names.gateway, subnet: `${names.subnet}.0/24` },
    minioPid: made.minio.pid,
  };
}

async function stop(code: number): Promise<void> {
  await teardown();
  process.exit(code);
}

process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));

try {
  const endpoints = await start();
  const file = path.join(cloudDir, "endpoints.json");
  await writeFile(`${file}.tmp`, JSON.stringify(endpoints, null, 2), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  log("ready");
} catch (error) {
  log(`startup failed: ${(error as Error).stack}`);
  await writeFile(path.join(cloudDir, "startup-error.txt"), (error as Error).message).catch(() => undefined);
  await stop(1);
}
