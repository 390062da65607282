// SPDX-License-Identifier: GPL-2.0
/*
 * ramahead.c - kernel RAM brought in ahead of a fast-growing page cache.
 *
 * Each page of lx's RAM is a page of a host memory file, allocated,
 * zeroed and mapped by the host at its first touch: ~2.5 us a page here,
 * paid on lx's one CPU by whoever touches it first.  When the kernel
 * takes fresh RAM fast - a program writing or reading hundreds of MiB
 * through the page cache - a thread of the home process writes zeros
 * into the next 2 MiB blocks of the file on another CPU, a little ahead
 * of the kernel: that allocates the pages and marks them up to date
 * without mapping them (~1.4 us a page).  A process's first read of a
 * page the file has then maps it with up to 15 neighbours (the host's
 * fault-around; kernel/arch/lx/kernel/ramahead.c reads each page it
 * allocates once, before it is written).
 *
 * The kernel reports the blocks its boot used, at the bottom of RAM, at
 * once, then the first page it takes from each other 2 MiB block
 * (mem_used()), from any process; the page allocator takes free RAM
 * from the bottom up, so "ahead" is the blocks above the highest one
 * reported, which the kernel has not used: the zeros overwrite nothing
 * (see lx_ram_ahead_used()).  Only a fast stream
 * of reports - several in a row, a few milliseconds apart - sets the
 * thread going, and it stays at most AHEAD past the last report: a
 * container whose memory grows slowly, or stops growing, gets no more
 * host memory than it uses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "home.h"
#include "virtio.h"

#define BLOCK		(2UL << 20)
#define AHEAD		(8 * BLOCK)
/* what one write brings in: what a kernel that wants it waits for, at most */
#define CHUNK		(256UL << 10)
/* a stream: STREAK reports in a row, each within GAP_NS of the one before */
#define GAP_NS		10000000ULL
#define STREAK		3

/* In the shared region: reports come from every process of lx. */
struct ahead_state {
	unsigned int seq;	/* futex word: one more per report, and at stop */
	unsigned int stop;
	unsigned long last;	/* end of the highest block reported */
	unsigned long filling;	/* the chunk being written, or 0 */
	unsigned int filled;	/* futex word: one more per chunk written */
	unsigned int waiters;	/* reporters waiting for a chunk */
};

static struct ahead_state *st;
static unsigned long ram_start, ram_end;	/* RAM */
static int ram_fd = -1;				/* its file, */
static long long ram_off;			/* where it starts there */
static bool ram_huge;				/* on 2 MiB pages */
static pthread_t thread;
static bool started;

