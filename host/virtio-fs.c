// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-fs.c - host directories (or single files) shared with lx through
 * Linux's virtio-fs driver; lx's own FUSE server (fuse_server.c) answers.
 * In lx: mount -t virtiofs TAG /path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
 * The host fds this process reads virtio-fs files through (lx's read():
 * arch/lx/kernel/fuseref.c), a few, by share and node (node ids are never
 * reused).  Used with lx's CPU held, so by one thread at a time.  A miss
 * opens the file read-only through lx_fs_read_open: the share's server in
 * the process that declared it, the home process from a program process.
 */
#define READ_FDS 32

static struct read_fd {
	char tag[40];
	uint64_t nodeid;
	int fd;			/* -1: a free entry */
	int nowait;		/* 0: the host file system lacks RWF_NOWAIT */
	unsigned long used;
} read_fds[READ_FDS];
static unsigned long read_clock;

static int home_read_open(const struct lx_fuse_ref *ref)
{
	return lx_fs_host_fd_ref(ref, O_RDONLY | O_CLOEXEC);
}

int (*lx_fs_read_open)(const struct lx_fuse_ref *ref) = home_read_open;

static struct read_fd *read_fd(const struct lx_fuse_ref *ref)
{
	struct read_fd *e, *lru = read_fds;
	int fd;

	for (e = read_fds; e < read_fds + READ_FDS; e++) {
		if (e->used && e->nodeid == ref->nodeid &&
		    !strncmp(e->tag, ref->tag, sizeof(e->tag)))
			goto found;
		if (e->used < lru->used)
			lru = e;
	}
	fd = lx_fs_read_open(ref);
	if (fd < 0)
		return NULL;
	e = lru;
	if (e->used)
		close(e->fd);
	memcpy(e->tag, ref->tag, sizeof(e->tag));
	e->tag[sizeof(e->tag) - 1] = 0;
	e->nodeid = ref->nodeid;
	e->fd = fd;
	e->nowait = 1;
found:
	e->used = ++read_clock;
	return e;
}

long lx_fs_fuse_read(const struct lx_fuse_ref *ref, void *iov, int cnt,
		     long long pos)
{
	struct read_fd *e = lx_fs_read_open ? read_fd(ref) : NULL;
	ssize_t n;

	if (!e)
		return -EBADF;
	if (!e->nowait)
		return -EOPNOTSUPP;
	/* only what the host has in memory: a disk read waits the FUSE way */
	n = preadv2(e->fd, iov, cnt, pos, RWF_NOWAIT);
	if (n < 0 && errno == EOPNOTSUPP)
		e->nowait = 0;
	return n < 0 ? -errno : n;
}

/*
 * A new process forgets its parent's fds (lx_fork), and has no server of
 * its own to open others: guest/ tells it whom to ask.
 */
void lx_fs_read_forget(void)
{
	struct read_fd *e;

	lx_fs_read_open = NULL;

	for (e = read_fds; e < read_fds + READ_FDS; e++) {
		if (e->used)
			close(e->fd);
		e->used = 0;
	}
}

static void fs_queue_work(struct lx_vdev *dev, struct lx_vq *vq)
{
	static __thread struct lx_vreq req;
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
	memcpy(dev->config, &cfg, sizeof(cfg));
	dev->priv = s;
	snprintf(shares[nr_shares].tag, sizeof(shares[0].tag), "%s", tag);
	shares[nr_shares++].server = s;
	nr_fs++;
	return 0;
}
