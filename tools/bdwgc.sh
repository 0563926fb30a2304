#!/usr/bin/env bash
# Builds the bdwgc that Weft's generational collections need (issue 19):
# Debian bookworm's libgc 8.2.2-3 source package, Debian's patches, then
# ours (tools/bdwgc/*.patch, in name order; each says why), installed as a
# static library into PREFIX (default /opt/weft-bdwgc). CMake's
# WEFT_BDWGC=auto (the default) uses it when PREFIX/lib/libgc.a exists, and
# falls back to the system's libgc-dev otherwise (vm/gc/README.md).
#
# Idempotent: a stamp records the sources and patches it was built from;
# a second run with the same inputs does nothing. Needs curl or wget, tar,
# xz, patch, make and a C compiler.
#
# usage: tools/bdwgc.sh [PREFIX]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${1:-${WEFT_BDWGC_PREFIX:-/opt/weft-bdwgc}}"
pool="http://deb.debian.org/debian/pool/main/libg/libgc"
# The source package's files and their SHA-256, as the .dsc lists them; the
# .dsc's own hash is the one in bookworm's main/source/Sources, whose hash is
# in bookworm's InRelease, signed by the Debian stable release key (checked
# with gpgv against debian-archive-keyring when these were pinned). Plain
# http is what apt itself uses: the hashes are the check.
files=(
  "libgc_8.2.2-3.dsc 99eebbbf9f5a8fe659504f8cf7c26bc3a43fbe766d2c3b5ad3dfe8997a9a62ff"
  "libgc_8.2.2.orig.tar.gz f30107bcb062e0920a790ffffa56d9512348546859364c23a14be264b38836a0"
  "libgc_8.2.2-3.debian.tar.xz cbd0266c8c355d122d6754a8640e54f42ce2dbe3912fc226980823e9bd0ae3b4"
)
patches=("$here"/bdwgc/*.patch)

stamp_of() {
  printf '%s\n' "${files[@]}"
  cat "${patches[@]}" "$0"
}
stamp="$(stamp_of | sha256sum | cut -d' ' -f1)"
if [[ -f "$prefix/lib/libgc.a" && "$(cat "$prefix/.weft-bdwgc-stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "bdwgc: $prefix is up to date"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/weft-bdwgc.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
for entry in "${files[@]}"; do
  read -r name sum <<<"$entry"
  if command -v curl >/dev/null; then
    curl -fsSL -o "$name" "$pool/$name"
  else
    wget -q -O "$name" "$pool/$name"
  fi
  echo "$sum  $name" | sha256sum -c --quiet - || { echo "bdwgc: $name: checksum mismatch" >&2; exit 1; }
done

# The source tree the way dpkg-source -x makes it (format 3.0 quilt):
# upstream, debian/ over it, then debian/patches/series in order.
tar xzf libgc_8.2.2.orig.tar.gz
src="$work/gc-8.2.2"
tar xJf libgc_8.2.2-3.debian.tar.xz -C "$src"
if [[ -f "$src/debian/patches/series" ]]; then
  sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$src/debian/patches/series" | while read -r p _; do
    patch -d "$src" -p1 --quiet <"$src/debian/patches/$p"
  done
fi
for p in "${patches[@]}"; do
  patch -d "$src" -p1 --quiet <"$p"
done

# Debian's configuration (debian/rules: threads, parallel marking, no
# libatomic_ops), as a static library with position-independent code
# (Weft's executables are PIE) and without the C++ wrapper and docs. One
# setting of ours: the dirty-page table hashes block addresses modulo
# 2^LOG_PHT_ENTRIES blocks, by default 2^18 (1 GiB of address space), so
# on a larger heap every dirty page also dirties its aliases a GiB away,
# and a minor rescans them (at 1 GiB of old data, a 64 MiB array was
# rescanned in one minor in three). 2^20 covers 4 GiB, at 128 KiB per
# table (the dirty pages are copied and cleared once per collection).
mkdir build && cd build
"$src/configure" --prefix="$prefix" --enable-static --disable-shared --with-pic \
  --with-libatomic-ops=none --disable-docs --disable-dependency-tracking \
  CFLAGS="${CFLAGS:--g -O2} -DLOG_PHT_ENTRIES=20" >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
mkdir -p "$prefix"
make install >install.log 2>&1 || { tail -30 install.log >&2; exit 1; }
echo "$stamp" >"$prefix/.weft-bdwgc-stamp"
echo "bdwgc: installed into $prefix"
