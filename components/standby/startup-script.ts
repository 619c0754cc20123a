// The GCP standby's startup script, rendered by a pure function (and snapshot-tested). It makes
// the VM an rsync target for /workspace: the tools, a login user, and a host key the VM makes for
// itself at its first boot. No private key ever leaves the VM: metadata (the script included) is
// readable by every process on the VM and by whoever may read the instance, and it would sit in
// the Pulumi state. The VM publishes the public half as a guest attribute, which the Pulumi program
// reads back and pins (published-host-key.ts), so the standby is still never trusted on first use.

import { mirrorHome, mirrorUser } from "../../dataplane/standby/mirror-user.ts";

export interface StartupScriptOptions {
  /** Login user the GPU host syncs to. */
  readonly user: string;
}

/** Where the VM publishes its host key: a guest attribute (namespace/key), written only from inside the VM. */
export const hostKeyGuestAttribute = { namespace: "dumont", key: "hostkey" } as const;

const metadataServer = "http://metadata.google.internal/computeMetadata/v1/instance";

export function standbyStartupScript(options: StartupScriptOptions): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(options.user)) throw new Error(`'${options.user}' is not a valid login name`);
  const { namespace, key } = hostKeyGuestAttribute;
  return `#!/bin/bash
# Dumont CPU standby: rsync target for /workspace. Runs at every boot (GCP startup-script).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
metadata() { curl -fsS --retry 10 --retry-connrefused -H Metadata-Flavor:Google "$@"; }
if ! command -v rsync >/dev/null || ! command -v lz4 >/dev/null || ! command -v curl >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends rsync lz4 curl
fi
id ${options.user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash ${options.user}
install -d -m 0755 -o ${options.user} -g ${options.user} /workspace
# The copies belong to a system user of their own, without sudo or login (dataplane/standby/
# mirror-user.ts); only root may use cron, so none of its processes can outlive a copy.
id ${mirrorUser} >/dev/null 2>&1 || useradd --system --user-group --create-home --home-dir ${mirrorHome} --shell /usr/sbin/nologin ${mirrorUser}
chmod 700 ${mirrorHome}
echo root > /etc/cron.allow
echo root > /etc/at.allow
# Nor may it reach the metadata server, where any local process could rewrite the host key the VM
# publishes (guest attributes): a table of Dumont's own, made again at every boot.
if ! command -v nft >/dev/null; then apt-get install -y -qq --no-install-recommends nftables || true; fi
nft delete table inet dumont 2>/dev/null || true
nft -f - <<'NFT' || echo "dumont: could not keep ${mirrorUser} from the metadata server" >&2
table inet dumont {
  chain output {
    type filter hook output priority 0;
    meta skuid "${mirrorUser}" ip daddr 169.254.169.254 reject
  }
}
NFT
# The VM's own host key, made at the first boot of this instance: a disk another VM booted before
# (an image, a clone) brings that VM's key, which this one must not present.
umask 077
instance=$(metadata ${metadataServer}/id)
if [ "$(cat /var/lib/dumont-host-key-instance 2>/dev/null)" != "$instance" ] || [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
  rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub
  ssh-keygen -q -t ed25519 -N "" -C dumont-standby -f /etc/ssh/ssh_host_ed25519_key
  printf '%s\\n' "$instance" > /var/lib/dumont-host-key-instance
fi
chmod 600 /etc/ssh/ssh_host_ed25519_key
chmod 644 /etc/ssh/ssh_host_ed25519_key.pub
# Only that key is offered: the one Dumont pins.
cat > /etc/ssh/sshd_config.d/dumont.conf <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
# The copies' owner never logs in: a key it planted in its home opens nothing, not even a tunnel.
DenyUsers ${mirrorUser}
SSHD
systemctl restart ssh
# Published last: once Dumont reads it, sshd presents this key and the tools are installed.
metadata -X PUT --data "$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)" ${metadataServer}/guest-attributes/${namespace}/${key}
`;
}
