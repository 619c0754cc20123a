// What Dumont's data plane runs on a host, and bringing it there. Real GPU images are bare (the
// PyTorch runtime image has no rsync, lz4 or curl), so before Dumont copies data from or to a host
// it makes sure the tools are there: a check that costs one command when they are, and otherwise an
// install through the image's own package manager (apt, apk, dnf or yum), as root or with sudo.
// An image that has none of them, or whose install fails, is named in one line.
import { EnvironmentError } from "../../lib/errors.ts";
import { retry } from "../../lib/retry.ts";
import type { SshConnection } from "./client.ts";

/** A GPU: snapshots (dumont-pack | lz4 | curl, sha256sum for the helper), restores (curl | lz4 -d | tar -x, md5sum, find), and the standby's rsync reads from it. */
export const gpuTools = ["bash", "tar", "lz4", "curl", "md5sum", "sha256sum", "find", "xargs", "rsync", "flock"] as const;
/** The standby: rsync pulls from and pushes to GPUs over ssh, under flock; scans hash with md5sum. */
export const standbyTools = ["bash", "rsync", "ssh", "flock", "find", "xargs", "md5sum"] as const;

export type HostTool = (typeof gpuTools)[number] | (typeof standbyTools)[number];

/** The package that brings a tool, where its name differs from the tool's. */
const packageOf: Readonly<Record<string, string>> = { ssh: "openssh-client", flock: "util-linux", md5sum: "coreutils", sha256sum: "coreutils", find: "findutils", xargs: "findutils" };

export class HostToolsMissing extends EnvironmentError {
  constructor(host: string, detail: string) {
    super(`host ${host} cannot run Dumont's data plane: ${detail}`,
      "use an image with apt, apk, dnf or yum (or with rsync, lz4 and curl installed), and root or passwordless sudo");
  }
}

/** The script: exit 0 quietly when every tool is there; else install the packages and check again. */
export function ensureToolsScript(): string {
  return `set -u
missing=""
for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"; done
[ -z "$missing" ] && exit 0
packages=$(for tool in $missing; do case $tool in ${Object.entries(packageOf).map(([t, p]) => `${t}) echo ${p} ;;`).join(" ")} *) echo "$tool" ;; esac; done | sort -u | tr '\\n' ' ')
if [ "$(id -u)" = 0 ]; then as_root=""; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; else echo "missing:$missing; not root and no passwordless sudo to install $packages" >&2; exit 3; fi
log=$(mktemp)
if command -v apt-get >/dev/null 2>&1; then
  # Images ship without package lists: install, and on failure refresh the lists and install again.
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >"$log" 2>&1 \\
    || { $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"$log" 2>&1 && $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >>"$log" 2>&1; }
elif command -v apk >/dev/null 2>&1; then $as_root apk add --no-cache $packages >"$log" 2>&1
elif command -v dnf >/dev/null 2>&1; then $as_root dnf install -y -q $packages >"$log" 2>&1
elif command -v yum >/dev/null 2>&1; then $as_root yum install -y -q $packages >"$log" 2>&1
else echo "missing:$missing; the image has no apt, apk, dnf or yum to install $packages" >&2; exit 3
fi
still=""
for tool in $missing; do command -v "$tool" >/dev/null 2>&1 || still="$still $tool"; done
if [ -n "$still" ]; then echo "installing $packages left$still missing: $(tail -n 3 "$log" | tr '\\n' ' ')" >&2; rm -f "$log"; exit 3; fi
rm -f "$log"
echo "installed$missing"
`;
}

/**
 * Makes sure `tools` run on the host; returns the tools it had to install (none, usually). Throws
 * HostToolsMissing naming the host and what is wrong. Bounded, and never cut off midway by a
 * caller's signal: an install stopped inside dpkg would leave the next controller a broken one.
 */
export async function ensureHostTools(ssh: SshConnection, tools: readonly HostTool[]): Promise<string[]> {
  let stderr = "";
  const result = await retry(async () => {
    const result = await ssh.run(["sh", "-c", ensureToolsScript(), "ensure-tools", ...new Set(tools)], { allowFailure: true, timeoutMs: 15 * 60_000 });
    stderr = result.stderr;
    if (result.code !== 0) throw new HostToolsMissing(ssh.label, result.stderr.trim().split("\n").at(-1) || `exit ${result.code}`);
    return result;
  }, {
    // An install can fail for a moment (a mirror that blinked, dpkg's lock held by the image's own
    // start-up): once more after a pause. An image without a package manager or root will not change.
    attempts: 2,
    backoff: { firstMs: 5000 },
    retryIf: (error) => error instanceof HostToolsMissing && !/no apt, apk, dnf or yum|not root and no passwordless sudo/.test(stderr),
  });
  const installed = /^installed (.+)$/m.exec(result.stdout);
  return installed ? installed[1]!.trim().split(/\s+/) : [];
}
