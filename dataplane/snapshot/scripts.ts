// The programs a snapshot runs on the GPU host, as bash text from pure functions (snapshot-tested).
// They use only what a Vast image has (bash, find, tar, lz4, md5sum, split, curl) and dumont-pack,
// which the controller brings (pack-helper.ts). Paths travel as
// NUL-separated lists and URLs on stdin or in files, never inside a command line, curl's included
// (curlUrl). Every script runs under LC_ALL=C: file names are bytes, and no tool may transcode or
// reinterpret them in whatever locale sshd happens to give (GNU tar converts pax path names between
// UTF-8 and the locale's charset; in C it leaves them alone).

/** Where the workspace is on every host. */
export const workspace = "/workspace";

/**
 * Larger files are streamed by dumont-pack, and may be archived as a copy of another
 * (dataplane/pack: readahead.go's smallFile, duplicates.go).
 */
export const copyableAbove = 256 * 1024;

/** find -printf fields per entry: type, path, size, mode, mtime, symlink target (host-listings.ts: ScanParser). */
const entryFormat = String.raw`%y\0%p\0%s\0%m\0%T@\0%l\0`;

/**
 * Lists every entry under the tree at $1 (default /workspace) as six NUL-terminated fields. An
 * entry that goes between find reading its name and looking at it (a temporary file of a busy
 * workspace) is not there, and not an error: without -ignore_readdir_race find exits 1 for it, and
 * the snapshot of a workspace whose files come and go failed at its first step.
 */
export function scanScript(): string {
  return `set -euo pipefail
export LC_ALL=C
root=\${1:-${workspace}}
if [ ! -d "$root" ]; then echo "no $root on this host" >&2; exit 3; fi
cd "$root"
find . -ignore_readdir_race -mindepth 1 -printf '${entryFormat}'
`;
}

/**
 * MD5 of the files named (NUL-separated, relative to the tree at $1, default /workspace) on stdin,
 * as \`md5sum -z\` prints them. Two workers use both cores; each writes its own file so records
 * never interleave. A file that cannot be read is left out and the exit status says so, after the
 * sums of all the others are printed. So is a name that is not a regular file now (a FIFO would
 * hold md5sum's open forever; a symlink is not followed, as dumont-pack does not follow it).
 */
export function hashScript(): string {
  return `set -uo pipefail
export LC_ALL=C
cd "\${1:-${workspace}}" || exit 3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
xargs -0 -r -n 512 -P 2 sh -c '
  sums=$(mktemp -p "$0") || exit 1
  s=0
  for f do
    if [ ! -f "$f" ] || [ -L "$f" ]; then s=1; break; fi
  done
  if [ "$s" = 1 ]; then
    # Rare: this batch names something else; only its regular files are hashed.
    n=$#
    for f do
      if [ -f "$f" ] && [ ! -L "$f" ]; then set -- "$@" "$f"; else printf "not a regular file, or gone: %s\\n" "$f" >&2; fi
    done
    shift "$n"
  fi
  [ "$#" -eq 0 ] || md5sum -z -- "$@" > "$sums" || s=1
  exit "$s"' "$out"
case $? in
  0) ;;
  123) status=1 ;; # some files could not be read
  *) status=2 ;;   # a worker was killed or could not run: the hashing failed, not a file
esac
cat "$out"/* 2>/dev/null
exit $status
`;
}

/**
 * curl_url URL ARGS…: curl with the URL in a config on a file descriptor, never in its arguments. A
 * presigned URL lets whoever holds it read or write the object until it expires, and every user of
 * the host sees a process's arguments in `ps`. printf is a bash builtin, so no process carries it.
 */
export const curlUrl = `curl_url() {
  local url=\${1//\\\\/\\\\\\\\}
  shift
  curl --config <(printf 'url = "%s"\\n' "\${url//\\"/\\\\\\"}") "$@"
}`;

