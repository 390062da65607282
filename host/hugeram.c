// SPDX-License-Identifier: GPL-2.0
/*
 * hugeram.c - a file for kernel RAM whose host pages are 2 MiB ones.
 *
 * Every first touch of a 4 KiB page of a memfd is a host page fault
 * (~2.6 us in these VMs: 170 ms for the 256 MiB a large write fills with
 * page cache).  A tmpfs mounted with huge=always gives each 2 MiB of a
 * file one huge page when the host has one free: the same 256 MiB in
 * ~10 ms.  memfd_create()'s own tmpfs follows the host's shmem_enabled
 * ("never" on Debian); a tmpfs we mount ourselves follows its huge=.
 *
 * The mount is detached (fsmount() without move_mount()): it is in no
 * mount namespace and goes with the last fd or mapping of its file, so
 * nothing is left behind.  Root (or a process with CAP_SYS_ADMIN over its
 * mount namespace, as in a rootless engine's user namespace) mounts it
 * here; anyone else from a child in a user namespace of its own, which
 * hands the file back over a socket.  The mapping is not MADV_HUGEPAGE,
 * so with the host's default THP defrag setting ("madvise") it does not
 * compact memory for a huge page: when none is free, the fault takes a
 * 4 KiB page as a memfd's would.  Where free 2 MiB blocks go back to a
 * hypervisor, huge pages cost more than they save, and lx does without
 * them unless asked (lx_hugeram=1).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

#include "home.h"

/*
 * An empty file on a new tmpfs mounted huge=always, or -errno.  No size
 * limit (size=0), as a memfd has none: the file's own size is the limit.
 */
static int tmpfs_file(void)
{
	int fs, mnt, fd, err;

	fs = syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "huge", "always",
		    0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "0", 0) ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0)) {
		err = -errno;
		close(fs);
		return err;
	}
	mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	err = -errno;
	close(fs);
	if (mnt < 0)
		return err;
	fd = openat(mnt, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	err = -errno;
	close(mnt);
	return fd < 0 ? err : fd;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

struct userns_child {
	char uid_map[32], gid_map[32];
	int sock;
};

/*
 * In a child that is root in a user namespace of its own (with its user
 * mapped, as files on the tmpfs need an owner there): make the file and
 * send it back.
 */
static int userns_child(void *arg)
{
	struct userns_child *c = arg;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fd = -1;

	if (write_str("/proc/self/setgroups", "deny") == 0 &&
	    write_str("/proc/self/uid_map", c->uid_map) == 0 &&
	    write_str("/proc/self/gid_map", c->gid_map) == 0)
		fd = tmpfs_file();
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (fd < 0)
		msg.msg_controllen = 0;
	return sendmsg(c->sock, &msg, 0) == 1 ? 0 : 1;
}

/*
 * The same for a process without the privilege.  The child runs on a
 * stack of its own: the caller may be on a kernel stack in kernel RAM,
 * which parent and child share (a fork()ed child would write the
 * parent's frames).
 */
static int tmpfs_file_userns(void)
{
	const size_t stack_size = 64 << 10;
	struct userns_child c = { 0 };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int sv[2], fd = -EPERM, status;
	void *stack;
	ssize_t n;
	pid_t pid;

	/* who creates the file: the effective ids (a user may map only those) */
	snprintf(c.uid_map, sizeof(c.uid_map), "%u %u 1", geteuid(), geteuid());
	snprintf(c.gid_map, sizeof(c.gid_map), "%u %u 1", getegid(), getegid());
	stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fd = -errno;
		goto out;
	}
	c.sock = sv[1];
	/* no SIGCHLD for a program that did not make this child */
	pid = clone(userns_child, (char *)stack + stack_size,
		    CLONE_NEWUSER | CLONE_NEWNS, &c);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		goto out;	/* no user namespaces for this user here */
	}
	while ((n = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC)) < 0 &&
	       errno == EINTR)
		;
	if (n == 1 && (cm = CMSG_FIRSTHDR(&msg)) &&
	    cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
out:
	munmap(stack, stack_size);
	return fd;
}

/*
 * Whether this host hands its free memory back to a hypervisor
 * (virtio-balloon free page reporting, as in Firecracker VMs: blocks of
 * 2 MiB or more, free for ~2 s): a huge page made of such a block is then
 * one hypervisor fault per 4 KiB page on first touch.  Measured in such a
 * VM, 256 MiB: 430-690 ms on huge pages, 150-165 ms on a memfd's 4 KiB
 * pages (which the host takes from the small free blocks it keeps),
 * 10-14 ms on huge pages freed in the last two seconds (not reported yet).
 */
static int host_reports_free_pages(void)
{
	const char *dir = "/sys/bus/virtio/drivers/virtio_balloon";
	char path[320], bits[8] = { 0 };
	struct dirent *d;
	int fd, found = 0;
	DIR *dd;

	dd = opendir(dir);
	if (!dd)
		return 0;
	while (!found && (d = readdir(dd))) {
		if (strncmp(d->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s/features", dir, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* one character a feature bit; bit 5: VIRTIO_BALLOON_F_REPORTING */
		found = read(fd, bits, 6) == 6 && bits[5] == '1';
		close(fd);
	}
	closedir(dd);
	return found;
}

/* Made before lxexec's sandbox took the privilege, /proc and /sys away. */
static int ready_fd = -1;
static int ready_reports = -1;

void lx_huge_prepare(void)
{
	if (ready_fd < 0) {
		ready_fd = tmpfs_file();
		if (ready_fd == -EPERM)
			ready_fd = tmpfs_file_userns();
	}
	ready_reports = host_reports_free_pages();
}

int lx_huge_file(unsigned long size, int always)
{
	int reports = ready_reports >= 0 ? ready_reports :
		      host_reports_free_pages();
	int fd = ready_fd, err;

	ready_fd = -1;
	if (!always && reports) {
		if (fd >= 0)
			close(fd);
		return -EOPNOTSUPP;
	}
	if (fd < 0)
		fd = tmpfs_file();
	if (fd == -EPERM)
		fd = tmpfs_file_userns();
	if (fd >= 0 && ftruncate(fd, size) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void lx_huge_forget(void)
{
	if (ready_fd >= 0)
		close(ready_fd);
	ready_fd = -1;
}
