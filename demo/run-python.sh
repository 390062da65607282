#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The last part of "make demo": Debian's python3, unmodified, serves a web
# page from inside lx (lxexec, tap network); the host fetches it.  python3
# comes from lx's default image, a debootstrap of Debian bookworm made by
# images/mkimage.sh (make images), seen through a copy-on-write overlay so
# the cached image is never written.  The tap and the overlay live in
# network and mount namespaces of this script's own (unshare), gone with it.
#
# Usage: demo/run-python.sh LXEXEC WORK_DIR
set -eu
lxexec=$1
work=$2
mkimage=$(dirname "$0")/../images/mkimage.sh
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

if [ "${LX_DEMO_NS:-}" != 1 ]; then
	# builds the image if "make images" has not (minutes, once)
	"$mkimage" debian
	exec env LX_DEMO_NS=1 unshare --net --mount --propagation private \
		"$0" "$@"
fi
t=$(date +%s%N)
image=$("$mkimage" --path debian)
rm -rf "$work"
mkdir -p "$work/up" "$work/work" "$work/root"
mount -t overlay overlay \
	-o "lowerdir=$image,upperdir=$work/up,workdir=$work/work" "$work/root"
root=$work/root
echo "<h1>Hello from Debian's python3 on lx</h1>" > "$root/srv/index.html"
echo "lxexec: python3 -m http.server on lx, tap network:"
printf '%-61s%s ms\n' "  image: Debian bookworm ($(du -sh "$image" | cut -f1)), copy-on-write" "$(ms "$t")"

t=$(date +%s%N)
ip link set lo up
ip tuntap add dev lxdemo0 mode tap
ip link set lxdemo0 up
ip addr add 10.88.0.1/24 dev lxdemo0
echo "  tap lxdemo0 10.88.0.1 <-> lx eth0 10.88.0.2                $(ms "$t") ms"

t=$(date +%s%N)
"$lxexec" --rootfs "$root" --net tap:lxdemo0,ip=10.88.0.2/24 -- \
	/usr/bin/python3 -m http.server -d /srv -b 10.88.0.2 8000 \
	>"$work.log" 2>&1 &
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
echo "  server stopped; its log: $(head -1 "$work.log")"
[ -n "$page" ]
