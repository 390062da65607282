// SPDX-License-Identifier: GPL-2.0
/*
 * maps.c - what a program learns of itself from /proc/self and
 * pthread_getattr_np (glibc reads /proc/self/maps for the main thread's
 * stack, musl probes it with mremap): the mapping holding a local variable
 * is [stack] and writable; main() lies in a mapping of the program file,
 * readable and executable; a libc function in one of the program or of
 * libc; /proc/self/exe names the program; one thread at start; the main
 * thread's stack and a new thread's (1 MiB asked for) contain their local
 * variables and have sane sizes.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prog.h"

#define KiB	1024UL
#define MiB	(1024 * KiB)

struct mapping {
	char perms[8];
	char name[256];
	int found;
};

/* The line of /proc/self/maps whose range holds addr. */
static struct mapping find(const void *addr)
{
	struct mapping m = { "-", "(no mapping)", 0 };
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512], perms[8], name[256];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return m;
	while (fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi,
			   perms, name) < 3)
			continue;
		if (a >= lo && a < hi) {
			snprintf(m.perms, sizeof(m.perms), "%s", perms);
			snprintf(m.name, sizeof(m.name), "%s",
				 name[0] ? name : "(anonymous)");
			m.found = 1;
			break;
		}
	}
	fclose(f);
	return m;
}


/* pthread_getattr_np of the calling thread: does its stack hold addr? */
static void stack_of_self(const char *who, const void *addr,
			  unsigned long min, unsigned long max)
{
	pthread_attr_t a;
	void *base;
	size_t size;
	uintptr_t x = (uintptr_t)addr;

	TRY0(pthread_getattr_np(pthread_self(), &a));
	TRY0(pthread_attr_getstack(&a, &base, &size));
	pthread_attr_destroy(&a);
	printf("%s: pthread_getattr_np stack holds a local: %s, size in range: %s\n",
	       who, prog_yes(x >= (uintptr_t)base && x < (uintptr_t)base + size),
	       prog_yes(size >= min && size <= max));
	if (size < min || size > max)
		printf("  (size %zu, want %lu..%lu)\n", size, min, max);
}

static void *thread(void *arg)
{
	int local = 1;
	struct mapping m = find(&local);

	(void)arg;
	stack_of_self("new thread", &local, MiB, MiB + 64 * KiB);
	printf("new thread's stack mapping found: %s, writable: %s\n",
	       prog_yes(m.found), prog_yes(m.perms[1] == 'w'));
	return NULL;
}

int main(int argc, char **argv)
{
	char exe[512];
	struct mapping m;
	pthread_attr_t a;
	pthread_t t;
	ssize_t n;
	int local = 0;

	(void)argc;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	printf("/proc/self/exe: %s, argv[0]: %s\n", exe, argv[0]);
	TRY(!strcmp(exe, argv[0]), "/proc/self/exe is not argv[0]");
	printf("threads at start: %d\n", prog_threads());

	m = find(&local);
	printf("a local variable is in: %s %s\n", m.name, m.perms);
	TRY(!strcmp(m.name, "[stack]"), "not [stack]");
	m = find((void *)(uintptr_t)main);
	printf("main() is in: %s %.3s\n", m.name, m.perms);
	TRY(!strcmp(m.name, exe), "not the program file");
	m = find((void *)(uintptr_t)printf);
	printf("printf() is in a file: %s, executable: %s\n",
	       prog_yes(m.name[0] == '/'), prog_yes(m.perms[2] == 'x'));

	/* musl gives what is mapped so far, glibc the stack rlimit */
	stack_of_self("main thread", &local, 32 * KiB, 1024 * MiB);
	TRY0(pthread_attr_init(&a));
	TRY0(pthread_attr_setstacksize(&a, MiB));
	TRY0(pthread_create(&t, &a, thread, NULL));
	TRY0(pthread_join(t, NULL));
	pthread_attr_destroy(&a);
	return prog_done();
}
