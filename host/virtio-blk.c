// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk.c - a disk on a host file: read, write, flush, discard,
 * write-zeroes, get-id; read-only disks.
 *
 * The host's page cache: a writable disk is read and written with
 * O_DIRECT where the host file system says it takes it (blk_open_direct),
 * as VMs use cache=none: lx's page cache is the disk's cache, and a
 * second copy of every page in the host's cost a copy and a page of host
 * memory for each (256 MiB read cold: CPU 0.26-0.41 s buffered, 0.05 s
 * direct).  A request whose buffers, offset or lengths are not aligned as
 * the host file system wants (an ext4 of 1 KiB blocks on a host disk of
 * 4 KiB sectors) goes through the host's page cache on a second fd: Linux
 * writes cached pages back before a direct read and drops them around a
 * direct write, and ext4 and xfs order a buffered write with a direct
 * one (on block devices direct I/O is kept to whole pages for that).  A
 * host that refuses a direct transfer at run time turns it off for the
 * disk.  A read-only disk keeps the host's page cache by default:
 * containers sharing an image share it there.  Option "direct" asks for
 * O_DIRECT (adding the disk fails where the host refuses it), "buffered"
 * for the host's page cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/falloc.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "virtio.h"

#define SEG_MAX (LX_VREQ_IOV - 2)

/*
 * The optimal I/O size the disk reports (VIRTIO_BLK_F_TOPOLOGY), in bytes.
 * Linux sizes a disk's readahead as twice that (blk_queue_io_opt), 4 MiB
 * here instead of its default 128 KiB.  Each request is a host call on the
 * device thread, and a cold request waits for the host's disk: with 128
 * KiB of readahead a sequential reader keeps one or two 1 MiB requests in
 * flight and the device thread idles between them; with 4 MiB several are
 * queued behind each other.  256 MiB read cold (lx RAM warm): 177-403 ms
 * -> 172-205 ms, native 154-160.  (The host reads ahead 8 MiB on its own
 * file.)
 */
#define OPT_IO_BYTES (2U << 20)

/*
 * Host threads that serve requests besides the queue's own thread.  A
 * request is one blocking host call (a cold read waits for the host's
 * disk, a write copies into the host's page cache): with several in the
 * queue, a second thread overlaps one request's wait or copy with the
 * next one's.
 */
#define BLK_HELPERS 1

/*
 * The device's host state, in the home process.  The queue's thread
 * (virtio.c) runs blk_queue_work() on a kick; when more requests wait than
 * it has taken, it wakes helpers, and it returns only when every request
 * it or a helper took is on the used ring (so a reset, which waits for
 * the queue thread, never races a helper).  lock covers the rings (pop,
 * push, signal) and the counters.
 */
struct blk {
	int fd;			/* through the host's page cache */
	int dfd;		/* O_DIRECT, or -1 */
	uint32_t dio_mem_align;	/* what dfd wants of buffers, */
	uint32_t dio_off_align;	/* and of offsets and lengths */
	int ro;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];

	pthread_mutex_t lock;
	pthread_cond_t wake;	/* helpers wait for a round */
	pthread_cond_t idle;	/* the queue thread and flushes wait here */
	struct lx_vdev *dev;	/* the round's queue */
	struct lx_vq *vq;
	int want;		/* helpers asked to join the round */
	int helping;		/* helpers in the round */
	int inflight;		/* requests taken, not yet on the used ring */
	bool barrier;		/* a flush waits for the requests before it */
	bool stop;
	int nr_helpers;
	pthread_t helpers[BLK_HELPERS];
};

