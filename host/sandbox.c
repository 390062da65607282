// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox.c - the home process confined (DESIGN.md decision 8), as
 * virtiofsd confines itself.
 *
 * Once its devices are declared (their host fds open: the shares' root
 * directories, taps, sockets), the home process needs no host path: the
 * FUSE server reaches files through the share's fds and file handles,
 * hostfd reopens through a /proc/self/fd directory kept open.  So it
 * leaves the host's mount tree for an empty one of its own (a private
 * tmpfs as root, the old root detached), keeps only the capabilities the
 * FUSE server needs to act for lx's users, and sets no_new_privs.  A
 * program process, forked from it, inherits all of that.
 *
 * Done before the kernel boots, so that every thread it starts is
 * confined.  unshare(CLONE_NEWNS) and the capability calls act on the
 * calling thread: lxexec's one other thread then, which loads capstone
 * (guest/lxexec.c), keeps the host's root and capabilities until it
 * ends - during the boot; lxexec joins it before any program runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lx/lx.h>
#include "home.h"
#include "hostfd.h"

/* What the FUSE server needs to create, own and open files as lx's users. */
static const int kept_caps[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_FSETID, CAP_SETGID, CAP_SETUID, CAP_MKNOD, CAP_SETFCAP,
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		snprintf(err + strlen(err), errlen - strlen(err), ": %s",
			 strerror(e));
	}
	return -e;
}

static int drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { 0 };
	unsigned long long keep = 0;
	unsigned int i;
	int cap;

	for (i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		keep |= 1ULL << kept_caps[i];
	/* the bounding set: up to the last one the host knows */
	for (cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return fail(err, errlen, "dropping capability %d", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return fail(err, errlen, "clearing ambient capabilities");
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &hdr, data))
		return fail(err, errlen, "capset");
	return 0;
}

int lx_home_sandbox(char *err, size_t errlen)
{
	static const char *const points[] = { "/tmp", "/mnt", "/run", "/" };
	const char *dir = NULL;
	struct stat st;
	unsigned int i;
	int r;

	if (lx_running()) {
		errno = EBUSY;
		return fail(err, errlen, "the kernel runs already (threads)");
	}
	/* reopening stdio pipes and ttys needs this process's /proc/self/fd */
	r = lx_hostfd_keep_proc();
	if (r) {
		errno = -r;
		return fail(err, errlen, "/proc/self/fd");
	}
	/* RAM on 2 MiB host pages needs a tmpfs mount and /sys */
	lx_huge_prepare();
	if (unshare(CLONE_NEWNS))
		return fail(err, errlen, "a mount namespace (unshare)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fail(err, errlen, "making mounts private");
	/*
	 * The new root: an empty, read-only tmpfs mounted, in this namespace
	 * only, on a directory every host has.
	 */
	for (i = 0; i < sizeof(points) / sizeof(points[0]) && !dir; i++)
		if (!stat(points[i], &st) && S_ISDIR(st.st_mode))
			dir = points[i];
	if (mount("lx-home", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,mode=0555"))
		return fail(err, errlen, "tmpfs on %s", dir);
	if (chdir(dir) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/"))
		return fail(err, errlen, "pivot_root to %s", dir);
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return fail(err, errlen, "a read-only root");
	r = drop_caps(err, errlen);
	if (r)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail(err, errlen, "no_new_privs");
	return 0;
}
