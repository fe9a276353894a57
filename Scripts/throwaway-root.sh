#!/usr/bin/env bash
# Runs a command in a throwaway copy of this machine's root filesystem: a private mount namespace
# with an overlay over /, whose changes live in memory and vanish when the command ends. Needs root
# (or the right to create mount namespaces) and overlayfs.
#   Scripts/throwaway-root.sh [--copy DIR] [--hide DIR]... -- COMMAND [ARGS...]
#   --copy DIR   copy DIR's contents into the root first (e.g. a DESTDIR of `make install`)
#   --hide DIR   mount an empty folder over DIR inside the root (e.g. the Swift toolchain)
set -euo pipefail
copy=""
hide=()
while [ $# -gt 0 ]; do
    case "$1" in
        --copy) copy=$(cd "$2" && pwd); shift 2 ;;
        --hide) hide+=("$2"); shift 2 ;;
        --) shift; break ;;
        *) echo "throwaway-root: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "throwaway-root: no command given" >&2; exit 2; }
base=$(mktemp -d /tmp/medtag-root.XXXXXX)
trap 'rmdir "$base" 2>/dev/null || true' EXIT
# shellcheck disable=SC2016
unshare --mount --propagation private bash -euo pipefail -c '
    base=$1 copy=$2 hidden=$3; shift 3
    mount -t tmpfs -o size=4g,mode=755 medtag-root "$base"
    mkdir -p "$base/upper" "$base/work" "$base/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
    mount --rbind /dev "$base/root/dev"
    mount -t proc proc "$base/root/proc"
    mount -t tmpfs tmpfs "$base/root/tmp"
    mount -t tmpfs -o mode=755 tmpfs "$base/root/run"
    for dir in $hidden; do mount -t tmpfs -o mode=755 hidden "$base/root$dir"; done
    if [ -n "$copy" ]; then cp -a "$copy/." "$base/root/"; fi
    exec chroot "$base/root" "$@"
' throwaway-root "$base" "$copy" "${hide[*]:-}" "$@"
