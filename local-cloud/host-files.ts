// The files that make a local-cloud host: its sshd configuration, the init script that builds the
// host's own root from its image, and what runs inside it. Pure functions, so the rendered text is tested directly.

import { mirrorUser } from "../dataplane/standby/mirror-user.ts";

/** Where a host sees its own folder (bind-mounted from the controller's .state). */
export const hostMount = "/run/dumont-host";

export function sshdConfig(port: number): string {
  return [
    `Port ${port}`,
    "ListenAddress 0.0.0.0",
    // Where OpenSSH's defaults put them, as on a real image: root on the host can replace either.
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    // Keys Vast manages (account and instance keys) and keys an onstart script appended itself.
    `AuthorizedKeysFile ${hostMount}/etc/authorized_keys .ssh/authorized_keys`,
    "PermitRootLogin prohibit-password",
    // As on the GCP standby (components/standby/startup-script.ts): the copies' owner never logs in.
    `DenyUsers ${mirrorUser}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
    "PidFile /run/sshd.pid",
    "",
  ].join("\n");
}

/**
 * The host's first process, run by the controller as `sh -c SCRIPT init HOST_DIR IMAGE_ROOT
 * MIRROR_URL START_SCRIPT DISK_IMAGE HOST_INIT` inside the host's network namespace and private mount and PID namespaces,
 * still on the controller's filesystem. The script comes from the controller's memory, never from a
 * file the host could rewrite before its next start. It builds the host's root: the image under an
 * overlay whose writes land in the host's own folder (so a host keeps what it installed across stop
 * and start, as a container's disk does), its own /workspace, /root, /tmp and /run, a /proc of its
 * own processes, a /dev with only the harmless devices and its own ptys, and apt pointed at the
 * cloud's package mirror. /workspace is its own disk (workspace-disk.ts), mounted through a loop
 * device that goes with the namespace; where that mount fails, a folder of the host's own
 * (run/workspace-disk says which, and the daemon logs it). Then host-init pivots into that root and
 * detaches the controller's filesystem (nothing left to chroot back into), and runs the start
 * script with an empty environment and without the capabilities a container lacks.
 *
 * Everything the host wrote before (its overlay's upper layer) is the host's: this script, root on
 * the controller's filesystem, never follows a path the host could have made a symlink. The places
 * it mounts on or writes to in the host's root are made real folders first (a host's /workspace made
 * a symlink to the controller's /usr/bin would otherwise put the host's disk where the next command
 * of this script is found), and the host sees of its own folder only etc (read-only: sshd's
 * configuration, the keys, the onstart script) and log, never the folders this script mounts from.
 */
/**
 * What a host's root keeps: a container's default set (Docker's, less mknod and net_raw), so that
 * sshd (setuid, setgid, chroot for its privilege separation), apt and useradd work. Everything
 * else goes, newer capabilities too: mount and namespaces, device nodes, modules, raw I/O, the
 * clock, the network's configuration and raw packets on the cloud's bridge, tracing, immutable
 * files, and dac_read_search, whose open_by_handle_at reaches any file of a filesystem a bind
 * mount comes from (Docker's "shocker").
 */
const keptCapabilities = "chown,dac_override,fowner,fsetid,kill,setgid,setuid,setpcap,net_bind_service,sys_chroot,audit_write,setfcap";

/**
 * What of /proc a container may not write, as Docker and LXC make it: the kernel's settings
 * (writing kernel.core_pattern needs only uid 0, and runs a program of one's choice as root on the
 * controller at the next crash), the magic SysRq key, and the interrupt and bus settings.
 */
const readOnlyProc = "sys sysrq-trigger irq bus fs";

export function hostInitScript(): string {
  return `set -eu
host_dir=$1
image=$2
mirror=$3
start=$4
disk=$5
host_init=$6
root=$host_dir/rootfs
# A folder of the host's root that this script mounts on or writes into: whatever the host left
# there (a symlink, a file) is replaced by a real folder. Its parent must already be one.
real_dir() {
  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then rm -f -- "$1"; fi
  mkdir -p -- "$1"
}
mkdir -p "$host_dir/upper" "$host_dir/overlay-work" "$root"
mount -t overlay overlay -o "lowerdir=$image,upperdir=$host_dir/upper,workdir=$host_dir/overlay-work" "$root"
for top in run workspace root tmp proc dev etc .controller-root; do real_dir "$root/$top"; done
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mkdir -p "$root${hostMount}/etc" "$root${hostMount}/log"
mount --bind "$host_dir/etc" "$root${hostMount}/etc"
mount -o remount,bind,ro "$root${hostMount}/etc"
mount --bind "$host_dir/log" "$root${hostMount}/log"
if mount -o loop,noinit_itable "$disk" "$root/workspace" 2>"$host_dir/run/workspace-disk"; then
  echo "ext4" > "$host_dir/run/workspace-disk"
else
  echo "folder (the disk did not mount: $(tr '\n' ' ' < "$host_dir/run/workspace-disk"))" > "$host_dir/run/workspace-disk"
  mkdir -p "$host_dir/workspace"
  mount --bind "$host_dir/workspace" "$root/workspace"
fi
mount --bind "$host_dir/root" "$root/root"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t proc proc "$root/proc"
for entry in ${readOnlyProc}; do
  if [ -e "$root/proc/$entry" ]; then
    mount --bind "$root/proc/$entry" "$root/proc/$entry"
    mount -o remount,bind,ro "$root/proc/$entry"
  fi
done
mount -t tmpfs -o mode=0755,nosuid tmpfs "$root/dev"
for device in null zero full random urandom tty; do
  touch "$root/dev/$device"
  mount --bind "/dev/$device" "$root/dev/$device"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
real_dir "$root/etc/apt"
real_dir "$root/etc/apt/sources.list.d"
rm -f -- "$root/etc/apt/sources.list.d/local-cloud.list"
(set -C; echo "deb [trusted=yes] $mirror ./" > "$root/etc/apt/sources.list.d/local-cloud.list")
cd "$root"
# Nothing of the host's runs before the controller's filesystem is gone: host-init (local-cloud/
# host-init, the controller's static binary) pivots, detaches it, drops the capabilities, and only
# then runs the host's /bin/sh.
exec "$host_init" -keep ${keptCapabilities} "$start"
`;
}

/**
 * What the host runs inside its own root: sshd (as Vast's SSH launch starts it), then the onstart
 * script with the instance's environment, as Vast does after its own entrypoint.
 */
export function hostStartScript(): string {
  return `set -eu
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
