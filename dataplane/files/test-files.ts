// The seed's SSH helper, done properly: unique test files with timestamped content in /workspace,
// a metadata record of path, size and MD5 for each, and a validation that recomputes every MD5 on
// the host and reports file by file.
import { createHash, randomBytes } from "node:crypto";
import { UsageError } from "../../lib/errors.ts";
import type { CommandRunner, SshConnection } from "../ssh/client.ts";
import { workspaceWalkMs } from "../ssh/command-bounds.ts";
import { nulTerminated } from "../snapshot/path-bytes.ts";
import { hashFiles } from "../snapshot/workspace-scan.ts";

export interface TestFile {
  /** Relative to /workspace. */
  readonly path: string;
  readonly size: number;
  readonly md5: string;
}

export interface TestFilesRecord {
  readonly createdAt: string;
  readonly host: string;
  readonly instanceId?: number;
  readonly files: readonly TestFile[];
}

export interface Validation {
  readonly total: number;
  readonly validated: number;
  readonly successRate: number;
  readonly results: ReadonlyArray<TestFile & { readonly actualMd5?: string; readonly ok: boolean; readonly problem?: string }>;
}

export async function createTestFiles(ssh: SshConnection, count: number, options: { prefix?: string; instanceId?: number } = {}): Promise<TestFilesRecord> {
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new UsageError(`--count must be a whole number from 1 to 1000000, not ${count}`);
  const prefix = options.prefix ?? "test-file";
  const createdAt = new Date().toISOString();
  const files: Array<TestFile & { content: string }> = [];
  for (let i = 1; i <= count; i++) {
    const content = `Dumont failover test file ${i}/${count}\ncreated: ${createdAt}\nhost: ${ssh.label}\nnonce: ${randomBytes(16).toString("hex")}\n`;
    files.push({ path: `${prefix}-${i}.txt`, size: Buffer.byteLength(content), md5: createHash("md5").update(content).digest("hex"), content });
  }
  // One stream of NUL-separated (path, content) pairs; the host writes them all.
  const stream = nulTerminated(files.flatMap((f) => [f.path, f.content]));
  await ssh.run(["bash", "-c", `set -euo pipefail
mkdir -p /workspace && cd /workspace
while IFS= read -r -d '' path && IFS= read -r -d '' content; do printf '%s' "$content" > "./$path"; done`], { stdin: stream, timeoutMs: workspaceWalkMs });
  return { createdAt, host: ssh.label, instanceId: options.instanceId, files: files.map(({ content: _, ...f }) => f) };
}

/** Checks every recorded file on a host's /workspace (or another tree: `root`, e.g. the standby's copy). */
export async function validateTestFiles(ssh: CommandRunner, record: TestFilesRecord, options: { root?: string } = {}): Promise<Validation> {
  const sums = await hashFiles(ssh, record.files.map((f) => f.path), { missingOk: true, root: options.root });
  const results = record.files.map((f) => {
    const actualMd5 = sums.get(f.path);
    if (!actualMd5) return { ...f, ok: false, problem: "missing" };
    if (actualMd5 !== f.md5) return { ...f, actualMd5, ok: false, problem: `MD5 mismatch: expected ${f.md5}, got ${actualMd5}` };
    return { ...f, actualMd5, ok: true };
  });
  const validated = results.filter((r) => r.ok).length;
  return { total: results.length, validated, successRate: results.length ? (100 * validated) / results.length : 0, results };
}

/** The seed's report: "Files validated: N/N", "Success rate: …%". */
export function formatValidation(v: Validation): string {
  const lines = ["=".repeat(60), "VALIDATION RESULT", "=".repeat(60)];
  for (const r of v.results.filter((r) => !r.ok)) lines.push(`  ✗ ${r.path}: ${r.problem}`);
  lines.push(`  Files validated: ${v.validated}/${v.total}`, `  Success rate:    ${v.successRate.toFixed(1)}%`, "=".repeat(60));
  return lines.join("\n");
}
