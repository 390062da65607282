// SPDX-License-Identifier: GPL-2.0
/*
 * threads.c - 16 threads with mutexes and condition variables: a barrier
 * built on pthread_cond_broadcast, a bounded queue between 8 producers and
 * 8 consumers (two condition variables), a counter under a mutex, and a
 * pthread_cond_timedwait that times out.  Prints the totals, which do not
 * depend on the interleaving.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "prog.h"

#define NTHREADS	16
#define NPROD		(NTHREADS / 2)
#define PER_PROD	5000
#define QLEN		8
#define ROUNDS		3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static long queue[QLEN];
static int qhead, qcount, producers_left;

static pthread_mutex_t bar_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bar_cond = PTHREAD_COND_INITIALIZER;
static int bar_waiting, bar_gen, bar_passed;

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

struct worker {
	pthread_t th;
	int id;
	long sum, items;
};

/* Everyone waits here until all NTHREADS have arrived. */
static void barrier(void)
{
	int gen;

	pthread_mutex_lock(&bar_lock);
	gen = bar_gen;
	if (++bar_waiting == NTHREADS) {
		bar_waiting = 0;
		bar_gen++;
		pthread_cond_broadcast(&bar_cond);
	} else {
		while (gen == bar_gen)
			pthread_cond_wait(&bar_cond, &bar_lock);
	}
	bar_passed++;
	pthread_mutex_unlock(&bar_lock);
}

static void put(long v)
{
	pthread_mutex_lock(&lock);
	while (qcount == QLEN)
		pthread_cond_wait(&not_full, &lock);
	queue[(qhead + qcount) % QLEN] = v;
	qcount++;
	pthread_cond_signal(&not_empty);
	pthread_mutex_unlock(&lock);
}

/* The next item, or 0 when the producers are done and the queue empty. */
static int get(long *v)
{
	int got = 0;

	pthread_mutex_lock(&lock);
	while (!qcount && producers_left)
		pthread_cond_wait(&not_empty, &lock);
	if (qcount) {
		*v = queue[qhead];
		qhead = (qhead + 1) % QLEN;
		qcount--;
		got = 1;
		pthread_cond_signal(&not_full);
	}
	pthread_mutex_unlock(&lock);
	return got;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	long v, i;

	barrier();
	for (i = 0; i < 2000; i++) {
		pthread_mutex_lock(&count_lock);
		counter += w->id + 1;
		pthread_mutex_unlock(&count_lock);
	}
	if (w->id < NPROD) {
		for (i = 1; i <= PER_PROD; i++)
			put(w->id * 100000L + i);
		pthread_mutex_lock(&lock);
		if (!--producers_left)
			pthread_cond_broadcast(&not_empty);
		pthread_mutex_unlock(&lock);
	} else {
		while (get(&v)) {
			w->sum += v;
			w->items++;
		}
	}
	barrier();
	return NULL;
}

static void round_of(int r)
{
	struct worker w[NTHREADS];
	long sum = 0, items = 0;
	int i;

	counter = 0;
	bar_passed = 0;
	producers_left = NPROD;
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .id = i };
		TRY0(pthread_create(&w[i].th, NULL, work, &w[i]));
	}
	for (i = 0; i < NTHREADS; i++)
		TRY0(pthread_join(w[i].th, NULL));
	for (i = NPROD; i < NTHREADS; i++) {
		sum += w[i].sum;
		items += w[i].items;
	}
	printf("round %d: %ld items, sum %ld, counter %ld, barrier passed %d times, queue left %d\n",
	       r, items, sum, counter, bar_passed, qcount);
	TRY(items == NPROD * PER_PROD, "%ld items", items);
}

/* A timed wait nobody signals returns ETIMEDOUT, with the mutex held. */
static void timed_wait(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec now, until;
	long waited;
	int e;

	clock_gettime(CLOCK_REALTIME, &now);
	until = now;
	until.tv_nsec += 50 * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&m);
	e = pthread_cond_timedwait(&c, &m, &until);
	clock_gettime(CLOCK_REALTIME, &now);
	waited = (now.tv_sec - until.tv_sec) * 1000 +
		 (now.tv_nsec - until.tv_nsec) / 1000000;
	printf("pthread_cond_timedwait: %s, mutex held: %s\n", prog_errname(e),
	       prog_yes(pthread_mutex_trylock(&m) == EBUSY));
	TRY(waited >= 0 && waited < 5000, "woke %ld ms after the deadline",
	    waited);
	pthread_mutex_unlock(&m);
}

int main(void)
{
	int r;

	for (r = 0; r < ROUNDS; r++)
		round_of(r);
	timed_wait();
	return prog_done();
}
