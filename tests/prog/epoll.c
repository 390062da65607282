// SPDX-License-Identifier: GPL-2.0
/*
 * epoll.c - epoll over a pipe and an eventfd: nothing ready at first;
 * readiness of each; level- and edge-triggered reporting; EPOLL_CTL_MOD
 * and EPOLL_CTL_DEL; a wait blocked with no timeout that another thread's
 * write ends; EPOLLHUP when the write end closes; a timeout that expires.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "prog.h"

enum { PIPE_R = 1, PIPE_W, EVFD };

static int ep, pfd[2], efd;

static const char *fd_name(uint64_t tag)
{
	switch (tag) {
	case PIPE_R: return "pipe-read";
	case PIPE_W: return "pipe-write";
	case EVFD: return "eventfd";
	default: return "?";
	}
}

static int by_tag(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;

	return (int)x->data.u64 - (int)y->data.u64;
}

/* epoll_wait once; print what is ready, sorted, as "what: events". */
static int wait_print(const char *what, int timeout)
{
	struct epoll_event ev[8];
	int n, i;

	n = epoll_wait(ep, ev, 8, timeout);
	printf("%s: %d ready", what, n);
	if (n < 0)
		printf(" (%s)", prog_errname(errno));
	if (n > 0)
		qsort(ev, n, sizeof(ev[0]), by_tag);
	for (i = 0; i < n; i++)
		printf("%s %s%s%s%s", i ? "," : ":", fd_name(ev[i].data.u64),
		       ev[i].events & EPOLLIN ? " in" : "",
		       ev[i].events & EPOLLOUT ? " out" : "",
		       ev[i].events & EPOLLHUP ? " hup" : "");
	putchar('\n');
	return n;
}

static void add(int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	TRYSYS(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
}

static void *writer(void *arg)
{
	(void)arg;
	prog_msleep(100);
	TRY(write(pfd[1], "late", 4) == 4, "write: %s", strerror(errno));
	return NULL;
}

int main(void)
{
	struct epoll_event ev;
	struct timespec t0, t1;
	uint64_t v = 5;
	pthread_t t;
	char buf[16];
	long ms;

	ep = TRYSYS(epoll_create1(EPOLL_CLOEXEC));
	TRYSYS(pipe(pfd));
	efd = TRYSYS(eventfd(0, EFD_NONBLOCK));
	add(pfd[0], EPOLLIN, PIPE_R);
	add(efd, EPOLLIN, EVFD);
	wait_print("at first", 0);

	TRY(write(pfd[1], "abc", 3) == 3, "write: %s", strerror(errno));
	wait_print("after a pipe write", 0);
	TRY(write(efd, &v, 8) == 8, "eventfd write: %s", strerror(errno));
	TRY(write(efd, &v, 8) == 8, "eventfd write: %s", strerror(errno));
	wait_print("after two eventfd writes", 0);
	wait_print("level-triggered, again", 0);
	v = 0;
	TRY(read(efd, &v, 8) == 8, "eventfd read: %s", strerror(errno));
	printf("eventfd read: %llu\n", (unsigned long long)v);
	printf("eventfd read again: %s\n",
	       prog_errname(read(efd, &v, 8) < 0 ? errno : 0));
	TRY(read(pfd[0], buf, sizeof(buf)) == 3, "read: %s", strerror(errno));
	wait_print("after reading both", 0);

	/* edge-triggered: one report per new write */
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = PIPE_R;
	TRYSYS(epoll_ctl(ep, EPOLL_CTL_MOD, pfd[0], &ev));
	TRY(write(pfd[1], "x", 1) == 1, "write: %s", strerror(errno));
	wait_print("edge-triggered, a write", 0);
	wait_print("edge-triggered, no new write", 0);
	TRY(write(pfd[1], "y", 1) == 1, "write: %s", strerror(errno));
	wait_print("edge-triggered, another write", 0);
	TRY(read(pfd[0], buf, sizeof(buf)) == 2, "read: %s", strerror(errno));

	add(pfd[1], EPOLLOUT, PIPE_W);
	wait_print("write end added", 0);
	TRYSYS(epoll_ctl(ep, EPOLL_CTL_DEL, pfd[1], NULL));
	printf("EPOLL_CTL_DEL again: %s\n",
	       prog_errname(epoll_ctl(ep, EPOLL_CTL_DEL, pfd[1], NULL) ? errno : 0));

	/* back to level-triggered; a thread writes while we wait */
	ev.events = EPOLLIN;
	TRYSYS(epoll_ctl(ep, EPOLL_CTL_MOD, pfd[0], &ev));
	TRY0(pthread_create(&t, NULL, writer, NULL));
	wait_print("blocked until another thread wrote", -1);
	TRY0(pthread_join(t, NULL));
	TRY(read(pfd[0], buf, sizeof(buf)) == 4, "read: %s", strerror(errno));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	wait_print("100 ms timeout", 100);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("waited at least 100 ms: %s\n", prog_yes(ms >= 99 && ms < 5000));

	close(pfd[1]);
	wait_print("write end closed", 0);
	close(pfd[0]);
	close(efd);
	close(ep);
	return prog_done();
}
