/* SPDX-License-Identifier: GPL-2.0 */
/*
 * home.h - what host.c gives the rest of host/: the shared region, kernel
 * RAM as the host sees it, and the home process's threads.
 */
#ifndef _LX_HOST_HOME_H
#define _LX_HOST_HOME_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The host's CLOCK_MONOTONIC in ns (no vector registers used). */
static inline uint64_t lx_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Look at *word for up to ns while it holds val, yielding the host CPU at
 * each look: the thread that will change it may be waiting for this CPU
 * (the host's scheduler lets a running thread finish its slice before one
 * it woke runs there).  Whether it changed.  A host thread waiting for
 * another spins here before it sleeps: waking a sleeping thread costs
 * several to tens of microseconds in a VM.
 */
bool lx_spin_while(const uint32_t *word, uint32_t val, uint64_t ns);

/* A shared, zeroed allocation for device state, made before boot. */
void *lx_shared_alloc(size_t size);
/* Kernel RAM as the host sees it: "physical" addresses are offsets. */
void *lx_guest_ptr(uint64_t pa, uint64_t len);

/*
 * Start a host thread of the home process (device, timer, poller,
 * adopter, kernel threads): every host signal blocked but the faults lx's
 * uaccess fixup handles.  0 or -errno.
 */
int lx_home_thread(pthread_t *t, const char *name, void *(*fn)(void *),
		   void *arg);

/*
 * A file of size bytes whose host pages are 2 MiB where the host has them
 * free (hugeram.c), or -errno where this process may not make one, or
 * (unless always) where huge pages would cost more than they save.
 */
int lx_huge_file(unsigned long size, int always);
/*
 * The same made ready now, for a process about to lose the privilege;
 * forgotten (closed) once the boot is over, whether it took it or not.
 */
void lx_huge_prepare(void);
void lx_huge_forget(void);

/*
 * Kernel RAM brought in ahead of a fast-growing page cache (ramahead.c):
 * the home process names kernel RAM and its file, and starts it after
 * the boot; the kernel tells it from any process; halt stops it.
 */
void lx_ram_ahead_range(unsigned long start, unsigned long size, int fd,
			long long off, bool huge);
void lx_ram_ahead_start(void);
void lx_ram_ahead_used(unsigned long addr, unsigned long size);
void lx_ram_ahead_stop(void);

#endif /* _LX_HOST_HOME_H */
