#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh - runs the lx benchmarks and records them in docs/BENCHMARKS.md.
#
# Usage: bench/run.sh [LX_BENCH [DOC]]
# LX_BENCH defaults to build/bench/lx-bench and DOC to docs/BENCHMARKS.md
# of the source tree holding this script; "make bench" builds LX_BENCH and
# lx-devbench (found beside it) and runs this.  Nothing is built here.
#
# The results (machine, command, date, table, how to read them) replace
# what is between the lines "<!-- bench:begin -->" and "<!-- bench:end -->"
# of DOC; everything outside them is hand-written and kept.  A DOC without
# the markers gets them appended; a missing DOC is created.  DOC is left
# alone if the benchmark fails.

set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
prog=${1:-$root/build/bench/lx-bench}
doc=${2:-$root/docs/BENCHMARKS.md}
begin='<!-- bench:begin -->'
end='<!-- bench:end -->'

if [ ! -x "$prog" ]; then
	echo "run.sh: $prog is missing; run \"make bench\"" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lx-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$prog" > "$tmp/out"
cat "$tmp/out"
devprog=$(dirname "$prog")/lx-devbench
if [ ! -x "$devprog" ]; then
	echo "run.sh: $devprog is missing; run \"make bench\"" >&2
	exit 1
fi
echo "run.sh: devices: network and disk against native Linux (about 3 minutes)"
"$devprog" > "$tmp/dev"
cat "$tmp/dev"
lxexec=$(dirname "$(dirname "$prog")")/lxexec
echo "run.sh: programs under lxexec against native (about 5 s)"
"$root/bench/run-programs.sh" "$lxexec" > "$tmp/prog"
cat "$tmp/prog"
echo "run.sh: Go net/http under lxexec against native (about 20 s)"
"$root/bench/run-go.sh" "$lxexec" "$(dirname "$lxexec")/tests/go/lxgo" > "$tmp/go"
cat "$tmp/go"

# "CPU: ..." and "Date: ..." are header lines of lx-bench's output.
field() {
	sed -n "s/^$1: //p" "$tmp/out" | head -n 1
}
cpu=$(field CPU)
date=$(field Date)
mode=$(field Mode)

if ! grep -q '^| benchmark |' "$tmp/out"; then
	echo "run.sh: no table in the output of $prog" >&2
	exit 1
fi

