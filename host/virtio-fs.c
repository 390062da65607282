// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-fs.c - host directories (or single files) shared with lx through
 * Linux's virtio-fs driver; lx's own FUSE server (fuse_server.c) answers.
 * In lx: mount -t virtiofs TAG /path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <lx/fuse_server.h>
#include <lx/host_ops.h>
#include <lx/lx.h>
#include "virtio.h"

#define HIPRIO_QUEUE 0		/* FORGETs */
#define REQUEST_QUEUE 1

/* The shares, by tag, for lx_fs_host_fd(). */
static struct share {
	char tag[40];
	struct lx_fuse_server *server;
} shares[LX_VDEV_MAX];
static int nr_shares;

int lx_fs_host_fd(int lx_fd, int flags)
{
	struct lx_fuse_ref ref;
	long ret;

	ret = lx_syscall3(LX_SYS_FUSE_REF, lx_fd, &ref, 0);
	if (ret)
		return ret;
	return lx_fs_host_fd_ref(&ref, flags);
}

long lx_fs_served(const char *tag, uint32_t opcode)
{
	int i;

	for (i = 0; i < nr_shares; i++)
		if (shares[i].server && !strcmp(shares[i].tag, tag))
			return lx_fuse_server_served(shares[i].server, opcode);
	return -ENODEV;
}

int lx_fs_host_fd_ref(const struct lx_fuse_ref *ref, int flags)
{
	char tag[sizeof(ref->tag)];
	int i;

	memcpy(tag, ref->tag, sizeof(tag));
	tag[sizeof(tag) - 1] = 0;
	for (i = 0; i < nr_shares; i++)
		if (shares[i].server && !strcmp(shares[i].tag, tag))
			return lx_fuse_server_host_fd(shares[i].server,
						      ref->nodeid, ref->fh, flags);
	return -ENODEV;
}

/*
 * The host fds this process reads and writes virtio-fs files through (lx's
 * read() and write(): arch/lx/kernel/fuseref.c), a few, by share and node
 * (node ids are never reused), one read-only and one write-only fd each.
 * A miss opens the file through lx_fs_file_open: the share's server in
 * the process that declared it, the home process from a program process.
 * Writes run without lx's CPU, so the table has a lock, and an entry in
 * use is pinned: its fds are not closed under a call.
 */
#define FILE_FDS 32

/* How a read may go to the host file without waiting for a disk. */
enum nowait {
	NOWAIT_NONE,		/* it may not: the FUSE way */
	NOWAIT_FLAG,		/* preadv2(RWF_NOWAIT) */
	NOWAIT_MEMORY,		/* any read: a file system in memory */
};

static struct file_fds {
	char tag[40];
	uint64_t nodeid;
	int fd[2];		/* read-only, write-only; -1: not open yet */
	int nowait;		/* enum nowait */
	int pins;
	int closing;		/* to close at the last unpin: 1 write fd, 2 all */
	unsigned long used;	/* 0: a free entry */
} file_fds[FILE_FDS];
static unsigned long file_clock;
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;

static int home_file_open(const struct lx_fuse_ref *ref, int acc)
{
	return lx_fs_host_fd_ref(ref, acc | O_CLOEXEC);
}

int (*lx_fs_file_open)(const struct lx_fuse_ref *ref, int acc) =
	home_file_open;

static bool same_file(const struct file_fds *e, const struct lx_fuse_ref *ref)
{
	return e->used && e->nodeid == ref->nodeid &&
	       !strncmp(e->tag, ref->tag, sizeof(e->tag));
}

static void file_fd_close(struct file_fds *e, int w)
{
	if (e->fd[w] >= 0)
		close(e->fd[w]);
	e->fd[w] = -1;
}

/* both fds: the entry is free */
static void file_fds_close(struct file_fds *e)
{
	file_fd_close(e, 0);
	file_fd_close(e, 1);
	e->used = 0;
}

/*
 * The entry of ref, pinned, with its fd for access w (0 read, 1 write)
 * open, or NULL (*fd: -errno).  Unpin with file_unpin().
 */
