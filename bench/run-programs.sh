#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Programs on lx against native, in one run: system call costs seen by a
# static program (bench/progbench.c) natively, under lxexec with every
# call trapped (Syscall User Dispatch, --no-rewrite) and with its call
# sites rewritten into direct calls (the default); the launch of a
# program that does nothing; the resident memory of an idle python3 from
# the Debian image; a program writing 256 MiB to an ext4 image in lx
# (virtio-blk) and to the host's file system.  Prints a markdown table.
#
# Usage: bench/run-programs.sh LXEXEC     (about 40 s)
set -eu
if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
	echo "usage: bench/run-programs.sh LXEXEC   (markdown table on stdout)"
	[[ $# -eq 1 && ( $1 == -h || $1 == --help ) ]] && exit 0
	exit 2
fi
lxexec=$1
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/lx-progbench.XXXXXX)
disk=$(mktemp -d /var/tmp/lx-progbench.XXXXXX)	# on the host's disk
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$root" "$disk"
}
trap cleanup EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/tmp"
gcc -O2 -static -pthread -o "$root/bin/progbench" "$here/progbench.c"
printf 'int main(void) { return 0; }\n' > "$root/true.c"
gcc -O2 -static -o "$root/bin/true" "$root/true.c"
# the time (CLOCK_REALTIME, ns) at which main() runs; in lx the clock is
# lx's, which reads the host's
cat > "$root/mainat.c" <<'EOF_C'
#include <stdio.h>
#include <time.h>
int main(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return 0;
}
EOF_C
gcc -O2 -static -o "$root/bin/mainat" "$root/mainat.c"

echo "  calls: native, trapped, rewritten (3 runs each)" >&2
field() { sed -n "s/^$1 //p" "$2"; }
median3() { sort -n | sed -n 2p; }
for i in 1 2 3; do
	"$root/bin/progbench" > "$root/native.$i"
	"$lxexec" --no-rewrite --rootfs "$root" -- /bin/progbench > "$root/trap.$i"
	"$lxexec" --rootfs "$root" -- /bin/progbench > "$root/rw.$i"
done
med() { for i in 1 2 3; do field "$1" "$root/$2.$i"; done | median3; }

# launch: median of 11 runs of a static program that returns at once,
# to its exit (lxexec's sync and exit included) and to its main()
echo "  launch: 11 runs each, to exit and to main()" >&2
median() { sort -n | sed -n 6p; }
# the first start of a new program finds its call sites (cached after)
"$lxexec" --rootfs "$root" -- /bin/true
"$lxexec" --rootfs "$root" -- /bin/mainat > /dev/null
for i in $(seq 11); do
	s=$(date +%s%N); "$root/bin/true"; e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
done | median > "$root/nat_launch"
for i in $(seq 11); do
	s=$(date +%s%N); "$lxexec" --rootfs "$root" -- /bin/true; e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
done | median > "$root/lx_launch"
for i in $(seq 11); do
	s=$(date +%s%N); m=$("$root/bin/mainat")
	echo $(( (m - s) / 1000 ))
done | median > "$root/nat_main"
for i in $(seq 11); do
	s=$(date +%s%N); m=$("$lxexec" --rootfs "$root" -- /bin/mainat)
	echo $(( (m - s) / 1000 ))
done | median > "$root/lx_main"

# a program's 256 MiB write+fsync: to an ext4 image of the same root in
# lx (as large a RAM as the page cache wants: --mem 1G), and natively to
# the host file system the image is on
echo "  disk: 256 MiB write+fsync from a program, 3 runs each" >&2
mke2fs -q -F -t ext4 -d "$root" "$disk/disk.img" 640M >/dev/null
for i in 1 2 3; do
	"$root/bin/progbench" write "$disk/native.bin" 256 > "$root/dnat.$i"
	"$lxexec" --mem 1G --image "$disk/disk.img" -- \
		/bin/progbench write /f 256 > "$root/dlx.$i"
done

# resident memory of an idle python3: PSS of every process it takes
pss() {	# summed Pss of the given pids, KiB
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo $t
}
img=$("$here/../images/mkimage.sh" --path debian 2>/dev/null || true)
lx_pss="" nat_pss=""
if [[ -n $img ]]; then
	echo "  idle python3: native, then in lx" >&2
	idle='import time; time.sleep(60)'
	chroot "$img" /usr/bin/python3 -c "$idle" 2>/dev/null & pids+=($!)
	sleep 1.5
	nat_pss=$(pss "${pids[-1]}")
	"$lxexec" --rootfs "$img" -- /usr/bin/python3 -c "$idle" 2>/dev/null &
	pids+=($!)
	home=${pids[-1]}
	sleep 3
	prog=$(pgrep -P "$home" | head -1)
	lx_pss=$(pss "$home" ${prog:+"$prog"})
	kill -9 "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
fi

ratio() { awk -v l="$1" -v n="$2" 'BEGIN { printf "%.2fx", l / n }'; }
echo "| benchmark | native | lx, trapped | lx, rewritten | rewritten/native | target |"
echo "|---|--:|--:|--:|--:|---|"
for b in getppid fstat pipe futex-wake futex-pingpong signal; do
	n=$(med $b native) t=$(med $b trap) r=$(med $b rw)
	case $b in
	futex-pingpong) what="futex round trip between two threads, ns"
		target="" ;;
	signal) what="signal round trip (kill to self, handler, return), ns"
		target="" ;;
	*) what="$b from a program, ns per call" target="rewritten <= 0.5x" ;;
	esac
	echo "| $what | $n | $t | $r | $(ratio "$r" "$n") | $target |"
done
n=$(med write-fsync dnat) l=$(med write-fsync dlx)
echo "| 256 MiB write+fsync from a program, ext4 image in lx vs the host's file system, MiB/s (higher is better), median of 3 | $n | | $l | $(ratio "$l" "$n") | >= 0.7x |"
l=$(cat "$root/lx_main") n=$(cat "$root/nat_main")
echo "| launch to main() of a static program, µs, median of 11 | $n | | $l | $(ratio "$l" "$n") | <= 15000 µs |"
l=$(cat "$root/lx_launch") n=$(cat "$root/nat_launch")
echo "| launch to exit of /bin/true (static; lxexec's sync and exit too), µs, median of 11 | $n | | $l | $(ratio "$l" "$n") | |"
if [[ -n $lx_pss ]]; then
	echo "| idle python3, PSS KiB (lx: home + program process) | $nat_pss | | $lx_pss | $(ratio "$lx_pss" "$nat_pss") | |"
else
	echo "| idle python3, PSS | | | | | not measured: the debian image is not built (make images) |"
fi
