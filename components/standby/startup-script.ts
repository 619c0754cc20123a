// The GCP standby's startup script, rendered by a pure function (and snapshot-tested). It makes
// the VM an rsync target for /workspace: the tools, a login user, and a host key that Dumont made
// itself, so the standby's identity is pinned before it ever boots (no trust on first use).

export interface StartupScriptOptions {
  /** Login user the GPU host syncs to. */
  readonly user: string;
  /** OpenSSH private host key (ed25519) the VM must present. */
  readonly hostPrivateKey: string;
  readonly hostPublicKey: string;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function standbyStartupScript(options: StartupScriptOptions): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(options.user)) throw new Error(`'${options.user}' is not a valid login name`);
  return `#!/bin/bash
# Dumont CPU standby: rsync target for /workspace. Runs at every boot (GCP startup-script).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v rsync >/dev/null || ! command -v lz4 >/dev/null || ! command -v curl >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rsync lz4 curl
fi
id ${options.user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${options.user}
install -d -m 0755 -o ${options.user} -g ${options.user} /workspace
# The host key Dumont pinned; other host keys are not offered.
umask 077
printf '%s\\n' ${quote(options.hostPrivateKey.trim())} > /etc/ssh/ssh_host_ed25519_key
printf '%s\\n' ${quote(options.hostPublicKey.trim())} > /etc/ssh/ssh_host_ed25519_key.pub
chmod 600 /etc/ssh/ssh_host_ed25519_key
chmod 644 /etc/ssh/ssh_host_ed25519_key.pub
cat > /etc/ssh/sshd_config.d/dumont.conf <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
SSHD
systemctl restart ssh
`;
}
