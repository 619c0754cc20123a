// A workspace of a chosen size on the GPU, next to the seed's few test files: a model-like folder of
// files up to 64 MiB, half incompressible (like weights and archives), half text-like (like code,
// logs and CSVs, which LZ4 shrinks). Generated on the host, so the controller's link is not the
// bottleneck; every file's MD5 is recorded, and validation later checks every one.
import { DumontError } from "../lib/errors.ts";
import type { SshConnection } from "../dataplane/ssh/client.ts";
import { nulTerminated } from "../dataplane/snapshot/path-bytes.ts";
import { hashFiles } from "../dataplane/snapshot/workspace-scan.ts";
import type { TestFile } from "../dataplane/files/test-files.ts";

const mib = 1024 * 1024;
const maxFileBytes = 64 * mib;
const dataFolder = "journey-data";

export interface DataFilePlan {
  readonly path: string;
  readonly bytes: number;
  readonly kind: "random" | "text";
}

/** Files adding up to `totalBytes`, alternating kinds, none over 64 MiB. */
export function planWorkspaceData(totalBytes: number): DataFilePlan[] {
  const files: DataFilePlan[] = [];
  let left = Math.floor(totalBytes);
  for (let i = 1; left > 0; i++) {
    const bytes = Math.min(maxFileBytes, left);
    const kind = i % 2 === 1 ? "random" : "text";
    files.push({ path: `${dataFolder}/${kind === "random" ? "shard" : "log"}-${String(i).padStart(4, "0")}.${kind === "random" ? "bin" : "txt"}`, bytes, kind });
    left -= bytes;
  }
  return files;
}

export async function createWorkspaceData(ssh: SshConnection, totalBytes: number, onProgress: (line: string) => void): Promise<TestFile[]> {
  const plan = planWorkspaceData(totalBytes);
  if (plan.length === 0) return [];
  // One script: NUL-terminated "bytes, kind, path" records on stdin. Text files repeat a line with
  // a counter so that they compress the way logs do, not to nothing.
  const spec = nulTerminated(plan.flatMap((f) => [String(f.bytes), f.kind, f.path]));
  onProgress(`  writing ${plan.length} data files, ${(totalBytes / mib).toFixed(0)} MiB, under /workspace/${dataFolder}`);
  await ssh.run(["bash", "-c", `set -euo pipefail
mkdir -p /workspace/${dataFolder} && cd /workspace
while IFS= read -r -d '' bytes && IFS= read -r -d '' kind && IFS= read -r -d '' path; do
  if [ "$kind" = random ]; then head -c "$bytes" /dev/urandom > "$path"
  # awk ends on SIGPIPE when head has enough; that is success here, not a pipefail error.
  else (awk 'BEGIN { for (i = 0; ; i++) printf "%08d step=%d loss=%.6f lr=%.2e tokens=%d\\n", i, i * 7, 1 / (i + 1), 0.0003, i * 4096 }' || true) | head -c "$bytes" > "$path"; fi
done`], { stdin: spec, timeoutMs: 3600_000 });
  const sums = await hashFiles(ssh, plan.map((f) => f.path));
  return plan.map((f) => {
    const md5 = sums.get(f.path);
    if (!md5) throw new DumontError(`data file ${f.path} was not written`);
    return { path: f.path, size: f.bytes, md5 };
  });
}
