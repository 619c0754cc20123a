// dumont-pack (dataplane/pack/, a static Go binary setup builds) is the snapshot's reader on the
// host: one pass over each file makes its archive copy and its MD5. The controller brings it to
// each host it snapshots, for the host's architecture, and keeps it in a cache folder of the
// login user's, named by its SHA-256: a host already holding this build is sent nothing. (The host
// could replace it, as it could replace tar; what the host reports is checked either way.)
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { EnvironmentError } from "../../lib/errors.ts";
import { toolsDir } from "../../lib/tools/paths.ts";
import type { SshConnection } from "../ssh/client.ts";
import { quickCommandMs, sendingMs } from "../ssh/command-bounds.ts";

/** Where setup/setup.sh puts the builds: dumont-pack-linux-<goarch>. */
export const packBuilds = path.join(toolsDir, "dumont-pack");

/** `uname -m` to Go's name for it: the builds setup makes. */
const goArchOf: Readonly<Record<string, string>> = { x86_64: "amd64", aarch64: "arm64" };

/** A build's file and its SHA-256, not its bytes: kept, the two builds held 12 MB for the process's life (they are read again to send one). */
interface Build {
  readonly file: string;
  readonly sha256: string;
}

const builds = new Map<string, Promise<Build>>();

function build(goArch: string): Promise<Build> {
  let loading = builds.get(goArch);
  if (!loading) {
    const file = path.join(packBuilds, `dumont-pack-linux-${goArch}`);
    loading = readFile(file).then(
      (bytes) => ({ file, sha256: createHash("sha256").update(bytes).digest("hex") }),
      () => {
        throw new EnvironmentError(`the snapshot helper ${file} is not built`, "run `npm run setup` in the checkout (it builds dataplane/pack with Go)");
      },
    );
    builds.set(goArch, loading);
    loading.catch(() => builds.delete(goArch));
  }
  return loading;
}

/**
 * Prints the cached helper's path when the host has this build (exit 0), or its architecture
 * (exit 10) when it must be sent. args: sha256 of each build, by architecture, "amd64=<hex> ...".
 */
const findScript = `set -u
dir="\${HOME:-}/.cache/dumont"
arch=$(uname -m)
if [ -z "\${HOME:-}" ] || [ ! -O "$dir" ]; then echo "$arch"; exit 10; fi
for pair in "$@"; do
  if [ "\${pair%%=*}" = "$arch" ]; then
    file="$dir/dumont-pack-\${pair#*=}"
    if [ -x "$file" ] && [ "$(sha256sum < "$file" | cut -d' ' -f1)" = "\${pair#*=}" ]; then echo "$file"; exit 0; fi
  fi
done
echo "$arch"
exit 10
`;

/**
 * Stores the helper from stdin under its hash ($1) and prints its path; a half-sent one never
 * counts. The cache is a folder of the login user's own: without a home, or when someone else owns
 * the folder, a private temporary one (sent again next time).
 */
const storeScript = `set -eu
umask 077
dir="\${HOME:-}/.cache/dumont"
if [ -z "\${HOME:-}" ] || ! mkdir -p "$dir" 2>/dev/null || [ ! -O "$dir" ]; then dir=$(mktemp -d); fi
chmod 700 "$dir"
file="$dir/dumont-pack-$1"
cat > "$file.partial.$$"
chmod 700 "$file.partial.$$"
mv -f "$file.partial.$$" "$file"
echo "$file"
`;

/** The helper's path on the host, sent there first if it lacks this build. */
export async function ensurePackHelper(ssh: SshConnection): Promise<string> {
  const known = await Promise.all(Object.entries(goArchOf).map(async ([unameArch, goArch]) => {
    const found = await build(goArch).catch(() => undefined);
    return found ? `${unameArch}=${found.sha256}` : undefined;
  }));
  const found = await ssh.run(["sh", "-c", findScript, "find-pack", ...known.filter((k) => k !== undefined)], { allowFailure: true, timeoutMs: quickCommandMs });
  if (found.code === 0) return found.stdout.trim();
  const unameArch = found.stdout.trim();
  const goArch = goArchOf[unameArch];
  if (found.code !== 10 || !goArch) {
    throw new EnvironmentError(`host ${ssh.label} cannot run Dumont's snapshot helper: ${goArch ? `its check failed (exit ${found.code})` : `its architecture is ${JSON.stringify(unameArch.slice(0, 40))}`}`,
      "snapshots need a Linux host on x86_64 or arm64");
  }
  const helper = await build(goArch);
  const bytes = await readFile(helper.file).catch(() => {
    throw new EnvironmentError(`the snapshot helper ${helper.file} is gone`, "run `npm run setup` in the checkout (it builds dataplane/pack with Go)");
  });
  // Named by what is sent. A build made since it was first hashed is stored under its own hash, and
  // the next host is asked for that one.
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== helper.sha256) builds.delete(goArch);
  const stored = await ssh.run(["sh", "-c", storeScript, "store-pack", sha256], { stdin: bytes, timeoutMs: sendingMs(bytes.length) });
  return stored.stdout.trim();
}
