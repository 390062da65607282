// SPDX-License-Identifier: GPL-2.0
/*
 * exit.c - how a program ends, and the status its parent sees.
 *
 *   exit N         exit(N): atexit handlers run, stdio is flushed
 *   return N       return N from main
 *   _exit N        _exit(N): buffered output is lost, no atexit handlers
 *   thread-exit N  exit(N) from a second thread while main waits in
 *                  pthread_join
 *   busy-exit N    exit(N) while 4 threads spin or block in read()
 *   main-pthread-exit
 *                  main calls pthread_exit; the process ends with status
 *                  0 when its last thread returns
 *   raise SIG      raise(SIG): the default action kills (128+SIG)
 *   abort          abort(): SIGABRT (134)
 *   segv           a store to address 0: SIGSEGV (139)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prog.h"

static int code;
static int pfd[2];
static volatile int spin = 1;

static void at_exit(void)
{
	printf("atexit handler ran\n");
}

static void *exiter(void *arg)
{
	(void)arg;
	prog_msleep(50);
	printf("thread calls exit(%d)\n", code);
	exit(code);
}

static void *spinner(void *arg)
{
	(void)arg;
	while (spin)
		;
	return NULL;
}

static void *reader(void *arg)
{
	char c;

	(void)arg;
	if (read(pfd[0], &c, 1) < 0)
		printf("read: %s\n", prog_errname(errno));
	return NULL;
}

static void *last(void *arg)
{
	(void)arg;
	prog_msleep(100);
	printf("the last thread returns\n");
	return NULL;
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "";
	pthread_t t;
	int i;

	code = argc > 2 ? atoi(argv[2]) : 0;
	atexit(at_exit);
	printf("%s %s\n", how, argc > 2 ? argv[2] : "");
	if (!strcmp(how, "exit")) {
		exit(code);
	} else if (!strcmp(how, "return")) {
		return code;
	} else if (!strcmp(how, "_exit")) {
		printf("this line stays in the buffer\n");
		_exit(code);
	} else if (!strcmp(how, "thread-exit")) {
		fflush(stdout);
		TRY0(pthread_create(&t, NULL, exiter, NULL));
		pthread_join(t, NULL);
		printf("pthread_join returned\n");
	} else if (!strcmp(how, "busy-exit")) {
		TRYSYS(pipe(pfd));
		for (i = 0; i < 4; i++)
			TRY0(pthread_create(&t, NULL, i & 1 ? spinner : reader,
					    NULL));
		prog_msleep(50);
		exit(code);
	} else if (!strcmp(how, "main-pthread-exit")) {
		TRY0(pthread_create(&t, NULL, last, NULL));
		fflush(stdout);
		pthread_exit(NULL);
	} else if (!strcmp(how, "raise")) {
		fflush(stdout);
		raise(code);
		printf("raise returned\n");
	} else if (!strcmp(how, "abort")) {
		fflush(stdout);
		abort();
	} else if (!strcmp(how, "segv")) {
		fflush(stdout);
		*(volatile int *)(uintptr_t)code = 1;
		printf("the store did not fault\n");
	} else {
		printf("unknown: %s\n", how);
	}
	return 99;
}
