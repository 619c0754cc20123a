// Controller memory benchmark (issue 15: "a 10 GiB workspace and a 1,000,000-file workspace each
// snapshot, restore and verify with the controller under 256 MiB peak RSS").
//   npm run bench:memory                      (setup, then this file: both workspaces)
//   node test/bench/memory-bench.ts [--files=N] [--gib=G] [--only=files|size]
// Each workspace is made on a local-cloud host and snapshotted (full); about 1% of it changes and
// it is snapshotted again (an incremental on the full one); each snapshot is restored onto a new
// host, as a failover does, and verified (the incremental's restore applies the chain of two). Each operation runs in a Node process of its own
// (memory-step.ts), so its peak RSS is that operation's alone, as a `dumont` command's would be.
// Writes test/bench/results/memory.json and memory.md (the README's performance section quotes them;
// a run with other sizes or --only writes memory-partial.*, not committed).
import { fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { LocalCloudAdmin } from "../../local-cloud/admin-client.ts";
import { down, up } from "../../local-cloud/control.ts";
import { SnapshotStore, type SnapshotStoreSettings } from "../../dataplane/snapshot/store.ts";
import { connect } from "../../dataplane/ssh/client.ts";
import { ensureHostTools, gpuTools } from "../../dataplane/ssh/host-tools.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";
import { dumontNodeEnvironment, dumontNodeFlags } from "../../lib/tools/node-flags.ts";
import { repoRoot } from "../../lib/tools/paths.ts";
import { makeKeyPair } from "../support/local-cloud.ts";
import type { MemoryStep, MemoryStepResult } from "./memory-step.ts";

/** The issue's bound on the controller's peak resident memory, whatever the workspace. */
const targetMiB = 256;

const { values: flags } = parseArgs({
  options: {
    files: { type: "string", default: "1000000" },
    gib: { type: "string", default: "10" },
    only: { type: "string" },
  },
});
const files = Number(flags.files);
const gib = Number(flags.gib);
if (!Number.isInteger(files) || files < 1000) throw new Error(`--files=${flags.files}: give a whole number of files, 1000 or more`);
if (!(gib > 0 && gib <= 64)) throw new Error(`--gib=${flags.gib}: give a size in GiB, above 0 and at most 64`);
if (flags.only !== undefined && flags.only !== "files" && flags.only !== "size") throw new Error(`--only=${flags.only}: give files or size`);

const filesPerFolder = 1000;
const workspaces = {
  files: {
    description: `${files.toLocaleString("en")} files of 200 bytes in ${Math.ceil(files / filesPerFolder)} folders`,
    // split writes each folder's files from one stream: a million files in about two minutes.
    generate: `set -euo pipefail
cd /workspace
left=${files}; d=0
while [ "$left" -gt 0 ]; do
  n=$(( left < ${filesPerFolder} ? left : ${filesPerFolder} )); d=$((d + 1)); mkdir -p "d$d"
  head -c $((n * 150)) /dev/urandom | base64 -w 0 | split -b 200 -a 4 -d - "d$d/f"
  left=$((left - n))
done
`,
    change: `cd /workspace && find . -type f | head -n ${Math.max(1, Math.round(files / 100))} | xargs touch --`,
    changeDescription: "1% of the files touched",
  },
  size: {
    description: `${gib} GiB in ${Math.ceil(gib)} files of random bytes (incompressible)`,
    generate: `set -euo pipefail
cd /workspace
for i in $(seq 1 ${Math.ceil(gib)}); do head -c ${Math.round((gib / Math.ceil(gib)) * 1024)}M /dev/urandom > "part-$i.bin"; done
`,
    change: `head -c ${Math.max(1, Math.round(gib * 1024 / 100))}M /dev/urandom > /workspace/added.bin`,
    changeDescription: "1% added as a new file",
  },
} as const;

type HostAddress = MemoryStep["host"];

interface Row {
  readonly workspace: string;
  readonly operation: "full snapshot" | "restore, verified" | "incremental snapshot" | "restore of the chain of 2, verified";
  readonly seconds: number;
  readonly peakRssMiB: number;
  readonly heapMiB: number;
  readonly entries: number;
}

/** Runs one operation in a process of its own and returns its figures (or its one-line error). */
function runStep(step: MemoryStep): Promise<MemoryStepResult> {
  return new Promise((resolve, reject) => {
    // With the flags and environment `dumont` runs with: the figure is a command's.
    const child = fork(path.join(import.meta.dirname, "memory-step.ts"), [], { execArgv: [...dumontNodeFlags], env: { ...process.env, ...dumontNodeEnvironment }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let answer: { result?: MemoryStepResult; error?: string } | undefined;
    child.on("message", (message: { result?: MemoryStepResult; error?: string }) => (answer = message));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (answer?.result) resolve(answer.result);
      else reject(new Error(`${step.operation} of ${step.snapshot}: ${answer?.error ?? `the process ended with ${signal ?? `exit ${code}`} (out of memory?)`}`));
    });
    child.send(step);
  });
}

async function main() {
  applyToolEnvironment();
  const endpoints = await up({ cloud: "mem", settings: { loadingDelayMs: 0, runningDelayMs: 0 } });
  const admin = new LocalCloudAdmin(endpoints);
  const key = makeKeyPair("memory");
  const bucket = "memory";
  const rows: Row[] = [];
  try {
    await new SnapshotStore({ ...endpoints.s3, bucket, prefix: "unused/", stack: "memory" }).s3.send(new CreateBucketCommand({ Bucket: bucket }));
    /** A host with Dumont's tools, and how to reach it again from another process. */
    const makeHost = async (name: string) => {
      const info = await admin.createStandby(name, [key.publicKey]);
      const address: HostAddress = { address: info.address, port: info.sshPort, hostKey: info.hostKey };
      const ssh = await connect({ host: address.address, port: address.port, privateKey: key.privateKey, hostKey: address.hostKey });
      await ensureHostTools(ssh, gpuTools);
      return { name, address, ssh, made: performance.now() };
    };
    for (const [name, workspace] of Object.entries(workspaces)) {
      if (flags.only && flags.only !== name) continue;
      console.error(`\n== ${name}: ${workspace.description}`);
      const store: SnapshotStoreSettings = { ...endpoints.s3, bucket, prefix: `${name}/`, stack: "memory" };
      const step = (operation: MemoryStep["operation"], on: HostAddress, snapshot: string, parent?: string) => runStep({ operation, host: on, privateKey: key.privateKey, store, snapshot, parent });
      const record = (operation: Row["operation"], r: MemoryStepResult) => {
        rows.push({ workspace: name, operation, seconds: r.seconds, peakRssMiB: r.peakRssMiB, heapMiB: r.heapMiB, entries: r.entries });
        console.error(`   ${operation.padEnd(36)} ${r.seconds.toFixed(1)} s, controller peak RSS ${r.peakRssMiB.toFixed(0)} MiB (target ≤ ${targetMiB}), ${r.entries} entries`);
      };
      // Each restore goes to a new host, as a failover's does. Hosts stay until the end: removing a
      // million files takes longer than the local cloud's admin calls wait (`down` removes them).
      const restoreOnto = async (snapshot: string, operation: Row["operation"], hostName: string) => {
        const target = await makeHost(hostName);
        target.ssh.close();
        record(operation, await step("restore", target.address, snapshot));
      };
      const host = await makeHost(`mem-${name}-src`);
      let incremental: MemoryStepResult;
      try {
        await host.ssh.run(["bash", "-c", workspace.generate], { timeoutMs: 60 * 60_000 });
        console.error(`   made in ${((performance.now() - host.made) / 1000).toFixed(0)} s`);
        const full = await step("snapshot", host.address, `memory-${name}`);
        record("full snapshot", full);
        await restoreOnto(full.id, "restore, verified", `mem-${name}-dst`);
        await host.ssh.run(["bash", "-c", workspace.change], { timeoutMs: 10 * 60_000 });
        incremental = await step("snapshot", host.address, `memory-${name}-incremental`, full.id);
        if (incremental.kind !== "incremental") throw new Error(`the snapshot on ${full.id} was ${incremental.kind}, not incremental`);
        record("incremental snapshot", incremental);
      } finally {
        host.ssh.close();
      }
      await restoreOnto(incremental.id, "restore of the chain of 2, verified", `mem-${name}-chain`);
    }
  } finally {
    await down("mem");
  }
  report(rows);
}

function report(rows: readonly Row[]) {
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const lines = [
    "# Controller memory benchmark",
    "",
    `Run ${new Date().toISOString()} on ${machine}; \`npm run bench:memory\`. Each operation runs in a Node`,
    "process of its own against a local-cloud host; its peak resident memory (getrusage) is the figure.",
    `Target (issue 15): ≤ ${targetMiB} MiB whatever the workspace's size and file count.`,
    "",
    "| workspace | operation | entries | seconds | controller peak RSS (MiB) | V8 heap at the end (MiB) | within target |",
    "|---|---|---:|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.workspace} | ${r.operation} | ${r.entries} | ${r.seconds.toFixed(1)} | ${r.peakRssMiB.toFixed(0)} | ${r.heapMiB.toFixed(0)} | ${r.peakRssMiB <= targetMiB ? "yes" : "no"} |`),
    "",
    "Workspaces:",
    ...Object.entries(workspaces).filter(([n]) => !flags.only || flags.only === n).map(([n, w]) => `- ${n}: ${w.description}; the incremental after ${w.changeDescription}`),
  ];
  const dir = path.join(repoRoot, "test", "bench", "results");
  mkdirSync(dir, { recursive: true });
  const suffix = files === 1_000_000 && gib === 10 && !flags.only ? "" : "-partial";
  writeFileSync(path.join(dir, `memory${suffix}.json`), `${JSON.stringify({ machine, targetMiB, rows }, null, 2)}\n`);
  writeFileSync(path.join(dir, `memory${suffix}.md`), `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
}

await main();
