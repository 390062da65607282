// SPDX-License-Identifier: GPL-2.0
/*
 * homefd.c - host fds the home process hands to a program process.
 *
 * A program process opens no host paths (DESIGN.md decision 8), yet a
 * program's MAP_SHARED mapping of a virtio-fs file is made from the host
 * file itself (decision 2), coherent with read() and write() through lx.
 * The home process, which runs the share's FUSE server, opens that file
 * and passes the fd over a unix socket made before the fork (SCM_RIGHTS).
 *
 * The program process names the file by what LX_SYS_FUSE_REF says of its
 * lx fd; the home checks the name against the server's open files (node
 * id and handle must match an open file of that share, with the access
 * asked for), so a program can get no more than it could read or write
 * through lx anyway.
 *
 * The same way, a program process asks the home process to sweep a range
 * of an ELF file for syscall sites (rewrite.c): the home sweeps the host
 * file itself and writes what it found to the site cache, which program
 * processes only read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lx/host_ops.h>
#include <lx/lx.h>
#include "guest.h"

enum { HOMEFD_OPEN, HOMEFD_SWEEP };

struct fd_req {
	struct lx_fuse_ref ref;
	int op;
	int flags;		/* OPEN: O_RDONLY or O_RDWR */
	uint64_t off, len;	/* SWEEP: the file range a mapping has */
	char name[64];		/* SWEEP: the file's name, for --debug */
};

static int home_sock = -1;	/* the home's end, served by a thread */
static int prog_sock = -1;	/* the program process's end */
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;

/* Send ret, and fd with it if ret is 0 and there is one. */
static int send_fd(int sock, int ret, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { &ret, sizeof(ret) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (!ret && fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static void *serve(void *arg)
{
	struct fd_req req;
	ssize_t n;
	int fd;

	(void)arg;
	/* one program process: its end closes when it is gone */
	while ((n = recv(home_sock, &req, sizeof(req), 0)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n != sizeof(req)) {
			send_fd(home_sock, -EINVAL, -1);
			continue;
		}
		req.name[sizeof(req.name) - 1] = 0;
		fd = lx_fs_host_fd_ref(&req.ref, (req.op == HOMEFD_SWEEP ?
						  O_RDONLY : req.flags) |
						 O_CLOEXEC);
		if (req.op == HOMEFD_SWEEP)
			send_fd(home_sock,
				fd < 0 ? fd : lx_rewrite_sweep_host(fd, req.off,
								   req.len,
								   req.name),
				-1);
		else
			send_fd(home_sock, fd < 0 ? fd : 0, fd);
		if (fd >= 0)
			close(fd);
	}
	close(home_sock);
	home_sock = -1;
	return NULL;
}

int lx_homefd_start(void)
{
	pthread_attr_t attr;
	pthread_t th;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	home_sock = sv[0];
	prog_sock = sv[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, serve, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		close(sv[0]);
		close(sv[1]);
		home_sock = prog_sock = -1;
		return -r;
	}
	return 0;
}

void lx_homefd_forked(int in_program)
{
	if (in_program) {
		/* the serving thread is not in this process */
		if (home_sock >= 0)
			close(home_sock);
		home_sock = -1;
	} else if (prog_sock >= 0) {
		close(prog_sock);
		prog_sock = -1;
	}
}

/*
 * Ask the home process (req: op and its arguments; the file named by lx
 * fd lx_fd, with LX_SYS_FUSE_REF's flags ref_flags).  Returns its answer,
 * and the fd it sent in *fd if fd is not NULL.
 */
static int ask_home(long lx_fd, int ref_flags, struct fd_req *req, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	int ret = -EIO;
	struct iovec iov = { &ret, sizeof(ret) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	long r;
	int got;

	if (prog_sock < 0)
		return -ENODEV;
	r = lx_syscall3(LX_SYS_FUSE_REF, lx_fd, &req->ref, ref_flags);
	if (r)
		return r;
	pthread_mutex_lock(&prog_lock);
	/* sendmsg and recvmsg: the calls the program process may make */
	do
		n = sendmsg(prog_sock, &(struct msghdr){
				    .msg_iov = &(struct iovec){ req,
								 sizeof(*req) },
				    .msg_iovlen = 1 }, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(*req)) {
		ret = -EIO;
	} else {
		/* the reply to this request, however often interrupted */
		do
			n = recvmsg(prog_sock, &m, MSG_CMSG_CLOEXEC);
		while (n < 0 && errno == EINTR);
		if (n != sizeof(ret))
			ret = -EIO;
	}
	pthread_mutex_unlock(&prog_lock);
	cm = CMSG_FIRSTHDR(&m);
	if (!cm)
		return fd && !ret ? -EIO : ret;
	if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (fd && !ret)
		*fd = got;
	else
		close(got);
	return ret;
}

int lx_homefd_fs(long lx_fd, int flags, int shared)
{
	struct fd_req req = { .op = HOMEFD_OPEN, .flags = flags };
	int fd = -1, ret;

	ret = ask_home(lx_fd, shared ? LX_FUSE_REF_SHARED : 0, &req, &fd);
	return ret ? ret : fd;
}

int lx_homefd_sweep(long lx_fd, uint64_t off, uint64_t len, const char *name)
{
	struct fd_req req = { .op = HOMEFD_SWEEP, .off = off, .len = len };

	snprintf(req.name, sizeof(req.name), "%s", name);
	return ask_home(lx_fd, 0, &req, NULL);
}
