#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-tests.sh - runs every lx test program t-* and sums up their TAP output.
#
# Usage: tests/run-tests.sh [BUILD_DIR]
# BUILD_DIR defaults to build/tests of the source tree holding this script.
#
# Each program runs under "timeout 300".  Its "ok" and "not ok" lines are
# counted ("ok ... # SKIP" as skipped); a program that crashes, times out,
# exits non-zero or breaks its plan without a "not ok" line counts as one
# failure.  The output of failing programs is printed in full.  The last
# line is "N passed, N failed" (", N skipped" if any); the exit status is 0
# only if nothing failed.

set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$root/build/tests}
timeout_s=300
passed=0
failed=0
skipped=0
ran=0

for prog in "$dir"/t-*; do
	[[ -f $prog && -x $prog ]] || continue
	name=${prog##*/}
	ran=$((ran + 1))

	out=$(timeout "$timeout_s" "$prog" 2>&1)
	rc=$?

	p=0 f=0 s=0 plan=""
	while IFS= read -r line; do
		if [[ $line =~ ^not\ ok([[:space:]]|$) ]]; then
			f=$((f + 1))
		elif [[ $line =~ ^ok([[:space:]]|$) ]]; then
			if [[ $line =~ \#[[:space:]]*[Ss][Kk][Ii][Pp] ]]; then
				s=$((s + 1))
			else
				p=$((p + 1))
			fi
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
		fi
	done <<< "$out"

	why=""
	if ((rc == 124)); then
		why="timed out after ${timeout_s} s"
	elif ((rc > 128)); then
		why="killed by signal $((rc - 128))"
	elif ((rc != 0)); then
		why="exit status $rc"
	elif [[ -z $plan ]]; then
		why="no plan line"
	elif ((plan != p + f + s)); then
		why="planned $plan tests, ran $((p + f + s))"
	fi
	if [[ -n $why ]] && ((f == 0)); then
		f=1
	fi

	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))

	if ((f > 0)); then
		echo "FAIL $name: $p passed, $f failed${why:+ ($why)}"
		echo "----- output of $name -----"
		printf '%s\n' "$out"
		echo "----- end of $name -----"
	else
		extra=""
		((s > 0)) && extra=", $s skipped"
		echo "PASS $name: $p passed$extra"
	fi
done

if ((ran == 0)); then
	echo "no test programs t-* found in $dir" >&2
	failed=$((failed + 1))
fi

summary="$passed passed, $failed failed"
if ((skipped > 0)); then
	summary+=", $skipped skipped"
fi
echo "$summary"
((failed == 0))
