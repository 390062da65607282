// SPDX-License-Identifier: GPL-2.0
/* Tests lx clocks against the host's, and getrandom after boot. */
#include <sys/random.h>
#include <sys/time.h>

#include "util.h"

#define NCLOCKS	12

static const char *const clock_names[NCLOCKS] = {
	"CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_PROCESS_CPUTIME_ID",
	"CLOCK_THREAD_CPUTIME_ID", "CLOCK_MONOTONIC_RAW",
	"CLOCK_REALTIME_COARSE", "CLOCK_MONOTONIC_COARSE", "CLOCK_BOOTTIME",
	"CLOCK_REALTIME_ALARM", "CLOCK_BOOTTIME_ALARM", "CLOCK_SGI_CYCLE",
	"CLOCK_TAI",
};

static clockid_t cur_clock;

static void test_getrandom(void)
{
	unsigned char a[64], b[64];
	size_t i;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ(lx_syscall3(SYS_getrandom, a, sizeof(a), GRND_NONBLOCK), 64);
	CHECK_EQ(lx_syscall3(SYS_getrandom, b, sizeof(b), GRND_NONBLOCK), 64);
	for (i = 0; i < sizeof(a) && !a[i]; i++)
		;
	CHECK(i < sizeof(a), "64 zero bytes");
	CHECK(memcmp(a, b, sizeof(a)), "two reads gave the same bytes");
}

/* Read clock id in lx; host time before and after must bracket it. */
static void test_clock(void)
{
	struct timespec res, lres, ts, ts2;
	int64_t tol, lag, before, after, t;
	clockid_t id = cur_clock;

	if (clock_getres(id, &res)) {
		if (errno == EINVAL) {
			tap_diag("skip: the host has no clock %d", id);
			tap_skip("the host has no clock %d", id);
		} else {
			CHECK(0, "host clock_getres(%d): %s", id,
			      strerror(errno));
		}
		return;
	}
	memset(&lres, 0, sizeof(lres));
	if (!CHECK_EQ(lx_syscall2(SYS_clock_getres, id, &lres), 0))
		return;
	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID) {
		/* lx's CPU time is not the host's: check only that it runs */
		if (CHECK_EQ(lx_syscall2(SYS_clock_gettime, id, &ts), 0) &&
		    CHECK_EQ(lx_syscall2(SYS_clock_gettime, id, &ts2), 0))
			CHECK(ts_ns(&ts) >= 0 && ts_ns(&ts2) >= ts_ns(&ts),
			      "%lld ns, then %lld ns", (long long)ts_ns(&ts),
			      (long long)ts_ns(&ts2));
		return;
	}
	/*
	 * Coarse clocks lag by up to a tick, the host's or lx's.  lx's lags
	 * more when its CPU was idle: the tick stops (NO_HZ) and a system
	 * call that wakes the CPU is no interrupt that would bring jiffies up
	 * to date, so it reads the time of the last tick (docs/ARCHITECTURE
	 * known limits) - up to 100 ms behind is accepted, never ahead.
	 */
	tol = 1000000 + (ts_ns(&res) > ts_ns(&lres) ? ts_ns(&res)
						     : ts_ns(&lres));
	lag = ts_ns(&res) > 1 || ts_ns(&lres) > 1 ? 100000000 : tol;
	before = host_ns(id);
	if (!CHECK_EQ(lx_syscall2(SYS_clock_gettime, id, &ts), 0))
		return;
	after = host_ns(id);
	t = ts_ns(&ts);
	CHECK(t >= before - lag && t <= after + tol,
	      "lx %lld.%09ld not within host [%lld, %lld] -%lld/+%lld ns",
	      (long long)ts.tv_sec, (long)ts.tv_nsec, (long long)before,
	      (long long)after, (long long)lag, (long long)tol);
	CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000, "tv_nsec %ld",
	      (long)ts.tv_nsec);
}

static void test_bad_clock(void)
{
	struct timespec ts;

	CHECK_EQ(lx_syscall2(SYS_clock_gettime, 100, &ts), -EINVAL);
	CHECK_EQ(lx_syscall2(SYS_clock_getres, 100, &ts), -EINVAL);
}

static void test_gettimeofday(void)
{
	int64_t before, after, t;
	struct timeval tv;

	before = host_ns(CLOCK_REALTIME);
	if (!CHECK_EQ(lx_syscall2(SYS_gettimeofday, &tv, NULL), 0))
		return;
	after = host_ns(CLOCK_REALTIME);
	t = (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000;
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "tv_usec %ld",
	      (long)tv.tv_usec);
	CHECK(t >= before - 1001000 && t <= after + 1000000,
	      "lx %lld.%06ld not within host [%lld, %lld] ns +- 1 ms",
	      (long long)tv.tv_sec, (long)tv.tv_usec, (long long)before,
	      (long long)after);
}

static void test_time(void)
{
	time_t before, after, t = 0;
	long ret;

	before = time(NULL);
	ret = lx_syscall1(SYS_time, &t);
	after = time(NULL);
	CHECK_EQ(ret, t);
	CHECK(ret >= before - 1 && ret <= after + 1,
	      "lx time %ld, host %ld..%ld", ret, (long)before, (long)after);
	t = lx_syscall1(SYS_time, NULL);
	CHECK(t >= ret && t <= time(NULL) + 1, "time(NULL) gave %ld after %ld",
	      (long)t, ret);
}

int main(void)
{
	static char name[NCLOCKS][80];
	int id;

	boot_kernel();
	/* first thing after boot: the pool must be ready without blocking */
	tap_run("getrandom(GRND_NONBLOCK) right after boot gives 64 bytes",
		test_getrandom);
	for (id = 0; id < NCLOCKS; id++) {
		snprintf(name[id], sizeof(name[id]), "clock %d (%s) %s", id,
			 clock_names[id], id == 2 || id == 3 ?
			 "runs and is monotonic" : "agrees with the host");
		cur_clock = id;
		tap_run(name[id], test_clock);
	}
	tap_run("invalid clock id returns -EINVAL", test_bad_clock);
	tap_run("gettimeofday agrees with the host", test_gettimeofday);
	tap_run("time agrees with the host", test_time);
	halt_kernel();
	return tap_done();
}
