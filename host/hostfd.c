// SPDX-License-Identifier: GPL-2.0
/*
 * hostfd.c - the host side of hostfd files (arch/lx/kernel/hostfd.c):
 * non-blocking I/O on host fds, and the home process's poller that tells
 * the kernel when a host fd a task waits for is ready.
 *
 * The poller's epoll instance is inherited by every process of the
 * container; a process arms it with its own copy of the host fd (the same
 * open file description), and the home process's thread waits on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <lx/host_ops.h>
#include <lx/lx.h>
#include "home.h"
#include "hostfd.h"

static int poll_epfd = -1;
static int poll_stop = -1;	/* eventfd: the poller ends (halt) */
static pthread_t poller;
static int poller_started;

/* The epoll data of the stop eventfd: no hostfd slot has it. */
#define STOP_SLOT 0xffffffffU

/* /proc/self/fd of the process that kept it (lx_hostfd_keep_proc()) */
static int proc_fd_dir = -1;
static pid_t proc_fd_pid;

int lx_hostfd_keep_proc(void)
{
	if (proc_fd_dir >= 0)
		return 0;
	proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd_dir < 0)
		return -errno;
	proc_fd_pid = getpid();
	return 0;
}

void lx_hostfd_forget_proc(void)
{
	if (proc_fd_dir >= 0)
		close(proc_fd_dir);
	proc_fd_dir = -1;
}

int lx_hostfd_fd_reopen(int fd, int acc)
{
	int fl = fcntl(fd, F_GETFL);
	char path[64];
	int n;

	/*
	 * Never more access than the fd given has (reopening can grant it),
	 * and a pipe end stays one end: a FIFO opened both ways would never
	 * see EOF or EPIPE.
	 */
	if (fl < 0)
		return -errno;
	if ((fl & O_ACCMODE) != O_RDWR)
		acc = fl & O_ACCMODE;

	/* a sandboxed home process has no /proc but the directory it kept */
	if (proc_fd_dir >= 0 && proc_fd_pid == getpid()) {
		snprintf(path, sizeof(path), "%d", fd);
		n = openat(proc_fd_dir, path,
			   acc | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = open(path, acc | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	}
	return n < 0 ? -errno : n;
}

/* A write to a pipe nobody reads: -EPIPE for lx to turn into its SIGPIPE. */
static ssize_t write_nosigpipe(int fd, const struct iovec *iov, int cnt,
			       long long pos)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = pos < 0 ? writev(fd, iov, cnt) : pwritev(fd, iov, cnt, pos);
	e = errno;
	if (n < 0 && e == EPIPE && !sigismember(&old, SIGPIPE))
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

long lx_hostfd_fd_io(int fd, void *iovp, int cnt, int write, long long pos,
		     unsigned int flags)
{
	struct iovec *iov = iovp;
	ssize_t n;

	if (flags & LX_IO_SOCKET) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = cnt };

		n = write ? sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL) :
			    recvmsg(fd, &m, MSG_DONTWAIT);
		return n < 0 ? -errno : n;
	}
	if (pos < 0 && !(flags & LX_IO_NONBLOCK)) {
		/* the engine's own description: look before touching it */
		struct pollfd p = { .fd = fd, .events = write ? POLLOUT : POLLIN };

		if (poll(&p, 1, 0) == 0)
			return -EAGAIN;
	}
	if (write)
		n = write_nosigpipe(fd, iov, cnt, pos);
	else
		n = pos < 0 ? readv(fd, iov, cnt) : preadv(fd, iov, cnt, pos);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

int lx_hostfd_fd_poll(int fd, int events)
{
	struct pollfd p = { .fd = fd, .events = events };

	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return p.revents & POLLNVAL ? POLLERR : p.revents;
}

void lx_hostfd_fd_arm(int fd, int slot, int events)
{
	struct epoll_event ev = { .events = events | EPOLLONESHOT,
				  .data.u32 = slot };

	if (epoll_ctl(poll_epfd, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT)
		epoll_ctl(poll_epfd, EPOLL_CTL_ADD, fd, &ev);
}

long lx_hostfd_fd_ioctl(int fd, unsigned int cmd, unsigned long arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int lx_hostfd_fd_stat(int fd, void *st)
{
	return fstat(fd, st) ? -errno : 0;
}

long long lx_hostfd_fd_seek(int fd, long long off, int whence)
{
	off_t r = lseek(fd, off, whence);

	return r < 0 ? -errno : r;
}

void lx_hostfd_fd_close(int fd)
{
	epoll_ctl(poll_epfd, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
}

static void *poller_main(void *arg)
{
	struct epoll_event evs[64];
	int i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(poll_epfd, evs, 64, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == STOP_SLOT)
				return NULL;
			lx_kernel_hostfd_ready(evs[i].data.u32);
		}
	}
	return NULL;
}

int lx_hostfd_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = STOP_SLOT };
	int err;

	poll_epfd = epoll_create1(EPOLL_CLOEXEC);
	poll_stop = eventfd(0, EFD_CLOEXEC);
	if (poll_epfd < 0 || poll_stop < 0 ||
	    epoll_ctl(poll_epfd, EPOLL_CTL_ADD, poll_stop, &ev)) {
		err = -errno;
		lx_hostfd_stop();
		return err;
	}
	err = lx_home_thread(&poller, "lx-hostfd", poller_main, NULL);
	if (err) {
		lx_hostfd_stop();
		return err;
	}
	poller_started = 1;
	return 0;
}

void lx_hostfd_stop(void)
{
	if (poller_started && eventfd_write(poll_stop, 1) == 0)
		pthread_join(poller, NULL);
	poller_started = 0;
	if (poll_epfd >= 0)
		close(poll_epfd);
	if (poll_stop >= 0)
		close(poll_stop);
	poll_epfd = poll_stop = -1;
}

int lx_hostfd(int host_fd, int flags)
{
	return lx_syscall3(LX_SYS_HOSTFD, host_fd, flags, NULL);
}
