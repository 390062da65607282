// SPDX-License-Identifier: GPL-2.0
/* Tests many host threads making mixed lx syscalls at once. */
#include <sys/stat.h>

#include "util.h"

#define NTHREADS	8
#define CALLS		20000		/* per thread */
#define PER_CYCLE	8		/* syscalls per cycle of worker() */
#define FILE_SIZE	1234
#define PATH		"/tmp/stress"

struct worker {
	int id;
	pthread_t thread;
	long rfd, wfd;		/* pipe ends from and to the partner thread */
	long tid;		/* lx gettid */
	long calls;		/* syscalls made */
	long errors;		/* wrong results */
};

static struct worker workers[NTHREADS];
static pthread_barrier_t barrier;
static long file_fd, want_pid, want_ppid;

/* Count a wrong result; print the first few of each thread. */
static bool expect(struct worker *w, bool ok, int line, const char *what,
		   long val)
{
	if (ok)
		return true;
	if (w->errors++ < 3)
		tap_diag("thread %d, line %d: failed: %s: got %ld (%s)", w->id,
			 line, what, val, tap_errstr(val));
	return false;
}

#define EXPECT(w, cond, val) expect(w, !!(cond), __LINE__, #cond, (long)(val))

/*
 * Exchange a token with the partner thread; both block in turn.  On failure
 * close our write end, so that the partner sees EOF instead of hanging.
 */
static bool ping_pong(struct worker *w, long cycle)
{
	int partner = w->id ^ 1;
	long mine = cycle * NTHREADS + w->id, got = -1, ret;
	bool ok;

	if (w->id & 1) {
		ret = read_all(w->rfd, &got, sizeof(got));
		ok = EXPECT(w, ret == sizeof(got), ret) &&
		     EXPECT(w, got == cycle * NTHREADS + partner, got);
		ret = ok ? write_all(w->wfd, &mine, sizeof(mine)) : 0;
		ok = ok && EXPECT(w, ret == sizeof(mine), ret);
	} else {
		ret = write_all(w->wfd, &mine, sizeof(mine));
		ok = EXPECT(w, ret == sizeof(mine), ret);
		ret = ok ? read_all(w->rfd, &got, sizeof(got)) : 0;
		ok = ok && EXPECT(w, ret == sizeof(got), ret) &&
		     EXPECT(w, got == cycle * NTHREADS + partner, got);
	}
	w->calls += 2;
	if (!ok) {
		close_fd(w->wfd);
		w->wfd = -1;
	}
	return ok;
}

static void *worker(void *arg)
{
	struct timespec ts, last = { 0, 0 };
	struct worker *w = arg;
	bool pipe_ok = true;
	struct stat st;
	long i, ret;

	w->tid = lx_syscall0(SYS_gettid);
	pthread_barrier_wait(&barrier);
	for (i = 0; i < CALLS / PER_CYCLE; i++) {
		ret = lx_syscall0(SYS_getpid);
		EXPECT(w, ret == want_pid, ret);
		ret = lx_syscall0(SYS_getppid);
		EXPECT(w, ret == want_ppid, ret);
		if (pipe_ok)
			pipe_ok = ping_pong(w, i);
		st.st_size = -1;
		ret = lx_syscall2(SYS_fstat, file_fd, &st);
		EXPECT(w, ret == 0, ret);
		EXPECT(w, st.st_size == FILE_SIZE, st.st_size);
		ret = lx_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		EXPECT(w, ret == 0, ret);
		EXPECT(w, ts_ns(&ts) >= ts_ns(&last),
		       ts_ns(&ts) - ts_ns(&last));
		last = ts;
		ret = lx_syscall3(SYS_openat, AT_FDCWD, PATH,
				  O_RDONLY | O_CLOEXEC);
		if (EXPECT(w, ret >= 0, ret)) {
			ret = close_fd(ret);
			EXPECT(w, ret == 0, ret);
		}
		w->calls += PER_CYCLE - 2;
	}
	return NULL;
}

static void test_stress(void)
{
	static char data[FILE_SIZE];
	int64_t start, ns;
	int i, j, ab[2], ba[2];
	struct worker *w;

	if (!CHECK_EQ(make_tmp(), 0))
		return;
	file_fd = lx_syscall4(SYS_openat, AT_FDCWD, PATH,
			      O_CREAT | O_RDWR | O_CLOEXEC, 0644);
	if (!CHECK_OK(file_fd) ||
	    !CHECK_EQ(write_all(file_fd, data, FILE_SIZE), FILE_SIZE))
		return;
	want_pid = lx_syscall0(SYS_getpid);
	want_ppid = lx_syscall0(SYS_getppid);
	CHECK_OK(want_pid);
	CHECK_OK(want_ppid);
	for (i = 0; i < NTHREADS; i += 2) {
		must(lx_syscall2(SYS_pipe2, ab, O_CLOEXEC));
		must(lx_syscall2(SYS_pipe2, ba, O_CLOEXEC));
		workers[i] = (struct worker){ .id = i, .rfd = ba[0],
					      .wfd = ab[1] };
		workers[i + 1] = (struct worker){ .id = i + 1, .rfd = ab[0],
						  .wfd = ba[1] };
	}
	pthread_barrier_init(&barrier, NULL, NTHREADS);
	start = host_ns(CLOCK_MONOTONIC);
	for (i = 0; i < NTHREADS; i++)
		start_thread(&workers[i].thread, worker, &workers[i]);
	for (i = 0; i < NTHREADS; i++)
		join_thread(workers[i].thread);
	ns = host_ns(CLOCK_MONOTONIC) - start;
	pthread_barrier_destroy(&barrier);
	tap_diag("%d threads x %d syscalls in %lld.%03lld s", NTHREADS, CALLS,
		 (long long)(ns / 1000000000),
		 (long long)(ns / 1000000 % 1000));

	for (i = 0; i < NTHREADS; i++) {
		w = &workers[i];
		CHECK(!w->errors, "thread %d: %ld wrong results", i,
		      w->errors);
		CHECK(w->calls == CALLS, "thread %d made %ld calls", i,
		      w->calls);
		CHECK(w->tid > 0 && w->tid != want_pid, "thread %d: tid %ld",
		      i, w->tid);
		for (j = 0; j < i; j++)
			CHECK(w->tid != workers[j].tid,
			      "threads %d and %d share tid %ld", j, i, w->tid);
		close_fd(w->rfd);
		if (w->wfd >= 0)
			close_fd(w->wfd);
	}
	close_fd(file_fd);
}

int main(void)
{
	boot_kernel();
	tap_run("8 threads x 20000 mixed syscalls, all results right",
		test_stress);
	halt_kernel();
	return tap_done();
}