/**
 * The upload stopped: the controller gave up ($spool/abort, or the spool removed under us), or
 * dumont-pack upload failed ($spool/upload-failed; it said why). Stop rather than wait forever.
 */
const uploadStopped = `upload_stopped() { [ -e "$spool/abort" ] || [ -e "$spool/upload-failed" ] || [ ! -d "$spool" ]; }`;

/**
 * The upload: rounds of archive members, LZ4-compressed, one stream, cut into parts of $part_size
 * bytes and PUT to their presigned URLs ($spool/urls, one per line, part 1 first), $concurrency at a
 * time, by \`dumont-pack upload\` (dataplane/pack/upload.go: retries with backoff, each part's MD5 made
 * as it is cut and checked against the ETag the store reports). At most concurrency+1 parts exist at
 * once, in the spool folder.
 *
 * Round n archives the entries listed in $spool/round<n> (NUL-separated) once the controller has
 * written that file; $spool/last says no round follows, $spool/abort stops everything. The members
 * come from dumont-pack ($pack, dataplane/pack), an LZ4 frame per round compressed on several
 * cores, which reads each file once for both its archive copy and its MD5 ($spool/sums<n>, as \`md5sum -z\` prints them), records each entry as it read it
 * ($spool/seen<n>, as scanScript lists them) and writes no end-of-archive:
 * files that changed while they were read are read again in a later round, and one end-of-archive
 * is written at the very end, so the object stays one tar archive in which a later copy of a file
 * replaces an earlier one.
 *
 * On stderr: "progress <parts done>" each second, "round-note <n> <message>" (as GNU tar words
 * them) and then "round-read <n> <exit status>" when a round has been read (1 when a file changed
 * as it was read; the controller decides), and "need-urls <part>" when the stream outgrows the URLs
 * it has (the controller appends more). On stdout: one "part <n> <etag> <bytes>" line per part. No
 * MD5 of the whole stream is made: each part's is checked against what the store says it got, LZ4's
 * frame checksum covers the stream when it is decoded, and every file's MD5 after a restore.
 *   args: spool part_size concurrency pack
 */
export function uploadScript(): string {
  return `set -euo pipefail
export LC_ALL=C
spool=$1
part_size=$2
concurrency=$3
pack=$4
cd ${workspace}
${uploadStopped}
rounds() {
  local n=1
  while :; do
    until [ -e "$spool/round$n" ] || [ -e "$spool/last" ] || upload_stopped; do sleep 0.02; done
    if upload_stopped; then echo "the upload stopped before round $n" >&2; return 1; fi
    if [ ! -e "$spool/round$n" ]; then break; fi
    local status=0
    "$pack" members . "$spool/round$n" "$spool/sums$n" "$spool/seen$n" 2> "$spool/round$n.err" || status=$?
    # Line by line (-u): a line of dumont-pack upload's, on the same stderr, never lands inside one.
    sed -u "s/^/round-note $n /" "$spool/round$n.err" >&2
    echo "round-read $n $status" >&2
    n=$((n + 1))
  done
  # The end-of-archive, as one more LZ4 frame: \`lz4 -d\` reads a stream of frames as one.
  head -c 1024 /dev/zero | lz4 -1 -z -q - -
}
rounds | "$pack" upload "$spool" "$part_size" "$concurrency"
`;
}

/**
 * Bash functions that touch a path from a manifest (relative to the current directory, /workspace)
 * only when each of its parents is a real directory, never through a symlink: nothing a manifest
 * says may reach outside the workspace. remove_listed removes the paths listed in a file
 * (NUL-separated); a path below a missing parent is already gone, one below a symlink or a file is
 * refused (status 1, naming it on stderr).
 */
