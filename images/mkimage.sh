#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mkimage.sh - build lx's container images from Debian packages.
#
# Each image is a directory (a root file system to give lxexec --rootfs)
# under $LX_CACHE/images (default ~/.cache/lx/images), outside the source
# tree.  Run "images/mkimage.sh --help" for the images and options.
#
# An image is built in a temporary directory beside its place and renamed
# into place only when complete, so an interrupted build leaves nothing
# that looks like an image.  Its stamp, etc/lx-image inside it, starts with
# the recipe it was made from (the lines of recipe_NAME below) and lists the
# Debian packages in it with their versions; an image is rebuilt only when
# its recipe changes (or with --force).  A lock keeps two builds of the
# cache from running at once.

set -euo pipefail

prog=${0##*/}
cache=${LX_CACHE:-${HOME:?is not set: set it or LX_CACHE}/.cache/lx}/images
all_images="debian busybox"
suite=bookworm

usage()
{
	cat <<EOF
usage: $prog [--force] [IMAGE...]
       $prog --path IMAGE

Build lx's images from Debian packages, each a directory under
$cache
(\$LX_CACHE/images, default ~/.cache/lx/images).  IMAGE is one of:

  debian    debootstrap --variant=minbase $suite with python3 and perl-base
            (one to a few minutes the first time: it downloads about
            40 MB and installs about 110 packages; the .debs are kept in
            the cache for a rebuild)
  busybox   Debian's busybox-static (from the installed package) and its
            applet links (well under a second)

Without IMAGE, all of them.  An image whose recipe has not changed is kept
as it is (checking takes milliseconds).

  --force   rebuild even if the image is up to date
  --path    print the directory of IMAGE if it is built and up to date;
            fail (status 1) otherwise, without building anything
  --help    this text

Environment: LX_CACHE (default ~/.cache/lx), LX_MIRROR (the Debian mirror
for debootstrap; default: the one apt uses, else http://deb.debian.org/debian).
Needs root (debootstrap and chroot), and debootstrap (make deps).
EOF
}

say() { echo "$prog: $*" >&2; }
die() { say "$*"; exit 1; }

# The Debian mirror: $LX_MIRROR, else the first .../debian that apt uses.
mirror()
{
	local m=${LX_MIRROR:-}

	if [ -z "$m" ]; then
		m=$(sed -n 's|^URIs:[[:space:]]*\([^[:space:]]*/debian/\?\)\([[:space:]].*\)\?$|\1|p' \
			/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	fi
	if [ -z "$m" ]; then
		m=$(sed -n 's|^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*/debian/\?\)[[:space:]].*|\2|p' \
			/etc/apt/sources.list 2>/dev/null | head -n1)
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

# What an image is made of; a change here rebuilds it.  Bump "lx-image N"
# when a build step below changes what ends up in the image.
recipe_debian()
{
	echo "lx-image 1 debian"
	echo "debootstrap --variant=minbase --include=python3,perl-base $suite"
}

recipe_busybox()
{
	local v

	v=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) ||
		die "busybox: the busybox-static package is not installed (make deps)"
	echo "lx-image 1 busybox"
	echo "busybox-static $v"
}

# The stamp of image directory $1: its recipe, then what went in.
write_stamp()
{
	local dir=$1 name=$2

	{
		"recipe_$name"
		echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by $prog"
		if [ -f "$dir/var/lib/dpkg/status" ]; then
			echo "packages:"
			dpkg-query --admindir="$dir/var/lib/dpkg" -W \
				-f '${Package} ${Version}\n'
		fi
	} > "$dir/etc/lx-image"
}

# Up to date: the stamp starts with the recipe as it is now.
current()
{
	local dir=$cache/$1 want have n

	[ -f "$dir/etc/lx-image" ] || return 1
	want=$("recipe_$1")
	n=$(printf '%s\n' "$want" | wc -l)
	have=$(head -n "$n" "$dir/etc/lx-image")
	[ "$have" = "$want" ]
}

build_debian()
{
	local dir=$1 m log

	command -v debootstrap >/dev/null ||
		die "debian: debootstrap is not installed (make deps)"
	m=$(mirror)
	log=$cache/debian.log
	say "debian: debootstrap --variant=minbase $suite + python3, perl-base from $m"
	say "debian: this takes a minute or a few (about 40 MB to download, then dpkg); log in $log"
	mkdir -p "$cache/debs"
	# in a mount namespace of its own: the /proc and /sys debootstrap may
	# mount in the target are gone with it, even if it is interrupted
	if ! unshare --mount --propagation private \
		debootstrap --variant=minbase --include=python3,perl-base \
		--cache-dir="$cache/debs" "$suite" "$dir" "$m" > "$log" 2>&1; then
		tail -n 15 "$log" >&2
		die "debian: debootstrap failed (the whole log: $log)"
	fi
	say "debian: debootstrap done; trimming apt's lists and logs"
	# nothing from this host or this build's day beyond the packages
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin \
		"$dir"/var/lib/apt/lists/* "$dir"/var/log/apt/* \
		"$dir"/var/log/dpkg.log "$dir"/var/log/alternatives.log \
		"$dir"/var/log/bootstrap.log "$dir"/var/cache/ldconfig/aux-cache
	mkdir -p "$dir/var/lib/apt/lists/partial"
	echo lx > "$dir/etc/hostname"
	: > "$dir/etc/resolv.conf"
	if [ ! -x "$dir/usr/bin/python3" ] || [ ! -x "$dir/usr/bin/perl" ]; then
		die "debian: python3 or perl is missing from the image"
	fi
}

build_busybox()
{
	local dir=$1 bb=/bin/busybox applet

	"$bb" --list-full >/dev/null 2>&1 ||
		die "busybox: $bb from busybox-static is missing or broken (make deps)"
	say "busybox: $bb and its applet links"
	mkdir -p "$dir"
	(
		cd "$dir"
		mkdir -p bin sbin usr/bin usr/sbin etc root proc dev sys tmp
		chmod 1777 tmp
		chmod 700 root
		cp -p "$bb" bin/busybox
		for applet in $(bin/busybox --list-full); do
			case $applet in
			*bin/*) [ -e "$applet" ] || ln -s /bin/busybox "$applet" ;;
			esac
		done
		echo "root:x:0:0:root:/root:/bin/sh" > etc/passwd
		echo "root:x:0:" > etc/group
		echo lx > etc/hostname
		# the package's time on all of it, not the day of the build
		find . -exec touch -h -r bin/busybox {} +
	)
}

# Build image $1 into a temporary directory, then rename it into place.
build()
{
	local name=$1 tmp start

	start=$(date +%s)
	tmp=$(mktemp -d "$cache/.$name.new.XXXXXX")
	# an interrupted build leaves only the temporary directory, which
	# this trap (or the next run) removes
	trap 'rm -rf --one-file-system "$tmp"' EXIT
	trap 'say "$name: interrupted; the unfinished image is removed"; exit 130' INT TERM HUP
	chmod 755 "$tmp"
	"build_$name" "$tmp"
	write_stamp "$tmp" "$name"
	if [ -d "$cache/$name" ]; then
		mv "$cache/$name" "$cache/.$name.old.$$"
	fi
	mv "$tmp" "$cache/$name"
	trap - EXIT INT TERM HUP
	rm -rf --one-file-system "$cache/.$name.old.$$"
	say "$name: built in $(($(date +%s) - start)) s ($(du -sh "$cache/$name" | cut -f1)) at $cache/$name"
}

force=0
path=0
images=()
while [ $# -gt 0 ]; do
	case $1 in
	--help|-h)
		usage
		exit 0
		;;
	--force)
		force=1
		;;
	--path)
		path=1
		;;
	-*)
		die "unknown option '$1' (see $prog --help)"
		;;
	*)
		case " $all_images " in
		*" $1 "*) images+=("$1") ;;
		*) die "unknown image '$1': the images are: $all_images" ;;
		esac
		;;
	esac
	shift
done

if [ "$path" = 1 ]; then
	[ "${#images[@]}" = 1 ] || die "--path takes one IMAGE"
	current "${images[0]}" ||
		die "${images[0]}: not built or out of date in $cache (make images)"
	echo "$cache/${images[0]}"
	exit 0
fi

[ "${#images[@]}" -gt 0 ] || read -r -a images <<< "$all_images"

# the quick answer, without the lock, when everything is current
if [ "$force" = 0 ]; then
	todo=()
	for name in "${images[@]}"; do
		current "$name" || todo+=("$name")
	done
	[ "${#todo[@]}" -gt 0 ] || exit 0
fi

[ "$(id -u)" = 0 ] || die "building images needs root (debootstrap, chroot)"
mkdir -p "$cache" || die "cannot make the cache directory $cache"
exec 9> "$cache/.lock"
if ! flock -n 9; then
	say "waiting for another $prog building in $cache"
	flock 9
fi
# left by a build that was killed, now that no build runs
rm -rf --one-file-system "$cache"/.*.new.* "$cache"/.*.old.*
for name in "${images[@]}"; do
	if [ "$force" = 1 ] || ! current "$name"; then
		build "$name"
	else
		say "$name: up to date"
	fi
done
