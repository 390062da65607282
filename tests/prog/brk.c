// SPDX-License-Identifier: GPL-2.0
/*
 * brk.c - the program break through brk(2): growth (1 MiB,
 * 64 MiB, an odd 100 bytes), shrinking, memory given back and taken again
 * reads zero, a break that would run into a mapping or past any memory
 * fails with ENOMEM and leaves the break where it was.  Nothing allocates
 * while the break moves (malloc may use it too): the results are kept and
 * printed once the break is back where it started.  musl's sbrk() only
 * answers sbrk(0), so the steps move the break with brk(2) itself, through
 * brk_by(), which works as sbrk() does.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prog.h"

#define KiB		1024L
#define MiB		(1024L * KiB)

struct step {
	const char *what;
	int ok;
};

static struct step steps[32];
static int nsteps;

static void step(const char *what, int ok)
{
	steps[nsteps].what = what;
	steps[nsteps].ok = ok;
	nsteps++;
}

static char *cur(void)
{
	return (char *)syscall(SYS_brk, 0);
}

/* sbrk(inc) on brk(2): the old break, or (void *)-1 and ENOMEM. */
static void *brk_by(long inc)
{
	char *old = cur();

	if ((char *)syscall(SYS_brk, old + inc) != old + inc) {
		errno = ENOMEM;
		return (void *)-1;
	}
	return old;
}

static int all(const char *p, long len, int c)
{
	long i;

	for (i = 0; i < len; i++)
		if (p[i] != (char)c)
			return 0;
	return 1;
}

int main(void)
{
	char *b0, *p, *m;
	long i, e;

	b0 = cur();
	step("libc's sbrk(0) is brk(2)'s break", sbrk(0) == (void *)b0);

	p = brk_by(MiB);
	step("up 1 MiB: brk_by returns the old break", p == b0);
	step("the break moved up 1 MiB", cur() == b0 + MiB);
	memset(b0, 0x5a, MiB);
	step("the new memory holds what was stored", all(b0, MiB, 0x5a));

	p = brk_by(-512 * KiB);
	step("down 512 KiB: brk_by returns the old break", p == b0 + MiB);
	step("the break moved down", cur() == b0 + 512 * KiB);
	step("memory below it is kept", all(b0, 512 * KiB, 0x5a));
	p = brk_by(512 * KiB);
	step("memory given back and taken again reads zero",
	     p == b0 + 512 * KiB && all(p, 512 * KiB, 0));

	p = brk_by(100);
	step("up 100 bytes: brk_by returns the old break", p == b0 + MiB);
	step("the break is 100 bytes up", cur() == b0 + MiB + 100);
	p[99] = 1;

	p = brk_by(64 * MiB);
	step("up 64 MiB works", p == b0 + MiB + 100);
	for (i = 0; p != (void *)-1 && i < 64 * MiB; i += 4096)
		p[i] = (char)i;
	step("the break is 64 MiB up", cur() == b0 + 65 * MiB + 100);

	step("back down to the start", brk_by(-(65 * MiB + 100)) != (void *)-1 &&
	     cur() == b0);
	step("brk(2) below the start does not move the break",
	     syscall(SYS_brk, 4096) == (long)b0);

	/* a mapping 2 MiB above the break: the break cannot grow past it */
	m = mmap(b0 + 2 * MiB, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == b0 + 2 * MiB) {
		errno = 0;
		p = brk_by(4 * MiB);
		e = errno;
		step("up into a mapping fails with ENOMEM",
		     p == (void *)-1 && e == ENOMEM);
		step("and leaves the break alone", cur() == b0);
	} else {
		/* the address was taken: not what this test is about */
		step("up into a mapping fails with ENOMEM", 1);
		step("and leaves the break alone", 1);
	}
	if (m != MAP_FAILED)
		munmap(m, 4096);
	errno = 0;
	p = brk_by(1L << 46);
	e = errno;
	step("up 64 TiB fails with ENOMEM", p == (void *)-1 && e == ENOMEM);
	step("the break is where it started", cur() == b0);

	for (i = 0; i < nsteps; i++)
		printf("%s: %s\n", steps[i].what, prog_yes(steps[i].ok));
	return prog_done();
}
