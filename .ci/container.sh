#!/usr/bin/env bash
# Build the Containerfile image and run it for real, without a container runtime that starts
# containers (CI machines have none) and without a registry (none is reachable):
#   1. mmdebstrap a Debian base rootfs (python3, venv) from the Debian mirror apt already uses;
#   2. podman import it as the base image;
#   3. podman build --isolation chroot, the host's CA bundle mounted for pip;
#   4. podman image mount the result, mount /proc, /dev, /tmp and a /data volume into it,
#      and run tests/container/ (the image's own entrypoint under chroot as its user).
# Usage: bash .ci/container.sh [python]   (the python that has Lynkr's test extras)
# Skips, saying why, where podman or mmdebstrap cannot be installed; in CI (CI=true) it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${1:-python3}
started=$SECONDS

skip() {
  if [ "${CI:-}" = "true" ]; then echo "container: FAILED: $*" >&2; exit 1; fi
  echo "container: SKIPPED: $*"; exit 0
}

if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq podman mmdebstrap >/dev/null \
      || skip "podman or mmdebstrap could not be installed with apt-get"
  else
    skip "podman and mmdebstrap are needed (apt-get install podman mmdebstrap, as root)"
  fi
fi
[ "$(id -u)" = 0 ] || skip "the image is mounted and chrooted into: run as root"

# the suite and mirror the host's apt uses (deb822 or one-line sources)
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mirror=$(grep -hoE '^URIs: *http[^ ]*/debian/?$|^deb +http[^ ]*/debian/? ' \
         /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
         | head -1 | grep -oE 'http[^ ]*' || true)
mirror=${mirror:-http://deb.debian.org/debian}
cabundle=/etc/ssl/certs/ca-certificates.crt
work=$(mktemp -d /tmp/lynkr-container.XXXXXX)
base=localhost/lynkr-ci-base:$suite
image=localhost/lynkr:ci
root=""

cleanup() {
  set +e
  if [ -n "$root" ]; then
    for m in data tmp dev proc; do umount -R "$root/$m" 2>/dev/null; done
    podman image unmount "$image" >/dev/null 2>&1
    podman image prune -f >/dev/null 2>&1   # the build stage
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "container: [$((SECONDS - started)) s] $*"; }

if ! podman image exists "$base"; then
  step "mmdebstrap $suite from $mirror"
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$suite" "$work/rootfs.tar" "$mirror"
  podman import --quiet "$work/rootfs.tar" "$base" >/dev/null
  rm -f "$work/rootfs.tar"
fi

step "podman build (base $base)"
build_args=(--build-arg "BASE=$base")
[ -f "$cabundle" ] && build_args+=(--build-arg "CA_BUNDLE=$cabundle" -v "$cabundle:$cabundle:ro")
podman build --quiet --isolation chroot --format docker -f Containerfile -t "$image" \
  "${build_args[@]}" . >/dev/null
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$image"

step "podman image mount"
root=$(podman image mount "$image")
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
user=$(podman image inspect --format '{{.Config.User}}' "$image")
mount -t tmpfs -o "mode=0750,uid=$user" tmpfs "$root/data"   # the /data volume
podman image inspect "$image" > "$work/inspect.json"

step "tests/container against the mounted image"
LYNKR_IMAGE_ROOT=$root LYNKR_IMAGE_INSPECT=$work/inspect.json \
  "$PYTHON" -m pytest -q -p no:cacheprovider tests/container
step "done"
