/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_UACCESS_H
#define _ASM_LX_UACCESS_H

/*
 * User pointers are plain host pointers.  access_ok() refuses the null
 * page, addresses beyond the user range and ranges that start in lx's own
 * memory (kernel RAM and the kernel image); a copy stops where it would
 * run into lx's memory, and one that faults on a host page returns what it
 * could not copy: the host's fault handler resumes it at its fixup.
 */
struct iov_iter;
struct iovec;

unsigned long lx_copy_user(void *to, const void *from, unsigned long n);
unsigned long lx_clear_user(void *to, unsigned long n);
unsigned long lx_copy_to_user(void __user *to, const void *from,
			      unsigned long n);
unsigned long lx_copy_from_user(void *to, const void __user *from,
				unsigned long n);
unsigned long lx_clear_to_user(void __user *to, unsigned long n);
int lx_access_ok(unsigned long addr, unsigned long size);
unsigned long lx_user_span(unsigned long addr, unsigned long size);
int lx_user_iovecs(const struct iov_iter *it, struct iovec *iov, int n);

#define __access_ok(ptr, size) lx_access_ok((unsigned long)(ptr), (size))

static inline unsigned long raw_copy_from_user(void *to,
					       const void __user *from,
					       unsigned long n)
{
	return lx_copy_from_user(to, from, n);
}

static inline unsigned long raw_copy_to_user(void __user *to,
					     const void *from, unsigned long n)
{
	return lx_copy_to_user(to, from, n);
}

static inline unsigned long __clear_user(void __user *to, unsigned long n)
{
	return lx_clear_to_user(to, n);
}
#define __clear_user __clear_user

/*
 * The kernel's own reads and writes that may fault (d_path()'s names,
 * probe_kernel_*): no bound for a program's memory, the fixup only.
 */
#define __get_kernel_nofault(dst, src, type, label)			\
do {									\
	if (lx_copy_user((dst), (src), sizeof(type)))			\
		goto label;						\
} while (0)

#define __put_kernel_nofault(dst, src, type, label)			\
do {									\
	if (lx_copy_user((dst), (src), sizeof(type)))			\
		goto label;						\
} while (0)

#include <asm-generic/uaccess.h>

#endif
