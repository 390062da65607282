// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console.c - the kernel log (printk, through hvc0) to a host fd.
 * Output only: nothing is ever put on the receive queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio.h"

#define RX_QUEUE 0

static void console_queue_work(struct lx_vdev *dev, struct lx_vq *vq)
{
	struct lx_vreq req;
	int fd = (int)(long)dev->priv;

	while (lx_vq_pop(dev, vq, &req) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		/*
		 * The driver spins until its buffer comes back: a log nobody
		 * reads (a paused pager) is dropped, not waited for.
		 */
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) &&
		    writev(fd, req.rd, req.nrd) < 0 && errno == EINTR)
			(void)writev(fd, req.rd, req.nrd);
		lx_vq_push(vq, req.head, 0);
	}
	lx_vq_signal(dev, vq);
}

static int console_fd = -1;

/* The console's fd, for the boot console before virtio takes over; or -1. */
int lx_console_fd(void)
{
	return console_fd;
}

/* A forked process closed the device fds: the console's is gone too. */
void lx_console_forget(void)
{
	console_fd = -1;
}

static const struct lx_vdev_ops console_ops = {
	.queue_work = console_queue_work,
	.own_queues = 1U << RX_QUEUE,	/* served by nobody: output only */
};

int lx_console_add(const char *spec, char *err, size_t errlen)
{
	struct virtio_console_config cfg = { .cols = 80, .rows = 25,
					     .max_nr_ports = 1 };
	struct lx_opt opts[LX_OPTS_MAX];
	static int nr_consoles;
	struct lx_vdev *dev;
	char buf[4096];
	int i, n, fd = -1;

	n = lx_opts_parse(spec, buf, sizeof(buf), opts, LX_OPTS_MAX);
	if (n != 1 || !opts[0].val) {
		snprintf(err, errlen,
			 "console:%s: give one of fd=N or file=PATH", spec);
		return -EINVAL;
	}
	if (nr_consoles) {
		snprintf(err, errlen, "console:%s: only one console", spec);
		return -EBUSY;
	}
	if (!strcmp(opts[0].key, "fd")) {
		char *end;
		long v = strtol(opts[0].val, &end, 10);

		if (*end || v < 0 || v > 1 << 20 ||
		    (fd = fcntl(v, F_DUPFD_CLOEXEC, 3)) < 0) {
			snprintf(err, errlen, "console: fd=%s: not an open fd",
				 opts[0].val);
			return -EBADF;
		}
	} else if (!strcmp(opts[0].key, "file")) {
		fd = open(opts[0].val,
			  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			i = errno;
			snprintf(err, errlen, "console: %s: %s", opts[0].val,
				 strerror(i));
			return -i;
		}
	} else {
		snprintf(err, errlen,
			 "console: unknown option '%s' (fd=N, file=PATH)",
			 opts[0].key);
		return -EINVAL;
	}
	dev = lx_vdev_create(VIRTIO_ID_CONSOLE, 2, 0, sizeof(cfg), &console_ops,
			     "console");
	if (!dev || lx_device_fd_add(fd)) {
		close(fd);
		snprintf(err, errlen, "console: too many devices");
		return -ENOSPC;
	}
	memcpy(dev->regs->config, &cfg, sizeof(cfg));
	snprintf(dev->cmdline, sizeof(dev->cmdline), "console=hvc0");
	dev->priv = (void *)(long)fd;
	console_fd = fd;
	nr_consoles++;
	return 0;
}
