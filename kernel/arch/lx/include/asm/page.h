/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_PAGE_H
#define _ASM_LX_PAGE_H

/* Kernel RAM sits wherever the host mapped it; its first page is pfn 0. */
#ifndef __ASSEMBLY__
extern unsigned long memory_start;
#endif
#define ARCH_PFN_OFFSET (memory_start >> PAGE_SHIFT)

#ifndef __ASSEMBLY__
void *lx_memcpy(void *dst, const void *src, unsigned long n);
#endif

#include <asm-generic/page.h>

#endif
