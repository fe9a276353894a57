#!/usr/bin/env bash
# Builds the Debian package: `make install` (PREFIX=/usr) into a staging root, the control files
# from packaging/debian/, then dpkg-deb. Usage: Scripts/deb.sh OUTDIR  →  OUTDIR/medtag_VERSION_ARCH.deb
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
maintainer=${DEB_MAINTAINER:-medtag packagers <root@localhost>}
root="$out/deb-root"
rm -rf "$root"
mkdir -p "$out"
make --no-print-directory install DESTDIR="$PWD/$root" PREFIX=/usr >/dev/null
version=$("$root/usr/bin/medtag" --version)
rm -f "$out"/medtag_*.deb
arch=$(dpkg --print-architecture)
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@SIZE@|$size|" -e "s|@MAINTAINER@|$maintainer|" \
    packaging/debian/control.in > "$root/DEBIAN/control"
install -m 644 packaging/debian/conffiles "$root/DEBIAN/conffiles"
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
deb="$out/medtag_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root"
echo "$deb"
