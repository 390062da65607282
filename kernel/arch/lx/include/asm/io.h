/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_IO_H
#define _ASM_LX_IO_H

#include <linux/types.h>

/*
 * Device registers are not memory: virtio-mmio devices live in a window of
 * "physical" addresses above kernel RAM, and an access to one is a call
 * into the host's device model (nommu ioremap() returns the address as
 * it is).  Anything else an I/O accessor is pointed at is memory.
 */
#define LX_MMIO_BASE 0x100000000000UL
#define LX_MMIO_END 0x100100000000UL

u64 arch_lx_mmio_read(unsigned long addr, int size);
void arch_lx_mmio_write(unsigned long addr, int size, u64 val);

static inline bool lx_is_mmio(const volatile void __iomem *addr)
{
	unsigned long a = (unsigned long)addr;

	return a >= LX_MMIO_BASE && a < LX_MMIO_END;
}

#define LX_MMIO_ACCESSORS(bwlq, type)					\
static inline type __raw_read##bwlq(const volatile void __iomem *addr)	\
{									\
	if (lx_is_mmio(addr))						\
		return arch_lx_mmio_read((unsigned long)addr,		\
					 sizeof(type));			\
	return *(const volatile type __force *)addr;			\
}									\
static inline void __raw_write##bwlq(type val, volatile void __iomem *addr) \
{									\
	if (lx_is_mmio(addr))						\
		arch_lx_mmio_write((unsigned long)addr, sizeof(type), val); \
	else								\
		*(volatile type __force *)addr = val;			\
}

LX_MMIO_ACCESSORS(b, u8)
LX_MMIO_ACCESSORS(w, u16)
LX_MMIO_ACCESSORS(l, u32)
LX_MMIO_ACCESSORS(q, u64)

#define __raw_readb __raw_readb
#define __raw_readw __raw_readw
#define __raw_readl __raw_readl
#define __raw_readq __raw_readq
#define __raw_writeb __raw_writeb
#define __raw_writew __raw_writew
#define __raw_writel __raw_writel
#define __raw_writeq __raw_writeq

#include <asm-generic/io.h>

#endif
