// SPDX-License-Identifier: GPL-2.0
/*
 * cputime.c - CPU time of code that makes no system calls: the process's
 * and a thread's CPU-time clocks, getrusage and times see it; the
 * CPU-time itimers (ITIMER_VIRTUAL, ITIMER_PROF) and posix timers on
 * the CPU-time clocks fire while a thread spins and not while it sleeps;
 * RLIMIT_CPU's soft limit sends SIGXCPU, and its hard limit ends the
 * process ("cputime hard").
 * Inside lx all of it is the host's count of the program process
 * (guest/dispatch.c), since lx's kernel runs only in system calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "prog.h"

static volatile int flag;
static volatile unsigned long sink;

static void on_sig(int sig)
{
	(void)sig;
	flag = 1;
}

static long ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		return -1;
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Spin in user code until flag is set or for_ms of CPU time pass (the
 * wall clock bounds it: 20 s).  Returns the CPU time spent, in ms. */
static long spin(long for_ms)
{
	long cpu0 = ns(CLOCK_THREAD_CPUTIME_ID), wall0 = ns(CLOCK_MONOTONIC);
	unsigned long i;

	while (!flag) {
		for (i = 0; i < 100000; i++)
			sink += i;
		if (ns(CLOCK_THREAD_CPUTIME_ID) - cpu0 >= for_ms * 1000000L ||
		    ns(CLOCK_MONOTONIC) - wall0 > 20000000000L)
			break;
	}
	return (ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1000000;
}

static void *spinner(void *arg)
{
	(void)arg;
	spin(200);
	return (void *)ns(CLOCK_THREAD_CPUTIME_ID);
}

static void clocks(void)
{
	long p0 = ns(CLOCK_PROCESS_CPUTIME_ID), t0, used;
	struct rusage ru;
	struct tms tm;
	pthread_t t;
	void *r;
	clockid_t pc;

	used = spin(300);
	printf("a thread spun for 300 ms of its CPU time: %s\n",
	       prog_yes(used >= 300));
	printf("the process's CPU clock saw it: %s\n",
	       prog_yes(ns(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 290000000L));
	TRY0(clock_getcpuclockid(getpid(), &pc));
	printf("so did the clock of the process by pid: %s\n",
	       prog_yes(ns(pc) - p0 >= 290000000L));
	/* (lx's trapped path spends some of it as system time) */
	TRYSYS(getrusage(RUSAGE_SELF, &ru));
	printf("getrusage: user time counted: %s, user and system at least "
	       "250 ms: %s\n", prog_yes(ru.ru_utime.tv_sec ||
					ru.ru_utime.tv_usec >= 100000),
	       prog_yes((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000 >=
			250));
	TRYSYS(times(&tm));
	printf("times: user ticks counted: %s, user and system at least 25: "
	       "%s\n", prog_yes(tm.tms_utime >= sysconf(_SC_CLK_TCK) / 10),
	       prog_yes((tm.tms_utime + tm.tms_stime) * 100 /
			sysconf(_SC_CLK_TCK) >= 25));

	t0 = ns(CLOCK_THREAD_CPUTIME_ID);
	TRY0(pthread_create(&t, NULL, spinner, NULL));
	TRY0(pthread_join(t, &r));
	printf("another thread's 200 ms are its own: %s, not this one's: "
	       "%s\n", prog_yes((long)r >= 200000000L),
	       prog_yes(ns(CLOCK_THREAD_CPUTIME_ID) - t0 < 100000000L));
}

static void itimers(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } }, left;

	prog_handle(SIGPROF, on_sig, 0);
	prog_handle(SIGVTALRM, on_sig, 0);
	flag = 0;
	TRYSYS(setitimer(ITIMER_PROF, &it, NULL));
	TRYSYS(getitimer(ITIMER_PROF, &left));
	/* (Linux may round up to its tick: 4 ms at HZ=250) */
	printf("ITIMER_PROF armed, about 50 ms left: %s\n",
	       prog_yes(!left.it_value.tv_sec && left.it_value.tv_usec > 0 &&
			left.it_value.tv_usec <= 60000));
	spin(5000);
	printf("SIGPROF while spinning: %s\n", prog_yes(flag));

	flag = 0;
	TRYSYS(setitimer(ITIMER_VIRTUAL, &it, NULL));
	spin(5000);
	printf("SIGVTALRM while spinning: %s\n", prog_yes(flag));

	/* asleep, a thread spends no CPU time: nothing fires */
	flag = 0;
	TRYSYS(setitimer(ITIMER_VIRTUAL, &it, NULL));
	prog_msleep(300);
	printf("SIGVTALRM while asleep for 300 ms: %s\n", flag ? "yes" : "no");
	it.it_value.tv_usec = 0;
	TRYSYS(setitimer(ITIMER_VIRTUAL, &it, &left));
	printf("disarmed, with time left: %s\n",
	       prog_yes(left.it_value.tv_sec || left.it_value.tv_usec));
}

static volatile int got_code, got_value;

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	flag = 1;
}

