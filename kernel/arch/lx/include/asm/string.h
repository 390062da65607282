/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_STRING_H
#define _ASM_LX_STRING_H

/* rep movsb/stosb: fast on this CPU and touches no vector register. */
#define __HAVE_ARCH_MEMCPY
void *memcpy(void *dst, const void *src, __kernel_size_t n);
#define __HAVE_ARCH_MEMSET
void *memset(void *s, int c, __kernel_size_t n);

#endif
