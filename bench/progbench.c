// SPDX-License-Identifier: GPL-2.0
/*
 * progbench - system call costs seen by a program: run natively and under
 * lxexec (bench/run-programs.sh), it prints ns per call for getppid, fstat,
 * a 1-byte pipe write+read, a futex wake nobody waits for, a futex
 * round trip between two threads (each waits for the other's wake), and
 * a signal's round trip (kill to itself, the handler, its return).
 * "progbench write FILE MIB": MIB MiB written to FILE in 1 MiB writes and
 * fsync'ed, in MiB/s.  Static, so both runs use the same binary.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned int turn;	/* 0: main's, 1: the partner's */
static const long rounds = 50000;

static void futex(unsigned int *w, int op, unsigned int val)
{
	syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* Wait for the word to become mine, then hand it over and wake. */
static void pass(unsigned int mine)
{
	while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != mine)
		futex(&turn, FUTEX_WAIT_PRIVATE, !mine);
	__atomic_store_n(&turn, !mine, __ATOMIC_RELEASE);
	futex(&turn, FUTEX_WAKE_PRIVATE, 1);
}

static void *partner(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < rounds; i++)
		pass(1);
	return NULL;
}

static volatile int taken;

static void on_usr1(int sig)
{
	(void)sig;
	taken++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Write mib MiB to path in 1 MiB writes, fsync, unlink: MiB/s. */
static int write_file(const char *path, long mib)
{
	static char buf[1 << 20];
	double t;
	long i;
	int fd;

	if (mib <= 0) {
		fprintf(stderr, "progbench: write: MIB must be a positive number\n");
		return 2;
	}
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	t = now();
	for (i = 0; i < mib; i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			perror(path);
			return 1;
		}
	if (fsync(fd)) {
		perror(path);
		return 1;
	}
	printf("write-fsync %.0f\n", mib / ((now() - t) / 1e9));
	close(fd);
	unlink(path);
	return 0;
}

int main(int argc, char **argv)
{
	const long n = 200000;
	struct stat st;
	int p[2], fd = open("/", O_RDONLY);
	pthread_t th;
	double t;
	long i;
	char c = 'x';

	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_file(argv[2], atol(argv[3]));
	if (argc != 1) {
		fprintf(stderr, "usage: progbench [write FILE MIB]\n");
		return 2;
	}

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
	t = now();
	for (i = 0; i < n; i++)
		futex(&turn, FUTEX_WAKE_PRIVATE, 1);
	printf("futex-wake %.0f\n", (now() - t) / n);
	t = now();
	if (pthread_create(&th, NULL, partner, NULL))
		return 1;
	for (i = 0; i < rounds; i++)
		pass(0);
	pthread_join(th, NULL);
	printf("futex-pingpong %.0f\n", (now() - t) / rounds);
	signal(SIGUSR1, on_usr1);
	t = now();
	for (i = 0; i < rounds; i++)
		kill(getpid(), SIGUSR1);
	if (taken != rounds)
		return 1;
	printf("signal %.0f\n", (now() - t) / rounds);
	return 0;
}
