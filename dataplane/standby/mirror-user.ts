// Who touches the standby's copies: a system user of their own, not the login Dumont administers
// the standby with (root on the local cloud, a sudoer on GCP). The rsync that receives a GPU's
// /workspace talks to a program on a stranger's machine; if a hostile host ever found a flaw in it,
// it would hold a user that owns the copies and nothing else: no sudo (and no new privileges at
// all), no login, no cron, no keys of the controller. Its processes are killed before every copy,
// so nothing a earlier copy left behind is running when the next copy's run key (root on a GPU
// for ten minutes) is placed in its home.
import type { CommandRunner, SshConnection } from "../ssh/client.ts";
import { quoteCommand } from "../ssh/quote.ts";
import { mirrorLock } from "./generations.ts";

export const mirrorUser = "dumont-mirror";
/** The mirror user's home: the copies (generations.ts) and the run keys live under it. */
export const mirrorHome = "/var/lib/dumont-mirror";

function asRoot(loginUser: string): string[] {
  return loginUser === "root" ? [] : ["sudo", "-n", "--"];
}

/**
 * Runs commands as the mirror user, in its home. setpriv (util-linux, on every Debian image) drops
 * to the user with its own groups and a clean environment; no_new_privs keeps setuid programs
 * (sudo among them) from ever raising it again.
 */
export function asMirrorUser(admin: SshConnection, loginUser: string): CommandRunner {
  const prefix = [
    ...asRoot(loginUser), "setpriv", `--reuid=${mirrorUser}`, `--regid=${mirrorUser}`, "--init-groups", "--reset-env", "--no-new-privs", "--",
    "sh", "-c", 'cd "$HOME" && exec "$@"', "mirror-user",
  ];
  const run = (argv: readonly string[], options?: Parameters<SshConnection["run"]>[1]) =>
    admin.run([...prefix, ...argv], { ...options, shownAs: `${quoteCommand(argv)} (as ${mirrorUser})` });
  return { run: run as SshConnection["run"] };
}

/**
 * Makes the mirror user if the standby lacks it, and ends every process it runs (a copy cut off
 * with its controller, or whatever a hostile peer made of one): waits until none is left. The kill
 * is one kill(-1) made as the user itself: the kernel signals all of that user's processes in one
 * pass and aborts a fork in progress, so a process that keeps forking cannot hop out of the way (a
 * pkill walks a list of PIDs that is stale by the time it signals). Then nothing of the user runs,
 * and what it left in its home is only files: the lock file goes (a FIFO there would hang the next
 * copy's flock), and every other name a copy uses is new for each run.
 */
export async function readyMirrorUser(admin: SshConnection, loginUser: string): Promise<void> {
  await admin.run([...asRoot(loginUser), "sh", "-c", `set -eu
for tool in setpriv ps useradd; do command -v "$tool" >/dev/null || { echo "the standby lacks $tool (util-linux, procps, passwd)" >&2; exit 1; }; done
[ -x /bin/kill ] || { echo "the standby lacks /bin/kill (procps)" >&2; exit 1; }
id -u "$1" >/dev/null 2>&1 || useradd --system --user-group --create-home --home-dir "$2" --shell /usr/sbin/nologin "$1"
chmod 700 "$2"
running() { ps -u "$1" -o stat= | grep -qv '^Z'; }
i=0
while running "$1"; do
  setpriv --reuid="$1" --regid="$1" --clear-groups /bin/kill -KILL -1 2>/dev/null || true
  i=$((i + 1)); [ "$i" -lt 100 ] || { echo "processes of $1 survive SIGKILL" >&2; exit 1; }
  sleep 0.1
done
rm -f -- "$2/$3"`, "ready-mirror-user", mirrorUser, mirrorHome, mirrorLock], { timeoutMs: 60_000 });
}
