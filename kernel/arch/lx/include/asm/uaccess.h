/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_UACCESS_H
#define _ASM_LX_UACCESS_H

/*
 * User pointers are plain host pointers.  access_ok() refuses the null
 * page, addresses beyond the user range and lx's own memory (kernel RAM and
 * the kernel image), and a copy that faults on a host page returns what it
 * could not copy: the host's fault handler resumes it at its fixup.
 */
unsigned long lx_copy_user(void *to, const void *from, unsigned long n);
unsigned long lx_clear_user(void *to, unsigned long n);
int lx_access_ok(unsigned long addr, unsigned long size);
unsigned long lx_user_string_max(unsigned long addr, unsigned long max);

#define __access_ok(ptr, size) lx_access_ok((unsigned long)(ptr), (size))
/* strncpy_from_user() and strnlen_user() stop before lx's memory */
#define user_string_max lx_user_string_max

static inline unsigned long raw_copy_from_user(void *to,
					       const void __user *from,
					       unsigned long n)
{
	return lx_copy_user(to, (const void __force *)from, n);
}

static inline unsigned long raw_copy_to_user(void __user *to,
					     const void *from, unsigned long n)
{
	return lx_copy_user((void __force *)to, from, n);
}

static inline unsigned long __clear_user(void __user *to, unsigned long n)
{
	return lx_clear_user((void __force *)to, n);
}
#define __clear_user __clear_user

#include <asm-generic/uaccess.h>

#endif
