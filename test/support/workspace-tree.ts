// For snapshot tests: an adversarial /workspace, and an independent walk of a tree (Node's own fs,
// not Dumont's scan or manifest) to compare a source and a restored workspace. Names are read as
// bytes and keyed as Dumont's manifests key them (path-bytes.ts), so names that are not UTF-8
// compare exactly too.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { pathFromBytes } from "../../dataplane/snapshot/path-bytes.ts";

/** Bash that fills /workspace with what breaks naive tools. */
export const adversarialWorkspace = String.raw`set -euo pipefail
cd /workspace
mkdir -p 'dir with spaces/nested' $'new\nline dir' 'ünïcødé/ファイル' empty-dir 'keep/private'
printf 'spaces\n' > 'dir with spaces/a file.txt'
printf 'newline\n' > $'new\nline dir/file\nwith newline'
printf 'quotes\n' > "it's \"quoted\".txt"
printf 'unicode\n' > 'ünïcødé/ファイル/データ.bin'
printf 'dash\n' > ./-leading-dash
printf 'star\n' > './star*and?[brackets]'
printf 'backslash\n' > 'back\\slash'
: > empty-file
ln -s 'dir with spaces/a file.txt' relative-link
ln -s /etc/hostname absolute-link
ln -s does-not-exist dangling-link
head -c 3000000 /dev/urandom > 'keep/private/model.bin'
chmod 600 'keep/private/model.bin'
chmod 700 keep/private
chmod 755 'dir with spaces/nested'
printf '#!/bin/sh\necho hi\n' > run.sh && chmod 755 run.sh
printf 'read only\n' > readonly.txt && chmod 444 readonly.txt
truncate -s 1G sparse.img
printf 'middle' | dd of=sparse.img bs=1 seek=536870912 conv=notrunc status=none
printf 'end' | dd of=sparse.img bs=1 seek=1073741821 conv=notrunc status=none
touch -h -d '2001-02-03 04:05:06.123456789' relative-link
touch -d '1999-12-31 23:59:59.5' 'dir with spaces/a file.txt' readonly.txt
touch -d '2010-01-01 00:00:00' empty-dir 'keep/private'
# Sorts after every other name, so it is the archive's last file: 70 kB of zero blocks, more than a
# tar record, right before the round's end (archives made before dumont-pack found a round's end by
# the zero blocks after it).
head -c 70000 /dev/zero > $'\xff-zeros-last.bin'
`;

export interface WalkedEntry {
  readonly type: "file" | "dir" | "symlink" | "other";
  readonly size: number;
  readonly mode: number;
  readonly mtimeNs: bigint;
  readonly md5?: string;
  readonly target?: string;
}

function md5File(file: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("md5");
    createReadStream(file).on("data", (d) => hash.update(d)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
  });
}

export async function walkTree(root: string): Promise<Map<string, WalkedEntry>> {
  const result = new Map<string, WalkedEntry>();
  const slash = Buffer.from("/");
  async function visit(dir: Buffer, relativeDir: Buffer | undefined) {
    for (const name of await readdir(dir, { encoding: "buffer" })) {
      const full = Buffer.concat([dir, slash, name]);
      const relative = relativeDir ? Buffer.concat([relativeDir, slash, name]) : name;
      const rel = pathFromBytes(relative);
      const st = await lstat(full, { bigint: true });
      const base = { size: Number(st.size), mode: Number(st.mode & 0o7777n), mtimeNs: st.mtimeNs };
      if (st.isSymbolicLink()) result.set(rel, { ...base, type: "symlink", mode: 0, mtimeNs: 0n, target: pathFromBytes(await readlink(full, { encoding: "buffer" })) });
      else if (st.isDirectory()) {
        result.set(rel, { ...base, type: "dir", size: 0 });
        await visit(full, relative);
      } else if (st.isFile()) result.set(rel, { ...base, type: "file", md5: await md5File(full) });
      else result.set(rel, { ...base, type: "other" });
    }
  }
  await visit(Buffer.from(root), undefined);
  return result;
}

/** Differences between two walks, one line each, sorted: empty when the trees are the same. */
export function treeDifferences(a: Map<string, WalkedEntry>, b: Map<string, WalkedEntry>): string[] {
  const out: string[] = [];
  for (const [p, x] of a) {
    const y = b.get(p);
    if (!y) out.push(`${JSON.stringify(p)} missing`);
    else if (JSON.stringify({ ...x, mtimeNs: String(x.mtimeNs) }) !== JSON.stringify({ ...y, mtimeNs: String(y.mtimeNs) })) {
      out.push(`${JSON.stringify(p)} ${JSON.stringify({ ...x, mtimeNs: String(x.mtimeNs) })} != ${JSON.stringify({ ...y, mtimeNs: String(y.mtimeNs) })}`);
    }
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`${JSON.stringify(p)} extra`);
  return out.sort();
}
