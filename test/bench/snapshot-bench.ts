// Snapshot benchmark: Dumont against the baselines, in one run, on the same data and the same
// local S3 server (MinIO behind the local cloud's S3 endpoint), on local-cloud hosts.
//   npm run bench            (setup with restic, then this file)
//   node test/bench/snapshot-bench.ts [--quick] [--runs=N]   (--quick: 1/8 of the data, for a smoke
//   run; --runs: each measurement's runs, the median kept, default 3)
// Workspaces: "mixed" (~1 GiB: a random checkpoint, text, a source tree) and "small" (100k files).
// Operations: full snapshot, incremental (1% changed), restore, validation. Baselines: the seed's
// `tar | lz4 -1 | s5cmd pipe`, `s5cmd cat | lz4 -d | tar -x`, `md5sum` over all files, restic.
// Prints MB/s, files/s, peak RSS and each ratio to the best baseline, and writes
// test/bench/results/snapshot.json and snapshot.md (the README's performance section quotes it).
import { ensureHostTools, gpuTools } from "../../dataplane/ssh/host-tools.ts";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CreateBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { LocalCloudAdmin } from "../../local-cloud/admin-client.ts";
import { down, up } from "../../local-cloud/control.ts";
import type { Endpoints } from "../../local-cloud/endpoints.ts";
import type { HostInfo } from "../../local-cloud/host.ts";
import { namespacePids } from "../../local-cloud/network.ts";
import { createSnapshot } from "../../dataplane/snapshot/create.ts";
import { restoreSnapshot } from "../../dataplane/snapshot/restore.ts";
import { SnapshotStore } from "../../dataplane/snapshot/store.ts";
import { verifyTree } from "../../dataplane/snapshot/workspace-scan.ts";
import { TreeVerification } from "../../dataplane/snapshot/tree-verification.ts";
import { connect, type SshConnection } from "../../dataplane/ssh/client.ts";
import { applyToolEnvironment } from "../../lib/tools/environment.ts";
import { repoRoot, toolsDir } from "../../lib/tools/paths.ts";
import { makeKeyPair } from "../support/local-cloud.ts";

applyToolEnvironment();
const quick = process.argv.includes("--quick");
/** One run of a file-system-heavy step varies by ±30% on this machine: each figure is a median. */
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice("--runs=".length) ?? 3);
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs=N wants a whole number of runs, 1 or more");
const scale = quick ? 8 : 1;
const mb = 1e6;

interface Measurement {
  readonly dataset: string;
  readonly operation: "full snapshot" | "full snapshot, host on 1 core" | "incremental (1%)" | "restore" | "validation";
  readonly tool: string;
  /** The median run's. */
  readonly seconds: number;
  /** Every run's seconds. */
  readonly runs: readonly number[];
  readonly bytes: number;
  readonly files: number;
  /** Sum of resident memory of every process on the host, at its highest. */
  readonly hostPeakRssMiB: number;
  /** The controller's own process (Dumont only: it runs there). */
  readonly controllerPeakRssMiB?: number;
  readonly note?: string;
}

/**
 * Samples the summed RSS of a host's processes (and this process) while `work` runs. Every
 * measurement starts with a cold page cache, so no tool reads what the one before it cached.
 */
async function measure<T>(namespace: string, work: () => Promise<T>): Promise<{ result: T; seconds: number; hostPeak: number; controllerPeak: number }> {
  execFileSync("sync");
  writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  let hostPeak = 0;
  let controllerPeak = process.memoryUsage().rss;
  let running = true;
  const sampler = (async () => {
    while (running) {
      let total = 0;
      for (const pid of await namespacePids(namespace)) {
        try {
          total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
        } catch {
          // exited between listing and reading
        }
      }
      hostPeak = Math.max(hostPeak, total);
      controllerPeak = Math.max(controllerPeak, process.memoryUsage().rss);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const t0 = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - t0) / 1000, hostPeak: hostPeak / 2 ** 20, controllerPeak: controllerPeak / 2 ** 20 };
  } finally {
    running = false;
    await sampler;
  }
}

