#!/bin/bash
# km.sh TARGET...: run kbuild on the extracted tree (development helper).
src=$(cd "$(dirname "$0")/.." && pwd)/build/linux
here=$(cd "$(dirname "$0")" && pwd)
rsync -a --delete --exclude include/generated "$here/arch/lx/" "$src/arch/lx/"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/lx/ccache} CCACHE_BASEDIR=$src CCACHE_NOHASHDIR=1
exec make -C "$src" ARCH=lx "CC=ccache gcc" "LX_INCLUDE=$(cd "$here/.." && pwd)/include" \
	KBUILD_BUILD_TIMESTAMP=lx KBUILD_BUILD_USER=lx KBUILD_BUILD_HOST=lx "$@"
