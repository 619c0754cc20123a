#!/usr/bin/env bash
# Dumont's one setup step. Both README commands run it first; it is idempotent and a second run
# only checks stamps. It installs what is missing and nothing else:
#   1. Debian packages the local cloud and the data plane use (needs root only if some are missing)
#   2. npm dependencies (npm ci, when package-lock.json changed since the last run)
#   3. Go-built tools in .tools/ (git-ignored): the Pulumi CLI, its Node.js language host, the
#      dynamic-provider shim, the command provider plugin, MinIO, its admin client mc, s5cmd, and
#      dumont-pack (the snapshot helper sent to GPU hosts) and the local cloud's S3 relay.
#      Each is built in a temporary folder and moved into place only when complete, so a killed
#      build never leaves a tool that a later run mistakes for a good one.
# Usage: setup/setup.sh [--quiet] [--bench]   (--bench adds the benchmark baselines, e.g. restic)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=setup/versions.sh
source "$ROOT/setup/versions.sh"
# DUMONT_TOOLS_DIR moves the built tools elsewhere (e.g. a cache shared by several checkouts).
TOOLS="${DUMONT_TOOLS_DIR:-$ROOT/.tools}"
QUIET=0
BENCH=0
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --bench) BENCH=1 ;;
    *) echo "setup: unknown option '$arg' (expected --quiet or --bench)" >&2; exit 2 ;;
  esac
done

say() { [ "$QUIET" = 1 ] || echo "setup: $*" >&2; }
fail() { echo "setup: error: $*" >&2; exit 1; }
started=$SECONDS

# The checkout's state (.state/: the passphrase of every stack secret, stack records, the local
# cloud's keys) is its owner's alone, whatever made the folder first and whatever the umask. Another
# user running setup (a check) leaves it alone; Dumont itself makes every state folder it creates 0700.
[ -e "$ROOT/.state" ] || (umask 077 && mkdir "$ROOT/.state") 2>/dev/null || true
if [ -O "$ROOT/.state" ]; then chmod 700 "$ROOT/.state"; fi

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
# command -> package. The controller needs ssh-keygen, ip (iproute2), unshare/nsenter (util-linux),
# ps/pkill (procps); tests and benchmarks also use rsync, lz4, tar, curl and md5sum on it. (The local
# cloud's hosts run images of their own, which have none of that until Dumont installs it.)
declare -A PACKAGE_OF=(
  [sshd]=openssh-server [ssh-keygen]=openssh-client [rsync]=rsync [lz4]=lz4
  [ip]=iproute2 [curl]=curl [unshare]=util-linux [nsenter]=util-linux [pkill]=procps
  [tar]=tar [md5sum]=coreutils [git]=git
  # The local cloud's hosts run images built from Debian's packages (setup/images.sh).
  [debootstrap]=debootstrap [apt-ftparchive]=apt-utils
  # The journey's HTML report is proven by a headless-Chromium screenshot; fontconfig brings a font.
  [chromium-headless-shell]=chromium-headless-shell [fc-match]=fontconfig
)
[ "$BENCH" = 1 ] && PACKAGE_OF[restic]=restic
missing_packages=()
for cmd in "${!PACKAGE_OF[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    missing_packages+=("${PACKAGE_OF[$cmd]}")
  fi
