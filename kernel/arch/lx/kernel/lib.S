/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lib.S - the few routines arch/lx writes in assembly: resume points for
 * host threads, and copies that touch only general registers.
 */
#include <linux/linkage.h>

	.text

/* int lx_setjmp(struct lx_jmp *jb) */
SYM_FUNC_START(lx_setjmp)
	movq	%rbx, 0(%rdi)
	movq	%rbp, 8(%rdi)
	movq	%r12, 16(%rdi)
	movq	%r13, 24(%rdi)
	movq	%r14, 32(%rdi)
	movq	%r15, 40(%rdi)
	leaq	8(%rsp), %rax
	movq	%rax, 48(%rdi)
	movq	(%rsp), %rax
	movq	%rax, 56(%rdi)
	xorl	%eax, %eax
	ret
SYM_FUNC_END(lx_setjmp)

/* void lx_longjmp(struct lx_jmp *jb): lx_setjmp returns 1 */
SYM_FUNC_START(lx_longjmp)
	movq	0(%rdi), %rbx
	movq	8(%rdi), %rbp
	movq	16(%rdi), %r12
	movq	24(%rdi), %r13
	movq	32(%rdi), %r14
	movq	40(%rdi), %r15
	movq	48(%rdi), %rsp
	movl	$1, %eax
	jmpq	*56(%rdi)
SYM_FUNC_END(lx_longjmp)

/* long lx_call_on_stack(long (*fn)(void *), void *arg, void *stack_top) */
SYM_FUNC_START(lx_call_on_stack)
	pushq	%rbp
	movq	%rsp, %rbp
	movq	%rdx, %rsp
	movq	%rdi, %rax
	movq	%rsi, %rdi
	call	*%rax
	movq	%rbp, %rsp
	popq	%rbp
	ret
SYM_FUNC_END(lx_call_on_stack)

SYM_FUNC_START(memcpy)
	movq	%rdi, %rax
	movq	%rdx, %rcx
	rep movsb
	ret
SYM_FUNC_END(memcpy)

SYM_FUNC_START(memset)
	movq	%rdi, %r9
	movl	%esi, %eax
	movq	%rdx, %rcx
	rep stosb
	movq	%r9, %rax
	ret
SYM_FUNC_END(memset)

/*
 * User copies.  A fault inside [lx_uaccess_start, lx_uaccess_end) is
 * resumed by the host's fault handler at lx_uaccess_fixup with %rcx still
 * counting the bytes left, which is what the routines return.
 */
/* unsigned long lx_copy_user(void *to, const void *from, unsigned long n) */
SYM_FUNC_START(lx_copy_user)
	movq	%rdx, %rcx
	.globl	lx_uaccess_start
lx_uaccess_start:
	rep movsb
	movq	%rcx, %rax
	ret
SYM_FUNC_END(lx_copy_user)

/* unsigned long lx_clear_user(void *to, unsigned long n) */
SYM_FUNC_START(lx_clear_user)
	movq	%rsi, %rcx
	xorl	%eax, %eax
	rep stosb
	.globl	lx_uaccess_end
lx_uaccess_end:
	movq	%rcx, %rax
	ret
SYM_FUNC_END(lx_clear_user)

	.globl	lx_uaccess_fixup
lx_uaccess_fixup:
	movq	%rcx, %rax
	ret
