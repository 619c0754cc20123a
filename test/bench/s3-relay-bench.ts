// What the local cloud's S3 relay costs: the same 1 GiB object downloaded by curl through the
// relay (the endpoint every host and the controller use) and straight from MinIO, with the CPU
// the relay, the daemon and MinIO spent on it.
//   node test/bench/s3-relay-bench.ts [--runs=N]   (default 3; starts and removes a cloud "relay")
import { execFileSync, spawn } from "node:child_process";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { down, up } from "../../local-cloud/control.ts";
import type { Endpoints } from "../../local-cloud/endpoints.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";

applyToolEnvironment();
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice("--runs=".length) ?? 3);
const objectFile = "/var/tmp/dumont-relay-bench.bin";
const bucket = "relay-bench";

/** A process's CPU seconds so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function client(endpoints: Endpoints, endpoint: string): S3Client {
  return new S3Client({ endpoint, region: endpoints.s3.region, forcePathStyle: true, credentials: { accessKeyId: endpoints.s3.accessKeyId, secretAccessKey: endpoints.s3.secretAccessKey } });
}

execFileSync("bash", ["-c", `[ "$(stat -c %s ${objectFile} 2>/dev/null)" = 1073741824 ] || head -c 1G /dev/urandom > ${objectFile}`]);
const endpoints = await up({ cloud: "relay" });
try {
  await client(endpoints, endpoints.s3.directEndpoint).send(new CreateBucketCommand({ Bucket: bucket }));
  await client(endpoints, endpoints.s3.directEndpoint).send(new PutObjectCommand({ Bucket: bucket, Key: "gib", Body: createReadStream(objectFile), ContentLength: statSync(objectFile).size }));
  const relayPid = Number(execFileSync("pgrep", ["-P", String(endpoints.pid), "-x", "s3-relay"]).toString().trim());
  console.log("| path | run | seconds | MB/s | relay CPU s | daemon CPU s | MinIO CPU s |\n|---|---:|---:|---:|---:|---:|---:|");
  for (let run = 1; run <= runs; run++) {
    for (const [label, endpoint] of [["relay", endpoints.s3.endpoint], ["MinIO directly", endpoints.s3.directEndpoint]] as const) {
      const url = await getSignedUrl(client(endpoints, endpoint), new GetObjectCommand({ Bucket: bucket, Key: "gib" }), { expiresIn: 600 });
      const before = [relayPid, endpoints.pid, endpoints.minioPid].map(cpuSeconds);
      const t0 = performance.now();
      // The URL goes to curl on its stdin (a config line), not in its arguments.
      await new Promise<void>((resolve, reject) => {
        const curl = spawn("curl", ["-sf", "-o", "/dev/null", "-K", "-"], { stdio: ["pipe", "ignore", "inherit"] });
        curl.stdin.end(`url = "${url}"\n`);
        curl.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`curl exited ${code}`))));
      });
      const seconds = (performance.now() - t0) / 1000;
      const [relay, daemon, minio] = [relayPid, endpoints.pid, endpoints.minioPid].map((pid, i) => cpuSeconds(pid) - before[i]!);
      console.log(`| ${label} | ${run} | ${seconds.toFixed(2)} | ${(1073.741824 / seconds).toFixed(0)} | ${relay!.toFixed(2)} | ${daemon!.toFixed(2)} | ${minio!.toFixed(2)} |`);
    }
  }
} finally {
  await down("relay");
}