{
	echo "$begin"
	echo "<!-- Written by bench/run.sh (make bench); edits here are lost. -->"
	echo
	echo "## Latest results"
	echo
	echo "- Machine: ${cpu:-unknown CPU}, host kernel $(uname -r)," \
		"$(nproc) cores"
	echo "- Command: \`make bench\`"
	echo "- Date: ${date:-$(date -u '+%Y-%m-%d %H:%M:%S UTC')}"
	[ -z "$mode" ] || echo "- Mode: $mode"
	echo
	grep '^|' "$tmp/out"
	echo
	echo "### Devices"
	echo
	echo "Command: \`build/bench/lx-devbench\` (part of \`make bench\`)."
	echo
	grep '^|' "$tmp/dev"
	echo
	echo "Network rows: one TCP program; its container side runs in lx" \
		"(AF_PACKET bound to a veth, or a tap) against a peer on the" \
		"host, and natively between two network namespaces joined by" \
		"a veth pair.  Goodput is what the receiver counted over" \
		"about 1.5 s of writes of the given size (Nagle on, as" \
		"iperf3); RR is the mean round trip of 10,000 one-byte" \
		"requests (TCP_NODELAY).  Each figure is the median of three" \
		"such flows, native's and lx's on each backend taken in turn," \
		"with the CPU time of that flow.  \"lx CPU s\" is the CPU time of the" \
		"container side in lx: its thread plus every thread of lx" \
		"(device, kernel, timer and poller threads); \"native CPU s\"" \
		"the native container-side thread's.  Disk rows: 256 MiB" \
		"written in 1 MiB writes then fsync, and read back after" \
		"dropping the page caches of lx and of the host, on ext4 in" \
		"an image through virtio-blk against the host's own file" \
		"system (same directory).  Higher is better except RR."
	echo
	echo "### Programs"
	echo
	echo "Command: \`bench/run-programs.sh build/lxexec\` (part of \`make bench\`)."
	echo
	grep '^|' "$tmp/prog"
	echo
	echo "A static program's own loop of 200,000 calls (median of 3" \
		"runs), natively and under lxexec: with \`--no-rewrite\` every" \
		"call takes the Syscall User Dispatch trap (a SIGSYS round" \
		"trip) into lx; by default the program's call sites are" \
		"rewritten into direct jumps to lx's entry, which saves the" \
		"general registers only (vector state only when host libc" \
		"may run).  Launch: lxexec boots lx, forks the program" \
		"process, loads and runs a static program that returns at" \
		"once, and syncs and exits; native is the same program started from the" \
		"shell.  PSS: an idle python3 of the Debian image (make" \
		"images), in a chroot natively, and in lx the home process" \
		"(kernel RAM it touched, lx's threads) plus the program" \
		"process."
	echo
	echo "### Go"
	echo
	echo "Command: \`bench/run-go.sh build/lxexec build/tests/go/lxgo\`" \
		"(part of \`make bench\`)."
	echo
	grep '^|' "$tmp/go"
	echo
	echo "A static Go program (tests/go/lxgo.go, Debian's Go, CGO_ENABLED=0)" \
		"serves HTTP and fetches from itself over 127.0.0.1: 4" \
		"goroutines with kept-alive connections, 20,000 GETs of a" \
		"14-byte body, after 100 to warm up; requests per second, so" \
		"higher is better and a ratio above 1.00x means lx is faster." \
		"Natively the loopback is the host's and Go uses every core;" \
		"in lx the loopback is lx's (a send is a function call) and" \
		"Go sees lx's one CPU (GOMAXPROCS=1), hence the native" \
		"GOMAXPROCS=1 column."
	echo
	echo "### How to read"
	echo
	echo "Each row runs the same work through lx (\`lx_syscall()\` into" \
		"the kernel linked into the process) and on the host kernel" \
		"(\`syscall(2)\`), in one run on the same machine.  Times are" \
		"medians of several rounds after a warm-up, timed with the" \
		"host's \`CLOCK_MONOTONIC\`, with the rounds of lx and of the" \
		"host alternating; lower is better, and a ratio below 1.00x" \
		"means lx is faster than the host.  \"boot\" is the time from" \
		"\`lx_start_kernel()\` to the first completed system call, each" \
		"boot in a fresh process; \"resident memory\" is the process's" \
		"PSS after booting minus before.  A call through lx is a" \
		"function call into the kernel in the same process, so it skips" \
		"the host's system call entry and exit.  The two-thread rows" \
		"depend on where the host scheduler puts the threads and on" \
		"what else runs on the machine (lx runs its tasks on one" \
		"virtual CPU, host threads may use all cores), so their notes" \
		"give the range of the rounds as well.  Targets in the notes" \
		"are goals, not checks: nothing fails when one is missed."
	echo "$end"
} > "$tmp/section"

mkdir -p "$(dirname "$doc")"
if [ ! -e "$doc" ]; then
	{
		echo "# lx benchmarks"
		echo
		cat "$tmp/section"
	} > "$tmp/doc"
elif ! grep -qxF "$begin" "$doc"; then
	{
		cat "$doc"
		echo
		cat "$tmp/section"
	} > "$tmp/doc"
else
	if ! awk -v begin="$begin" -v end="$end" '
		$0 == begin { b = 1 }
		b && $0 == end { found = 1; exit }
		END { exit !found }' "$doc"; then
		echo "run.sh: $doc has \"$begin\" but no \"$end\" after it" >&2
		exit 1
	fi
	# Keep all lines outside the first begin/end pair.
	awk -v begin="$begin" -v end="$end" -v section="$tmp/section" '
		state == 0 && $0 == begin {
			while ((getline line < section) > 0)
				print line
			state = 1
			next
		}
		state == 1 { if ($0 == end) state = 2; next }
		{ print }
	' "$doc" > "$tmp/doc"
fi
cat "$tmp/doc" > "$doc"
echo "run.sh: wrote $doc"
