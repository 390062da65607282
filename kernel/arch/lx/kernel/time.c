// SPDX-License-Identifier: GPL-2.0
/*
 * time.c - the host's clocks and one-shot timer.
 *
 * sched_clock and the clocksource are the host's CLOCK_MONOTONIC in
 * nanoseconds, from before timekeeping_init(), so the kernel's
 * CLOCK_MONOTONIC, CLOCK_REALTIME and CLOCK_BOOTTIME are the host's.  The
 * clock event device is the host's timer thread, which raises
 * LX_TIMER_IRQ.
 */
#include <linux/clocksource.h>
#include <linux/clockchips.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/sched/clock.h>
#include <linux/timekeeping.h>
#include <linux/time64.h>
#include <asm/lx.h>

enum { HOST_MONOTONIC, HOST_REALTIME, HOST_MONOTONIC_RAW };

unsigned long long sched_clock(void)
{
	return lx_host->time_ns(HOST_MONOTONIC);
}

void read_persistent_wall_and_boot_offset(struct timespec64 *wall,
					  struct timespec64 *boot_offset)
{
	*wall = ns_to_timespec64(lx_host->time_ns(HOST_REALTIME));
	*boot_offset = ns_to_timespec64(lx_host->time_ns(HOST_MONOTONIC));
}

/* kernel/patches/0001: CLOCK_MONOTONIC_RAW goes on from the host's. */
void read_persistent_raw_clock64(struct timespec64 *ts);
void read_persistent_raw_clock64(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(lx_host->time_ns(HOST_MONOTONIC_RAW));
}

void read_persistent_clock64(struct timespec64 *ts)
{
	*ts = ns_to_timespec64(lx_host->time_ns(HOST_REALTIME));
}

static u64 lx_clock_read(struct clocksource *cs)
{
	return lx_host->time_ns(HOST_MONOTONIC);
}

static struct clocksource lx_clocksource = {
	.name = "lx",
	.rating = 499,
	.read = lx_clock_read,
	.flags = CLOCK_SOURCE_IS_CONTINUOUS | CLOCK_SOURCE_VALID_FOR_HRES,
	.mask = CLOCKSOURCE_MASK(64),
	/* a cycle is a nanosecond: usable before registration */
	.mult = 1,
	.shift = 0,
};

/* Timekeeping starts on the host clock, not on jiffies. */
struct clocksource * __init clocksource_default_clock(void)
{
	return &lx_clocksource;
}

static int lx_timer_next(unsigned long delta, struct clock_event_device *evt)
{
	lx_host->timer_set(delta ? delta : 1);
	return 0;
}

static int lx_timer_shutdown(struct clock_event_device *evt)
{
	lx_host->timer_set(0);
	return 0;
}

static struct clock_event_device lx_clockevent = {
	.name = "lx",
	.features = CLOCK_EVT_FEAT_ONESHOT,
	.set_next_event = lx_timer_next,
	.set_state_shutdown = lx_timer_shutdown,
	.set_state_oneshot_stopped = lx_timer_shutdown,
	.rating = 499,
	.irq = LX_TIMER_IRQ,
};

static irqreturn_t lx_timer_handler(int irq, void *dev)
{
	lx_clockevent.event_handler(&lx_clockevent);
	/* as an interrupt's return to user mode would, on every CPU */
	lx_kick_pending();
	return IRQ_HANDLED;
}

/* Called by the host's timer thread when the programmed time came. */
void lx_timer_interrupt(void)
{
	lx_trigger_irq(LX_TIMER_IRQ);
}

void __init time_init(void)
{
	int ret;

	ret = request_irq(LX_TIMER_IRQ, lx_timer_handler, IRQF_TIMER, "timer",
			  NULL);
	if (ret)
		panic("lx: timer irq: %d\n", ret);
	clocksource_register_khz(&lx_clocksource, 1000000);
	lx_clockevent.cpumask = cpumask_of(0);
	clockevents_config_and_register(&lx_clockevent, NSEC_PER_SEC, 1,
					ULONG_MAX);
}
