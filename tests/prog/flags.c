// SPDX-License-Identifier: GPL-2.0
/*
 * flags.c - the flags a program has at a system call instruction.  The
 * direction flag set: the kernel's copies still run forward (an x86-64
 * kernel clears it on entry), for a read and a write of a pipe; and the
 * flags come back as they were - DF and CF set still set after the call,
 * as sysret restores them.  Each call is a "mov $nr, %eax; syscall"
 * sequence, as lx rewrites in place, with the flags set before it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prog.h"

#define EFLAGS_CF	0x001
#define EFLAGS_DF	0x400

/* A call of nr with CF and DF set before it; the flags after it. */
#define CALL_STD(NR, name)						\
	static long name(long a0, long a1, long a2, uint64_t *flags)	\
	{								\
		long ret;						\
		uint64_t fl;						\
									\
		__asm__ volatile("stc\n\t"				\
				 "std\n\t"				\
				 "mov %[nr], %%eax\n\t"			\
				 "syscall\n\t"				\
				 "lea -128(%%rsp), %%rsp\n\t"		\
				 "pushfq\n\t"				\
				 "pop %[fl]\n\t"			\
				 "lea 128(%%rsp), %%rsp\n\t"		\
				 "cld"					\
				 : "=a"(ret), [fl] "=r"(fl), "+D"(a0),	\
				   "+S"(a1), "+d"(a2)			\
				 : [nr] "i"(NR)				\
				 : "rcx", "r11", "memory", "cc");	\
		*flags = fl;						\
		return ret;						\
	}

CALL_STD(SYS_write, write_std)
CALL_STD(SYS_read, read_std)

int main(void)
{
	static const char msg[] = "forward, as the kernel copies it";
	char buf[64];
	uint64_t fw, fr;
	long w, r;
	int p[2];

	TRY(pipe(p) == 0, "pipe: %s", strerror(errno));
	memset(buf, '.', sizeof(buf));
	w = write_std(p[1], (long)msg, sizeof(msg), &fw);
	r = read_std(p[0], (long)buf, sizeof(buf), &fr);
	TRY(w == sizeof(msg), "write with DF set: %ld", w);
	TRY(r == sizeof(msg) && !memcmp(buf, msg, sizeof(msg)),
	    "read with DF set: %ld bytes: %.*s", r, (int)sizeof(msg), buf);
	printf("write and read with DF set: %ld and %ld bytes: %s\n", w, r,
	       r == sizeof(msg) ? buf : "?");
	TRY((fw & (EFLAGS_CF | EFLAGS_DF)) == (EFLAGS_CF | EFLAGS_DF) &&
	    (fr & (EFLAGS_CF | EFLAGS_DF)) == (EFLAGS_CF | EFLAGS_DF),
	    "flags after the calls: %#lx, %#lx", (unsigned long)fw,
	    (unsigned long)fr);
	printf("CF and DF after the calls: %d%d %d%d\n", !!(fw & EFLAGS_CF),
	       !!(fw & EFLAGS_DF), !!(fr & EFLAGS_CF), !!(fr & EFLAGS_DF));
	return prog_done();
}