done
if [ ${#missing_packages[@]} -gt 0 ]; then
  mapfile -t missing_packages < <(printf '%s\n' "${missing_packages[@]}" | sort -u)
  if [ "$(id -u)" != 0 ]; then
    fail "missing Debian packages: ${missing_packages[*]}. Install them as root:
  sudo apt-get update && sudo apt-get install -y ${missing_packages[*]}
then run setup again."
  fi
  say "installing Debian packages: ${missing_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null \
    || fail "apt-get install ${missing_packages[*]} failed"
fi

# ---------------------------------------------------------------------------------------------
# 2. npm dependencies
# ---------------------------------------------------------------------------------------------
mkdir -p "$TOOLS"
lock_hash=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
npm_stamp="$ROOT/node_modules/.dumont-npm-stamp"
if [ ! -x "$ROOT/node_modules/.bin/node" ] || [ "$(cat "$npm_stamp" 2>/dev/null)" != "$lock_hash" ]; then
  say "npm ci (package-lock.json changed or node_modules missing)"
  command -v npm >/dev/null || fail "npm is missing: install Node.js and npm (Debian: apt-get install -y nodejs npm)"
  (cd "$ROOT" && npm ci --no-fund --no-audit --loglevel=error) || fail "npm ci failed"
  echo "$lock_hash" > "$npm_stamp"
fi
"$ROOT/node_modules/.bin/node" --version >/dev/null 2>&1 \
  || fail "the project's Node.js (npm package node@$NODE_VERSION) does not run; remove node_modules and run setup again"

# ---------------------------------------------------------------------------------------------
# 3. Go-built tools
# ---------------------------------------------------------------------------------------------
# A tool is "installed" when its folder exists under .tools/ with its version in the name; the
# folder is only ever created by an atomic rename of a finished build.
need_go() {
  command -v go >/dev/null 2>&1 || fail "Go $GO_MIN_VERSION or newer is needed to build $1 (Pulumi's engine is built from its Go modules here).
  Install it from your distribution (Debian: apt-get install -y golang-go, if new enough) or https://go.dev/dl,
  put 'go' on PATH, and run setup again. Or install $1 yourself and put it on PATH."
  local have
  have=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]; then
    fail "Go $have is too old to build $1; Go $GO_MIN_VERSION or newer is needed"
  fi
}

# build_tool NAME DEST_DIR BUILD_FUNCTION PRODUCT...: runs BUILD_FUNCTION with $STAGE (a fresh temp
# dir) and renames $STAGE to DEST_DIR only if it succeeded and every PRODUCT (a path relative to
# the stage) is an executable file.
build_tool() {
  local name=$1 dest=$2 fn=$3
  shift 3
  [ -d "$dest" ] && return 0
  need_go "$name"
  say "building $name (first run only; minutes on 2 cores)"
  local t0=$SECONDS
  STAGE=$(mktemp -d "$TOOLS/.build-$name.XXXXXX")
  local product ok=1 rc
  # Not `( … ) || ok=0`: bash ignores errexit inside a subshell that is part of an || list, and a
  # failed step must stop the build.
  set +e
  (set -euo pipefail; "$fn") >"$STAGE.log" 2>&1
  rc=$?
  set -e
  [ "$rc" = 0 ] || ok=0
  for product in "$@"; do
    [ -x "$STAGE/$product" ] || { ok=0; echo "missing product: $product" >>"$STAGE.log"; }
  done
  if [ "$ok" = 0 ]; then
    tail -n 30 "$STAGE.log" >&2
    rm -rf "$STAGE"
    fail "building $name failed (full log: $STAGE.log)"
  fi
  rm -rf "$dest"
  mv "$STAGE" "$dest"
  rm -f "$STAGE.log"
  say "built $name in $((SECONDS - t0))s"
}

# GOFLAGS from the caller (e.g. -p=1 on a busy machine) are kept.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath" GOTOOLCHAIN=local GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"

# The CLI is built from a wrapper module (setup/go/pulumi) because Pulumi's own go.mod carries
# replace directives, which `go install pkg@version` refuses. The Node.js language host and the
# command provider are Dumont's own (setup/go/*/main.go say why), built against the same SDK.
build_pulumi() {
  cp "$ROOT/setup/go/pulumi/go.mod" "$ROOT/setup/go/pulumi/go.sum" "$STAGE/"
  mkdir -p "$STAGE/bin"
  (cd "$STAGE" && go build -mod=mod -o bin/ -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  (cd "$ROOT/setup/go/language-host" && go build -mod=mod -o "$STAGE/bin/pulumi-language-nodejs" \
    -ldflags "-s -w -X main.version=$PULUMI_VERSION" .)
  rm -f "$STAGE/go.mod" "$STAGE/go.sum"
  # The YAML language host (examples/yaml), next to the engine as Pulumi's releases bundle it; it
  # finds the Node.js host there in turn for Dumont's component package (pulumi-package/).
  build_from_module github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "v$PULUMI_YAML_VERSION" "$STAGE/bin" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$PULUMI_YAML_VERSION"
  # The engine finds this bundled plugin next to the real pulumi binary.
  install -m 0755 "$ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$STAGE/bin/"
  "$STAGE/bin/pulumi" version | grep -qx "v$PULUMI_VERSION"
}

build_command_provider() {
  (cd "$ROOT/setup/go/command-provider" && go build -mod=mod -o "$STAGE/pulumi-resource-command" \
    -ldflags "-s -w -X main.version=$COMMAND_VERSION" .)
}

# A throwaway main module that requires PACKAGE@VERSION (and so its module) and builds PACKAGE
# into OUT_DIR. Plain `go install pkg@version` would also work for these, but it asks the proxy for
# the module's version list (to report deprecations), which this proxy refuses for some modules.
build_from_module() {
  local package=$1 version=$2 out=$3
  shift 3
  mkdir -p "$STAGE/mod"
  (cd "$STAGE/mod" && go mod init example.invalid/build >/dev/null 2>&1 \
    && go get "$package@$version" && go build -o "$out/" "$@" "$package")
  rm -rf "$STAGE/mod"
}

build_minio() {
  build_from_module github.com/minio/minio "$MINIO_VERSION" "$STAGE" -tags kqueue
}

build_mc() {
  build_from_module github.com/minio/mc "$MC_VERSION" "$STAGE" -ldflags "-s -w"
}

build_s5cmd() {
  build_from_module github.com/peak/s5cmd/v2 "v$S5CMD_VERSION" "$STAGE" \
    -ldflags "-X github.com/peak/s5cmd/v2/version.Version=v$S5CMD_VERSION"
}

# The snapshot helper Dumont sends to GPU hosts (dataplane/pack): static, for both architectures
# Vast offers; its one module (pierrec/lz4) comes from the Go module proxy, checked by its go.sum.
# No VCS stamp: a checkout another user owns makes git refuse to say its revision.
build_pack() {
  local arch
  for arch in amd64 arm64; do
    (cd "$ROOT/dataplane/pack" && GOOS=linux GOARCH=$arch go build -buildvcs=false -ldflags "-s -w" -o "$STAGE/dumont-pack-linux-$arch" .)
  done
}

# The local cloud's S3 relay (local-cloud/s3-relay): standard library only.
build_s3_relay() {
  (cd "$ROOT/local-cloud/s3-relay" && go build -buildvcs=false -ldflags "-s -w" -o "$STAGE/s3-relay" .)
}

# Static: it runs inside a host's new root, where no library of the controller's is.
build_host_init() {
  (cd "$ROOT/local-cloud/host-init" && CGO_ENABLED=0 go build -buildvcs=false -ldflags "-s -w" -o "$STAGE/host-init" .)
}

# Folder names carry a hash of the sources they are built from, so an edit rebuilds.
src_hash() { cat "$@" | sha256sum | cut -c1-10; }
PULUMI_DIR="$TOOLS/pulumi-v$PULUMI_VERSION-$(src_hash "$ROOT"/setup/go/pulumi/go.* "$ROOT"/setup/go/language-host/* <(echo "yaml $PULUMI_YAML_VERSION"))"
COMMAND_DIR="$TOOLS/command-v$COMMAND_VERSION-$(src_hash "$ROOT"/setup/go/command-provider/*)"
PACK_DIR="$TOOLS/pack-$(src_hash "$ROOT"/dataplane/pack/*)"
RELAY_DIR="$TOOLS/s3-relay-$(src_hash "$ROOT"/local-cloud/s3-relay/*)"
HOST_INIT_DIR="$TOOLS/host-init-$(src_hash "$ROOT"/local-cloud/host-init/*)"

# A pulumi already on PATH (outside .tools) is used when it is at least the SDK's version.
user_pulumi=""
if p=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -v "^$TOOLS" | paste -sd:) command -v pulumi 2>/dev/null); then
  v=$("$p" version 2>/dev/null | sed 's/^v//') || v=""
  if [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$PULUMI_VERSION" "$v" | sort -V | head -n1)" = "$PULUMI_VERSION" ]; then
    user_pulumi=$p
    say "using your pulumi $v at $p"
  else
    say "ignoring pulumi ${v:-of unknown version} at $p: the SDK needs $PULUMI_VERSION or newer"
  fi
