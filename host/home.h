/* SPDX-License-Identifier: GPL-2.0 */
/*
 * home.h - what host.c gives the rest of host/: the shared region, kernel
 * RAM as the host sees it, and the home process's threads.
 */
#ifndef _LX_HOST_HOME_H
#define _LX_HOST_HOME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* A shared, zeroed allocation for device state, made before boot. */
void *lx_shared_alloc(size_t size);
/* Kernel RAM as the host sees it: "physical" addresses are offsets. */
void *lx_guest_ptr(uint64_t pa, uint64_t len);

/*
 * Start a host thread of the home process (device, timer, poller,
 * adopter, kernel threads): every host signal blocked but the faults lx's
 * uaccess fixup handles.  0 or -errno.
 */
int lx_home_thread(pthread_t *t, void *(*fn)(void *), void *arg);

#endif /* _LX_HOST_HOME_H */
