// SPDX-License-Identifier: GPL-2.0
/*
 * memfd.c - memfd_create: write() then mmap (shared and private), stores
 * through the shared map seen by pread() and pwrite() seen by the map,
 * ftruncate to grow it, its name in /proc/self/fd, close-on-exec;
 * "memfd seals": F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_WRITE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prog.h"

#define PAGE	4096
#define LEN	10000
#define SEED	3

static int byte_at(int fd, off_t off)
{
	unsigned char c;

	if (pread(fd, &c, 1, off) != 1)
		return -1;
	return c;
}

static const char *err_of(long r)
{
	return prog_errname(r < 0 ? errno : 0);
}

static void seals(void)
{
	int fd = TRYSYS(memfd_create("lx-sealed", MFD_ALLOW_SEALING));
	char buf[PAGE];
	long r;
	void *p;

	if (fd < 0)
		return;
	memset(buf, 1, sizeof(buf));
	TRY(write(fd, buf, PAGE) == PAGE, "write: %s", strerror(errno));
	printf("seals at first: %#x\n", fcntl(fd, F_GET_SEALS));
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
	printf("add F_SEAL_SHRINK|F_SEAL_GROW: %s; seals %#x\n", err_of(r),
	       fcntl(fd, F_GET_SEALS));
	r = ftruncate(fd, PAGE / 2);
	printf("shrink: %s\n", err_of(r));
	r = ftruncate(fd, 2 * PAGE);
	printf("grow: %s\n", err_of(r));
	r = pwrite(fd, buf, 10, PAGE - 5);
	printf("10 bytes written 5 before the end: %ld\n", r);
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
	printf("F_SEAL_WRITE while mapped shared and writable: %s\n", err_of(r));
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	r = fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE);
	printf("F_SEAL_WRITE once unmapped: %s\n", err_of(r));
	r = pwrite(fd, buf, 10, 0);
	printf("write when sealed: %s\n", err_of(r));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("writable shared map when sealed: %s\n",
	       err_of(p == MAP_FAILED ? -1 : 0));
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	close(fd);
}

int main(int argc, char **argv)
{
	static unsigned char buf[LEN];
	unsigned char *p, *q, c = 0x42;
	char link[64], name[128];
	struct stat st;
	ssize_t n;
	int fd;

	if (argc > 1 && !strcmp(argv[1], "seals")) {
		seals();
		return prog_done();
	}
	fd = TRYSYS(memfd_create("lx-memfd", MFD_CLOEXEC));
	if (fd < 0)
		return prog_done();
	prog_fill(buf, LEN, 0, SEED);
	TRY(write(fd, buf, LEN) == LEN, "write: %s", strerror(errno));
	TRYSYS(fstat(fd, &st));
	printf("size %lld, regular file: %s, close-on-exec: %s\n",
	       (long long)st.st_size, prog_yes(S_ISREG(st.st_mode)),
	       prog_yes(fcntl(fd, F_GETFD) == FD_CLOEXEC));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, name, sizeof(name) - 1);
	name[n > 0 ? n : 0] = 0;
	printf("/proc/self/fd names it: %s\n", name);

	p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TRY(p != MAP_FAILED, "mmap shared: %s", strerror(errno));
	if (p == MAP_FAILED)
		return prog_done();
	printf("shared map: the bytes written %s, zeroes past the end %s\n",
	       prog_yes(prog_check(p, LEN, 0, SEED) < 0),
	       prog_yes(!p[LEN] && !p[3 * PAGE - 1]));
	p[5] = 0xee;
	p[2 * PAGE] = 0xdd;
	printf("a store through the map seen by pread(): %s\n",
	       prog_yes(byte_at(fd, 5) == 0xee && byte_at(fd, 2 * PAGE) == 0xdd));
	TRY(pwrite(fd, &c, 1, PAGE) == 1, "pwrite: %s", strerror(errno));
	printf("pwrite() seen by the map: %s\n", prog_yes(p[PAGE] == 0x42));
	q = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	TRY(q != MAP_FAILED, "mmap private: %s", strerror(errno));
	if (q != MAP_FAILED) {
		q[6] = 0x99;
		printf("private map: sees the stores %s, its own store stays private %s\n",
		       prog_yes(q[5] == 0xee && q[PAGE] == 0x42),
		       prog_yes(p[6] == prog_byte(6, SEED) && byte_at(fd, 6) == p[6]));
		munmap(q, LEN);
	}
	munmap(p, 3 * PAGE);

	TRYSYS(ftruncate(fd, 5 * PAGE));
	p = mmap(NULL, 5 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	TRY(p != MAP_FAILED, "mmap after ftruncate: %s", strerror(errno));
	if (p != MAP_FAILED) {
		TRYSYS(fstat(fd, &st));
		printf("after ftruncate: size %lld, old bytes kept %s, new ones zero %s\n",
		       (long long)st.st_size, prog_yes(p[5] == 0xee),
		       prog_yes(!p[4 * PAGE + 7]));
		munmap(p, 5 * PAGE);
	}
	close(fd);
	return prog_done();
}
