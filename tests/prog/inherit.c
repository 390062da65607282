// SPDX-License-Identifier: GPL-2.0
/*
 * inherit.c - what a thread takes from the thread that made it, as
 * clone() gives it: credentials changed before (setgid, setuid: a program
 * that drops root and then starts threads must not have them run as
 * root), no_new_privs, the name, the signal mask.  Run as root; the
 * thread made before the changes keeps what it had where Linux keeps it
 * per thread (the name) and follows where libc makes the change for the
 * whole process (the ids).  /proc/self/task lists the program's threads,
 * no thread of lx's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "prog.h"

static void report(const char *who)
{
	char name[16] = "";
	sigset_t mask;

	prctl(PR_GET_NAME, name, 0, 0, 0);
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	printf("%s: uid %d euid %d gid %d egid %d, no_new_privs %d, "
	       "name %s, SIGUSR1 blocked %s\n", who, (int)getuid(),
	       (int)geteuid(), (int)getgid(), (int)getegid(),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), name,
	       sigismember(&mask, SIGUSR1) ? "yes" : "no");
}

/* the entries of /proc/self/task */
static int tasks_listed(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int stage;

/* made first: reports before and after the main thread's changes */
static void *early(void *arg)
{
	report("an earlier thread, at its start");
	pthread_mutex_lock(&lock);
	stage = 1;
	pthread_cond_broadcast(&cond);
	while (stage < 2)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	report("the earlier thread, after");
	return arg;
}

static void *later(void *arg)
{
	report("a thread made after");
	return arg;
}

int main(void)
{
	pthread_t a, b;
	sigset_t usr1;

	if (getuid() != 0) {
		printf("not root: nothing to drop\n");
		return 0;
	}
	TRY0(pthread_create(&a, NULL, early, NULL));
	pthread_mutex_lock(&lock);
	while (stage < 1)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	printf("threads in /proc/self/task: %d\n", tasks_listed());

	TRYSYS(prctl(PR_SET_NAME, "inheritor", 0, 0, 0));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	TRY0(pthread_sigmask(SIG_BLOCK, &usr1, NULL));
	TRYSYS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	TRYSYS(setgid(1000));
	TRYSYS(setuid(1000));
	report("main, after");

	TRY0(pthread_create(&b, NULL, later, NULL));
	TRY0(pthread_join(b, NULL));
	pthread_mutex_lock(&lock);
	stage = 2;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	TRY0(pthread_join(a, NULL));
	return prog_done();
}
