// How long a remote command may run and how much of its output the controller keeps. Every host is
// treated as hostile: one that never answers, or writes without end, must cost the controller a
// bounded wait and bounded memory. A command's own limits (curl's and rsync's stall timeouts) end a
// stuck transfer much sooner; these bounds are the backstop when nothing else ends it.

const minute = 60_000;
const hour = 60 * minute;
const mib = 1024 * 1024;

/** A command with fixed, small work: mkdir, writing a known_hosts line, removing a spool folder. */
export const quickCommandMs = minute;

/** Any command that names no bound of its own: long enough for ordinary work, never forever. */
export const defaultCommandMs = 10 * minute;

/**
 * Work that grows with the number of files in the workspace: listing, stat-ing or hashing it,
 * emptying it, hard-link copies of it (hashing a TiB at a slow disk's 100 MB/s takes about 3 h).
 */
export const workspaceWalkMs = 6 * hour;

/**
 * Moving the workspace's bytes: a snapshot's upload or restore, an rsync to the standby. At this
 * bound a TiB would have to move slower than about 50 MB/s to be cut off.
 */
export const bulkTransferMs = 6 * hour;

/** The slowest link a controller is expected to send from (1 Mbit/s), for commands fed on stdin. */
const slowestUplinkBytesPerMs = 128 * 1024 / 1000;

/** A command whose work is small but which is sent `bytes` on stdin (a list of paths, for example). */
export function sendingMs(bytes: number): number {
  return quickCommandMs + Math.ceil(bytes / slowestUplinkBytesPerMs);
}

/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay would fire at once. */
export const longestTimerMs = 2 ** 31 - 1;

/** Stdout a command's result may hold unless it says otherwise: output that is parsed, not streamed. */
export const defaultStdoutBytes = 64 * mib;

/**
 * Stdout of a listing of the whole workspace (find, stat, md5sum records): about 100 bytes a file,
 * so room for 2.5 million files.
 */
export const workspaceListingBytes = 256 * mib;

/** How much of a command's stderr is kept: its end, where a failure says why. */
export const stderrKeptBytes = 64 * 1024;

/** The longest stderr line handed to a line reader (longer ones are cut): a path is at most 4 KiB. */
export const stderrLineBytes = 64 * 1024;
