/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_IRQFLAGS_H
#define _ASM_LX_IRQFLAGS_H

#define ARCH_IRQ_ENABLED 1
#define ARCH_IRQ_DISABLED 0

/*
 * Interrupts are a flag of the one virtual CPU.  Enabling them runs the
 * interrupts host threads raised meanwhile.
 */
extern unsigned long lx_irq_flags;
void lx_run_pending_irqs(void);
extern unsigned long lx_irq_pending;

static inline unsigned long arch_local_save_flags(void)
{
	return lx_irq_flags;
}

static inline void arch_local_irq_restore(unsigned long flags)
{
	lx_irq_flags = flags;
	if (flags == ARCH_IRQ_ENABLED && __atomic_load_n(&lx_irq_pending,
							__ATOMIC_RELAXED))
		lx_run_pending_irqs();
}

#include <asm-generic/irqflags.h>

#endif
