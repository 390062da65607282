// SPDX-License-Identifier: GPL-2.0
/*
 * devices.c - declaring lx's devices before boot: "TYPE:key=value,..."
 * specs, and the host fds behind them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lx/lx.h>
#include "virtio.h"

int lx_opts_parse(const char *s, char *buf, size_t buflen,
		  struct lx_opt *opts, int max)
{
	char *p, *save = NULL;
	int n = 0;

	if (strlen(s) >= buflen)
		return -E2BIG;
	strcpy(buf, s);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(p, '=');

		if (n == max)
			return -E2BIG;
		opts[n].key = p;
		opts[n].val = NULL;
		if (eq) {
			*eq = 0;
			opts[n].val = eq + 1;
		}
		n++;
	}
	return n;
}

static const struct {
	const char *type;
	int (*add)(const char *opts, char *err, size_t errlen);
} types[] = {
	{ "blk", lx_blk_add },
	{ "console", lx_console_add },
	{ "net", lx_net_add },
	{ "fs", lx_fs_add },
};

int lx_device_add(const char *spec, char *err, size_t errlen)
{
	char dummy[1];
	const char *colon;
	size_t tlen;
	unsigned int i;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	if (!spec) {
		snprintf(err, errlen, "no device given");
		return -EINVAL;
	}
	if (lx_running()) {
		snprintf(err, errlen, "%s: devices are declared before boot",
			 spec);
		return -EBUSY;
	}
	colon = strchr(spec, ':');
	tlen = colon ? (size_t)(colon - spec) : strlen(spec);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strlen(types[i].type) == tlen &&
		    !strncmp(types[i].type, spec, tlen))
			return types[i].add(colon ? colon + 1 : "", err, errlen);
	}
	snprintf(err, errlen,
		 "%.*s: unknown device type (blk, console, net or fs)",
		 (int)tlen, spec);
	return -EINVAL;
}

/* Host fds of devices: the home process's alone (closed in forks). */
static int dev_fds[4 * LX_VDEV_MAX];
static unsigned int nr_dev_fds;

int lx_device_fd_add(int fd)
{
	if (nr_dev_fds == sizeof(dev_fds) / sizeof(dev_fds[0]))
		return -EMFILE;
	dev_fds[nr_dev_fds++] = fd;
	return 0;
}

void lx_device_fd_remove(int fd)
{
	unsigned int i;

	for (i = 0; i < nr_dev_fds; i++)
		if (dev_fds[i] == fd) {
			dev_fds[i] = dev_fds[--nr_dev_fds];
			return;
		}
}

void lx_device_fds_close(void)
{
	while (nr_dev_fds)
		close(dev_fds[--nr_dev_fds]);
}
