// SPDX-License-Identifier: GPL-2.0
/* Tests blocking pipes and unix socketpairs between host threads. */
#include <signal.h>
#include <sys/socket.h>

#include "util.h"

#define BIG	(1 << 20)	/* more than any pipe or socket buffer */
#define SMALL	100000		/* more than a default pipe buffer */

static unsigned char wbuf[BIG], rbuf[BIG];

/* One transfer done by a helper thread. */
struct xfer {
	long fd;
	void *buf;
	size_t len;
	long ret;
	int started;	/* about to make the call */
	int done;	/* the call returned */
};

static void *reader_thread(void *arg)
{
	struct xfer *x = arg;

	__atomic_store_n(&x->started, 1, __ATOMIC_SEQ_CST);
	x->ret = read_all(x->fd, x->buf, x->len);
	__atomic_store_n(&x->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A single write(2): blocking, it must write everything. */
static void *writer_thread(void *arg)
{
	struct xfer *x = arg;

	__atomic_store_n(&x->started, 1, __ATOMIC_SEQ_CST);
	x->ret = lx_syscall3(SYS_write, x->fd, x->buf, x->len);
	__atomic_store_n(&x->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Wait until the thread is about to block, then give it time to. */
static void wait_blocked(struct xfer *x)
{
	while (!__atomic_load_n(&x->started, __ATOMIC_SEQ_CST))
		sched_yield();
	host_msleep(100);
}

/* A thread reads from rfd (and blocks); then this one writes to wfd. */
static void reader_first(long rfd, long wfd, unsigned int seed)
{
	struct xfer x = { .fd = rfd, .buf = rbuf, .len = SMALL };
	pthread_t t;

	memset(rbuf, 0, SMALL);
	fill_pattern(wbuf, SMALL, seed);
	start_thread(&t, reader_thread, &x);
	wait_blocked(&x);
	CHECK(!__atomic_load_n(&x.done, __ATOMIC_SEQ_CST),
	      "read returned %ld before anything was written", x.ret);
	CHECK_EQ(write_all(wfd, wbuf, SMALL), SMALL);
	join_thread(t);
	CHECK_EQ(x.ret, SMALL);
	CHECK_EQ(check_pattern(rbuf, SMALL, seed), -1);
}

/* A thread writes 1 MiB to wfd (and blocks); then this one drains rfd. */
static void writer_blocks(long rfd, long wfd, unsigned int seed)
{
	struct xfer x = { .fd = wfd, .buf = wbuf, .len = BIG };
	pthread_t t;
	int queued = -1;

	memset(rbuf, 0, BIG);
	fill_pattern(wbuf, BIG, seed);
	start_thread(&t, writer_thread, &x);
	wait_blocked(&x);
	CHECK(!__atomic_load_n(&x.done, __ATOMIC_SEQ_CST),
	      "write returned %ld with nobody reading", x.ret);
	if (CHECK_EQ(lx_syscall3(SYS_ioctl, rfd, FIONREAD, &queued), 0))
		CHECK(queued > 0 && queued < BIG, "%d bytes queued", queued);
	CHECK_EQ(read_all(rfd, rbuf, BIG), BIG);
	join_thread(t);
	CHECK_EQ(x.ret, BIG);
	CHECK_EQ(check_pattern(rbuf, BIG, seed), -1);
}

static void test_pipe_reader_first(void)
{
	int p[2];

	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	reader_first(p[0], p[1], 1);
	close_fd(p[0]);
	close_fd(p[1]);
}

static void test_pipe_writer_blocks(void)
{
	int p[2];

	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	writer_blocks(p[0], p[1], 2);
	close_fd(p[0]);
	close_fd(p[1]);
}

static void test_pipe_eof_epipe(void)
{
	struct xfer x = { .buf = rbuf, .len = 10 };
	unsigned long ign[4] = { (unsigned long)SIG_IGN, 0, 0, 0 };
	pthread_t t;
	int p[2];

	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	/* a blocked reader sees EOF when the last writer goes */
	x.fd = p[0];
	CHECK_EQ(lx_syscall3(SYS_write, p[1], "abc", 3), 3);
	start_thread(&t, reader_thread, &x);
	wait_blocked(&x);
	CHECK_EQ(close_fd(p[1]), 0);
	join_thread(t);
	CHECK_EQ(x.ret, 3);
	CHECK_EQ(lx_syscall3(SYS_read, p[0], rbuf, 1), 0);
	close_fd(p[0]);

	/* writing with no reader: -EPIPE (SIGPIPE ignored) */
	CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGPIPE, ign, NULL,
			     KSIGSET_SIZE), 0);
	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	close_fd(p[0]);
	CHECK_EQ(lx_syscall3(SYS_write, p[1], "abc", 3), -EPIPE);
	close_fd(p[1]);
}

static void test_socketpair_reader_first(void)
{
	int sv[2];

	if (!CHECK_EQ(lx_syscall4(SYS_socketpair, AF_UNIX,
				  SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return;
	reader_first(sv[0], sv[1], 3);
	reader_first(sv[1], sv[0], 4);
	close_fd(sv[0]);
	close_fd(sv[1]);
}

static void test_socketpair_writer_blocks(void)
{
	int sv[2];

	if (!CHECK_EQ(lx_syscall4(SYS_socketpair, AF_UNIX,
				  SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0))
		return;
	writer_blocks(sv[0], sv[1], 5);
	writer_blocks(sv[1], sv[0], 6);
	close_fd(sv[0]);
	close_fd(sv[1]);
}

static void test_socketpair_dgram(void)
{
	static const size_t sizes[] = { 1, 100, 1000, 0, 4000 };
	size_t i, n = ARRAY_SIZE(sizes);
	int sv[2];

	if (!CHECK_EQ(lx_syscall4(SYS_socketpair, AF_UNIX,
				  SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0))
		return;
	fill_pattern(wbuf, 4000, 7);
	for (i = 0; i < n; i++)
		CHECK_EQ(lx_syscall3(SYS_write, sv[0], wbuf, sizes[i]),
			 sizes[i]);
	for (i = 0; i < n; i++) {
		memset(rbuf, 0, 4000);
		CHECK_EQ(lx_syscall3(SYS_read, sv[1], rbuf, 8192), sizes[i]);
		CHECK_EQ(check_pattern(rbuf, sizes[i], 7), -1);
	}
	close_fd(sv[0]);
	close_fd(sv[1]);
}

int main(void)
{
	boot_kernel();
	tap_run("pipe: reader blocks first, then writer writes",
		test_pipe_reader_first);
	tap_run("pipe: 1 MiB write blocks on the full pipe while reader drains",
		test_pipe_writer_blocks);
	tap_run("pipe: blocked reader sees EOF on close, EPIPE without reader",
		test_pipe_eof_epipe);
	tap_run("unix stream socketpair: reader blocks first, both ways",
		test_socketpair_reader_first);
	tap_run("unix stream socketpair: 1 MiB write blocks until drained",
		test_socketpair_writer_blocks);
	tap_run("unix dgram socketpair keeps message boundaries",
		test_socketpair_dgram);
	halt_kernel();
	return tap_done();
}