fi

[ -n "$user_pulumi" ] || build_tool "pulumi-$PULUMI_VERSION" "$PULUMI_DIR" build_pulumi \
  bin/pulumi bin/pulumi-language-nodejs bin/pulumi-language-yaml bin/pulumi-resource-pulumi-nodejs
build_tool "pulumi-resource-command-$COMMAND_VERSION" "$COMMAND_DIR" build_command_provider pulumi-resource-command
build_tool dumont-pack "$PACK_DIR" build_pack dumont-pack-linux-amd64 dumont-pack-linux-arm64
build_tool s3-relay "$RELAY_DIR" build_s3_relay s3-relay
build_tool host-init "$HOST_INIT_DIR" build_host_init host-init
build_tool "minio-$MINIO_VERSION" "$TOOLS/minio-$MINIO_VERSION" build_minio minio
build_tool "mc-$MC_VERSION" "$TOOLS/mc-$MC_VERSION" build_mc mc
build_tool "s5cmd-$S5CMD_VERSION" "$TOOLS/s5cmd-v$S5CMD_VERSION" build_s5cmd s5cmd

# .tools/bin is what `dumont env` puts on PATH: links to the pinned builds.
mkdir -p "$TOOLS/bin"
if [ -n "$user_pulumi" ]; then
  rm -f "$TOOLS/bin/pulumi"
