// SPDX-License-Identifier: GPL-2.0
/*
 * progbench - system call costs seen by a program: run natively and under
 * lxexec (bench/run-programs.sh), it prints ns per call for getppid, fstat
 * and a 1-byte pipe write+read.  Static, so both runs use the same binary.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
	const long n = 200000;
	struct stat st;
	int p[2], fd = open("/", O_RDONLY);
	double t;
	long i;
	char c = 'x';

	if (fd < 0 || pipe(p))
		return 1;
	t = now();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("getppid %.0f\n", (now() - t) / n);
	t = now();
	for (i = 0; i < n; i++)
		fstat(fd, &st);
	printf("fstat %.0f\n", (now() - t) / n);
	t = now();
	for (i = 0; i < n; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
			return 1;
	}
	printf("pipe %.0f\n", (now() - t) / n);
	return 0;
}
