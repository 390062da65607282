#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The last part of "make demo": Debian's python3, unmodified, serves a web
# page from inside lx (lxexec, tap network); the host fetches it.  The tap
# lives in a network namespace of this script's own (unshare), gone with it.
#
# Usage: demo/run-python.sh LXEXEC ROOT_DIR
set -eu
lxexec=$1
root=$2
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

if [ "${LX_DEMO_NETNS:-}" != 1 ]; then
	exec env LX_DEMO_NETNS=1 unshare --net "$0" "$@"
fi
t=$(date +%s%N)
rm -rf "$root"
mkdir -p "$root/dev" "$root/proc" "$root/tmp" "$root/srv" "$root/usr/lib" "$root/usr/bin"
py=$(readlink -f /usr/bin/python3)
mkdir -p "$root$(dirname "$py")"
cp "$py" "$root$py"
ln -sf "$py" "$root/usr/bin/python3"
for l in $(ldd "$py" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$l")"
	cp -n "$l" "$root$l"
done
cp -a /usr/lib/python3.11 "$root/usr/lib/"
echo "<h1>Hello from Debian's python3 on lx</h1>" > "$root/srv/index.html"
echo "lxexec: python3 -m http.server on lx, tap network:"
echo "  image from Debian's python3 package files ($(du -sh "$root" | cut -f1))   $(ms "$t") ms"

t=$(date +%s%N)
ip link set lo up
ip tuntap add dev lxdemo0 mode tap
ip link set lxdemo0 up
ip addr add 10.88.0.1/24 dev lxdemo0
echo "  tap lxdemo0 10.88.0.1 <-> lx eth0 10.88.0.2                $(ms "$t") ms"

t=$(date +%s%N)
"$lxexec" --rootfs "$root" --net tap:lxdemo0,ip=10.88.0.2/24 -- \
	/usr/bin/python3 -m http.server -d /srv -b 10.88.0.2 8000 \
	>"$root/../demo-python.log" 2>&1 &
pid=$!
page=""
for _ in $(seq 1 200); do
	page=$(python3 -c 'import urllib.request as u
print(u.urlopen("http://10.88.0.2:8000/index.html", timeout=1).read().decode(), end="")' 2>/dev/null) && break
	sleep 0.05
done
echo "  boot lx, start python3, first page fetched by the host     $(ms "$t") ms"
echo "    $page"
t=$(date +%s%N)
python3 -c 'import urllib.request as u
for i in range(20): u.urlopen("http://10.88.0.2:8000/index.html", timeout=2).read()'
echo "  20 more pages                                              $(ms "$t") ms"
kill "$pid"
wait "$pid" || true
echo "  server stopped; its log: $(head -1 "$root/../demo-python.log")"
[ -n "$page" ]
