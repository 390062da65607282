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
 * The same way, a program process asks the home process for the syscall
 * sites of a range of an ELF file it maps (rewrite.c): the home looks
 * them up in the site cache by the identity of the host file it opened,
 * or sweeps that file and caches what it found, and sends the sites back.
 * Program processes never see the cache, which all containers of the
 * host user share.
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

enum { HOMEFD_OPEN, HOMEFD_SITES };

struct fd_req {
	struct lx_fuse_ref ref;
	int op;
	int flags;		/* OPEN: O_RDONLY, O_WRONLY or O_RDWR */
	uint64_t off, len;	/* SITES: the file range a mapping has */
	char name[64];		/* SITES: the file's name, for --debug */
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

/* Send ret (0), then the n bytes of reply; -EMSGSIZE if they do not go. */
static void send_reply(int sock, const void *reply, long n)
{
	int ret = 0;
	struct iovec iov[2] = { { &ret, sizeof(ret) },
				{ (void *)reply, n } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	if (n < 0 || sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		/* the program process waits for an answer: it gets one */
		send_fd(sock, n < 0 ? (int)n : -EMSGSIZE, -1);
}

static void *serve(void *arg)
{
	static char reply[LX_HOMEFD_REPLY_MAX];
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
		fd = lx_fs_host_fd_ref(&req.ref, (req.op == HOMEFD_SITES ?
						  O_RDONLY : req.flags) |
						 O_CLOEXEC);
		if (req.op == HOMEFD_SITES)
			send_reply(home_sock, reply,
				   fd < 0 ? fd :
				   lx_rewrite_sites_host(fd, req.off, req.len,
							 req.name, reply,
							 sizeof(reply)));
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

static int file_open(const struct lx_fuse_ref *ref, int acc);

void lx_homefd_forked(int in_program)
{
	if (in_program) {
		/* the serving thread is not in this process */
		if (home_sock >= 0)
			close(home_sock);
		home_sock = -1;
		lx_fs_file_open = file_open;
	} else if (prog_sock >= 0) {
		close(prog_sock);
		prog_sock = -1;
	}
}

/*
 * Ask the home process (req: op, its arguments and the file, named by
 * req->ref).  Returns its answer, and the fd it sent in *fd if fd is not
 * NULL, and what followed the answer in reply (max bytes; *got says how
 * many) if reply is not NULL.  Makes no call into lx, so lx may call it
 * (lx_fs_file_open), and the lock is never held by a thread waiting for
 * lx's CPU.
 */
static int ask_home_ref(struct fd_req *req, int *fd, void *reply, size_t max,
			size_t *got_bytes)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	int ret = -EIO;
	struct iovec iov[2] = { { &ret, sizeof(ret) }, { reply, max } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = reply ? 2 : 1,
			    .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n;
	int got;

	if (prog_sock < 0)
		return -ENODEV;
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
		if (n < (ssize_t)sizeof(ret) || (m.msg_flags & MSG_TRUNC) ||
		    (!reply && n != sizeof(ret)))
			ret = -EIO;
		else if (got_bytes)
			*got_bytes = n - sizeof(ret);
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

/* The same for the file behind lx fd lx_fd (LX_SYS_FUSE_REF's flags). */
static int ask_home(long lx_fd, int ref_flags, struct fd_req *req, int *fd,
		    void *reply, size_t max, size_t *got_bytes)
{
	long r = lx_syscall3(LX_SYS_FUSE_REF, lx_fd, &req->ref, ref_flags);

	return r ? r : ask_home_ref(req, fd, reply, max, got_bytes);
}

/* lx reads or writes a virtio-fs file through the host file */
static int file_open(const struct lx_fuse_ref *ref, int acc)
{
	struct fd_req req = { .ref = *ref, .op = HOMEFD_OPEN, .flags = acc };
	int fd = -1, ret;

	ret = ask_home_ref(&req, &fd, NULL, 0, NULL);
	return ret ? ret : fd;
}

int lx_homefd_fs(long lx_fd, int flags, int shared)
{
	struct fd_req req = { .op = HOMEFD_OPEN, .flags = flags };
	int fd = -1, ret;

	ret = ask_home(lx_fd, shared ? LX_FUSE_REF_SHARED : 0, &req, &fd,
		       NULL, 0, NULL);
	return ret ? ret : fd;
}

long lx_homefd_sites(long lx_fd, uint64_t off, uint64_t len, const char *name,
		     void *reply, size_t max)
{
	struct fd_req req = { .op = HOMEFD_SITES, .off = off, .len = len };
	size_t got = 0;
	int ret;

	snprintf(req.name, sizeof(req.name), "%s", name);
	ret = ask_home(lx_fd, 0, &req, NULL, reply, max, &got);
	return ret ? ret : (long)got;
}