else
  ln -sfn "$PULUMI_DIR/bin/pulumi" "$TOOLS/bin/pulumi"
fi
ln -sfn "$TOOLS/minio-$MINIO_VERSION/minio" "$TOOLS/bin/minio"
ln -sfn "$TOOLS/mc-$MC_VERSION/mc" "$TOOLS/bin/mc"
ln -sfn "$TOOLS/s5cmd-v$S5CMD_VERSION/s5cmd" "$TOOLS/bin/s5cmd"
# The controller reads the helper's builds from here (dataplane/snapshot/pack-helper.ts).
ln -sfn "$PACK_DIR" "$TOOLS/dumont-pack"
# The local cloud's daemon starts its S3 relay from here (local-cloud/s3-fault-proxy.ts).
ln -sfn "$RELAY_DIR" "$TOOLS/s3-relay"
# Each local-cloud host ends its start with it (local-cloud/host-files.ts).
ln -sfn "$HOST_INIT_DIR" "$TOOLS/host-init"

# The command provider goes into the project's plugin cache under its exact version, off PATH.
export PULUMI_HOME="$TOOLS/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
if [ "$(cat "$TOOLS/command-plugin.stamp" 2>/dev/null)" != "$COMMAND_DIR" ]; then
  "${user_pulumi:-$TOOLS/bin/pulumi}" plugin install resource command "$COMMAND_VERSION" \
    --file "$COMMAND_DIR/pulumi-resource-command" --reinstall >"$TOOLS/command-plugin.log" 2>&1 \
    || fail "pulumi plugin install of the command provider failed: $(cat "$TOOLS/command-plugin.log")"
  echo "$COMMAND_DIR" > "$TOOLS/command-plugin.stamp"
fi

# 4. The local cloud's machine images and package mirror (cached; rebuilt when their spec changes).
QUIET=$QUIET bash "$ROOT/setup/images.sh" "$TOOLS" || fail "building the local cloud's images failed"

say "ready in $((SECONDS - started))s"
