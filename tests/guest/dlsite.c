// SPDX-License-Identifier: GPL-2.0
/*
 * dlsite.c - dlopen() a library (libsite.so) and call its system call
 * site: "getpid same site=rewritten" on lx, "site=original" natively.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long (*fn)(int *);
	void *h;
	int rw = 0;
	long pid;

	if (argc != 2) {
		fprintf(stderr, "usage: dlsite LIBRARY\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlsite: %s\n", dlerror());
		return 1;
	}
	fn = (long (*)(int *))dlsym(h, "site_getpid");
	if (!fn) {
		fprintf(stderr, "dlsite: %s\n", dlerror());
		return 1;
	}
	pid = fn(&rw);
	printf("getpid %s site=%s\n", pid == getpid() ? "same" : "differs",
	       rw ? "rewritten" : "original");
	return 0;
}
