// One operation of the memory benchmark (memory-bench.ts), in a process of its own so that its peak
// resident memory is the operation's alone: a full snapshot, an incremental one on a given parent,
// or a restore with its verification.
// Everything it needs (endpoints, the host's key, credentials) arrives in one IPC message, never on
// its command line; it answers with its figures and exits.
import type { SnapshotStoreSettings } from "../../dataplane/snapshot/store.ts";
import { enableCheckoutCompileCache } from "../../lib/tools/compile-cache.ts";

// As `dumont` does (bin/dumont.ts): the figure is a command's, which loads its code from the cache.
enableCheckoutCompileCache();
const { createSnapshot } = await import("../../dataplane/snapshot/create.ts");
const { restoreSnapshot } = await import("../../dataplane/snapshot/restore.ts");
const { SnapshotStore } = await import("../../dataplane/snapshot/store.ts");
const { connect } = await import("../../dataplane/ssh/client.ts");

export interface MemoryStep {
  readonly operation: "snapshot" | "restore";
  readonly host: { readonly address: string; readonly port: number; readonly hostKey: string };
  readonly privateKey: string;
  readonly store: SnapshotStoreSettings;
  /** The snapshot's name (snapshot) or id (restore). */
  readonly snapshot: string;
  /** A snapshot's parent, by id: an incremental on it (a full snapshot without one). */
  readonly parent?: string;
}

export interface MemoryStepResult {
  readonly id: string;
  readonly seconds: number;
  /** The process's peak resident memory (getrusage's ru_maxrss). */
  readonly peakRssMiB: number;
  /** The V8 heap's size when the operation ended. */
  readonly heapMiB: number;
  readonly entries: number;
  readonly kind: "full" | "incremental";
}

async function run(step: MemoryStep): Promise<MemoryStepResult> {
  const ssh = await connect({ host: step.host.address, port: step.host.port, privateKey: step.privateKey, hostKey: step.host.hostKey });
  const store = new SnapshotStore(step.store);
  const started = performance.now();
  try {
    // Each step's line with the memory held when it was printed and the peak so far: where the peak falls.
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    const progress = (line: string) => console.error(`     [rss ${mib(process.memoryUsage.rss())} MiB, peak ${mib(process.resourceUsage().maxRSS * 1024)}] ${line}`);
    const manifest = step.operation === "restore"
      ? (await restoreSnapshot({ ssh, store, id: step.snapshot, onProgress: progress })).manifest
      : (await createSnapshot({ ssh, store, name: step.snapshot, parent: step.parent ?? "full", onProgress: progress })).manifest;
    return {
      id: manifest.id,
      seconds: (performance.now() - started) / 1000,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
      entries: manifest.entries.length,
      kind: manifest.kind,
    };
  } finally {
    ssh.close();
  }
}

process.once("message", (step: MemoryStep) => {
  run(step).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (error: Error) => process.send!({ error: error.message }, () => process.exit(1)),
  );
});
