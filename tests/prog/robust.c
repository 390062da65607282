// SPDX-License-Identifier: GPL-2.0
/*
 * robust.c - robust mutexes whose owner thread exits holding them: the
 * next locker gets EOWNERDEAD (pthread_mutex_lock, pthread_mutex_trylock,
 * and a waiter already blocked in pthread_mutex_lock); after
 * pthread_mutex_consistent the mutex works again; unlocked without it,
 * the mutex is ENOTRECOVERABLE.  The kernel's walk of the robust list at
 * thread exit does this.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#include "prog.h"

static pthread_mutex_t m;
static sem_t locked, may_exit;
static int waiter_ret = -1;

static void init_robust(void)
{
	pthread_mutexattr_t a;

	TRY0(pthread_mutexattr_init(&a));
	TRY0(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST));
	TRY0(pthread_mutex_init(&m, &a));
	pthread_mutexattr_destroy(&a);
}

/* Take the mutex and exit with it held (when allowed to). */
static void *owner(void *arg)
{
	(void)arg;
	TRY0(pthread_mutex_lock(&m));
	sem_post(&locked);
	while (sem_wait(&may_exit))
		;
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	waiter_ret = pthread_mutex_lock(&m);
	if (waiter_ret == EOWNERDEAD) {
		TRY0(pthread_mutex_consistent(&m));
		TRY0(pthread_mutex_unlock(&m));
	}
	return NULL;
}

/* A thread takes m and exits holding it; waits until it is gone. */
static void orphan(void)
{
	pthread_t t;

	TRY0(pthread_create(&t, NULL, owner, NULL));
	while (sem_wait(&locked))
		;
	sem_post(&may_exit);
	TRY0(pthread_join(t, NULL));
}

int main(void)
{
	pthread_t o, w;
	int e;

	sem_init(&locked, 0, 0);
	sem_init(&may_exit, 0, 0);

	init_robust();
	orphan();
	e = pthread_mutex_lock(&m);
	printf("lock after the owner died: %s\n", prog_errname(e));
	printf("pthread_mutex_consistent: %s\n",
	       prog_errname(pthread_mutex_consistent(&m)));
	printf("unlock: %s\n", prog_errname(pthread_mutex_unlock(&m)));
	printf("lock again: %s\n", prog_errname(pthread_mutex_lock(&m)));
	printf("unlock: %s\n", prog_errname(pthread_mutex_unlock(&m)));
	pthread_mutex_destroy(&m);

	init_robust();
	orphan();
	printf("trylock after the owner died: %s\n",
	       prog_errname(pthread_mutex_trylock(&m)));
	printf("unlock without consistent: %s\n",
	       prog_errname(pthread_mutex_unlock(&m)));
	printf("lock: %s\n", prog_errname(pthread_mutex_lock(&m)));
	printf("trylock: %s\n", prog_errname(pthread_mutex_trylock(&m)));
	pthread_mutex_destroy(&m);

	/* a waiter blocked in the kernel is woken by the owner's death */
	init_robust();
	TRY0(pthread_create(&o, NULL, owner, NULL));
	while (sem_wait(&locked))
		;
	TRY0(pthread_create(&w, NULL, waiter, NULL));
	prog_msleep(100);
	sem_post(&may_exit);
	TRY0(pthread_join(o, NULL));
	TRY0(pthread_join(w, NULL));
	printf("blocked waiter got: %s\n", prog_errname(waiter_ret));
	printf("lock after the waiter made it consistent: %s\n",
	       prog_errname(pthread_mutex_lock(&m)));
	TRY0(pthread_mutex_unlock(&m));
	pthread_mutex_destroy(&m);
	return prog_done();
}
