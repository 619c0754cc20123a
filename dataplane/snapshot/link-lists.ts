// What the host's restore script is told about each link of a chain: the lists it checks the
// staged archive against and removes by, sent into a folder of the spool of their own
// (restoreArchiveScript's $lists), `ready` last.
import type { SshConnection } from "../ssh/client.ts";
import { quickCommandMs, workspaceWalkMs } from "../ssh/command-bounds.ts";
import type { Readable } from "node:stream";
import { entryFields, treeIndex, type EntryType, type Manifest } from "./manifest.ts";
import { hostPathStream, nulTerminated, sliced } from "./path-bytes.ts";
import type { LinkPlan } from "./restore-plan.ts";
import { copyableAbove } from "./scripts.ts";
import { quoteTarName } from "./tar-messages.ts";

const typeLetters: Readonly<Record<EntryType, string>> = { file: "f", dir: "d", symlink: "l" };

/**
 * What extracting a link's archive may write, as the restore script lists its stage ("<find %y>
 * ./<path>"): its members as the manifest types them, and every folder above them as a folder (tar
 * makes a member's missing parents; restoreArchiveScript). A member the tree no longer has
 * (discarded: it vanished while the snapshot was made, and is removed after extraction) may be of
 * any of the three types; a parent is always a folder.
 */
export function* expectedStagedPaths(link: Pick<Manifest, "entries" | "included" | "discarded">, members: Iterable<string> = membersOf(link)): Generator<string> {
  const types = treeIndex(link.entries);
  const parents = new Set<string>();
  for (const name of members) {
    // Deepest parent first: once one is known, so are all above it (members share most of theirs).
    for (let slash = name.lastIndexOf("/"); slash > 0 && !parents.has(name.slice(0, slash)); slash = name.lastIndexOf("/", slash - 1)) {
      parents.add(name.slice(0, slash));
    }
  }
  for (const parent of parents) yield `d ./${parent}`;
  for (const name of members) {
    if (parents.has(name)) continue;
    const type = types.type(name);
    if (type) yield `${typeLetters[type]} ./${name}`;
    else yield* [`f ./${name}`, `d ./${name}`, `l ./${name}`];
  }
}

/** The names tar lists as it extracts a link's members (`-v`, quoted as tar-messages.ts reads them). */
function* tarListing(members: Iterable<string>): Generator<string> {
  yield "."; // archives made before dumont-pack end each round with the workspace folder's own header
  for (const member of members) yield `./${quoteTarName(member)}`;
}

/**
 * The large files a link's archive holds, as fields of "<mode, octal>\0<mtime>\0<mtime for
 * touch>\0<path>\0" records: for a host without the helper, whose `tar -x` makes a copy member a
 * hard link of its first, with the first's mode and times (restoreArchiveScript makes each such
 * name a file of its own again, with its own). Never MD5s: the earlier links of a chain are read
 * without theirs. An entry without a plain mode and time is left out (the verification names it).
 */
export function* largeFileFields(link: Pick<Manifest, "entries" | "included">): Generator<string> {
  const index = treeIndex(link.entries);
  const fields = entryFields(link.entries);
  for (const path of link.included) {
    const i = index.position(path);
    if (i === undefined || fields.typeAt(i) !== "file" || fields.sizeAt(i) <= copyableAbove) continue;
    const { mode, mtime } = fields.at(i);
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777 || typeof mtime !== "string" || !/^-?\d+\.\d{10}$/.test(mtime)) continue;
    yield* [mode.toString(8), mtime, touchTime(mtime), path];
  }
}

/**
 * A manifest's mtime as `touch -d @` and dumont-pack's `dir-times` and `symlinks` read it: the
 * time it stands for. The manifest has find's %T@ ("<seconds>.<nanoseconds>0", the seconds rounded
 * down, so "-2.5000000000" is 1.5 s before 1970); they read "-1.5" as that.
 */
export function touchTime(mtime: string): string {
  const before1970 = /^-(\d+)\.(\d{9})\d?$/.exec(mtime);
  if (!before1970 || /^0+$/.test(before1970[2]!)) return mtime;
  const seconds = BigInt(before1970[1]!) - 1n;
  const nanoseconds = 1_000_000_000n - BigInt(before1970[2]!);
  return `-${seconds}.${nanoseconds.toString().padStart(9, "0")}`;
}

/** The folder of the spool that holds link `index`'s lists (restoreArchiveScript's $lists). */
export function listsFolder(index: number): string {
  return `link-${index}`;
}

/**
 * What a link's archive holds: its tree's members, and those that vanished while it was made. Read
 * from the lists each time it is gone through, never copied (a million paths at a million files).
 */
export function membersOf(link: Pick<Manifest, "included" | "discarded">): Iterable<string> {
  return {
    *[Symbol.iterator]() {
      yield* link.included;
      yield* link.discarded ?? [];
    },
  };
}

/**
 * A link's lists into its folder of the spool, `ready` last (restoreArchiveScript reads them then);
 * `signal` stops the sending (the restore gave up).
 */
export async function sendLists(ssh: SshConnection, spool: string, index: number, link: Manifest, steps: LinkPlan, withHelper: boolean, signal?: AbortSignal): Promise<void> {
  const folder = listsFolder(index);
  const put = (file: string, content: Buffer | string | Readable) => {
    signal?.throwIfAborted();
    return ssh.run(["bash", "-c", 'mkdir -p -- "$1/$2" && cat > "$1/$2/$3"', "put", spool, folder, file], { stdin: content, timeoutMs: workspaceWalkMs, signal });
  };
  const members = membersOf(link);
  // The first archive lands in an emptied workspace: nothing to remove before it.
  if (index > 0) await put("remove-before", nulTerminated(steps.removeBefore));
  await put("remove-after", nulTerminated(steps.removeAfter));
  await put("members", hostPathStream(members));
  await put("known", sliced(expectedStagedPaths(link, members), nulTerminated));
  await put("known-listing", sliced(tarListing(members), (lines) => `${lines.join("\n")}\n`));
  if (!withHelper) await put("large-files", sliced(largeFileFields(link), nulTerminated));
  await put("ready", "");
}

/**
 * Link `index`'s turn to be placed (restoreArchiveScript's $lists/turn): given once the link before
 * it is done and its sums are taken, so a later link's files and sums always replace an earlier's.
 */
export async function giveTurn(ssh: SshConnection, spool: string, index: number, signal?: AbortSignal): Promise<void> {
  await ssh.run(["bash", "-c", 'touch -- "$1/$2/turn"', "turn", spool, listsFolder(index)], { timeoutMs: quickCommandMs, signal });
}
