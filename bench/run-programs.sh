#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Programs on lx against native: system call costs seen by a static
# program (bench/progbench.c) on lxexec's trapped path (Syscall User
# Dispatch) and natively, and the launch of a program that does nothing.
# Prints a markdown table.  Usage: bench/run-programs.sh LXEXEC
set -eu
lxexec=$1
root=$(mktemp -d /tmp/lx-progbench.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/tmp"
gcc -O2 -static -o "$root/bin/progbench" "$(dirname "$0")/progbench.c"
printf 'int main(void) { return 0; }\n' > "$root/true.c"
gcc -O2 -static -o "$root/bin/true" "$root/true.c"

"$root/bin/progbench" > "$root/native"
"$lxexec" --rootfs "$root" -- /bin/progbench > "$root/lx"
field() { sed -n "s/^$1 //p" "$2"; }

# launch: median of 11 runs of a static program that returns at once
median() { sort -n | sed -n 6p; }
for i in $(seq 11); do
	s=$(date +%s%N); "$root/bin/true"; e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
done | median > "$root/nat_launch"
for i in $(seq 11); do
	s=$(date +%s%N); "$lxexec" --rootfs "$root" -- /bin/true; e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
done | median > "$root/lx_launch"

echo "| benchmark | lx (trapped) | native | lx/native | target |"
echo "|---|--:|--:|--:|---|"
for b in getppid fstat pipe; do
	l=$(field $b "$root/lx")
	n=$(field $b "$root/native")
	echo "| $b from a program, ns per call | $l | $n | $(awk -v l="$l" -v n="$n" 'BEGIN { printf "%.2fx", l / n }') | rewritten path: <= 0.5x (not built yet) |"
done
l=$(cat "$root/lx_launch")
n=$(cat "$root/nat_launch")
echo "| launch to exit of /bin/true (static), µs, median of 11 | $l | $n | $(awk -v l="$l" -v n="$n" 'BEGIN { printf "%.1fx", l / n }') | <= 15 ms |"
