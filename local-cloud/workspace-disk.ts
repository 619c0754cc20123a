// A local-cloud host's /workspace disk: an ext4 filesystem with its journal, as a rented instance's
// disk has, in a sparse image of the rented size, mounted by the host's init in the host's own
// mount namespace (host-files.ts). A folder of the controller's filesystem would not do: this
// machine's root filesystem has no journal, and there ext4 checks every recently freed inode
// before reusing one, so 100,000 files created right after 100,000 were removed (what every
// restore onto a used host does) took 54.6 s of kernel time, against 4.8 s on a journaled ext4
// (`tar -x` of 100k files of 2.6 KB, session 16). The size is real too: a restore larger than the
// rented disk fails on ENOSPC, as on Vast.
import { existsSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hostMount } from "./host-files.ts";
import { run } from "./system.ts";

/** Where a cloud keeps its hosts' disk images: outside every host's folder, so root on a host cannot write its raw blocks. */
export function workspaceDisksDir(cloudDir: string): string {
  return path.join(cloudDir, "disks");
}

export function workspaceDiskPath(cloudDir: string, hostName: string): string {
  return path.join(workspaceDisksDir(cloudDir), `${hostName}.ext4`);
}

/**
 * A sparse file of `gb` GiB (Vast's `disk` is in GB; a GiB each here, a few percent more) with an empty ext4 on it (mkfs.ext4 and debugfs: e2fsprogs). Nothing is written ahead (lazy inode tables
 * and journal; the host mounts it with noinit_itable): the image takes a few MB until the host
 * writes, and mkfs takes about 0.1 s whatever the size.
 */
export async function makeWorkspaceDisk(file: string, gb: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, "w", 0o600);
  try {
    await handle.truncate(Math.ceil(gb * 1024 ** 3));
  } finally {
    await handle.close();
  }
  await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard,root_owner=0:0", file]);
  // A Vast instance's /workspace is a folder of its disk, not the disk's root: no lost+found in it.
  await run("debugfs", ["-w", "-R", "rmdir lost+found", file]);
}

/**
 * Removes a host's disk once its processes are gone. The kernel lets go of the loop device when the
 * host's mount namespace dies, but not always by the time the last process has exited (seen in CI:
 * the device still listed the image right after destroy), so this waits for it a little and then
 * detaches it itself: a destroyed host leaves no loop device behind.
 */
export async function removeWorkspaceDisk(file: string): Promise<void> {
  let bound = await loopDevicesOf(file);
  for (let waited = 0; waited < 2000 && bound.length > 0; waited += 50) {
    await sleep(50);
    bound = await loopDevicesOf(file);
  }
  for (const device of bound) await run("losetup", ["--detach", device], { allowFailure: true });
  await rm(file, { force: true });
}

/**
 * Where the controller sees a running host's /workspace: through the root of one of the host's own
 * processes (the one that has the host's folder at hostMount; `ip netns exec` and unshare, which
 * are in the namespace too, still have the controller's root). Undefined when none runs.
 */
export function hostWorkspaceView(pids: readonly number[]): string | undefined {
  const pid = pids.find((p) => existsSync(`/proc/${p}/root${hostMount}/etc/sshd_config`));
  return pid === undefined ? undefined : `/proc/${pid}/root/workspace`;
}

/**
 * Loop devices bound to the image `pathOrDir`, or to any image under it when it is a folder (a
 * deleted one too: the kernel then adds " (deleted)" to its path).
 */
export async function loopDevicesOf(pathOrDir: string): Promise<string[]> {
  const listed = await run("losetup", ["--list", "--noheadings", "--raw", "--output", "NAME,BACK-FILE"], { allowFailure: true });
  const bound = (backing: string) => backing.startsWith(`${pathOrDir}/`) || backing === pathOrDir || backing === `${pathOrDir} (deleted)`;
  // --raw escapes blanks and other unsafe bytes as \xNN.
  const unescaped = (raw: string) => raw.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return listed.stdout.split("\n")
    .map((line) => /^(\S+) (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => !!m && bound(unescaped(m[2]!)))
    .map((m) => m[1]!);
}
