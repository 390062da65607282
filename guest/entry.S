/* SPDX-License-Identifier: GPL-2.0 */
/*
 * entry.S - the system call gate of program threads.
 *
 * A program's syscall instruction is trapped by Syscall User Dispatch and
 * arrives here as SIGSYS, on lx's alternate stack, with the program's FS.
 * Before any C runs: SUD is switched to "allow" (lx's own host calls must
 * not trap) and FS to lx's TLS (the host libc and the stack protector read
 * %fs).  On the way back the program's FS and "block" return, and the
 * restorer's rt_sigreturn - inside the one address range SUD lets through
 * - resumes the program with its registers, vector state included, as the
 * host kernel saved them in the signal frame.
 */
#include "guest.h"

/*
 * Into lx's code from the program's (base: the thread block, r: a scratch
 * register): SUD to "allow", the program's FS kept, lx's loaded.  And out.
 */
	.macro TO_LX_FS base, r
	movb $0, LX_THREAD_SELECTOR(\base)
	rdfsbase \r
	mov \r, LX_THREAD_PROG_FS(\base)
	mov LX_THREAD_LX_FS(\base), \r
	wrfsbase \r
	.endm

	.macro TO_PROGRAM_FS base, r
	mov LX_THREAD_PROG_FS(\base), \r
	wrfsbase \r
	movb $1, LX_THREAD_SELECTOR(\base)
	.endm

	.section .text.lx_gate, "ax"
	.globl lx_gate_start, lx_gate_end
lx_gate_start:

	.globl lx_sigsys_restorer
	.type lx_sigsys_restorer, @function
lx_sigsys_restorer:
	mov $15, %eax			/* rt_sigreturn */
	syscall
	ud2
	.size lx_sigsys_restorer, . - lx_sigsys_restorer

lx_gate_end:

	.text
	.globl lx_sigsys_entry
	.type lx_sigsys_entry, @function
lx_sigsys_entry:
	pushq $2			/* lx's C code: no TF, AC, DF */
	popfq
	mov %gs:LX_THREAD_SELF, %rax
	TO_LX_FS %rax, %rcx
	sub $8, %rsp			/* entered as after a call: align */
	call lx_guest_sigsys
	add $8, %rsp
	mov %gs:LX_THREAD_SELF, %rax
	TO_PROGRAM_FS %rax, %rcx
	ret				/* to lx_sigsys_restorer */
	.size lx_sigsys_entry, . - lx_sigsys_entry

/*
 * The rest of a struct pt_regs, from rdi down, pushed after orig_rax;
 * then lx's FS and SUD's "allow", the program's FS kept in the block.
 * rax_slot: what goes in the rax slot.
 */
	.macro PUSH_REGS_FROM_RDI rax_slot
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	pushq \rax_slot
	push %r8
	push %r9
	push %r10
	push %r11
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	/*
	 * As syscall: no TF, DF, NT or AC in lx's code.  A popfq costs more
	 * than the rest of the way in on some CPUs: only when one is set.
	 */
	testl $0x44500, 18*8(%rsp)	/* pt_regs' eflags */
	jz 1f
	pushq $2
	popfq
1:	mov %gs:LX_THREAD_SELF, %rbx
	TO_LX_FS %rbx, %rax
	.endm

/*
 * lx_fast_entry - a rewritten site's stub (rewrite.c) arrives here as if
 * its syscall instruction had run: rax the number, the arguments in rdi,
 * rsi, rdx, r10, r8 and r9, rcx the address after the syscall, the flags
 * and every other register the program's.  The program's stack is not
 * touched (its red zone may be live): the registers go to a struct
 * pt_regs on lx's stack for the thread, and lx serves the call.  lx
 * itself uses general registers only: the vector and x87 state go to the
 * thread's XSAVE area only when host libc may run (lx_guest_fast()).  Everything comes back from pt_regs - rcx = rip and r11 = rflags
 * as after a syscall, unless lx moved the thread (a signal handler,
 * rt_sigreturn) - and the jump back goes through the thread block, so no
 * register is lost to it.
 */
	.macro FAST_ENTRY fn
	mov %rsp, %gs:LX_THREAD_PROG_SP
	mov %gs:LX_THREAD_STACK_TOP, %rsp
	pushq $0x2b			/* ss */
	pushq %gs:LX_THREAD_PROG_SP	/* rsp */
	pushfq				/* eflags */
	mov (%rsp), %r11		/* as syscall: r11 = rflags */
	pushq $0x33			/* cs */
	push %rcx			/* rip */
	push %rax			/* orig_rax */
	PUSH_REGS_FROM_RDI $-38		/* rax: -ENOSYS */
	mov %rsp, %rdi			/* struct pt_regs * */
	sub $8, %rsp			/* 21 pushes: align for the call */
	call \fn
	add $8, %rsp
	.endm

	.globl lx_fast_entry
	.type lx_fast_entry, @function