static void futex(unsigned int *word, int op, unsigned int val)
{
	syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

/*
 * From the kernel's page allocator, before it hands out the page: no
 * libc beyond raw system calls.  The thread writes zeros into RAM the
 * kernel has not reported (ahead_fill()), so a report waits for a chunk
 * of its block being written to be done; Dekker's way: this stores last
 * then loads filling, the thread stores filling then loads last, so one
 * of the two sees the other.
 */
void lx_ram_ahead_used(unsigned long addr, unsigned long size)
{
	unsigned long end = addr + size, last, f;
	unsigned int gen;

	if (!st)
		return;
	last = __atomic_load_n(&st->last, __ATOMIC_SEQ_CST);
	while (end > last &&
	       !__atomic_compare_exchange_n(&st->last, &last, end, true,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	__atomic_fetch_add(&st->seq, 1, __ATOMIC_RELEASE);
	futex(&st->seq, FUTEX_WAKE, 1);
	for (;;) {
		gen = __atomic_load_n(&st->filled, __ATOMIC_ACQUIRE);
		f = __atomic_load_n(&st->filling, __ATOMIC_SEQ_CST);
		if (f < addr || f >= end)
			return;
		__atomic_fetch_add(&st->waiters, 1, __ATOMIC_SEQ_CST);
		futex(&st->filled, FUTEX_WAIT, gen);
		__atomic_fetch_sub(&st->waiters, 1, __ATOMIC_RELAXED);
	}
}

/*
 * Bring in the block at addr: zeros written into the file, a chunk at a
 * time, each only while the kernel has not reported the block (then it
 * may be using it: the rest is left to it).  A write allocates, zeroes
 * and marks the pages up to date without mapping them anywhere: ~1.4 us
 * a page here, where a fault (or MADV_POPULATE_*) takes ~2.4.  On 2 MiB
 * pages one small write makes the block's page, zeroed whole.  False if
 * the kernel took the block, or the write failed.
 */
static bool ahead_fill(unsigned long addr)
{
	static const char zeros[64 << 10];
	struct iovec iov[CHUNK / sizeof(zeros)];
	unsigned int i, cnt = ram_huge ? 1 : sizeof(iov) / sizeof(iov[0]);
	size_t len = cnt * sizeof(zeros);
	unsigned long c;
	ssize_t n;

	for (i = 0; i < cnt; i++) {
		iov[i].iov_base = (void *)zeros;
		iov[i].iov_len = sizeof(zeros);
	}
	for (c = addr; c < addr + BLOCK; c += ram_huge ? BLOCK : CHUNK) {
		__atomic_store_n(&st->filling, c, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&st->last, __ATOMIC_SEQ_CST) > addr)
			n = 0;
		else
			n = pwritev(ram_fd, iov, cnt, ram_off + (c - ram_start));
		__atomic_store_n(&st->filling, 0, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&st->filled, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&st->waiters, __ATOMIC_SEQ_CST))
			futex(&st->filled, FUTEX_WAKE, INT_MAX);
		if (n != (ssize_t)len)
			return false;
	}
	return true;
}

static void *ahead_main(void *arg __attribute__((unused)))
{
	unsigned long next = ram_start, last, limit;
	unsigned long long t, prev = 0;
	unsigned int seen = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
	unsigned int seq, n, streak = 0;

	for (;;) {
		seq = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE))
			break;
		if (seq == seen) {
			futex(&st->seq, FUTEX_WAIT, seq);
			continue;
		}
		/* n reports since the last look, GAP_NS apart or less: a stream */
		n = seq - seen;
		seen = seq;
		t = lx_mono_ns();
		streak = t - prev > n * GAP_NS ? 1 : streak + n;
		prev = t;
		if (streak < STREAK)
			continue;
		last = __atomic_load_n(&st->last, __ATOMIC_ACQUIRE);
		limit = last + AHEAD < ram_end ? last + AHEAD : ram_end;
		while (next < limit &&
		       !__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
			/* the kernel got there first: on ahead of it */
			last = __atomic_load_n(&st->last, __ATOMIC_ACQUIRE);
			if (next < last)
				next = last;
			if (next < limit && !ahead_fill(next) &&
			    __atomic_load_n(&st->last, __ATOMIC_ACQUIRE) <= next)
				return NULL;	/* the write failed: no help */
			next += BLOCK;
		}
	}
	return NULL;
}

/*
 * The home process, at boot: RAM is [start, start + size), at offset off
 * of the file fd.  The thread starts once the boot is over, when the
 * kernel has reported what its boot used.
 */
void lx_ram_ahead_range(unsigned long start, unsigned long size, int fd,
			long long off, bool huge)
{
	/* whole blocks: past the end of RAM the file holds other things */
	size &= ~(BLOCK - 1);
	st = size ? lx_shared_alloc(sizeof(*st)) : NULL;
	if (!st)
		return;
	ram_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (ram_fd < 0 || lx_device_fd_add(ram_fd)) {
		if (ram_fd >= 0)
			close(ram_fd);
		ram_fd = -1;
		st = NULL;
		return;
	}
	ram_off = off;
	ram_huge = huge;
	ram_start = start;
	ram_end = start + size;
	st->last = start;
}

/*
 * Once the boot is over, off the CPU the boot was pinned to: what the
 * boot itself took is not a stream.
 */
void lx_ram_ahead_start(void)
{
	if (started || !st)
		return;
	started = lx_home_thread(&thread, "lx-ramahead", ahead_main, NULL) == 0;
}

/* At halt, before RAM goes. */
void lx_ram_ahead_stop(void)
{
	if (started) {
		__atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&st->seq, 1, __ATOMIC_RELEASE);
		futex(&st->seq, FUTEX_WAKE, 1);
		pthread_join(thread, NULL);
	}
	started = false;
	st = NULL;
	if (ram_fd >= 0) {
		lx_device_fd_remove(ram_fd);
		close(ram_fd);
	}
	ram_fd = -1;
}
