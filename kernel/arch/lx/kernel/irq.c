// SPDX-License-Identifier: GPL-2.0
/*
 * irq.c - interrupts raised by host threads.
 *
 * A host thread (the timer thread, a device thread) marks its IRQ pending
 * and, if the CPU is free, runs it at once in the context of current;
 * otherwise the CPU's holder runs it when it enables interrupts or gives
 * the CPU up.  A handler that interrupted kernel code may instead have a
 * call made as an interrupt the next time the CPU is free
 * (arch_call_on_free_cpu()).
 */
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/hardirq.h>
#include <linux/irqchip.h>
#include <linux/seq_file.h>
#include <asm/lx.h>

unsigned long lx_irq_flags = ARCH_IRQ_DISABLED;
unsigned long lx_irq_pending;
/* Interrupts being run by a thread that took a free CPU (no code under) */
static bool irq_on_free_cpu;
/*
 * Calls to make as interrupts on a free CPU (arch_call_on_free_cpu()),
 * last queued first; only the CPU's holder touches the list.
 */
static struct callback_head *free_cpu_calls;

void lx_trigger_irq(int irq)
{
	__atomic_fetch_or(&lx_irq_pending, 1UL << irq, __ATOMIC_RELEASE);
	lx_irq_from_host();
}

/* Run the pending interrupts; on a free CPU, the queued calls too. */
static void run_irqs(bool free)
{
	struct pt_regs regs = { 0 };
	struct callback_head *calls;
	struct pt_regs *old;
	unsigned long pending;

	/* interrupts are disabled while handlers run, as on hardware */
	lx_irq_flags = ARCH_IRQ_DISABLED;
	for (;;) {
		pending = __atomic_exchange_n(&lx_irq_pending, 0,
					      __ATOMIC_ACQUIRE);
		calls = free ? free_cpu_calls : NULL;
		if (!pending && !calls)
			break;
		if (calls)
			free_cpu_calls = NULL;
		old = set_irq_regs(&regs);
		irq_enter();
		while (pending) {
			int irq = __builtin_ctzl(pending);

			pending &= pending - 1;
			generic_handle_irq(irq);
		}
		while (calls) {
			struct callback_head *c = calls;

			calls = c->next;
			c->func(c);
		}
		irq_exit();
		set_irq_regs(old);
	}
	lx_irq_flags = ARCH_IRQ_ENABLED;
}

void lx_run_pending_irqs(void)
{
	run_irqs(false);
}

/*
 * Run the pending interrupts on a CPU no kernel code runs on: current is
 * idle, a host task gone back to user code or one done switching away.
 * No task keeps a spinlock or interrupts off across a release of the CPU
 * (one in a host call of a system call holds only sleeping locks, as any
 * task that sleeps), so the handlers may take locks that process context
 * takes without disabling interrupts (arch_irq_interrupted_nothing()).
 */
void lx_run_pending_irqs_free(void)
{
	irq_on_free_cpu = true;
	run_irqs(true);
	irq_on_free_cpu = false;
}

/* Whether a thread about to free the CPU has interrupts to run first. */
bool lx_irqs_pending_free(void)
{
	return READ_ONCE(lx_irq_pending) || free_cpu_calls;
}

bool arch_irq_interrupted_nothing(void)
{
	/* not an interrupt run by a softirq that enabled interrupts */
	return irq_on_free_cpu && in_hardirq() && !in_serving_softirq();
}

/*
 * A handler that would rather not hand work to a worker (virtio-fs) has
 * cb called as an interrupt on a free CPU.  That comes soon: the CPU is
 * freed each time the task on it goes back to user code, or sleeps with
 * no other task to run (the worker would have waited for that CPU too).
 * Called by the CPU's holder, with interrupts off.
 */
bool arch_call_on_free_cpu(struct callback_head *cb)
{
	cb->next = free_cpu_calls;
	free_cpu_calls = cb;
	return true;
}

static void lx_irq_noop(struct irq_data *data)
{
}

static struct irq_chip lx_irq_chip = {
	.name = "lx",
	.irq_mask = lx_irq_noop,
	.irq_unmask = lx_irq_noop,
};

void __init init_IRQ(void)
{
	int irq;

	for (irq = 1; irq < NR_IRQS; irq++)
		irq_set_chip_and_handler(irq, &lx_irq_chip, handle_simple_irq);
}

int arch_show_interrupts(struct seq_file *p, int prec)
{
	return 0;
}

/* Device registers: each access is a call into the host's device model. */
u64 arch_lx_mmio_read(unsigned long addr, int size)
{
	return lx_host->mmio_read(addr, size);
}

void arch_lx_mmio_write(unsigned long addr, int size, u64 val)
{
	lx_host->mmio_write(addr, size, val);
}
