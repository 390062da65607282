#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The second half of "make demo": an unmodified program from a Debian
# package (busybox-static) runs on lx under lxexec, from a root directory
# shared through virtio-fs, and says where it runs.
#
# Usage: demo/run-busybox.sh LXEXEC ROOT_DIR
set -eu
lxexec=$1
root=$2
if [ ! -x /usr/bin/busybox ]; then
	echo "run-busybox.sh: busybox-static is missing: run 'make deps'" >&2
	exit 1
fi
rm -rf "$root"
mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/dev" "$root/tmp"
cp /usr/bin/busybox "$root/bin/"
echo "lx demo root" > "$root/etc/motd"
echo "lxexec: busybox-static (Debian's binary, unmodified) on lx:"
start=$(date +%s%N)
# one applet per program: the shell's fork is not served yet
for cmd in "uname -srm" "cat /etc/motd" "ls /bin" "cat /proc/sys/kernel/osrelease"; do
	printf '  $ %s\n    ' "$cmd"
	"$lxexec" --rootfs "$root" -- /bin/busybox $cmd
done
end=$(date +%s%N)
echo "  (4 programs, each with its own boot and halt: $(( (end - start) / 1000000 )) ms)"