interface Measured<T> {
  readonly result: T;
  readonly seconds: number;
  readonly hostPeak: number;
  readonly controllerPeak: number;
  /** Every run's seconds, in the order run. */
  readonly runs: readonly number[];
  /** Every run, in the order run. */
  readonly all: ReadonlyArray<{ readonly result: T; readonly seconds: number }>;
}

/**
 * Runs a measurement `runs` times (`before` first each time, untimed; each from a cold cache) and
 * keeps the median run by `seconds` (the wall time unless told); peaks are the highest of any run.
 */
async function measureMedian<T>(
  namespace: string,
  work: (run: number) => Promise<T>,
  options: { readonly before?: (run: number) => Promise<unknown>; readonly seconds?: (result: T) => number } = {},
): Promise<Measured<T>> {
  const all: Array<{ result: T; seconds: number; hostPeak: number; controllerPeak: number }> = [];
  for (let run = 0; run < runs; run++) {
    await options.before?.(run);
    all.push(await measure(namespace, () => work(run)));
  }
  const measured = {
    result: all[0]!.result, seconds: all[0]!.seconds, runs: [], all,
    hostPeak: Math.max(...all.map((m) => m.hostPeak)), controllerPeak: Math.max(...all.map((m) => m.controllerPeak)),
  };
  const seconds = options.seconds;
  return medianOf(measured, seconds ? (m) => seconds(m.result) : (m) => m.seconds);
}

/** The median of the same runs by a figure of each (the wall time, or one the result reports). */
function medianOf<T>(measured: Measured<T>, seconds: (run: { readonly result: T; readonly seconds: number }) => number): Measured<T> {
  const all = measured.all.map((m) => ({ result: m.result, seconds: seconds(m) }));
  const median = [...all].sort((a, b) => a.seconds - b.seconds)[Math.floor((all.length - 1) / 2)]!;
  return { ...measured, result: median.result, seconds: median.seconds, runs: all.map((m) => m.seconds), all };
}

/**
 * Pins every process of a host (its sshd, so also what each later SSH session starts) to `cpus`
 * (taskset's list form: "0", "0-1"). The controller and the S3 server stay unpinned.
 */
async function pinHost(namespace: string, cpus: string): Promise<void> {
  for (const pid of await namespacePids(namespace)) {
    try {
      execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
    } catch {
      // exited between listing and pinning
    }
  }
}
const allCpus = `0-${os.cpus().length - 1}`;

/** This machine's Python standard library: a real source tree of a few thousand files. */
const pythonLibrary = ["/usr/lib/python3.11", "/usr/lib/python3"].find((dir) => existsSync(dir));

const datasets = {
  mixed: {
    description: `~${Math.round(1024 / scale)} MiB: a random checkpoint (incompressible), ${Math.round(16 / scale)} equal 32 MiB text files (one text, as copies of a log or dataset), a copy of Python's standard library`,
    generate: `set -euo pipefail
cd /workspace
head -c ${Math.round(448 / scale)}M /dev/urandom > checkpoint.bin
mkdir -p text src
find src -type f -name '*.py' -print0 | xargs -0 cat > /tmp/corpus
cat /tmp/corpus /tmp/corpus /tmp/corpus > /tmp/corpus3
for i in $(seq 1 ${Math.round(16 / scale)}); do head -c 32M /tmp/corpus3 > text/log-$i.txt; done
rm -f /tmp/corpus /tmp/corpus3
`,
    // GPU images carry no Python of the host's own (the local cloud's are as bare as Vast's): the
    // source tree is this machine's standard library, sent to the host as a tar on stdin first.
    sourceTree: pythonLibrary,
    change: `set -euo pipefail
cd /workspace
head -c ${Math.round(8 / scale)}M /dev/urandom > new-weights.bin
mapfile -t sources < <(find src -name '*.py' | sort)
for f in "\${sources[@]:0:40}"; do echo "# changed" >> "$f"; done
rm -rf src/json
`,
  },
  small: {
    description: `${Math.round(100 / scale)}k small files (~2.6 KB of text each) in ${Math.round(100 / scale)} folders`,
    generate: `set -euo pipefail
cd /workspace
for d in $(seq 1 ${Math.round(100 / scale)}); do mkdir -p "d$d"; head -c 1950000 /dev/urandom | base64 -w 76 | split -b 2600 -a 4 -d - "d$d/f"; done
`,
    change: `set -euo pipefail
cd /workspace
for d in $(seq 1 ${Math.round(100 / scale)}); do for f in "d$d"/f000*; do echo changed >> "$f"; done; done
rm -rf d1/f001*
`,
  },
} as const;

