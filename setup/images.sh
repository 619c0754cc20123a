#!/usr/bin/env bash
# The local cloud's machine images: root filesystems its hosts run, built once from Debian's
# packages with debootstrap and cached in .tools/images/. They hold what the real images hold, so
# that tests see what breaks on a real GPU:
#   gpu      a CUDA/PyTorch runtime image as Vast runs it: a minimal Debian userland (shell,
#            coreutils, tar, apt; no rsync, lz4, curl, Node.js or Go) plus the OpenSSH server that
#            Vast's SSH launch mode adds
#   standby  the GCP Debian image the standby boots: the same plus curl and ca-certificates
# and a package mirror: the .deb files of what Dumont installs on hosts (rsync, lz4, curl and what
# they need), served by the local cloud like a provider's regional mirror (apt on a host must
# download and install them, as on a real machine).
# Usage: setup/images.sh TOOLS_DIR   (run by setup.sh; needs root, debootstrap and apt-ftparchive)
set -euo pipefail

TOOLS=$1
SUITE=bookworm
ARCHIVE=http://deb.debian.org/debian
# What a host may have to install: Dumont's data plane needs these on every GPU and on the standby.
MIRROR_PACKAGES=(rsync lz4 curl ca-certificates)
SPEC="suite=$SUITE gpu=openssh-server standby=openssh-server,curl,ca-certificates mirror=${MIRROR_PACKAGES[*]} v2"
IMAGES="$TOOLS/images"
STAMP="$IMAGES/images.stamp"

say() { [ "${QUIET:-0}" = 1 ] || echo "setup: $*" >&2; }

if [ "$(cat "$STAMP" 2>/dev/null)" = "$SPEC" ]; then exit 0; fi
[ "$(id -u)" = 0 ] || { echo "setup: error: building the local cloud's images needs root (debootstrap)" >&2; exit 1; }
started=$SECONDS
building="$IMAGES.building"
rm -rf "$building"
mkdir -p "$building"

# One debootstrap, then copies: the standby image is the GPU image plus its packages.
say "building the local cloud's images (debootstrap $SUITE, about 2 minutes; log: $building/debootstrap.log)"
debootstrap --variant=minbase --include=openssh-server "$SUITE" "$building/gpu" "$ARCHIVE" >"$building/debootstrap.log" 2>&1 \
  || { echo "setup: error: debootstrap failed: $(tail -5 "$building/debootstrap.log")" >&2; exit 1; }
cp -a "$building/gpu" "$building/standby"

in_root() { # root command…: a command inside an image, with /proc and /dev for apt and dpkg
  local root=$1
  shift
  unshare --mount --propagation private -- sh -c 'root=$1; shift; mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && exec chroot "$root" "$@"' sh "$root" "$@"
}
cp /etc/resolv.conf "$building/standby/etc/resolv.conf"
in_root "$building/standby" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates" >>"$building/debootstrap.log" 2>&1 \
  || { echo "setup: error: installing the standby image's packages failed: $(tail -5 "$building/debootstrap.log")" >&2; exit 1; }

# The mirror: the packages (and their dependencies the GPU image lacks), downloaded as apt would.
mkdir -p "$building/mirror"
cp /etc/resolv.conf "$building/gpu/etc/resolv.conf"
in_root "$building/gpu" sh -c "apt-get update -qq && apt-get install -y -qq --download-only --no-install-recommends ${MIRROR_PACKAGES[*]}" >>"$building/debootstrap.log" 2>&1 \
  || { echo "setup: error: downloading the mirror's packages failed: $(tail -5 "$building/debootstrap.log")" >&2; exit 1; }
cp "$building/gpu/var/cache/apt/archives/"*.deb "$building/mirror/"
(cd "$building/mirror" && apt-ftparchive packages . > Packages && gzip -9kf Packages && apt-ftparchive release . > Release)

# As images ship: no package lists, no downloaded packages, no resolver of the build machine; the
# GPU image is told its "provider's" mirror at boot (the local cloud writes its sources.list).
for image in gpu standby; do
  root="$building/$image"
  rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/archives/"*.deb "$root/etc/resolv.conf"
  rm -f "$root/etc/apt/sources.list" "$root/etc/apt/sources.list.d/"*
  mkdir -p "$root/workspace" "$root/run/dumont-host"
done

rm -rf "$IMAGES"
mv "$building" "$IMAGES"
echo "$SPEC" > "$STAMP"
say "images ready in $((SECONDS - started))s: gpu $(du -sh "$IMAGES/gpu" | cut -f1), standby $(du -sh "$IMAGES/standby" | cut -f1), mirror $(ls "$IMAGES/mirror" | grep -c '\.deb$') packages"
