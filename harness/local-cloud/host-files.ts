// The files that make a local-cloud host: its sshd configuration and the init script that builds
// the host's private view of the filesystem. Pure functions, so the rendered text is tested directly.

/** Where a host sees its own folder (bind-mounted from the controller's .state). */
export const hostMount = "/run/dumont-host";

export function sshdConfig(port: number): string {
  return [
    `Port ${port}`,
    "ListenAddress 0.0.0.0",
    `HostKey ${hostMount}/etc/ssh_host_ed25519_key`,
    // Keys Vast manages (account and instance keys) and keys an onstart script appended itself.
    `AuthorizedKeysFile ${hostMount}/etc/authorized_keys .ssh/authorized_keys`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
    `PidFile ${hostMount}/run/sshd.pid`,
    "",
  ].join("\n");
}

/**
 * The host's first process, run as `sh init.sh HOST_DIR STATE_DIR` inside the host's network
 * namespace and a private mount namespace. It gives the host its own /workspace, /root and /tmp,
 * hides the controller's state folder (keys, credentials), starts sshd, then runs the onstart
 * script with the instance's environment, as Vast does after its own entrypoint.
 */
export function hostInitScript(): string {
  return `#!/bin/sh
set -eu
host_dir=$1
state_dir=$2
mount --bind "$host_dir" ${hostMount}
mount --bind "$host_dir/workspace" /workspace
mount --bind "$host_dir/root" /root
# The state folder is hidden before /tmp is replaced: a checkout under /tmp would otherwise vanish
# first and leave nothing to mount over.
mount -t tmpfs -o mode=0700 tmpfs "$state_dir"
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/sshd
/usr/sbin/sshd -D -e -f ${hostMount}/etc/sshd_config 2>>${hostMount}/log/sshd.log &
sshd_pid=$!
if [ -s ${hostMount}/etc/onstart.sh ]; then
  (
    cd /root
    set -a
    . ${hostMount}/etc/env
    set +a
    exec sh ${hostMount}/etc/onstart.sh
  ) >${hostMount}/log/onstart.log 2>&1 &
fi
wait "$sshd_pid"
`;
}

/** KEY='value' lines that `set -a; . env` turns into the onstart script's environment. */
export function envFile(env: Readonly<Record<string, string>>): string {
  const quote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;
  return Object.entries(env)
    .filter(([key]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    .map(([key, value]) => `${key}=${quote(value)}\n`)
    .join("");
}
