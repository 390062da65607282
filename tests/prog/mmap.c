// SPDX-License-Identifier: GPL-2.0
/*
 * mmap.c - file mappings, on a file the program makes in DIR.
 *
 *   mmap DIR private       MAP_PRIVATE read-only (whole file, at an
 *                          offset, zeroes past the end) and writable (the
 *                          copy changes, the file and other maps do not)
 *   mmap DIR shared-ro     MAP_SHARED read-only: the file's bytes, and a
 *                          later write() to the file shows in the map
 *   mmap DIR shared-write  MAP_SHARED writable: a store is seen by read()
 *                          and by another map without msync, stays in the
 *                          file after munmap
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog.h"

#define PAGE	4096
#define FSIZE	(3 * PAGE + 100)
#define SEED	7

static char path[512];

static int make_file(void)
{
	static unsigned char buf[FSIZE];
	int fd;

	fd = TRYSYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	if (fd < 0)
		return -1;
	prog_fill(buf, FSIZE, 0, SEED);
	TRY(write(fd, buf, FSIZE) == FSIZE, "write: %s", strerror(errno));
	return fd;
}

static int zeroes(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The byte at off, read with pread(). */
static int byte_at(int fd, off_t off)
{
	unsigned char c;

	if (pread(fd, &c, 1, off) != 1)
		return -1;
	return c;
}

static void private_maps(int fd)
{
	unsigned char *p, *q, *r;

	p = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
	TRY(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		return;
	printf("read-only private map: file bytes %s, zeroes past the end %s\n",
	       prog_yes(prog_check(p, FSIZE, 0, SEED) < 0),
	       prog_yes(zeroes(p + FSIZE, 4 * PAGE - FSIZE)));
	q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
	TRY(q != MAP_FAILED, "mmap at 2 pages: %s", strerror(errno));
	if (q != MAP_FAILED) {
		printf("map at offset 8192: file bytes %s\n",
		       prog_yes(prog_check(q, PAGE, 2 * PAGE, SEED) < 0));
		munmap(q, PAGE);
	}

	q = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	TRY(q != MAP_FAILED, "mmap writable: %s", strerror(errno));
	if (q == MAP_FAILED)
		goto out;
	memset(q + 100, 0xab, 2 * PAGE);
	q[FSIZE - 1] = 0xcd;
	r = mmap(NULL, FSIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	TRY(r != MAP_FAILED, "mmap again: %s", strerror(errno));
	printf("writable private map: stores kept %s, file unchanged %s, other map unchanged %s\n",
	       prog_yes(q[100] == 0xab && q[2 * PAGE + 99] == 0xab &&
		   q[FSIZE - 1] == 0xcd && prog_check(q, 100, 0, SEED) < 0),
	       prog_yes(byte_at(fd, 100) == prog_byte(100, SEED) &&
		   byte_at(fd, FSIZE - 1) == prog_byte(FSIZE - 1, SEED)),
	       prog_yes(r != MAP_FAILED && prog_check(r, FSIZE, 0, SEED) < 0));
	printf("mprotect read-only: %s\n",
	       prog_errname(mprotect(q, FSIZE, PROT_READ) ? errno : 0));
	if (r != MAP_FAILED)
		munmap(r, FSIZE);
	munmap(q, FSIZE);
out:
	munmap(p, 4 * PAGE);
}

static void shared_ro(int fd)
{
	unsigned char *p, c = 0x5a;

	p = mmap(NULL, FSIZE, PROT_READ, MAP_SHARED, fd, 0);
	TRY(p != MAP_FAILED, "mmap: %s", strerror(errno));
	if (p == MAP_FAILED)
		return;
	printf("read-only shared map: file bytes %s\n",
	       prog_yes(prog_check(p, FSIZE, 0, SEED) < 0));
	TRY(pwrite(fd, &c, 1, PAGE + 1) == 1, "pwrite: %s", strerror(errno));
	printf("pwrite() after the map shows in it: %s\n",
	       prog_yes(p[PAGE + 1] == 0x5a));
	munmap(p, FSIZE);
}

struct peek {
	int fd;
	off_t off;
	int byte;
};

static void *peek_thread(void *arg)
{
	struct peek *k = arg;

	k->byte = byte_at(k->fd, k->off);
	return NULL;
}

/* byte_at() from another thread */
static int byte_at_in_thread(int fd, off_t off)
{
	struct peek k = { fd, off, -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, peek_thread, &k))
		return -1;
	pthread_join(t, NULL);
	return k.byte;
}

static void shared_write(int fd)
{
	unsigned char *p, *q, c = 0x77;
	int fd2;

	p = mmap(NULL, FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("writable shared map: %s\n",
	       prog_errname(p == MAP_FAILED ? errno : 0));
	if (p == MAP_FAILED) {
		prog_failures++;
		return;
	}
	q = mmap(NULL, FSIZE, PROT_READ, MAP_SHARED, fd, 0);
	TRY(q != MAP_FAILED, "second map: %s", strerror(errno));
	p[10] = 0x11;
	p[PAGE * 3 + 5] = 0x33;
	printf("store seen by read() without msync: %s %s\n",
	       prog_yes(byte_at(fd, 10) == 0x11), prog_yes(byte_at(fd, PAGE * 3 + 5) == 0x33));
	p[12] = 0x44;
	printf("store seen by read() in another thread: %s\n",
	       prog_yes(byte_at_in_thread(fd, 12) == 0x44));
	printf("store seen by another shared map: %s\n",
	       prog_yes(q != MAP_FAILED && q[10] == 0x11 && q[PAGE * 3 + 5] == 0x33));
	TRY(pwrite(fd, &c, 1, 20) == 1, "pwrite: %s", strerror(errno));
	printf("pwrite() seen by the map: %s\n", prog_yes(p[20] == 0x77));
	printf("msync: %s\n",
	       prog_errname(msync(p, FSIZE, MS_SYNC) ? errno : 0));
	munmap(p, FSIZE);
	if (q != MAP_FAILED)
		munmap(q, FSIZE);
	fd2 = TRYSYS(open(path, O_RDONLY));
	printf("kept in the file after munmap: %s\n",
	       prog_yes(byte_at(fd2, 10) == 0x11 && byte_at(fd2, PAGE * 3 + 5) == 0x33 &&
		   byte_at(fd2, 12) == 0x44 && byte_at(fd2, 11) == prog_byte(11, SEED)));
	close(fd2);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mmap DIR private|shared-ro|shared-write\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/mmap-%s", argv[1], argv[2]);
	fd = make_file();
	if (fd < 0)
		return prog_done();
	if (!strcmp(argv[2], "private"))
		private_maps(fd);
	else if (!strcmp(argv[2], "shared-ro"))
		shared_ro(fd);
	else if (!strcmp(argv[2], "shared-write"))
		shared_write(fd);
	else
		TRY(0, "unknown mode %s", argv[2]);
	close(fd);
	TRYSYS(unlink(path));
	return prog_done();
}
