#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kbuild.sh SRC OBJ INCLUDE JOBS: configure and build the lx kernel, quietly.
#
# Extracts Debian's linux-source-6.1 into SRC (once), links arch/lx into it,
# applies kernel/patches, configures from kernel/lx.config and builds
# vmlinux, a relocatable object.  Prints a progress line every few hundred
# files; V=1 shows kbuild's own output.
set -eu
src=$1
include=$2
jobs=$3
here=$(cd "$(dirname "$0")" && pwd)
tarball=/usr/src/linux-source-6.1.tar.xz

if [ ! -f "$src/Makefile" ]; then
	if [ ! -f "$tarball" ]; then
		echo "kbuild: $tarball is missing: run 'make deps' first" >&2
		exit 1
	fi
	echo "  EXTRACT $tarball (about 15 s)"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	: > "$src.tmp/.lx-patches"
	mv "$src.tmp" "$src"
fi
# kernel/patches, in order.  .lx-patches lists what was applied and
# .lx-applied/ keeps a copy of each, so a patch changed since (or removed)
# is taken back out - with every later one - and the new series goes in:
# the tree follows kernel/patches without a new extraction.
# (trees from before the copies were kept: the listed ones are taken as
# they are now; trees from before the list: the first patch only)
applied=$src/.lx-applied
[ -f "$src/.lx-patches" ] ||
	(cd "$here/patches" && LC_ALL=C ls -- *.patch | head -1) > "$src/.lx-patches"
if [ ! -d "$applied" ]; then
	mkdir -p "$applied"
	while read -r name; do
		[ -f "$here/patches/$name" ] && cp "$here/patches/$name" "$applied/"
	done < "$src/.lx-patches"
fi
mapfile -t have < "$src/.lx-patches"
mapfile -t want < <(cd "$here/patches" && LC_ALL=C ls -- *.patch 2>/dev/null)
keep=0
while [ "$keep" -lt "${#have[@]}" ] && [ "$keep" -lt "${#want[@]}" ] &&
      [ "${have[$keep]}" = "${want[$keep]}" ] &&
      cmp -s "$applied/${have[$keep]}" "$here/patches/${want[$keep]}"; do
	keep=$((keep + 1))
done
for ((i = ${#have[@]} - 1; i >= keep; i--)); do
	echo "  UNPATCH ${have[$i]} (changed or removed)"
	# a dry run first: a tree edited by hand is left as it is
	if [ ! -f "$applied/${have[$i]}" ] ||
	   ! patch -s -R --dry-run -d "$src" -p1 <"$applied/${have[$i]}" \
		>/dev/null || ! patch -s -R -d "$src" -p1 <"$applied/${have[$i]}"; then
		echo "kbuild: cannot take ${have[$i]} back out of $src;" \
		     "remove $src to extract it again" >&2
		exit 1
	fi
	rm -f "$applied/${have[$i]}"
	# the list says what is in the tree after every step
	printf '%s\n' "${have[@]:0:$i}" | grep . > "$src/.lx-patches" ||
		: > "$src/.lx-patches"
done
for name in "${want[@]:$keep}"; do
	echo "  PATCH   $name"
	# a dry run first: a patch that fails leaves no half of it behind
	if ! patch -s -N --dry-run -d "$src" -p1 <"$here/patches/$name" \
		>/dev/null || ! patch -s -N -d "$src" -p1 <"$here/patches/$name"; then
		echo "kbuild: $name does not apply to $src" >&2
		exit 1
	fi
	cp "$here/patches/$name" "$applied/"
	echo "$name" >> "$src/.lx-patches"
done
rm -f "$src/arch/lx" 2>/dev/null || true
mkdir -p "$src/arch/lx"
rsync -a --delete --exclude include/generated "$here/arch/lx/" "$src/arch/lx/"

# our own -j: not a sub-make of the caller's jobserver
unset MAKEFLAGS MFLAGS MAKELEVEL
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/lx/ccache}
export CCACHE_BASEDIR=$(dirname "$here")
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime
mkdir -p "$CCACHE_DIR"
kmake=(make -C "$src" ARCH=lx "CC=ccache gcc" "LX_INCLUDE=$include"
       KBUILD_BUILD_TIMESTAMP=lx KBUILD_BUILD_USER=lx KBUILD_BUILD_HOST=lx
       -j"$jobs")

# kbuild's dependency files ignore headers that vanished: when arch/lx gains
# a header that replaces an asm-generic wrapper (or loses one), nothing
# would be rebuilt against it.  The list of arch headers decides.
headers=$(cd "$here/arch/lx" && find include -name '*.h' -not -path '*/generated/*' | sort | md5sum)
if [ -f "$src/.lx-headers" ] && [ "$(cat "$src/.lx-headers")" != "$headers" ]; then
	echo "  CLEAN   arch/lx headers were added or removed: a full rebuild"
	"${kmake[@]}" -s clean
fi
echo "$headers" >"$src/.lx-headers"

if [ ! -f "$src/.config" ] || [ "$here/lx.config" -nt "$src/.config" ]; then
	echo "  CONFIG  kernel/lx.config"
	"${kmake[@]}" -s allnoconfig KCONFIG_ALLCONFIG="$here/lx.config" \
		>"$src/.config.log" 2>&1 || { cat "$src/.config.log"; exit 1; }
fi

if [ "${V:-0}" = 1 ]; then
	"${kmake[@]}" V=1 vmlinux
	exit
fi
if [ ! -f "$src/vmlinux" ]; then
	echo "  KERNEL  first build: about 10 minutes on 2 cores (later ones: under a minute)"
fi
log=$src/.build.log
set +e
"${kmake[@]}" vmlinux 2>&1 | tee "$log" | awk '
	/^  (CC|AS|AR|LD)/ { n++; if (n % 250 == 0) { printf "  KERNEL  %d files\n", n; fflush() } }
	/error|Error|warning: / { print; fflush() }'
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
	echo "kbuild: kernel build failed; full log: $log" >&2
	tail -n 30 "$log" >&2
	exit "$rc"
fi
