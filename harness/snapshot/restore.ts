// Restoring a snapshot onto any host: replace /workspace with the chain's archives applied in order
// (deletions included), reset directory times, then verify every entry against the manifest and
// name each one that differs. A damaged archive is reported as such, never taken as fine.
import { randomBytes } from "node:crypto";
import type { SshConnection } from "../ssh/client.ts";
import { compareTrees, type Manifest, type Mismatch } from "./manifest.ts";
import { directoryTimesScript, emptyWorkspaceScript, restoreArchiveScript } from "./scripts.ts";
import type { SnapshotStore } from "./store.ts";
import { scanWithHashes } from "./workspace-scan.ts";

export interface RestoreReport {
  readonly manifest: Manifest;
  /** Archives whose bytes were not what their manifest recorded. */
  readonly damagedArchives: readonly string[];
  readonly mismatches: readonly Mismatch[];
  readonly ok: boolean;
  readonly seconds: { readonly download: number; readonly verify: number; readonly total: number };
}

export class RestoreFailed extends Error {
  readonly report: RestoreReport;
  constructor(report: RestoreReport) {
    const shown = report.mismatches.slice(0, 20).map((m) => `  ${JSON.stringify(m.path)}: ${m.problem}`);
    super([
      `restore of ${report.manifest.id} failed verification`,
      ...report.damagedArchives.map((a) => `  archive ${a} is damaged (its MD5 is not the manifest's)`),
      `  ${report.mismatches.length} of ${report.manifest.entries.length} entries differ${report.mismatches.length ? ":" : ""}`,
      ...shown,
      ...(report.mismatches.length > shown.length ? [`  … and ${report.mismatches.length - shown.length} more`] : []),
    ].join("\n"));
    this.name = "RestoreFailed";
    this.report = report;
  }
}

export interface RestoreOptions {
  readonly ssh: SshConnection;
  readonly store: SnapshotStore;
  readonly id: string;
  readonly onProgress?: (line: string) => void;
}

/** Restores and verifies; throws RestoreFailed (with the report) when anything differs. */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreReport> {
  const { ssh, store } = options;
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const manifest = await store.readManifest(options.id);
  const chain = await Promise.all(manifest.chain.map((id) => (id === manifest.id ? manifest : store.readManifest(id))));
  const damagedArchives: string[] = [];
  const spool = `/tmp/dumont-restore-${randomBytes(6).toString("hex")}`;
  await ssh.run(["bash", "-c", emptyWorkspaceScript()]);
  try {
    await ssh.run(["bash", "-c", 'umask 077 && mkdir -p "$1"', "prepare", spool]);
    for (const [i, link] of chain.entries()) {
      progress(`restoring ${i + 1}/${chain.length}: ${link.id} (${link.kind}, ${(link.archive.bytes / 1024 / 1024).toFixed(1)} MiB)`);
      await ssh.run(["bash", "-c", 'cat > "$1/deleted"', "deleted", spool], { stdin: Buffer.from(link.deleted.map((p) => `./${p}\0`).join(""), "utf8") });
      const url = await store.presignDownload(link.id);
      const result = await ssh.run(["bash", "-c", restoreArchiveScript(), "restore", spool, link.archive.md5], { stdin: `${url}\n`, allowFailure: true });
      if (result.code === 5) damagedArchives.push(link.id);
      else if (result.code !== 0) {
        progress(`  ${link.id}: ${result.stderr.trim()}`);
        damagedArchives.push(link.id);
      }
    }
    const dirs = manifest.entries.filter((e) => e.type === "dir").sort((a, b) => b.path.split("/").length - a.path.split("/").length);
    await ssh.run(["bash", "-c", directoryTimesScript()], { stdin: Buffer.from(dirs.map((d) => `${d.mtime}\0${d.path}\0`).join(""), "utf8") });
  } finally {
    await ssh.run(["rm", "-rf", "--", spool], { allowFailure: true }).catch(() => undefined);
  }
  const downloadSeconds = (performance.now() - started) / 1000;
  progress("verifying every file against the manifest");
  const verifyStarted = performance.now();
  const mismatches = compareTrees(manifest.entries, await scanWithHashes(ssh));
  const report: RestoreReport = {
    manifest, damagedArchives, mismatches, ok: damagedArchives.length === 0 && mismatches.length === 0,
    seconds: { download: downloadSeconds, verify: (performance.now() - verifyStarted) / 1000, total: (performance.now() - started) / 1000 },
  };
  if (!report.ok) throw new RestoreFailed(report);
  progress(`restored ${manifest.stats.files} files (${(manifest.stats.bytes / 1024 / 1024).toFixed(1)} MiB), all verified`);
  return report;
}