static struct file_fds *file_pin(const struct lx_fuse_ref *ref, int w,
				 int *fd)
{
	struct file_fds *e, *lru = NULL;
	int nfd;

	pthread_mutex_lock(&file_lock);
	for (e = file_fds; e < file_fds + FILE_FDS; e++)
		if (same_file(e, ref) && e->fd[w] >= 0)
			goto found;
	pthread_mutex_unlock(&file_lock);
	/* the open may ask the home process: not under the lock */
	nfd = lx_fs_file_open ? lx_fs_file_open(ref, w ? O_WRONLY : O_RDONLY)
			      : -EOPNOTSUPP;
	if (nfd < 0) {
		*fd = nfd;
		return NULL;
	}
	pthread_mutex_lock(&file_lock);
	for (e = file_fds; e < file_fds + FILE_FDS; e++) {
		if (same_file(e, ref))
			break;
		if (!e->pins && (!lru || e->used < lru->used))
			lru = e;
	}
	if (e == file_fds + FILE_FDS) {
		if (!lru) {		/* every entry in use: unlikely */
			pthread_mutex_unlock(&file_lock);
			close(nfd);
			*fd = -EBUSY;
			return NULL;
		}
		e = lru;
		if (e->used)
			file_fds_close(e);
		memcpy(e->tag, ref->tag, sizeof(e->tag));
		e->tag[sizeof(e->tag) - 1] = 0;
		e->nodeid = ref->nodeid;
		e->fd[0] = e->fd[1] = -1;
		e->nowait = NOWAIT_FLAG;
		e->pins = 0;
		e->closing = 0;
	}
	if (e->fd[w] < 0)
		e->fd[w] = nfd;
	else
		close(nfd);	/* another thread was quicker */
found:
	e->used = ++file_clock;
	e->pins++;
	*fd = e->fd[w];
	pthread_mutex_unlock(&file_lock);
	return e;
}


static void file_unpin(struct file_fds *e)
{
	pthread_mutex_lock(&file_lock);
	/* a close asked for while it was in use (lx_fs_fuse_closed()) */
	if (!--e->pins && e->closing) {
		file_fd_close(e, 1);
		if (e->closing > 1)
			file_fds_close(e);
		e->closing = 0;
	}
	pthread_mutex_unlock(&file_lock);
}