/* Discard and write-zeroes: one segment, ranges checked. */
static int blk_ranges(struct blk *b, struct lx_vreq *req, uint32_t type)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t off, len;
	int mode;

	if (req->rd_len != sizeof(struct virtio_blk_outhdr) + sizeof(seg) ||
	    lx_iov_copy_from(req->rd, req->nrd, sizeof(struct virtio_blk_outhdr),
			     &seg, sizeof(seg)) != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	if (seg.sector > b->sectors || seg.num_sectors > b->sectors - seg.sector)
		return VIRTIO_BLK_S_IOERR;
	off = seg.sector << 9;
	len = (uint64_t)seg.num_sectors << 9;
	mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	if (type == VIRTIO_BLK_T_WRITE_ZEROES &&
	    !(seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE;
	if (fallocate(b->fd, mode, off, len) == 0)
		return VIRTIO_BLK_S_OK;
	if (type == VIRTIO_BLK_T_DISCARD)
		return VIRTIO_BLK_S_OK; /* a hint: the file system may not */
	/* no fallocate on this file: write the zeroes */
	{
		static const char zero[65536];

		while (len) {
			size_t n = len < sizeof(zero) ? len : sizeof(zero);
			ssize_t w = pwrite(b->fd, zero, n, off);

			if (w <= 0)
				return VIRTIO_BLK_S_IOERR;
			off += w;
			len -= w;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * The host refused a direct transfer it said it takes (a file system that
 * does not tell its alignment, and wants more than 4 KiB): the disk goes
 * through the host's page cache from now on.
 */
static void blk_direct_off(struct blk *b)
{
	if (__atomic_exchange_n(&b->dio_off_align, 0, __ATOMIC_RELAXED))
		fprintf(stderr, "lx: blk %s: the host refuses direct I/O, "
			"going through its page cache\n", b->id);
}

/* The request can go to the O_DIRECT fd. */
static bool blk_direct_ok(const struct blk *b, const struct iovec *iov,
			  int cnt, uint64_t off, uint64_t len)
{
	uint32_t align = __atomic_load_n(&b->dio_off_align, __ATOMIC_RELAXED);
	int i;

	if (b->dfd < 0 || !align || (off | len) & (align - 1))
		return false;
	/* (the status byte's own buffer is left with nothing to transfer) */
	for (i = 0; i < cnt; i++)
		if (iov[i].iov_len &&
		    (((uintptr_t)iov[i].iov_base & (b->dio_mem_align - 1)) ||
		     (iov[i].iov_len & (align - 1))))
			return false;
	return true;
}

/* Data buffers of a request: the vectors between header and status. */
static ssize_t blk_rw(struct blk *b, struct lx_vreq *req, uint32_t type,
		      uint64_t sector)
{
	struct iovec *iov, save = { 0 };
	uint64_t off = sector << 9, len;
	ssize_t n, done = 0;
	int cnt, fd;

	if (type == VIRTIO_BLK_T_IN) {
		/* device-writable: data..., status byte (may share a buffer) */
		iov = req->wr;
		cnt = req->nwr;
		len = req->wr_len - 1;
	} else {
		iov = req->rd + 1;
		cnt = req->nrd - 1;
		len = req->rd_len - sizeof(struct virtio_blk_outhdr);
		if (req->rd[0].iov_len != sizeof(struct virtio_blk_outhdr))
			return -EIO; /* header and data in one buffer: unusual */
	}
	if (len % 512 || sector > b->sectors || (len >> 9) > b->sectors - sector)
		return -EIO;
	/* the last writable byte is the status: keep it out of the data */
	if (type == VIRTIO_BLK_T_IN) {
		save = iov[cnt - 1];
		iov[cnt - 1].iov_len--;
	}
	fd = blk_direct_ok(b, iov, cnt, off, len) ? b->dfd : b->fd;
	while ((uint64_t)done < len) {
		if (type == VIRTIO_BLK_T_IN)
			n = preadv(fd, iov, cnt, off + done);
		else
			n = pwritev(fd, iov, cnt, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && fd == b->dfd) {
			/* the file system took O_DIRECT, not this I/O */
			blk_direct_off(b);
			fd = b->fd;
			continue;
		}
		if (n <= 0)
			break;	/* an error, or the file shrank */
		/* what is left of a short transfer may not be aligned */
		fd = b->fd;
		done += n;
		if ((uint64_t)done < len) {
			/* a short transfer: advance the vectors */
			ssize_t skip = n;

			while (cnt && (size_t)skip >= iov->iov_len) {
				skip -= iov->iov_len;
				iov++;
				cnt--;
			}
			if (cnt) {
				iov->iov_base = (char *)iov->iov_base + skip;
				iov->iov_len -= skip;
			}
		}
	}
	if (type == VIRTIO_BLK_T_IN)
		req->wr[req->nwr - 1] = save;
	return (uint64_t)done == len ? done : -EIO;
}

/*
 * Serve one request whose header blk_serve() copied (hdr, NULL if the
 * chain had none): the header lies in kernel RAM, where a program could
 * change it, so it is read once, and what decided the barrier decides
 * the request.
 */
static void blk_request(struct blk *b, struct lx_vreq *req,
			const struct virtio_blk_outhdr *hdr, uint32_t *written)
{
	uint8_t status = VIRTIO_BLK_S_IOERR;
	ssize_t n;

	*written = 0;
	/* the status byte is the last writable one: it must be there */
	if (!req->nwr || !req->wr[req->nwr - 1].iov_len) {
		req->nwr = 0;
		goto out;
	}
	if (!hdr)
		goto out;
	switch (hdr->type) {
	case VIRTIO_BLK_T_IN:
		n = blk_rw(b, req, hdr->type, hdr->sector);
		if (n >= 0) {
			status = VIRTIO_BLK_S_OK;
			*written = n;
		}
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->ro)
			break;
		if (blk_rw(b, req, hdr->type, hdr->sector) >= 0)
			status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		*written = lx_iov_copy_to(req->wr, req->nwr, 0, b->id,
					  req->wr_len - 1 < sizeof(b->id) ?
						  req->wr_len - 1 : sizeof(b->id));
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!b->ro)
			status = blk_ranges(b, req, hdr->type);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	if (req->nwr)
		lx_iov_copy_to(req->wr, req->nwr, req->wr_len - 1, &status, 1);
	*written += 1;
}

/*
 * Take requests and serve them until the queue is empty; called with
 * b->lock held, returns with it held.  Several threads may be in here.
 */
static void blk_serve(struct blk *b, struct lx_vreq *req)
{
	struct lx_vdev *dev = b->dev;
	struct lx_vq *vq = b->vq;
	struct virtio_blk_outhdr hdr;
	uint32_t written;
	bool has_hdr;
	int n = 0;

	for (;;) {
		while (b->barrier)
			pthread_cond_wait(&b->idle, &b->lock);
		if (lx_vq_pop(dev, vq, req) <= 0)
			break;
		/*
		 * A flush makes durable what completed before it: let the
		 * requests taken before it finish first (Linux waits for
		 * them anyway before it flushes; this keeps the device
		 * honest when requests run side by side), and take no new
		 * ones until it is done.
		 */
		has_hdr = lx_iov_copy_from(req->rd, req->nrd, 0, &hdr,
					   sizeof(hdr)) == sizeof(hdr);
		if (has_hdr && hdr.type == VIRTIO_BLK_T_FLUSH) {
			b->barrier = true;
			while (b->inflight)
				pthread_cond_wait(&b->idle, &b->lock);
		}
		b->inflight++;
		/* more waiting than this thread takes: get a helper going */
		if (b->want + b->helping < b->nr_helpers &&
		    __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) !=
			    vq->last_avail) {
			b->want++;
			pthread_cond_signal(&b->wake);
		}
		pthread_mutex_unlock(&b->lock);
		blk_request(b, req, has_hdr ? &hdr : NULL, &written);
		pthread_mutex_lock(&b->lock);
		lx_vq_push(vq, req->head, written);
		if (b->barrier && has_hdr && hdr.type == VIRTIO_BLK_T_FLUSH)
			b->barrier = false;
		if (!--b->inflight || !b->barrier)
			pthread_cond_broadcast(&b->idle);
		/* let the driver start on the first ones while we go on */
		if (++n % 16 == 0)
			lx_vq_signal(dev, vq);
	}
	lx_vq_signal(dev, vq);
}

static void blk_queue_work(struct lx_vdev *dev, struct lx_vq *vq)
{
	struct lx_vreq req;
	struct blk *b = dev->priv;

	pthread_mutex_lock(&b->lock);
	b->dev = dev;
	b->vq = vq;
	blk_serve(b, &req);
	/* helpers that did not start yet stay out; wait for the others */
	b->want = 0;
	while (b->helping || b->inflight)
		pthread_cond_wait(&b->idle, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

static void *blk_helper(void *arg)
{
	struct lx_vreq req;
	struct blk *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->want && !b->stop)
			pthread_cond_wait(&b->wake, &b->lock);
		if (b->stop)
			break;
		b->want--;
		b->helping++;
		blk_serve(b, &req);
		if (!--b->helping)
			pthread_cond_broadcast(&b->idle);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static int blk_start(struct lx_vdev *dev)
{
	struct blk *b = dev->priv;
	int ret;

	while (b->nr_helpers < BLK_HELPERS) {
		ret = lx_home_thread(&b->helpers[b->nr_helpers], "lx-blk-io",
				     blk_helper, b);
		if (ret)
			return ret;
		b->nr_helpers++;
	}
	return 0;
}

static void blk_destroy(struct lx_vdev *dev)
{
	struct blk *b = dev->priv;
	int i;

	/* the queue thread is gone: no round runs */
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->wake);
	pthread_mutex_unlock(&b->lock);
	for (i = 0; i < b->nr_helpers; i++)
		pthread_join(b->helpers[i], NULL);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->wake);
	pthread_cond_destroy(&b->idle);
	free(b);
	dev->priv = NULL;
}

static const struct lx_vdev_ops blk_ops = {
	.queue_work = blk_queue_work,
	.start = blk_start,
	.destroy = blk_destroy,
};

#define BTRFS_MAGIC 0x9123683e

/*
 * The file again with O_DIRECT, and what its file system wants aligned,
 * or -errno.  By default (asked 0) only where the file system says what
 * it wants aligned (statx STATX_DIOALIGN: ext4, xfs, block devices ...;
 * tmpfs takes the open and says nothing), and not on btrfs, whose data
 * checksums go wrong when the page under a direct write changes in
 * flight, as lx's page cache lets it.  Asked (option "direct"), 4 KiB
 * where the file system does not say.  The same file: st is what the
 * first open found.
 */
static int blk_open_direct(const char *file, int ro, const struct stat *st,
			   int asked, uint32_t *mem_align, uint32_t *off_align)
{
	struct statx sx = { 0 };
	struct statfs sfs;
	struct stat dst;
	int dfd, err = -EOPNOTSUPP;

	dfd = open(file, (ro ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &dst) || dst.st_dev != st->st_dev ||
	    dst.st_ino != st->st_ino) {
		err = -ESTALE;	/* replaced in between */
		goto fail;
	}
	*mem_align = *off_align = 4096;
	if (statx(dfd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN)) {
		if (!sx.stx_dio_offset_align) {
			err = -EINVAL;	/* no direct I/O for this file */
			goto fail;
		}
		*off_align = sx.stx_dio_offset_align;
		*mem_align = sx.stx_dio_mem_align ? sx.stx_dio_mem_align :
						    *off_align;
	} else if (!asked) {
		goto fail;
	}
	if (!asked && !S_ISBLK(st->st_mode) &&
	    (fstatfs(dfd, &sfs) || sfs.f_type == BTRFS_MAGIC))
		goto fail;
	/*
	 * A block device has no inode lock to order a buffered write with a
	 * direct one into another part of the same host page: direct I/O
	 * only of whole pages there.
	 */
	if (S_ISBLK(st->st_mode) && *off_align < 4096)
		*off_align = 4096;
	return dfd;
fail:
	close(dfd);
	return err;
}

int lx_blk_add(const char *spec, char *err, size_t errlen)
{
	struct virtio_blk_config cfg = { 0 };
	struct lx_opt opts[LX_OPTS_MAX];
	const char *file = NULL;
	static int nr_disks;
	char buf[4096], name[16];
	struct lx_vdev *dev;
	struct blk *b;
	struct stat st;
	uint64_t features;
	int i, n, ro = 0, cache = 0, fd, dfd = -1;
	uint32_t mem_align = 0, off_align = 0;

	n = lx_opts_parse(spec, buf, sizeof(buf), opts, LX_OPTS_MAX);
	if (n < 0) {
		snprintf(err, errlen, "blk:%s: too long", spec);
		return n;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(opts[i].key, "file") && opts[i].val) {
			file = opts[i].val;
		} else if (!strcmp(opts[i].key, "ro") && !opts[i].val) {
			ro = 1;
		} else if (!strcmp(opts[i].key, "direct") && !opts[i].val) {
			cache = 1;
		} else if (!strcmp(opts[i].key, "buffered") && !opts[i].val) {
			cache = -1;
		} else {
			snprintf(err, errlen, "blk: unknown option '%s' (file=PATH, ro, direct, buffered)",
				 opts[i].key);
			return -EINVAL;
		}
	}
	if (!file || !*file) {
		snprintf(err, errlen, "blk: no file=PATH given");
		return -EINVAL;
	}
	fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "blk: %s: %s", file, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		snprintf(err, errlen, "blk: %s: not a file or block device",
			 file);
		close(fd);
		return -EINVAL;
	}
	if (cache > 0 || (!cache && !ro)) {
		dfd = blk_open_direct(file, ro, &st, cache > 0, &mem_align,
				      &off_align);
		if (dfd < 0 && cache > 0) {
			snprintf(err, errlen, "blk: %s: direct: %s", file,
				 strerror(-dfd));
			close(fd);
			return dfd;
		}
	}
	if (S_ISBLK(st.st_mode))
		st.st_size = lseek(fd, 0, SEEK_END);
	b = calloc(1, sizeof(*b));
	if (b && lx_device_fd_add(fd)) {
		free(b);
		b = NULL;
	} else if (b && dfd >= 0 && lx_device_fd_add(dfd)) {
		lx_device_fd_remove(fd);
		free(b);
		b = NULL;
	}
	if (!b) {
		close(fd);
		if (dfd >= 0)
			close(dfd);
		snprintf(err, errlen, "blk: %s: too many devices", file);
		return -ENOMEM;
	}
	b->fd = fd;
	b->dfd = dfd;
	b->dio_mem_align = mem_align;
	b->dio_off_align = off_align;
	b->ro = ro;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	pthread_cond_init(&b->idle, NULL);
	b->sectors = st.st_size >> 9;
	snprintf(b->id, sizeof(b->id), "lx%llx-%llx",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);

	cfg.capacity = b->sectors;
	cfg.seg_max = SEG_MAX;
	cfg.size_max = 1U << 20;
	cfg.blk_size = 512;
	cfg.num_queues = 1;
	cfg.opt_io_size = OPT_IO_BYTES / 512;
	cfg.max_discard_sectors = 1U << 22;
	cfg.max_discard_seg = 1;
	cfg.discard_sector_alignment = 8;
	cfg.max_write_zeroes_sectors = 1U << 22;
	cfg.max_write_zeroes_seg = 1;
	cfg.write_zeroes_may_unmap = 1;
	features = 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_SIZE_MAX |
		   1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_FLUSH |
		   1ULL << VIRTIO_BLK_F_TOPOLOGY;
	if (ro)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	else
		features |= 1ULL << VIRTIO_BLK_F_DISCARD |
			    1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	snprintf(name, sizeof(name), "blk%d", nr_disks);
	dev = lx_vdev_create(VIRTIO_ID_BLOCK, 1, features, sizeof(cfg), &blk_ops,
			     name);
	if (!dev) {
		snprintf(err, errlen, "blk: %s: too many devices", file);
		free(b);
		return -ENOSPC;
	}
	memcpy(dev->regs->config, &cfg, sizeof(cfg));
	dev->priv = b;
	nr_disks++;
	return 0;
}