lx_fast_entry:
	FAST_ENTRY lx_guest_fast
lx_fast_out:
	mov %gs:LX_THREAD_SELF, %rbx
	TO_PROGRAM_FS %rbx, %rax
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rax
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	add $8, %rsp			/* orig_rax */
	popq %gs:LX_THREAD_RET_RIP	/* rip */
	add $8, %rsp			/* cs */
	/*
	 * A signal for the thread that came while it was in lx kicked it
	 * (kick.c, lx_kick_entry): then it is taken now, before the
	 * program goes on.  From the jne on, every register but rip, rsp
	 * and rflags is the program's, and those are in reach; a kick here
	 * is taken by lx_guest_kick() as if in the program's code.
	 */
	cmpb $0, %gs:LX_THREAD_KICK
	.globl lx_fast_jne, lx_fast_popf, lx_fast_movrsp, lx_fast_jmp
lx_fast_jne:
	jne 2f
lx_fast_popf:
	popfq
lx_fast_movrsp:
	mov (%rsp), %rsp		/* the program's rsp; flags untouched */
lx_fast_jmp:
	jmp *%gs:LX_THREAD_RET_RIP
2:	popfq
	mov (%rsp), %rsp
	/* fall into lx_fast_kicked */

/*
 * The program's registers all live (rip in the thread block): save them
 * again and take the signals waiting, as from an interrupt.
 */
lx_fast_kicked:
	movb $0, %gs:LX_THREAD_KICK
	mov %rsp, %gs:LX_THREAD_PROG_SP
	mov %gs:LX_THREAD_STACK_TOP, %rsp
	pushq $0x2b			/* ss */
	pushq %gs:LX_THREAD_PROG_SP	/* rsp */
	pushfq				/* eflags */
	pushq $0x33			/* cs */
	pushq %gs:LX_THREAD_RET_RIP	/* rip */
	pushq $-1			/* orig_rax: no system call */
	PUSH_REGS_FROM_RDI %rax
	mov %rsp, %rdi
	sub $8, %rsp
	call lx_guest_pending
	add $8, %rsp
	jmp lx_fast_out
	.size lx_fast_entry, . - lx_fast_entry

/*
 * lx_zpoline_entry - a "call *%rax" lx made of a syscall instruction
 * (zpoline.c) slid down the nops at address 0 and jumped here: rax the
 * number, the return address on the program's stack.  Popped into rcx,
 * it is what a syscall instruction leaves there, and the stack pointer is
 * the program's again: the fast path from here, which checks the site
 * (lx_guest_zpoline()).  The program's rcx and r11 wait in the thread
 * block, for a call that was no site of lx's.
 */
	.globl lx_zpoline_entry
	.type lx_zpoline_entry, @function
lx_zpoline_entry:
	mov %rcx, %gs:LX_THREAD_ZP_RCX
	mov %r11, %gs:LX_THREAD_ZP_R11
	pop %rcx
	FAST_ENTRY lx_guest_zpoline
	jmp lx_fast_out
	.size lx_zpoline_entry, . - lx_zpoline_entry

/*
 * A host signal handler's entry (sig, info, uc in rdi, rsi, rdx): clean
 * flags for lx's C code; if the FS base is lx's, lx's own code was
 * interrupted: jump to in_lx.  Otherwise the program's: keep its FS and
 * the selector, switch to lx's, call fn, and put them back.
 */
	.macro FROM_PROGRAM_OR fn, in_lx
	pushq $2
	popfq
	mov %gs:LX_THREAD_SELF, %rax
	rdfsbase %rcx
	cmp LX_THREAD_LX_FS(%rax), %rcx
	je \in_lx
	mov %rcx, LX_THREAD_PROG_FS(%rax)
	mov LX_THREAD_LX_FS(%rax), %rcx
	wrfsbase %rcx
	movzbl LX_THREAD_SELECTOR(%rax), %ecx
	push %rcx			/* the selector as it was; aligns too */
	movb $0, LX_THREAD_SELECTOR(%rax)
	call \fn
	pop %rcx
	mov %gs:LX_THREAD_SELF, %rax
	mov LX_THREAD_PROG_FS(%rax), %rdx
	wrfsbase %rdx
	movb %cl, LX_THREAD_SELECTOR(%rax)
	.endm

/*
 * lx_fault_entry - SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGTRAP of a program
 * thread, on lx's alternate stack.  Whose code faulted is told by the FS
 * base, not by the selector (the gate and the fast path change the two
 * one after the other): lx's own FS means lx's code (a bad user pointer
 * met by the kernel: lx_guest_lx_fault), any other the program's, whose
 * FS is kept as on the way into lx and put back after.
 */
	.globl lx_fault_entry
	.type lx_fault_entry, @function
