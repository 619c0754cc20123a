// A GPU host's identity, decided by Dumont instead of trusted on first contact. Before each rent
// Dumont makes an ed25519 host key pair, hands the private half to the instance in its environment
// (through Vast's API, over TLS) and prepends a few lines to the onstart script that install it as
// sshd's ed25519 host key and make sshd reload. Readiness then requires the host to present exactly
// that key: whoever answers at the instance's address with any other key (the image's own key
// before onstart ran, or an impostor in the path) is never logged in to. The host's owner can read
// the key, as they can read everything on their machine; it identifies that one instance only.
import { newEd25519Pair } from "./key-pair.ts";
import { userOnstartLimit, vastOnstartLimit } from "../../contract/settings-schema.ts";

const armour = { begin: "-----BEGIN OPENSSH PRIVATE KEY-----", end: "-----END OPENSSH PRIVATE KEY-----" } as const;

/**
 * The environment variables that carry the key: its OpenSSH body without the armour lines, cut in
 * two because Vast refuses environment values over 256 characters (an ed25519 body is ~300).
 */
const keyVariables = ["DUMONT_HOST_KEY_1", "DUMONT_HOST_KEY_2"] as const;
const vastEnvValueLimit = 256;
const joined = keyVariables.map((name) => `$${name}`).join("");

/**
 * Installs the key and signals the listening sshd: its PID file in Debian's and OpenSSH's default
 * places (waited for a few seconds: an entrypoint may start sshd and onstart together), else the
 * oldest process named sshd, the listener. On SIGHUP it re-executes itself and re-reads its keys.
 * Each line is short: together they count against Vast's onstart limit.
 */
export const hostKeyInstaller = [
  `if [ -n "\${${keyVariables[0]}-}" ]; then (`,
  "umask 077; k=/etc/ssh/ssh_host_ed25519_key",
  `{ echo '${armour.begin}'; printf %s "${joined}" | fold -w 70; echo; echo '${armour.end}'; } >$k.dumont`,
  "mv -f $k.dumont $k && rm -f $k.pub",
  "for i in 1 2 3 4 5; do p=$(cat /run/sshd.pid /var/run/sshd.pid 2>/dev/null | head -n1); [ -n \"$p\" ] && break; sleep 1; done",
  'if [ -n "$p" ]; then kill -HUP "$p"; else pkill -HUP -o -x sshd; fi',
  `) || echo "dumont: installing the host key failed" >&2; fi; unset ${keyVariables.join(" ")}`,
  "",
].join("\n");

// A stack's onstart may be as long as the contract allows: the installer must fit before it.
if (hostKeyInstaller.length + userOnstartLimit > vastOnstartLimit) {
  throw new Error(`bug: the host-key installer (${hostKeyInstaller.length} characters) and a stack's onstart (${userOnstartLimit}) exceed Vast's ${vastOnstartLimit}`);
}

export interface InstanceHostKey {
  /** The OpenSSH public key line ("ssh-ed25519 AAAA…") the host must present. */
  readonly publicKey: string;
  /** What the rent request carries: the installer before the stack's onstart, the key in the environment. */
  readonly onstart: string;
  readonly env: Readonly<Record<string, string>>;
}

/** A fresh host key for one rent, and the onstart script and environment that install it. */
export function hostKeyForRent(onstart: string, env: Readonly<Record<string, string>>): InstanceHostKey {
  const pair = newEd25519Pair();
  const publicKey = pair.public.trim().split(/\s+/).slice(0, 2).join(" ");
  const body = pair.private.replace(armour.begin, "").replace(armour.end, "").replace(/\s+/g, "");
  const chunks = keyVariables.map((_, i) => body.slice(i * vastEnvValueLimit, (i + 1) * vastEnvValueLimit));
  if (chunks.join("") !== body) throw new Error(`an ed25519 key body of ${body.length} characters does not fit ${keyVariables.length} environment values`);
  return {
    publicKey,
    onstart: hostKeyInstaller + onstart,
    env: { ...env, ...Object.fromEntries(keyVariables.map((name, i) => [name, chunks[i]!])) },
  };
}
