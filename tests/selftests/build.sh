#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh - build some of Linux 6.1's own selftests, statically, for
# tests/t-selftests (which runs each one inside lx and natively).
#
# The sources are the kernel tree lx is built from (build/linux, Debian's
# linux-source-6.1 with lx's patches): tools/testing/selftests/{futex/
# functional,timers,net}.  Each test is compiled the way its Makefile
# compiles it (its -I paths, -D_GNU_SOURCE= for futex, its libraries),
# with "gcc -static -O2" instead of the Makefile's optimisation level, into
# OUT/GROUP/NAME - out of tree: nothing is written into the source tree.
# The uapi headers are the host's /usr/include (Debian 12's linux-libc-dev
# is 6.1), so no "make headers" in the kernel tree is needed; the net
# Makefile's -I../../../../usr/include is that same set of headers.
#
# One test gets a check linked in: tcp_fastopen_backup_key.sh reads
# TcpExtTCPFastOpenPassiveFail with nstat after each run, which cannot run
# inside lx (no exec yet), so the binary is linked with
# tests/selftests/netstat_check.c (-Wl,--wrap=main): after the test's own
# main returns 0, it reads /proc/net/netstat and fails unless the counter
# is 0.  The test's source is not changed.
#
# A test is rebuilt only when its sources (or this script) are newer than
# the binary.  Prints one line per test it builds; compiler output only on
# an error.

set -euo pipefail

prog=${0##*/}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/build/linux/tools/testing/selftests
out=$top/build/selftests
cc=${CC:-gcc}

usage()
{
	cat <<EOF
usage: $prog [--src DIR] [--out DIR] [--list]

Build Linux 6.1 selftests statically for tests/t-selftests:
  futex/functional: every test of run.sh
  timers:  nanosleep posix_timers set-timer-lat inconsistency-check
  net:     socket tcp_inq reuseport_dualstack reuseaddr_conflict
           so_netns_cookie sk_bind_sendto_listen sk_connect_zero_addr
           ipv6_flowlabel ipv6_flowlabel_mgr udpgso tcp_fastopen_backup_key

  --src DIR   the selftests directory (default
              build/linux/tools/testing/selftests)
  --out DIR   where the binaries go, as DIR/GROUP/NAME (default
              build/selftests); the source tree is never written
  --list      print GROUP/NAME of every test and exit
  --help      this text

CC (default gcc) is the compiler.  A test is rebuilt only when its sources
or this script changed.
EOF
}

# GROUP/NAME and the libraries the Makefile links it with
tests=(
	"futex/functional/futex_wait_timeout"
	"futex/functional/futex_wait_wouldblock"
	"futex/functional/futex_requeue_pi"
	"futex/functional/futex_requeue_pi_signal_restart"
	"futex/functional/futex_requeue_pi_mismatched_ops"
	"futex/functional/futex_wait_uninitialized_heap"
	"futex/functional/futex_wait_private_mapped_file"
	"futex/functional/futex_wait"
	"futex/functional/futex_requeue"
	"futex/functional/futex_waitv"
	"timers/nanosleep"
	"timers/posix_timers"
	"timers/set-timer-lat"
	"timers/inconsistency-check"
	"net/socket"
	"net/tcp_inq"
	"net/reuseport_dualstack"
	"net/reuseaddr_conflict"
	"net/so_netns_cookie"
	"net/sk_bind_sendto_listen"
	"net/sk_connect_zero_addr"
	"net/ipv6_flowlabel"
	"net/ipv6_flowlabel_mgr"
	"net/udpgso"
	"net/tcp_fastopen_backup_key"
)

list=0
while (($#)); do
	case $1 in
	--src) src=${2:?--src needs a directory}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--list) list=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "$prog: unknown argument '$1' ($prog --help)" >&2; exit 2 ;;
	esac
done

if ((list)); then
	printf '%s\n' "${tests[@]}"
	exit 0
fi
if [[ ! -d $src/futex/functional ]]; then
	echo "$prog: no selftests in $src (is build/linux extracted? make kernel)" >&2
	exit 1
fi
src=$(cd "$src" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
case $out/ in
"$src"/*) echo "$prog: --out $out is inside the source tree" >&2; exit 2 ;;
esac

# flags per group, as the groups' Makefiles give them (-O2 for all)
flags_for()
{
	local d=$src/$1

	case $1 in
	futex/functional)
		echo "-g -O2 -Wall -D_GNU_SOURCE= -pthread -I$d/../include -I$src"
		;;
	timers)
		echo "-O2 -Wall -I$src"
		;;
	net)
		echo "-Wall -O2 -g -I$src"
		;;
	esac
}

libs_for()
{
	case $1 in
	futex/functional) echo "-lpthread -lrt" ;;
	timers) echo "-lrt -lpthread -lm" ;;
	net/tcp_inq) echo "-lpthread" ;;
	esac
}

# Is $1 older than any of the other files?
stale()
{
	local bin=$1 f

	shift
	[[ -e $bin ]] || return 0
	for f; do
		[[ $f -nt $bin ]] && return 0
	done
	return 1
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
built=0
for t in "${tests[@]}"; do
	group=${t%/*}
	name=${t##*/}
	c=$src/$t.c
	dest=$out/$group/$name
	extra=()
	deps=("$c" "$src/kselftest.h" "${BASH_SOURCE[0]}")
	[[ $group == futex/functional ]] && deps+=("$src"/futex/include/*.h)
	if [[ $name == tcp_fastopen_backup_key ]]; then
		extra=("-Wl,--wrap=main" "$here/netstat_check.c")
		deps+=("$here/netstat_check.c")
	fi
	stale "$dest" "${deps[@]}" || continue
	mkdir -p "${dest%/*}"
	echo "  CC      $dest"
	# shellcheck disable=SC2046 # word splitting of the flags is wanted
	if ! "$cc" -static $(flags_for "$group") -o "$dest.tmp" "$c" \
		"${extra[@]}" $(libs_for "$t") $(libs_for "$group") >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$dest.tmp"
		echo "$prog: building $t failed" >&2
		exit 1
	fi
	mv "$dest.tmp" "$dest"
	built=$((built + 1))
done
exit 0