const pathGuards = `# 0: every parent of ./$1 is a real directory; 2: one is missing; 1: one is a symlink or a file.
parents_are_directories() {
  local parent=. rest=$1
  while [[ $rest == */* ]]; do
    parent=$parent/\${rest%%/*}
    rest=\${rest#*/}
    if [ -L "$parent" ] || { [ -e "$parent" ] && [ ! -d "$parent" ]; }; then
      printf 'refusing %q: %q is not a real directory\\n' "$1" "\${parent#./}" >&2
      return 1
    fi
    if [ ! -e "$parent" ]; then return 2; fi
  done
}
remove_listed() {
  local path checked
  while IFS= read -r -d '' path; do
    checked=0
    parents_are_directories "$path" || checked=$?
    if [ "$checked" = 1 ]; then return 1; fi
    if [ "$checked" = 0 ]; then printf './%s\\0' "$path"; fi
  done < "$1" | xargs -0 -r rm -rf --
}
`;

/**
 * GNU tar writes through a symlink that is a parent of a member it extracts. Only a symlink that
 * leaves its own directory (an absolute target, or a ".." component) can lead out of /workspace;
 * tar itself holds back such symlinks of an archive until that archive is done (as placeholder
 * files), and the restore removes them from each archive's stage before it is placed, so none is
 * ever placed (each link extracts into a stage of its own, reached by no manifest path: its name is
 * the restore's own, and a stage a killed restore left is removed by the next). The snapshot's own
 * are created at the very end (restoreSymlinksScript).
 */
const symlinksLeavingTheirDirectory = String.raw`-type l \( -lname '/*' -o -lname '..' -o -lname '../*' -o -lname '*/..' -o -lname '*/../*' \)`;

/**
 * The restore of one archive of a chain into /workspace. The controller sends each link's lists
 * into a folder of its own in the spool ($lists: $spool/<lists>), so a later link's are there before
 * its script starts. Download (with retries) | lz4 -d (which checks the frames' checksums) | tar -x
 * into a staging folder inside /workspace (so on its disk), check what is staged and remove from it
 * the symlinks that leave their directory; then a later link removes what $lists/remove-before
 * lists (what this snapshot deleted, and paths whose type changed: tar will not put a file or a
 * symlink where a non-empty directory is), the first one empties the workspace instead; move what is
 * staged into place, then remove what $lists/remove-after lists (paths that vanished while the
 * snapshot was made).
 *
 * An archive is host-made data: a member its manifest does not name (a "../x", a symlink to lead a
 * later link out of the workspace) is never moved into /workspace. The check is of what tar wrote,
 * not of a listing (GNU tar's listing and extraction read some crafted headers differently): every
 * path in the staging folder, with its type, must be one of $lists/known (NUL-separated "f ./path",
 * "d ./path", "l ./path": the members as their manifest types them, their parents as folders),
 * compared as sorted raw bytes, linear in the member count. tar's own listing as it extracts (-v,
 * into an index file: a second tar reading the stream to list it cost ~1.7 s of CPU per GB) and the
 * '..' members its messages name are compared with $lists/known-listing (the members in tar's
 * escape quoting, a line each): that names what tar refused to write or wrote elsewhere ('..',
 * absolute names) as the archive holds it. (tar -x -T with the names checks inside tar, but matches
 * each member against the whole list: 100,000 members took 84 s.) Nor may it hold a device node or
 * a FIFO. The first link of a chain lands in an emptied workspace, and its staged entries are renamed into place; a later one's named members are copied
 * over the tree by a second tar (so a later link needs its size free twice while it is placed, and
 * the next link's stage is made meanwhile: a chain needs room for about three links' files at once
 * beside the workspace, the first link's included).
 *
 * Exit 6 when download, decoding (LZ4's checksum of the stream among it), extraction or placing
 * failed: what it held is still put in place (the caller verifies every file and names the damaged
 * ones) and the removals after it still run; when the stage could not even be listed, nothing of
 * it is. 7 when a removal was refused, and also when no stage can be made, the workspace cannot be
 * entered or emptied, or the stage not rid of its symlinks that leave their directory (the restore
 * stops: a later link is never applied over a workspace the first did not replace). 8 when the archive held a member its
 * manifest does not name, one of another type, or a device or FIFO (nothing of it is put in place).
 * Whatever the exit, once it changed anything outside its stage, no symlink that leaves its
 * directory is left in /workspace.
 * The download starts at once: a later link's lists are all there before its script starts; the
 * first link's script starts while the controller still reads and checks the chain's manifests, so
 * it changes nothing outside its stage before $lists/ready exists (and waits for it before anything
 * else when the workspace is not empty: it is emptied before the download). The other lists are
 * read only once $lists/ready exists (the controller writes them meanwhile; 9 when they never come
 * within 30 minutes, or the spool is removed: the controller gave up, and the workspace is as the
 * script found it, for the first link). A spool removed during the download stops it.
 *
 * A later link's script starts while the link before it is still extracted (restore.ts): it
 * downloads, extracts and checks its archive in a stage of its own, then waits for $lists/turn,
 * which the controller writes once the link before is done and its sums are taken; only then does
 * it change anything outside its stage (9, and nothing changed, when the spool goes first). So a
 * stage of this restore ($ours: named after its spool) is never emptied or swept by another link's
 * script, and each link keeps its own files in its lists' folder. Its sums go to the controller as
 * it places its archive (for the controller: valid only when it exits 0).
 *
 * With dumont-pack ($pack; empty without it), the helper downloads the archive (byte ranges over
 * several connections, each retried on its own), decodes it and extracts it into the stage, writing
 * several files at once, in one process (`dumont-pack extract`; the checks after it are the same);
 * without it, curl | lz4 -d | tar -x. With the helper and $hash_as_extracted "yes" (the default),
 * it also hashes every file member as it is written: when all went well, stdout is
 * the MD5 of every file the archive held, as `md5sum -z` prints them, and the verification need not
 * read those files back from the disk. Nothing on stdout: hash them from the disk. (It costs the
 * host about 1.6 s of CPU per GiB during the extraction. Through curl | lz4 -d | stream-sums, on two
 * cores, that made the restore slower than hashing from the disk after, so it was kept for hosts of
 * four cores; inside fetch, with two pipes fewer, a restore of 1.1 GiB took 6.65-6.78 s against
 * 6.87-7.28 s hashing from the disk, and of 100k files 11.0-11.8 s against 11.3 s: three runs each,
 * cold cache, .prof scratch script. Where cores are idle it is free, and spares reading the whole
 * workspace back.)
 *   args: spool first|later lists pack yes|no; stdin: the presigned GET URL
 */