/** The baselines' binaries on this machine, copied onto each host (restic only where setup --bench installed it). */
function baselineBinaries(): Array<[string, string]> {
  const found: Array<[string, string]> = [["s5cmd", realpathSync(path.join(toolsDir, "bin", "s5cmd"))]];
  if (existsSync("/usr/bin/restic")) found.push(["restic", "/usr/bin/restic"]);
  return found;
}

async function main() {
  const endpoints: Endpoints = await up({ cloud: "bench", settings: { loadingDelayMs: 0, runningDelayMs: 0 } });
  const admin = new LocalCloudAdmin(endpoints);
  const key = makeKeyPair("bench");
  const bucket = "bench";
  const results: Measurement[] = [];
  const s3 = new SnapshotStore({ ...endpoints.s3, bucket, prefix: "unused/", stack: "bench" }).s3;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  const s5cmd = "/usr/local/bin/s5cmd";
  // Credentials for the baselines reach the host on stdin, never on a command line.
  const quote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;
  const s3Env = Object.entries({
    AWS_ACCESS_KEY_ID: endpoints.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: endpoints.s3.secretAccessKey, AWS_REGION: endpoints.s3.region,
    RESTIC_PASSWORD: "bench-only", S5: s5cmd, EP: endpoints.s3.endpoint,
  }).map(([k, v]) => `${k}=${quote(v)}`).join("\n");
  const hosts: Array<{ info: HostInfo; ssh: SshConnection }> = [];
  const host = async (name: string) => {
    const info = await admin.createStandby(name, [key.publicKey]);
    const h = { info, ssh: await connect({ host: info.address, port: info.sshPort, privateKey: key.privateKey, hostKey: info.hostKey }) };
    hosts.push(h);
    // Hosts run a bare image: the tools Dumont brings (lz4, curl) and the baselines' own binaries
    // (static Go builds) are put there first, so every tool runs on the host, none from the checkout.
    await ensureHostTools(h.ssh, gpuTools);
    for (const [tool, file] of baselineBinaries()) {
      await h.ssh.run(["sh", "-c", 'cat > "$1" && chmod 755 "$1"', "install", `/usr/local/bin/${tool}`], { stdin: readFileSync(file), timeoutMs: 120_000 });
    }
    return h;
  };
  const sh = (ssh: SshConnection, script: string) =>
    ssh.run(["bash", "-c", `set -a; . /dev/stdin; set +a; set -euo pipefail\n${script}`], { stdin: `${s3Env}\n`, timeoutMs: 30 * 60_000 });
  const empty = (ssh: SshConnection) => sh(ssh, "find /workspace -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +; sync");

  try {
    for (const [name, dataset] of Object.entries(datasets)) {
      console.error(`\n== ${name}: ${dataset.description}`);
      const source = await host(`src-${name}`);
      const target = await host(`dst-${name}`);
      if ("sourceTree" in dataset) {
        if (!dataset.sourceTree) throw new Error("the mixed dataset copies this machine's Python standard library, and /usr/lib/python3* is missing: apt-get install python3");
        const tree = execFileSync("tar", ["-C", dataset.sourceTree, "-cf", "-", "."], { maxBuffer: 1 << 30 });
        await source.ssh.run(["sh", "-c", "mkdir -p /workspace/src && tar -xf - -C /workspace/src"], { stdin: tree, timeoutMs: 300_000 });
      }
      await sh(source.ssh, dataset.generate);
      const size = await sh(source.ssh, "cd /workspace && echo $(find . -type f | wc -l) $(find . -type f -printf '%s\\n' | awk '{s+=$1} END {print s}')");
      const [files, bytes] = size.stdout.trim().split(" ").map(Number) as [number, number];
      console.error(`   ${files} files, ${(bytes / mb).toFixed(0)} MB`);
      const store = new SnapshotStore({ ...endpoints.s3, bucket, prefix: `${name}/dumont/`, stack: "bench" });
      const record = (operation: Measurement["operation"], tool: string, m: { seconds: number; runs: readonly number[]; hostPeak: number; controllerPeak?: number }, note?: string, b = bytes, f = files) => {
        // Only Dumont's work runs in the controller process; the baselines run entirely on the host.
        const controllerPeakRssMiB = tool === "dumont" ? m.controllerPeak : undefined;
        results.push({ dataset: name, operation, tool, seconds: m.seconds, runs: m.runs, bytes: b, files: f, hostPeakRssMiB: m.hostPeak, controllerPeakRssMiB, note });
        console.error(`   ${operation.padEnd(18)} ${tool.padEnd(28)} ${m.seconds.toFixed(2)} s (runs: ${m.runs.map((r) => r.toFixed(2)).join(", ")})`);
      };
      const ns = (h: { info: HostInfo }) => h.info.namespace;

      // Each run keeps only the figures it needs: a manifest held from one run to the next would
      // count in the controller's peak memory of the next.
      const snapshot = (run: number, label: string, parent: string) =>
        createSnapshot({ ssh: source.ssh, store, name: `${name}-${label}-${run}`, parent }).then((r) => ({ id: r.manifest.id, bytes: r.manifest.archive.bytes }));
      // Full snapshots
      const full = await measureMedian(ns(source), (run) => snapshot(run, "full", "full"));
      record("full snapshot", "dumont", full);
      // Scaling with cores: the same full snapshot with the source host held to one core.
      await pinHost(ns(source), "0");
      const oneCore = await measureMedian(ns(source), (run) => snapshot(run, "full-1core", "full")).finally(() => pinHost(ns(source), allCpus));
      record("full snapshot, host on 1 core", "dumont", oneCore,
        `the same snapshot with the source host's processes pinned to one core (taskset): ${os.cpus().length} cores are ${(oneCore.seconds / full.seconds).toFixed(2)}× faster (issue 15's target: ≥ 1.6× with two)`);
      record("full snapshot", "tar|lz4 -1|s5cmd pipe", await measureMedian(ns(source), () =>
        sh(source.ssh, `tar -cf - -C /workspace . | lz4 -1 -q | "$S5" --endpoint-url "$EP" pipe "s3://${bucket}/${name}/seed/full.tar.lz4"`)), "the seed's method");
      // A repository of its own for each run: a second backup into one repository finds nothing new.
      const restic = (run: number) => `"s3:$EP/${bucket}/${name}/restic-${run}"`;
      record("full snapshot", "restic backup", await measureMedian(ns(source), (run) => sh(source.ssh, `restic -q -r ${restic(run)} backup /workspace`), {
        before: (run) => sh(source.ssh, `restic -q -r ${restic(run)} init`),
      }));

      // 1% change, then incrementals: Dumont's each on the median full snapshot, restic's on its last run's.
      await sh(source.ssh, dataset.change);
      const incremental = await measureMedian(ns(source), (run) => snapshot(run, "incr", full.result.id));
      record("incremental (1%)", "dumont", incremental, `archive ${(incremental.result.bytes / mb).toFixed(1)} MB vs full ${(full.result.bytes / mb).toFixed(1)} MB`);
      const lastRestic = restic(runs - 1);
      record("incremental (1%)", "restic backup", await measure(ns(source), () => sh(source.ssh, `restic -q -r ${lastRestic} backup /workspace`)).then((m) => ({ ...m, runs: [m.seconds] })),
        "one run: a second would find nothing new");

      // Restores onto an empty host
      const restoreId = incremental.result.id;
      const emptyTarget = () => empty(target.ssh);
      const restored = await measureMedian(ns(target), () => restoreSnapshot({ ssh: target.ssh, store, id: restoreId }).then((r) => r.seconds), { before: emptyTarget, seconds: (r) => r.total });
      record("restore", "dumont", restored, "chain of 2 (full + incremental), verification included: every entry and every file's MD5 against the manifest, which no baseline checks");
      record("validation", "dumont", medianOf(restored, (m) => m.result.verify), "the verification's last step alone (part of the restore's figure): the scan of every entry and the comparison with the manifest, and the MD5 of any file not hashed as its archive was extracted (with dumont-pack, none); right after the restore, so its page cache is warm (md5sum starts cold)");
      record("restore", "s5cmd cat|lz4 -d|tar -x", await measureMedian(ns(target), () =>
        sh(target.ssh, `"$S5" --endpoint-url "$EP" cat "s3://${bucket}/${name}/seed/full.tar.lz4" | lz4 -d -q | tar -x -C /workspace`), { before: emptyTarget }), "the full archive (no chain)");
      record("restore", "restic restore", await measureMedian(ns(target), () => sh(target.ssh, `restic -q -r ${lastRestic} restore latest --target /`), { before: emptyTarget }));
      record("validation", "md5sum (all files)", await measureMedian(ns(target), () =>
        sh(target.ssh, "cd /workspace && find . -type f -print0 | xargs -0 -P 2 -n 512 md5sum > /dev/null")));
      // The Dumont validation also proves the restic-restored tree equals the snapshot's.
      const check = await verifyTree(target.ssh, new TreeVerification((await store.readManifest(restoreId)).entries));
      if (check.failureCount > 0) console.error(`   note: restic's tree differs from Dumont's manifest in ${check.failureCount} entries (e.g. ${check.failures[0]!.path}: ${check.failures[0]!.problem})`);
      for (const h of [source, target]) await admin.destroyStandby(h.info.name.replace(/^standby-/, ""));
    }
  } finally {
    for (const h of hosts) h.ssh.close();
    await down("bench");
  }
  report(results);
}