/* Whether fd's file system keeps its files in memory: no read waits. */
static bool in_memory(int fd)
{
	struct statfs sf;

	return !fstatfs(fd, &sf) &&
	       (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

/* preadv2 (w 0) or pwritev (w 1) of ref's file: bytes moved or -errno */
static long file_io(const struct lx_fuse_ref *ref, int w, const void *iov,
		    int cnt, long long pos)
{
	struct file_fds *e;
	ssize_t n;
	int fd;

	e = file_pin(ref, w, &fd);
	if (!e)
		return -EOPNOTSUPP;	/* lx goes the FUSE way then */
	if (w) {
		n = pwritev(fd, iov, cnt, pos);
		n = n < 0 ? -errno : n;
	} else {
		/* what the host has in memory only: a disk read waits the
		 * FUSE way */
		n = -EOPNOTSUPP;
		if (e->nowait == NOWAIT_FLAG) {
			n = preadv2(fd, iov, cnt, pos, RWF_NOWAIT);
			n = n < 0 ? -errno : n;
			/* tmpfs lacks the flag, and needs none */
			if (n == -EOPNOTSUPP)
				e->nowait = in_memory(fd) ? NOWAIT_MEMORY :
							    NOWAIT_NONE;
		}
		if (e->nowait == NOWAIT_MEMORY) {
			n = preadv(fd, iov, cnt, pos);
			n = n < 0 ? -errno : n;
		}
	}
	file_unpin(e);
	return n;
}

long lx_fs_fuse_read(const struct lx_fuse_ref *ref, void *iov, int cnt,
		     long long pos)
{
	return file_io(ref, 0, iov, cnt, pos);
}

long lx_fs_fuse_write(const struct lx_fuse_ref *ref, const void *iov, int cnt,
		      long long pos)
{
	return file_io(ref, 1, iov, cnt, pos);
}

void lx_fs_fuse_closed(const struct lx_fuse_ref *ref, int all)
{
	struct file_fds *e;

	pthread_mutex_lock(&file_lock);
	for (e = file_fds; e < file_fds + FILE_FDS; e++) {
		if (!same_file(e, ref))
			continue;
		if (e->pins)
			e->closing = all ? 2 : 1;
		else if (all)
			file_fds_close(e);
		else
			file_fd_close(e, 1);
	}
	pthread_mutex_unlock(&file_lock);
}

/*
 * A new process forgets its parent's fds (lx_fork), and has no server of
 * its own to open others: guest/ tells it whom to ask.
 */
void lx_fs_files_forget(void)
{
	struct file_fds *e;

	lx_fs_file_open = NULL;
	pthread_mutex_init(&file_lock, NULL);
	for (e = file_fds; e < file_fds + FILE_FDS; e++) {
		if (e->used)
			file_fds_close(e);
		e->pins = e->closing = 0;	/* pinned by a thread not here */
	}
}

static void fs_queue_work(struct lx_vdev *dev, struct lx_vq *vq)
{
	struct lx_vreq req;
	struct lx_fuse_server *s = dev->priv;
	long n;
	int done = 0;

	while (lx_vq_pop(dev, vq, &req) > 0) {
		n = lx_fuse_server_handle(s, req.rd, req.nrd, req.wr, req.nwr);
		/* a malformed request is used with nothing written */
		lx_vq_push(vq, req.head, n > 0 ? n : 0);
		/* long batches: let the driver complete the first ones */
		if (++done % 32 == 0)
			lx_vq_signal(dev, vq);
	}
	lx_vq_signal(dev, vq);
}

static void fs_destroy(struct lx_vdev *dev)
{
	int i;

	for (i = 0; i < nr_shares; i++)
		if (shares[i].server == dev->priv)
			shares[i].server = NULL;
	lx_fuse_server_destroy(dev->priv);
	dev->priv = NULL;
}

static const struct lx_vdev_ops fs_ops = {
	.queue_work = fs_queue_work,
	.destroy = fs_destroy,
	/* the hiprio queue: FORGETs, which need no answer soon */
	.lazy_queues = 1U << 0,
};

int lx_fs_add(const char *spec, char *err, size_t errlen)
{
	struct virtio_fs_config cfg = { .num_request_queues = 1 };
	struct lx_fuse_opts fo = { 0 };
	struct lx_opt opts[LX_OPTS_MAX];
	struct lx_fuse_server *s;
	const char *tag = NULL;
	static int nr_fs;
	char buf[4096], name[16];
	struct lx_vdev *dev;
	int i, n, ret;

	n = lx_opts_parse(spec, buf, sizeof(buf), opts, LX_OPTS_MAX);
	if (n < 0) {
		snprintf(err, errlen, "fs:%s: too long", spec);
		return n;
	}
	for (i = 0; i < n; i++) {
		const char *k = opts[i].key, *v = opts[i].val;

		if (!strcmp(k, "tag") && v) {
			tag = v;
		} else if (!strcmp(k, "dir") && v) {
			fo.dir = v;
		} else if (!strcmp(k, "ro") && !v) {
			fo.readonly = 1;
		} else if (!strcmp(k, "cache") && v &&
			   (!strcmp(v, "fast") || !strcmp(v, "strict"))) {
			fo.strict_cache = !strcmp(v, "strict");
		} else {
			snprintf(err, errlen,
				 "fs: bad option '%s' (tag=T, dir=PATH, ro, cache=fast|strict)",
				 k);
			return -EINVAL;
		}
	}
	if (!tag || !*tag || strlen(tag) > sizeof(cfg.tag)) {
		snprintf(err, errlen, "fs: give tag=T of 1 to %zu characters",
			 sizeof(cfg.tag));
		return -EINVAL;
	}
	if (!fo.dir || !*fo.dir) {
		snprintf(err, errlen, "fs: tag=%s: no dir=PATH given", tag);
		return -EINVAL;
	}
	ret = lx_fuse_server_create(&fo, &s, err, errlen);
	if (ret)
		return ret;
	memcpy(cfg.tag, tag, strlen(tag));
	snprintf(name, sizeof(name), "fs%d", nr_fs);
	dev = lx_vdev_create(VIRTIO_ID_FS, 2, 0, sizeof(cfg), &fs_ops, name);
	if (!dev) {
		lx_fuse_server_destroy(s);
		snprintf(err, errlen, "fs: tag=%s: too many devices", tag);
		return -ENOSPC;
	}
	memcpy(dev->regs->config, &cfg, sizeof(cfg));
	dev->priv = s;
	snprintf(shares[nr_shares].tag, sizeof(shares[0].tag), "%s", tag);
	shares[nr_shares++].server = s;
	nr_fs++;
	return 0;
}