export function restoreArchiveScript(): string {
  return `set -uo pipefail
export LC_ALL=C
spool=$1
place=$2
lists=$spool/$3
pack=\${4:-}
hash_as_extracted=\${5:-yes}
read -r url
# This restore's stages (one per link, at most two at once): named after its spool.
spool_name=\${spool%/}
spool_name=\${spool_name##*/}
if [[ ! $spool_name =~ ^[A-Za-z0-9._-]+$ ]]; then echo "refusing to go on: the spool's name is not a plain name" >&2; exit 7; fi
ours=".dumont-stage-$spool_name-"
# stdout is for the sums alone (fd 3); anything else a command prints goes with the messages.
exec 3>&1 1>&2
mkdir -p ${workspace}
cd ${workspace} || { echo "refusing to go on: ${workspace} is not a folder this user can enter" >&2; exit 7; }
${pathGuards}
${curlUrl}
# Without the helper: the archive, decoded, on stdout (curl_url | lz4 -d). Transient failures are
# retried, but not a broken pipe: a stream that tar refused (a damaged archive) fails now instead of
# downloading again for minutes. A transfer that brings less than 30 KiB in 30 s is tried again,
# then given up.
download_archive() {
  curl_url "$url" -sS --fail --retry 5 --retry-connrefused --retry-max-time 60 --connect-timeout 20 --speed-limit 1024 --speed-time 30 \\
    | lz4 -d -q - -
}
# The controller writes this link's lists while the archive downloads (the first link's while it
# still reads and checks the chain's manifests), and $lists/ready when all are there; a removed spool
# means it gave up.
gave_up() {
  echo "$1" >&2
  exit 9
}
# wait_for FILE SECONDS WHAT: until the controller made FILE; 9 naming WHAT when it gives up first
# (the spool removed), when the SSH session that started this script is gone (a controller that
# died: nobody will), or when SECONDS pass. Often at first, then every half second: a turn can take
# hours to come.
wait_for() {
  local until=$((SECONDS + $2)) waited=0
  while [ ! -e "$1" ] && [ -d "$spool" ] && kill -0 "$PPID" 2>/dev/null && ((SECONDS < until)); do
    if ((waited++ < 600)); then sleep 0.05; else sleep 0.5; fi
  done
  if [ ! -e "$1" ]; then gave_up "$3"; fi
}
wait_for_lists() { wait_for "$lists/ready" 1800 "this link's lists never came from the controller"; }
# Everything in the workspace but this restore's stages (a stage a killed restore left behind too).
empty_workspace() {
  local failed
  if ! failed=$(find ${workspace} -mindepth 1 -maxdepth 1 ! -name "$ours*" -exec rm -rf -- {} + 2>&1); then
    echo "refusing to go on: the workspace could not be emptied: $(printf '%s' "$failed" | head -n 1)" >&2
    exit 7
  fi
}
# Kills the extraction (process group $1: the helper, or the download, lz4 and tar) once the spool is gone:
# the controller gave up (a refused manifest), and the rest of the archive need not come. It ends
# with the extraction.
stop_when_spool_goes() {
  while kill -0 "$1" 2>/dev/null; do
    if [ ! -d "$spool" ]; then kill -- -"$1" 2>/dev/null; return; fi
    sleep 0.2
  done
}
# A spool already gone: the controller gave up before this script began.
if [ ! -d "$spool" ]; then wait_for_lists; fi
# This link's own files, beside its lists (never a spool made again: mkdir without -p): nothing of
# another run's may stand in for them.
mkdir -- "$lists" 2>/dev/null || [ -d "$lists" ] || { echo "refusing to go on: no folder for this link in the spool" >&2; exit 7; }
rm -f "$lists/extract.err" "$lists/staged" "$lists/staged-large" "$lists/leaving" "$lists/unexpected" "$lists/listed.raw" "$lists/listed" "$lists/unlisted" "$lists/sums" "$lists/sums.partial"
# However this script ends (a refused removal after placing, too), its stage goes and, once anything
# outside it changed, no symlink that leaves its directory stays in /workspace: none of an archive's
# is placed, and one that fails after changing anything sweeps the workspace too (what it held when
# the emptying failed, say); a sweep that fails stops the restore (7).
touched=no
stage=
# Not in a stage of this restore's: another link's, still being extracted and checked, is its own.
# (Printed, then removed: find's -delete would rule out -prune.)
sweep_symlinks_leaving_their_directory() { find . -path "./$ours*" -prune -o ${symlinksLeavingTheirDirectory} -print0 | xargs -0 -r rm -f --; }
on_exit() {
  local status=$?
  if [ -n "$stage" ]; then rm -rf -- "$stage"; fi
  if [ "$touched" = yes ] && [ "$status" != 0 ] && ! sweep_symlinks_leaving_their_directory; then
    echo "refusing to go on: the symlinks that leave their directory could not all be removed" >&2
    if [ "$status" != 8 ]; then status=7; fi
  fi
  exit "$status"
}
trap on_exit EXIT
# The first link lands in an emptied workspace. An empty one (a new GPU: a failover) has its archive
# downloaded at once, while the controller still checks the manifests; one that holds anything is
# left as it is (no stage either) until they have passed, then emptied before the download (its
# disk never holds the old tree and the new at once). Before the lists are there, nothing outside
# the stage changes: a stage a killed restore left behind counts as something in the workspace.
occupied=no
if [ "$place" = first ] && [ -n "$(find ${workspace} -mindepth 1 -maxdepth 1 ! -name "$ours*" -print -quit)" ]; then
  wait_for_lists
  occupied=yes
fi
if ! stage=$(mktemp -d "${workspace}/\${ours}XXXXXXXX"); then echo "refusing to go on: no staging folder could be made in ${workspace}" >&2; exit 7; fi
if [ "$occupied" = yes ]; then
  touched=yes
  empty_workspace
fi
# The listing names what the archive holds as it is read (an absolute name as the archive has it;
# with tar, a '..' member, which it refuses, only in its messages); what was written is checked
# after it. With the helper: byte ranges over several connections, each tried again on its own,
# decoded, extracted by several writers at once (confined to the stage) and every file hashed on its
# way, in one process (dumont-pack extract; exit 3 when the archive holds a member of a kind a
# snapshot never has). Without it, tar reads the pipe 1 MiB at a time, not its default 10 KiB (a
# wakeup and a read each; reading "-", it waits for whole records by itself): 100,000 files
# extracted in 7.3-7.9 s against 8.2-9.2 s (five runs each, alternating, .prof scratch script);
# it is told not to warn of a copy member's record (DUMONT.copy), which it takes for a hard link.
# Either runs in the background as a process group of its own (set -m), watched; its status is the
# helper's, or the pipeline's with pipefail. Neither holds the sums' fd 3.
sums=-
if [ "$hash_as_extracted" = yes ]; then sums="$lists/sums"; fi
set -m
{
  if [ -n "$pack" ]; then
    "$pack" extract "$stage" "$lists/listed.raw" "$sums" < <(printf '%s\\n' "$url") 2> "$lists/extract.err"
  else
    download_archive \\
      | tar --numeric-owner --sparse --quoting-style=escape --blocking-factor=2048 --warning=no-unknown-keyword --index-file="$lists/listed.raw" -xvpf - -C "$stage" 2> "$lists/extract.err"
  fi
} 3>&- &
extraction=$!
set +m
# Its own output goes nowhere: nothing of it holds the command's stdout or stderr open.
stop_when_spool_goes "$extraction" < /dev/null > /dev/null 2>&1 3>&- &
watcher=$!
wait "$extraction"
status=($?)
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null
wait_for_lists
# An archive made before dumont-pack has "." members, which gave the stage the workspace folder's owner
# and mode: it stays ours.
chown "$(id -u):$(id -g)" -- "$stage" 2>/dev/null
chmod 0700 -- "$stage"
cat "$lists/extract.err" >&2
sed 's,\\(.\\)/$,\\1,' "$lists/listed.raw" > "$lists/listed"
# An archive that does not hold what its manifest says is refused (8), and nothing of it is put in
# place, even when LZ4 or tar also failed on it: it is forged, not merely damaged.
refuse() {
  echo "$1 (not extracted)" >&2
  exit 8
}
# tar names a member it refuses to write for its '..' in a message only, not in its listing.
# (tar 1.34 quotes it '..', older ones \`..'.)
sed -n "s/^tar: \\(.*\\): Member name contains [\\\`']\\.\\.'\$/\\1/p" "$lists/extract.err" >> "$lists/listed"
sort -u "$lists/known-listing" | comm -23 <(sort -u "$lists/listed") - > "$lists/unlisted"
if [ -s "$lists/unlisted" ]; then refuse "the archive holds $(head -n 1 "$lists/unlisted"), which its manifest does not name"; fi
# What tar wrote against what the manifest names, type and path ("f ./a", "d ./a/b"; raw bytes,
# NUL-separated, sorted the same way). The type counts: a path the manifest calls a folder, staged
# as a symlink, would lead later steps (directory times, the held-back symlinks) elsewhere.
# Symlinks that leave their directory are noted as the stage is listed, and removed from it once
# it passed (below).
(cd "$stage" && find . -mindepth 1 -printf '%y %p\\0' \\( ${symlinksLeavingTheirDirectory} -fprintf "$lists/leaving" '%p\\0' -o -true \\)) | sort -z > "$lists/staged" || exit 6
sort -z -u "$lists/known" | comm -z -23 "$lists/staged" - > "$lists/unexpected" || exit 6
if [ -s "$lists/unexpected" ]; then
  unexpected=$(head -z -n 1 "$lists/unexpected" | tr -d '\\0' | tr '\\n' '?')
  case \${unexpected%% *} in
    f) refuse "the archive holds the file \${unexpected#* }, which its manifest does not name as a file" ;;
    d) refuse "the archive holds the folder \${unexpected#* }, which its manifest does not name as a folder" ;;
    l) refuse "the archive holds the symlink \${unexpected#* }, which its manifest does not name as a symlink" ;;
    # A snapshot holds files, folders and symlinks only: a device node or a FIFO is refused.
    *) refuse "the archive holds \${unexpected#* }, which is neither a file, a folder nor a symlink" ;;
  esac
fi
# A device node or a FIFO the helper did not make (the listing and the stage checked first: a
# member such a header's size hides is named as what it is).
if [ -n "$pack" ] && [ "\${status[0]}" = 3 ]; then
  refuse "$(sed -n 's/^dumont-pack: extract: \\(the archive holds .*\\)$/\\1/p' "$lists/extract.err" | head -n 1)"
fi
# No symlink that leaves its directory reaches /workspace from an archive: the snapshot's own are
# made at the very end (restoreSymlinksScript), so a placed archive needs no sweep of the workspace
# (a walk of every entry) after it.
if ! (cd "$stage" && xargs -0 -r rm -f -- < "$lists/leaving"); then
  echo "refusing to go on: the symlinks that leave their directory could not all be removed from the stage" >&2
  exit 7
fi
# tar makes a copy member (a large file whose bytes the archive holds once, under another name:
# dataplane/pack/duplicates.go) a hard link of that other name, with its mode and times, where the
# helper makes a file of its own. Without the helper, the large files the stage holds (over 256 KiB:
# those the helper may have archived as copies) are compared with the manifest's
# ($lists/large-files: "<mode>\\0<mtime>\\0<mtime for touch>\\0<path>\\0"): one with several names is
# made a file of its own again, so writing one never changes another (a large file that had
# several names in the workspace then takes its room once per name), and one whose mode or time is
# not its own (a copy whose first a later member replaced) is given its own.
if [ -z "$pack" ] && [ -s "$lists/large-files" ]; then
  (cd "$stage" && find . -type f -size +${copyableAbove / 1024}k -printf '%n %m %T@\\0%P\\0') > "$lists/staged-large" || exit 6
  declare -A staged=()
  while IFS= read -r -d '' now && IFS= read -r -d '' name; do staged["$name"]=$now; done < "$lists/staged-large"
  while ((\${#staged[@]} > 0)) && IFS= read -r -d '' mode && IFS= read -r -d '' mtime && IFS= read -r -d '' touch_time && IFS= read -r -d '' name; do
    now=\${staged["$name"]:-}
    if [ -z "$now" ]; then continue; fi
    file="$stage/$name"
    part=
    if [ "\${now%% *}" -gt 1 ] && [ "$(stat -c %h -- "$file")" -gt 1 ] && ! { part=$(mktemp "\${file%/*}/.dumont-split.XXXXXXXX") && cp -p -- "$file" "$part" && mv -f -- "$part" "$file"; }; then
      if [ -n "$part" ]; then rm -f -- "$part"; fi
      echo "could not make ./$name a file of its own" >&2
      exit 6
    fi
    if [ "\${now%% *}" -gt 1 ] || [ "\${now#* }" != "$mode $mtime" ]; then
      if ! chmod -- "$mode" "$file" || ! touch -m -d "@$touch_time" -- "$file"; then
        echo "could not give ./$name its own mode and time" >&2
        exit 6
      fi
    fi
  done < "$lists/large-files"
fi
# A later link waits for its turn: the link before it placed, and its sums taken by the controller.
if [ "$place" != first ]; then wait_for "$lists/turn" 21600 "this link's turn to be placed never came from the controller"; fi
touched=yes
if [ "$place" != first ]; then
  # Another restore's stage (a killed one's) is not the workspace's; this restore's are its own.
  find ${workspace} -mindepth 1 -maxdepth 1 -name '.dumont-stage-*' ! -name "$ours*" -exec rm -rf -- {} +
  remove_listed "$lists/remove-before" || exit 7
fi
# The sums go to the controller while the archive is placed (it takes them only when this exits 0).
sending=
if [ "\${status[0]}" = 0 ]; then
  cat -- "$lists/sums" 2>/dev/null >&3 &
  sending=$!
fi
# Into place. The first link lands in an emptied workspace: its top-level entries are renamed. A
# later one is copied member by member (the names the manifest gives and tar wrote, not the stage
# itself nor the folders tar made for them, whose modes would replace the workspace's), in posix
# format for nanosecond times.
if [ "$place" = first ]; then
  # Anything written into the workspace since the script began goes too.
  empty_workspace
  find "$stage" -mindepth 1 -maxdepth 1 -exec mv -f -t ${workspace} -- {} +
  status+=($?)
else
  sed -z 's/^. //' "$lists/staged" | sort -z | comm -z -12 - <(sort -z -u "$lists/members") | comm -z -23 - <(sort -z "$lists/leaving") \
    | tar -C "$stage" --format=posix --numeric-owner --sparse --null --no-recursion -T - -cf - \
    | tar --numeric-owner --sparse -xpf - -C ${workspace}
  status+=("\${PIPESTATUS[@]}")
fi
rm -rf -- "$stage"
remove_listed "$lists/remove-after" || exit 7
for s in "\${status[@]}"; do if [ "$s" != 0 ]; then echo "download/extract failed (\${status[*]})" >&2; exit 6; fi; done
if [ -n "$sending" ]; then wait "$sending"; fi
exit 0
`;
}

