/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_IRQ_H
#define _ASM_LX_IRQ_H

#define NR_IRQS 64
/* IRQ 1 is the host timer; devices take the ones after it. */
#define LX_TIMER_IRQ 1
/* The home process's poller: host fds behind hostfd files are ready. */
#define LX_HOSTFD_IRQ 2

void lx_trigger_irq(int irq);

#include <asm-generic/irq.h>

#endif