static void posix_timer(clockid_t clock, const char *name)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGUSR1 };
	struct itimerspec its = { { 0, 0 }, { 0, 50000000 } }, left;
	struct sigaction sa;
	timer_t id;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_timer;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	TRYSYS(sigaction(SIGUSR1, &sa, NULL));
	ev.sigev_value.sival_int = 42;
	TRYSYS(timer_create(clock, &ev, &id));
	flag = 0;
	got_code = got_value = 0;
	TRYSYS(timer_settime(id, 0, &its, NULL));
	TRYSYS(timer_gettime(id, &left));
	printf("%s timer armed: %s\n", name,
	       prog_yes(!left.it_value.tv_sec && left.it_value.tv_nsec > 0 &&
			left.it_value.tv_nsec <= 60000000));
	spin(5000);
	printf("%s timer fired while spinning: %s, SI_TIMER: %s, value 42: "
	       "%s\n", name, prog_yes(flag), prog_yes(got_code == SI_TIMER),
	       prog_yes(got_value == 42));
	flag = 0;
	TRYSYS(timer_settime(id, 0, &its, NULL));
	prog_msleep(300);
	printf("%s timer while asleep for 300 ms: %s\n", name,
	       flag ? "fired" : "quiet");
	TRYSYS(timer_delete(id));
	printf("%s timer deleted; again: %s\n", name,
	       timer_delete(id) ? prog_errname(errno) : "0");
}

static void rlimit_cpu(void)
{
	struct rlimit rl;
	struct timespec ts;
	long now;

	/* the soft limit one CPU second past what the process has used */
	prog_handle(SIGXCPU, on_sig, 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	now = ts.tv_sec + 1;
	rl.rlim_cur = now + 1;
	rl.rlim_max = now + 30;
	flag = 0;
	TRYSYS(setrlimit(RLIMIT_CPU, &rl));
	TRYSYS(getrlimit(RLIMIT_CPU, &rl));
	printf("RLIMIT_CPU set: %s\n",
	       prog_yes(rl.rlim_cur == (rlim_t)now + 1 &&
			rl.rlim_max == (rlim_t)now + 30));
	spin(5000);
	printf("SIGXCPU at the soft limit: %s\n", prog_yes(flag));
}

static int wake_pipe[2];

/* spins in its own code, no system call, until flag (or ~10 s of loops) */
static void *spin_then_write(void *arg)
{
	unsigned long i;

	(void)arg;
	for (i = 0; i < 20000000000UL && !flag; i++)
		__asm__ volatile("pause");
	if (write(wake_pipe[1], "x", 1) != 1)
		prog_failures++;
	return NULL;
}

/*
 * A process CPU-time timer's signal goes to the process (its main thread
 * first): with the main thread asleep in read() and another one
 * spinning, it must still arrive (the spinner sees the handler's flag).
 */
static void timer_while_asleep(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGUSR2 };
	struct itimerspec its = { { 0, 0 }, { 0, 50000000 } };
	pthread_t t;
	timer_t id;
	char c;

	prog_handle(SIGUSR2, on_sig, SA_RESTART);
	TRYSYS(pipe(wake_pipe));
	TRYSYS(timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &id));
	flag = 0;
	TRYSYS(timer_settime(id, 0, &its, NULL));
	TRY0(pthread_create(&t, NULL, spin_then_write, NULL));
	TRYSYS(read(wake_pipe[0], &c, 1));
	TRY0(pthread_join(t, NULL));
	printf("a process CPU-time timer, the main thread asleep in read(), "
	       "another spinning: it fired: %s\n", prog_yes(flag));
	TRYSYS(timer_delete(id));
	close(wake_pipe[0]);
	close(wake_pipe[1]);
}

/* past RLIMIT_CPU's hard limit: killed (SIGKILL), a handler or not */
static void hard_limit(void)
{
	struct rlimit rl;
	struct timespec ts;

	prog_handle(SIGXCPU, on_sig, 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	rl.rlim_cur = ts.tv_sec + 1;
	rl.rlim_max = ts.tv_sec + 2;
	TRYSYS(setrlimit(RLIMIT_CPU, &rl));
	for (;;) {
		flag = 0;
		spin(20000);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a line at a time, if it hangs */
	if (argc == 2 && !strcmp(argv[1], "hard"))
		hard_limit();
	clocks();
	itimers();
	posix_timer(CLOCK_PROCESS_CPUTIME_ID, "process CPU-time");
	posix_timer(CLOCK_THREAD_CPUTIME_ID, "thread CPU-time");
	timer_while_asleep();
	rlimit_cpu();
	return prog_done();
}
