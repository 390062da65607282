#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Go's net/http on lx against native: a static Go program (tests/go/lxgo,
# built by make with Debian's golang-go) runs an HTTP server and 4
# kept-alive clients in one process, over 127.0.0.1, and counts GET
# requests per second ("lxgo bench-http N").  Natively the loopback is
# the host's; under lxexec it is lx's, and Go sees lx's one CPU, so it
# runs with GOMAXPROCS=1 there: the native row with GOMAXPROCS=1 is the
# like-for-like one.  Median of 5 runs each.  Prints a markdown table.
#
# Usage: bench/run-go.sh LXEXEC LXGO     (about 20 s)
set -eu
if [[ $# -ne 2 || $1 == -h || $1 == --help ]]; then
	echo "usage: bench/run-go.sh LXEXEC LXGO   (markdown table on stdout)"
	[[ $# -ge 1 && ( $1 == -h || $1 == --help ) ]] && exit 0
	exit 2
fi
lxexec=$1 lxgo=$2
requests=20000 runs=5
echo "| benchmark | native | native, GOMAXPROCS=1 | lx | lx/native | lx/native, GOMAXPROCS=1 |"
echo "|---|--:|--:|--:|--:|--:|"
what="Go net/http GETs per second over 127.0.0.1 (4 clients, $requests requests, median of $runs)"
if [[ ! -x $lxgo ]]; then
	echo "| $what | | | | | not measured: $lxgo is missing (no go: make deps installs golang-go) |"
	exit 0
fi
root=$(mktemp -d /tmp/lx-gobench.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/dev" "$root/proc" "$root/tmp"
cp "$lxgo" "$root/lxgo"

# the req/s of each run, one a line; the median of them
rate() { sed -n 's#^req/s ##p'; }
median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
echo "  go net/http: native, native GOMAXPROCS=1, lx ($runs runs each)" >&2
for i in $(seq $runs); do
	"$root/lxgo" bench-http $requests | rate >> "$root/native"
	GOMAXPROCS=1 "$root/lxgo" bench-http $requests | rate >> "$root/native1"
	"$lxexec" --rootfs "$root" -- /lxgo bench-http $requests | rate >> "$root/lx"
done
for f in native native1 lx; do
	if [[ $(wc -l < "$root/$f") -ne $runs ]]; then
		echo "run-go.sh: a run of lxgo bench-http failed ($f)" >&2
		exit 1
	fi
done
n=$(median < "$root/native") n1=$(median < "$root/native1") l=$(median < "$root/lx")
ratio() { awk -v l="$1" -v n="$2" 'BEGIN { printf "%.2fx", l / n }'; }
echo "| $what | $n | $n1 | $l | $(ratio "$l" "$n") | $(ratio "$l" "$n1") |"
