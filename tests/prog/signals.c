// SPDX-License-Identifier: GPL-2.0
/*
 * signals.c - signals that reach a thread busy in its own code (no system
 * call to take them at): one sent by another thread, one from an interval
 * timer, 1,000 sent one after the other to a spinning thread, each taken
 * before the next; and a timer's signal interrupting a blocking read,
 * which SA_RESTART makes go on and its absence ends with EINTR, and
 * nanosleep and epoll_wait, which end with EINTR either way (nanosleep
 * saying how much time was left).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include "prog.h"

#define ROUNDS 1000

static volatile int flag, taken;

static void on_sig(int sig)
{
	(void)sig;
	flag = 1;
	taken++;
}

/* Spin in user code until flag is set, or about 10 s of loops. */
static int spin_for_flag(void)
{
	unsigned long i;

	for (i = 0; i < 20000000000UL && !flag; i++)
		__asm__ volatile("pause");
	return flag;
}

static void *spinner(void *arg)
{
	(void)arg;
	return (void *)(long)spin_for_flag();
}

static volatile int stop;

/* spins until stop, counting the signals its handler took */
static void *counter(void *arg)
{
	(void)arg;
	while (!stop)
		__asm__ volatile("pause");
	return NULL;
}

static int pipefd[2];

static void *late_writer(void *arg)
{
	(void)arg;
	prog_msleep(300);
	if (write(pipefd[1], "x", 1) != 1)
		prog_failures++;
	return NULL;
}

/* read() of a pipe that gets data after 300 ms; SIGALRM after 50 ms */
static void blocking_read(int restart)
{
	pthread_t t;
	char c;
	ssize_t n;
	int e;

	prog_handle(SIGALRM, on_sig, restart ? SA_RESTART : 0);
	TRYSYS(pipe(pipefd));
	TRY0(pthread_create(&t, NULL, late_writer, NULL));
	flag = 0;
	prog_arm_timer(50000);
	n = read(pipefd[0], &c, 1);
	e = errno;
	printf("read with%s SA_RESTART, SIGALRM at 50 ms: %s, handler ran: "
	       "%s\n", restart ? "" : "out",
	       n == 1 ? "1 byte" : prog_errname(e), prog_yes(flag));
	pthread_join(t, NULL);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* nanosleep and epoll_wait: EINTR even under SA_RESTART, as on Linux */
static void other_waits(void)
{
	struct timespec ts = { 2, 0 }, left = { 0, 0 };
	struct epoll_event ev;
	int ep, n, e;

	prog_handle(SIGALRM, on_sig, SA_RESTART);
	flag = 0;
	prog_arm_timer(50000);
	n = nanosleep(&ts, &left);
	e = errno;
	printf("nanosleep 2 s, SIGALRM at 50 ms: %s, handler ran: %s, "
	       "more than 1.5 s left: %s\n", n ? prog_errname(e) : "0",
	       prog_yes(flag), prog_yes(left.tv_sec >= 1 &&
					(left.tv_sec > 1 ||
					 left.tv_nsec >= 500000000)));
	ep = TRYSYS(epoll_create1(0));
	TRYSYS(pipe(pipefd));
	ev.events = EPOLLIN;
	ev.data.fd = pipefd[0];
	TRYSYS(epoll_ctl(ep, EPOLL_CTL_ADD, pipefd[0], &ev));
	flag = 0;
	prog_arm_timer(50000);
	n = epoll_wait(ep, &ev, 1, 2000);
	e = errno;
	printf("epoll_wait 2 s, SIGALRM at 50 ms: %s, handler ran: %s\n",
	       n < 0 ? prog_errname(e) : "no EINTR", prog_yes(flag));
	close(ep);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	pthread_t t;
	void *r;
	int i, lost = 0;

	prog_handle(SIGUSR1, on_sig, 0);
	TRY0(pthread_create(&t, NULL, spinner, NULL));
	prog_msleep(100);
	TRY0(pthread_kill(t, SIGUSR1));
	TRY0(pthread_join(t, &r));
	printf("a thread spinning in its own code took SIGUSR1: %s\n",
	       prog_yes(r != NULL));

	flag = 0;
	prog_handle(SIGALRM, on_sig, 0);
	prog_arm_timer(50000);
	printf("SIGALRM while the main thread spins: %s\n",
	       prog_yes(spin_for_flag()));

	taken = 0;
	TRY0(pthread_create(&t, NULL, counter, NULL));
	for (i = 0; i < ROUNDS; i++) {
		int before = taken;
		unsigned long spins = 0;

		TRY0(pthread_kill(t, SIGUSR1));
		while (taken == before && spins++ < 2000000000UL)
			__asm__ volatile("pause");
		lost += taken == before;
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("%d signals to a spinning thread, one at a time: taken %d, "
	       "lost %d\n", ROUNDS, taken, lost);
	TRY(taken == ROUNDS, "%d of %d taken", taken, ROUNDS);

	blocking_read(1);
	blocking_read(0);
	other_waits();
	return prog_done();
}