function report(results: readonly Measurement[]) {
  const rows = results.map((r) => {
    const baselines = results.filter((b) => b.dataset === r.dataset && b.operation === r.operation && b.tool !== "dumont");
    const best = Math.min(...baselines.map((b) => b.seconds));
    return {
      ...r,
      mbPerSecond: r.bytes / mb / r.seconds,
      filesPerSecond: r.files / r.seconds,
      ratioToBestBaseline: r.tool === "dumont" && baselines.length ? best / r.seconds : undefined,
    };
  });
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const lines = [
    `# Snapshot benchmark${quick ? " (quick: 1/8 of the data)" : ""}`,
    "",
    `Run ${new Date().toISOString()} on ${machine}; \`npm run bench\`. Source and target are local-cloud hosts on this`,
    "machine (client, hosts and MinIO share its cores and disk), so absolute figures understate two real",
    "hosts; the ratios compare the tools on the same data and the same S3 server in one run. Each",
    "measurement starts with a cold page cache (sync; drop_caches).",
    "",
    `speedup = best baseline's time / Dumont's time (above 1: Dumont is faster). seconds: the median of ${runs} runs (all runs in the next column).`,
    "",
    "| dataset | operation | tool | seconds | runs (s) | MB/s | files/s | peak RSS host (MiB) | speedup vs best baseline | note |",
    "|---|---|---|---:|---|---:|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.dataset} | ${r.operation} | ${r.tool} | ${r.seconds.toFixed(2)} | ${r.runs.map((x) => x.toFixed(2)).join(", ")} | ${r.mbPerSecond.toFixed(0)} | ${r.filesPerSecond.toFixed(0)} | ${r.hostPeakRssMiB.toFixed(0)}${r.controllerPeakRssMiB ? ` (+${r.controllerPeakRssMiB.toFixed(0)} controller)` : ""} | ${r.ratioToBestBaseline ? `${r.ratioToBestBaseline.toFixed(2)}×` : ""} | ${r.note ?? ""} |`),
    "",
    "Datasets:",
    ...Object.entries(datasets).map(([n, d]) => `- ${n}: ${d.description}; 1% change: ${d.change.split("\n").slice(2).filter(Boolean).join("; ")}`),
  ];
  const dir = path.join(repoRoot, "test", "bench", "results");
  mkdirSync(dir, { recursive: true });
  const suffix = quick ? "-quick" : "";
  writeFileSync(path.join(dir, `snapshot${suffix}.json`), `${JSON.stringify({ machine, quick, rows }, null, 2)}\n`);
  writeFileSync(path.join(dir, `snapshot${suffix}.md`), `${lines.join("\n")}\n`);
  console.log(lines.join("\n"));
}

await main();
