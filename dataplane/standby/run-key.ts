// The only credential a copy between the standby and a GPU uses: a key pair made for this one run.
// Its public half is authorized on the GPU host (restricted: no shell rc, no pty, no forwarding;
// refused by sshd ten minutes later even if nobody removes it); its private half sits on the
// standby, in a private file, for the run only. The GPU host — a stranger's machine — is handed
// nothing it could log in anywhere with: the standby connects to it, never the other way round,
// and the controller's own key is never forwarded.
import { newEd25519Pair } from "../ssh/key-pair.ts";
import { retry } from "../../lib/retry.ts";
import { randomBytes } from "node:crypto";
import type { CommandRunner, SshConnection } from "../ssh/client.ts";

export interface RunKey {
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA… dumont-run-<hex>`: the comment marks the line to remove. */
  readonly publicKey: string;
  readonly marker: string;
}

/** How long sshd accepts the key: enough to connect; a copy in progress keeps its connection. */
export const runKeyMinutes = 10;

export function newRunKey(): RunKey {
  const marker = `dumont-run-${randomBytes(8).toString("hex")}`;
  const pair = newEd25519Pair(marker);
  return { privateKey: pair.private, publicKey: pair.public, marker };
}

/** The authorized_keys options: what the key may not do, and when sshd stops accepting it. */
export function authorizedKeyOptions(expiry: string): string {
  return `restrict,expiry-time="${expiry}"`;
}

/**
 * Authorizes `key` for the host's user (root on a GPU) until `runKeyMinutes` from now by the host's
 * clock (sshd reads expiry-time in the host's time zone, so the host formats it); returns what
 * removes it again. Earlier run keys that were never removed (a controller killed mid-copy) go too.
 */
export async function authorizeRunKey(host: SshConnection, key: RunKey): Promise<() => Promise<void>> {
  await host.run(["sh", "-c", `set -eu
umask 077
mkdir -p "$HOME/.ssh"
expiry=$(date -d "@$(( $(date +%s) + $2 * 60 ))" +%Y%m%d%H%M%S)
file="$HOME/.ssh/authorized_keys"
touch "$file"
# grep exits 1 when it kept no line (fine) and 2 on an error (a full disk): then nothing is replaced.
status=0; grep -v ' dumont-run-[0-9a-f]*$' "$file" > "$file.dumont" || status=$?
[ "$status" -le 1 ] || { rm -f "$file.dumont"; exit 1; }
printf '%s %s\\n' "restrict,expiry-time=\\"$expiry\\"" "$1" >> "$file.dumont"
mv -f "$file.dumont" "$file"`, "authorize-run-key", key.publicKey, String(runKeyMinutes)], { timeoutMs: 30_000 });
  return async () => {
    // Only a complete copy replaces the file: a grep that failed (a full disk) must not empty it and
    // lock everyone out (the key expires by itself anyway).
    await host.run(["sh", "-c", `file="$HOME/.ssh/authorized_keys"; status=0; grep -v -F " $1" "$file" > "$file.dumont" || status=$?; if [ "$status" -le 1 ]; then mv -f "$file.dumont" "$file"; else rm -f "$file.dumont"; fi`, "remove-run-key", key.marker], { timeoutMs: 30_000, allowFailure: true }).catch(() => undefined);
  };
}

/** Writes the private half into a private file on the standby; returns its path (relative to home) and what removes it. */
export async function placeRunKey(standby: CommandRunner, key: RunKey): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = `.dumont-run-keys/${key.marker}`;
  // Files of runs whose controller died are useless (their public halves expired) and removed. The
  // file is checked whole (ssh would otherwise fail later with a bare "error in libcrypto") and
  // written once more if it is not.
  const bytes = String(Buffer.byteLength(key.privateKey));
  await retry(() => standby.run(["sh", "-c", `set -eu
umask 077
mkdir -p .dumont-run-keys
find .dumont-run-keys -type f -mmin +${runKeyMinutes} -delete
cat > "$1"
[ "$(wc -c < "$1")" -eq "$2" ] || { echo "the run key arrived incomplete ($(wc -c < "$1") of $2 bytes)" >&2; exit 1; }`, "place-run-key", path, bytes], { stdin: key.privateKey, timeoutMs: 30_000 }), {
    attempts: 2, backoff: { firstMs: 500 }, retryIf: (error) => /arrived incomplete/.test((error as Error).message),
  });
  return {
    path,
    remove: async () => {
      await standby.run(["rm", "-f", "--", path], { timeoutMs: 30_000, allowFailure: true }).catch(() => undefined);
    },
  };
}

/**
 * Runs `work` with a run key authorized on `gpu` and placed on `standby`; both halves are removed
 * afterwards, whatever happened (a GPU that died keeps a line sshd no longer accepts).
 */
export async function withRunKey<T>(standby: CommandRunner, gpu: SshConnection, work: (identityFile: string) => Promise<T>): Promise<T> {
  const key = newRunKey();
  const unauthorize = await authorizeRunKey(gpu, key);
  try {
    const placed = await placeRunKey(standby, key);
    try {
      return await work(placed.path);
    } finally {
      await placed.remove();
    }
  } finally {
    await unauthorize();
  }
}
