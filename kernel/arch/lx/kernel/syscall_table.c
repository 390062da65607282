// SPDX-License-Identifier: GPL-2.0
/*
 * The x86-64 system call table.  Kept apart from <linux/syscalls.h>, whose
 * prototypes the uniform entries below would contradict.
 */
#include <asm/syscall.h>
#include <asm/unistd.h>

#define __SYSCALL(nr, sym) extern long sym(unsigned long, unsigned long, \
					  unsigned long, unsigned long, \
					  unsigned long, unsigned long);
#include <asm/syscall_table.h>
#undef __SYSCALL

#define __SYSCALL(nr, sym) [nr] = (sys_call_ptr_t)sym,
const sys_call_ptr_t sys_call_table[NR_syscalls] = {
#include <asm/syscall_table.h>
};
