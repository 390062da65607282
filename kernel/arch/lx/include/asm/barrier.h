/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_BARRIER_H
#define _ASM_LX_BARRIER_H

/*
 * The kernel has one virtual CPU, but devices are host threads running on
 * other physical CPUs at the same time: the barriers virtio uses against
 * them (mb, virt_mb, dma_*) must be real.  x86-64 orders everything but a
 * store followed by a load, so only a full barrier costs an instruction;
 * a locked add on the stack is cheaper than mfence.
 */
#define __mb() asm volatile("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#define __rmb() barrier()
#define __wmb() barrier()
#define __dma_rmb() barrier()
#define __dma_wmb() barrier()
#define __smp_mb() __mb()
#define __smp_rmb() barrier()
#define __smp_wmb() barrier()

#include <asm-generic/barrier.h>

#endif
