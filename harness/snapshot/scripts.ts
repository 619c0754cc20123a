// The programs a snapshot runs on the GPU host, as bash text from pure functions (snapshot-tested).
// They use only what a Vast image has: bash, find, tar, lz4, md5sum, split, curl. Paths travel as
// NUL-separated lists and URLs on stdin or in files, never inside the command line.

/** Where the workspace is on every host. */
export const workspace = "/workspace";

/**
 * Lists every entry under the tree at $1 (default /workspace) as six NUL-terminated fields: type,
 * path, size, mode, mtime, symlink target (see manifest.ts: parseScan).
 */
export function scanScript(): string {
  return `set -euo pipefail
root=\${1:-${workspace}}
if [ ! -d "$root" ]; then echo "no $root on this host" >&2; exit 3; fi
cd "$root"
find . -mindepth 1 -printf '%y\\0%P\\0%s\\0%m\\0%T@\\0%l\\0'
`;
}

/**
 * MD5 of the files named (NUL-separated, relative to the tree at $1, default /workspace) on stdin,
 * as \`md5sum -z\` prints them. Two workers use both cores; each writes its own file so records
 * never interleave.
 */
export function hashScript(): string {
  return `set -euo pipefail
cd "\${1:-${workspace}}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
xargs -0 -r -n 512 -P 2 sh -c 'md5sum -z -- "$@" > "$(mktemp -p "$0")"' "$out"
cat "$out"/* 2>/dev/null || true
`;
}

/**
 * The upload: the listed entries (a NUL-separated list at $spool/list) go through
 * tar | lz4 | split into parts of $part_size bytes, each PUT to its presigned URL ($spool/urls, one
 * per line, part 1 first) by up to $concurrency background curls that retry with backoff. Memory is
 * bounded: at most concurrency+1 parts exist at once, in the spool folder. Prints
 * "stream <md5> <bytes>" and one "part <n> <etag> <bytes>" line per part.
 *   args: spool part_size concurrency
 */
export function uploadScript(): string {
  return `set -euo pipefail
spool=$1
part_size=$2
concurrency=$3
export spool concurrency
cd ${workspace}
cat > "$spool/part.sh" <<'PART'
set -uo pipefail
n=$((10#\${FILE##*x} + 1))
url=$(sed -n "\${n}p" "$spool/urls")
if [ -z "$url" ]; then echo "no presigned URL for part $n" > "$spool/p$n.failed"; cat > /dev/null; exit 0; fi
cat > "$spool/p$n"
while [ "$(find "$spool" -maxdepth 1 -name '*.busy' | wc -l)" -ge "$concurrency" ]; do sleep 0.02; done
touch "$spool/p$n.busy"
(
  if curl -sS --fail --retry 8 --retry-all-errors --retry-max-time 120 --connect-timeout 20 \\
       -X PUT -T "$spool/p$n" -D "$spool/p$n.headers" -o /dev/null "$url" 2>"$spool/p$n.err"; then
    etag=$(grep -i '^etag:' "$spool/p$n.headers" | tail -n 1 | cut -d' ' -f2- | tr -d '\\r"')
    md5=$(md5sum < "$spool/p$n" | cut -d' ' -f1)
    # Where the store reports a part's MD5 as its ETag (S3, MinIO), the bytes must match.
    if [[ "$etag" =~ ^[0-9a-f]{32}$ ]] && [ "$etag" != "$md5" ]; then
      echo "part $n: stored ETag $etag is not the part's MD5 $md5" > "$spool/p$n.failed"
    else
      echo "part $n $etag $(stat -c %s "$spool/p$n")" > "$spool/p$n.done"
    fi
  else
    { echo "part $n upload failed:"; cat "$spool/p$n.err"; } > "$spool/p$n.failed"
  fi
  rm -f "$spool/p$n" "$spool/p$n.busy"
) </dev/null >/dev/null 2>&1 &
PART
# Progress for the controller: parts uploaded so far, once a second, on stderr. It is stopped at
# exit, or its open stderr would keep the SSH channel (and the caller) waiting.
( while :; do sleep 1 </dev/null >/dev/null 2>&1; echo "progress $(find "$spool" -maxdepth 1 -name '*.done' | wc -l)" >&2; done ) &
progress_pid=$!
trap 'kill "$progress_pid" 2>/dev/null || true' EXIT
tar --format=posix --null --no-recursion -T "$spool/list" --sparse --numeric-owner -cf - \\
  | lz4 -1 -z -q - - \\
  | tee >(md5sum > "$spool/stream.md5") >(wc -c > "$spool/stream.bytes") \\
  | split -a 5 -d -b "$part_size" --filter='bash "$spool/part.sh"' -
while [ -n "$(find "$spool" -maxdepth 1 -name '*.busy' -print -quit)" ] || [ ! -s "$spool/stream.md5" ] || [ ! -s "$spool/stream.bytes" ]; do sleep 0.05; done
if compgen -G "$spool/*.failed" > /dev/null; then cat "$spool"/*.failed >&2; exit 4; fi
echo "stream $(cut -d' ' -f1 "$spool/stream.md5") $(cat "$spool/stream.bytes")"
cat "$spool"/*.done 2>/dev/null | sort -k2 -n
`;
}

/**
 * The restore of one archive of a chain into /workspace: download (with retries) | check MD5 on
 * the fly | lz4 -d | tar -x, then remove the paths this snapshot deleted ($spool/deleted,
 * NUL-separated). Exit 5 when the object's MD5 is not the manifest's: the caller still verifies every
 * file and names the damaged ones.
 *   args: spool expected_md5; stdin: the presigned GET URL
 */
export function restoreArchiveScript(): string {
  return `set -uo pipefail
spool=$1
expected=$2
read -r url
mkdir -p ${workspace}
cd ${workspace}
curl -sS --fail --retry 8 --retry-all-errors --retry-max-time 120 --connect-timeout 20 "$url" \\
  | tee >(md5sum > "$spool/got.md5") \\
  | lz4 -d -q - - \\
  | tar --numeric-owner --sparse -xpf - -C ${workspace}
status=("\${PIPESTATUS[@]}")
while [ ! -s "$spool/got.md5" ]; do sleep 0.02; done
got=$(cut -d' ' -f1 "$spool/got.md5")
if [ -s "$spool/deleted" ]; then xargs -0 -r rm -rf -- < "$spool/deleted"; fi
if [ "$got" != "$expected" ]; then echo "archive MD5 $got, manifest says $expected" >&2; exit 5; fi
for s in "\${status[@]}"; do if [ "$s" != 0 ]; then echo "download/extract failed (\${status[*]})" >&2; exit 6; fi; done
`;
}

/**
 * Sets directory mtimes from "<mtime>\\0<path>\\0" records on stdin, deepest first: extracting
 * later archives and deleting paths touches the directories after tar set their times.
 */
export function directoryTimesScript(): string {
  return `set -euo pipefail
cd ${workspace}
while IFS= read -r -d '' mtime && IFS= read -r -d '' path; do
  touch -h -m -d "@$mtime" -- "./$path"
done
`;
}

/** Removes everything in /workspace (restore replaces the tree; it does not merge into it). */
export function emptyWorkspaceScript(): string {
  return `set -euo pipefail
mkdir -p ${workspace}
find ${workspace} -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
`;
}
