/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A thread's user registers, laid out as x86-64's struct pt_regs, so that the
 * registers a program's syscall left are handed to the kernel as they are.
 */
#ifndef _ASM_LX_PTRACE_H
#define _ASM_LX_PTRACE_H

#include <uapi/asm/ptrace.h>

#ifndef __ASSEMBLY__

struct pt_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};

/* Interrupts and kernel threads see a frame with cs == 0: kernel mode. */
#define LX_USER_CS 0x33
#define LX_USER_DS 0x2b

#define user_mode(regs) ((regs)->cs == LX_USER_CS)
#define instruction_pointer(regs) ((regs)->ip)
#define profile_pc(regs) instruction_pointer(regs)
#define user_stack_pointer(regs) ((regs)->sp)
#define regs_return_value(regs) ((regs)->ax)
#define current_user_stack_pointer() user_stack_pointer(current_pt_regs())

static inline void instruction_pointer_set(struct pt_regs *regs,
					   unsigned long val)
{
	regs->ip = val;
}

static inline int regs_irqs_disabled(struct pt_regs *regs)
{
	return 0;
}

#define arch_has_single_step() (0)
#define task_pt_regs(task) (&(task)->thread.regs)
#define current_pt_regs() task_pt_regs(current)

extern void show_regs(struct pt_regs *regs);

#endif /* __ASSEMBLY__ */
#endif