/**
 * Creates the symlinks the restore held back (see symlinksLeavingTheirDirectory) from
 * "<target>\\0<mtime>\\0<path>\\0" records on stdin, each only where every parent is a real
 * directory (exit 7 otherwise). With dumont-pack's path as $1, the helper does it (`symlinks`:
 * the same guards and statuses, without two processes per symlink).
 */
export function restoreSymlinksScript(): string {
  return `set -euo pipefail
export LC_ALL=C
if [ -n "\${1:-}" ]; then exec "$1" symlinks ${workspace}; fi
cd ${workspace}
${pathGuards}
while IFS= read -r -d '' target && IFS= read -r -d '' mtime && IFS= read -r -d '' path; do
  parents_are_directories "$path" || exit 7
  # -T: a path that is already there (a symlink to a folder, say) is an error, never a folder to
  # create the link in.
  ln -s -T -- "$target" "./$path"
  touch -h -m -d "@$mtime" -- "./$path"
done
`;
}

/**
 * Sets directory mtimes from "<mtime>\\0<path>\\0" records on stdin, deepest first: extracting
 * later archives and deleting paths touches the directories after tar set their times. Only real
 * directories below real directories are touched (exit 7 names a parent that is not one); what is
 * missing or of another type is left for the verification to name. With dumont-pack's path as $1,
 * the helper does it (`dir-times`: the same guards and statuses, without a process per folder).
 */
export function directoryTimesScript(): string {
  return `set -euo pipefail
export LC_ALL=C
if [ -n "\${1:-}" ]; then exec "$1" dir-times ${workspace}; fi
cd ${workspace}
${pathGuards}
while IFS= read -r -d '' mtime && IFS= read -r -d '' path; do
  checked=0
  parents_are_directories "$path" || checked=$?
  if [ "$checked" = 1 ]; then exit 7; fi
  if [ "$checked" = 0 ] && [ -d "./$path" ] && [ ! -L "./$path" ]; then touch -h -m -d "@$mtime" -- "./$path"; fi
done
`;
}