lx_fault_entry:
	FROM_PROGRAM_OR lx_guest_user_fault, 1f
	ret				/* to lx_sigsys_restorer */
1:	jmp lx_guest_lx_fault
	.size lx_fault_entry, . - lx_fault_entry

/*
 * lx_kick_entry - LX_KICK_SIGNAL: a signal came for the thread while it
 * ran outside lx (kick.c).  It is noted in the thread block, for the fast
 * path's way out; in lx's own code (lx's FS) that is all.  Otherwise as
 * lx_fault_entry.  The host's CPU-time signals (SIGVTALRM, SIGPROF,
 * SIGXCPU) come here too: noted in lx_host_sigs, then as a kick, which
 * takes the thread into lx (dispatch.c sends them there).
 */
	.globl lx_kick_entry
	.type lx_kick_entry, @function
lx_kick_entry:
	/* a CPU-time signal of the host: for lx to send (lx_host_sigs) */
	cmp $LX_KICK_SIGNO, %edi
	je 0f
	cmp $LX_CPUTIMER_SIGNO, %edi
	je 9f
	lock btsl %edi, lx_host_sigs(%rip)
	jmp 0f
	/* a CPU-clock timer's: its slot is the signal's value */
9:	mov SI_VALUE(%rsi), %eax
	and $31, %eax
	lock btsl %eax, lx_cputimers_fired(%rip)
0:	movb $1, %gs:LX_THREAD_KICK	/* the fast path's way out checks */
	FROM_PROGRAM_OR lx_guest_kick, 1f
	ret
	/* in lx: a kickable wait (lx_wait_call) gives up, else nothing */
1:	mov UC_RIP(%rdx), %rax
	lea lx_wait_begin(%rip), %rcx
	cmp %rcx, %rax
	jb 2f
	lea lx_wait_end(%rip), %rcx
	cmp %rcx, %rax
	jae 2f
	lea lx_wait_kicked(%rip), %rcx
	mov %rcx, UC_RIP(%rdx)
2:	ret
	.size lx_kick_entry, . - lx_kick_entry

/*
 * long lx_wait_call(const long call[7]) - the host system call call[0]
 * with arguments call[1..6], one that may block (a program's futex wait),
 * made so that a kick ends it: -EINTR if the thread was kicked before it
 * or while it blocks, whether the kick came before the syscall
 * instruction (lx_kick_entry moves the thread from anywhere between
 * lx_wait_begin and lx_wait_end to lx_wait_kicked), during it (the host
 * restarts the call at the syscall instruction, or it ends with -EINTR)
 * or before lx_wait_call (the thread block's kick flag).  A kick after it
 * leaves the flag for the way out.
 */
	.globl lx_wait_call
	.type lx_wait_call, @function
lx_wait_call:
	mov 0(%rdi), %rax
	mov 16(%rdi), %rsi
	mov 24(%rdi), %rdx
	mov 32(%rdi), %r10
	mov 40(%rdi), %r8
	mov 48(%rdi), %r9
	mov 8(%rdi), %rdi
lx_wait_begin:
	cmpb $0, %gs:LX_THREAD_KICK
	jne lx_wait_kicked
	syscall
lx_wait_end:
	ret
lx_wait_kicked:
	mov $-4, %rax			/* -EINTR */
	ret
	.size lx_wait_call, . - lx_wait_call

/* Start the program: its stack, clean registers, its FS empty. */
	.globl lx_guest_jump
	.type lx_guest_jump, @function
lx_guest_jump:
	mov %rsi, %rsp
	mov %rdi, %r11
	xor %eax, %eax
	wrfsbase %rax
	mov %gs:LX_THREAD_SELF, %rcx
	movb $1, LX_THREAD_SELECTOR(%rcx)
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx			/* no function for atexit() */
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	jmp *%r11
	.size lx_guest_jump, . - lx_guest_jump

/*
 * A new program thread starts: the registers its clone() left (struct
 * lx_start, see guest.h) with rax 0, its stack and FS, SUD on "block".
 */
	.globl lx_guest_resume
	.type lx_guest_resume, @function
lx_guest_resume:
	mov %gs:LX_THREAD_SELF, %rcx
	mov LX_THREAD_PROG_FS(%rcx), %rax
	wrfsbase %rax
	movb $1, LX_THREAD_SELECTOR(%rcx)
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %r8
	mov 56(%rdi), %r9
	mov 64(%rdi), %r10
	mov 72(%rdi), %rdx
	mov 80(%rdi), %rsi
	mov 96(%rdi), %rsp
	mov 104(%rdi), %r11		/* where the clone returns */
	mov 88(%rdi), %rdi
	xor %eax, %eax			/* the child's clone() returns 0 */
	xor %ecx, %ecx
	jmp *%r11
	.size lx_guest_resume, . - lx_guest_resume

	.section .note.GNU-stack, "", @progbits
