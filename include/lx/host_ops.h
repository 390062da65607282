/* SPDX-License-Identifier: GPL-2.0 */
/*
 * host_ops.h - what arch/lx asks of the host.
 *
 * The kernel side (arch/lx) is built without the host's libc; everything it
 * needs from the host process goes through this table, which host/ fills in
 * and hands to lx_kernel_boot().  Only plain C types are used here, so both
 * sides include this file.
 *
 * Wait words: every word given to futex_wait/futex_wake lives in memory the
 * kernel owns (its RAM or its data sections).  The host MUST use shared
 * (non-private) futex operations on them: the kernel's memory is one mapping
 * shared by every host process of a container.
 */
#ifndef _LX_HOST_OPS_H
#define _LX_HOST_OPS_H

struct lx_fuse_ref;

/* A task's run word (park_wait()) */
#define LX_RUN_NOT 0		/* parked, and maybe spinning */
#define LX_RUN_GO 1		/* its turn came */
#define LX_RUN_SLEEPING 2	/* parked, asleep on the word */

struct lx_host_ops {
	/* Write kernel log text (not NUL-terminated). */
	void (*print)(const char *str, int len);
	/* The kernel panicked; the host decides what happens to the process. */
	void (*panic)(const char *msg);

	/*
	 * Kernel RAM: size bytes, aligned to 4 MiB (the largest buddy block),
	 * zeroed, shared over host fork.  Returns the address or 0.  hugeram:
	 * 1 on a file that may take the host's 2 MiB pages where mem_late()
	 * allows them, 0 not, -1 as the host sees fit.  mem_free() unmaps it
	 * at halt.
	 */
	unsigned long (*mem_alloc)(unsigned long size, int hugeram);
	void (*mem_free)(unsigned long addr, unsigned long size);
	/*
	 * The part [addr, addr + size) of RAM, 2 MiB aligned, that the boot
	 * left for the page allocator to bring in later: where page cache
	 * and program memory go, and where 2 MiB host pages pay.  Returns
	 * the largest host page size it may take.
	 */
	unsigned long (*mem_late)(unsigned long addr, unsigned long size);
	/*
	 * [addr, addr + size) of RAM is in use: the blocks the boot used,
	 * once as it ends, then each 2 MiB block the page allocator takes
	 * its first page from.  The host may bring in the RAM above the
	 * highest such block before it is used.  Any process, any context
	 * (interrupts off too).  On return the host writes nothing into the
	 * block; it may wait for a write of its own there to end first
	 * (~0.1 ms; the making of a 2 MiB page on such pages), and must not
	 * block otherwise.
	 */
	void (*mem_used)(unsigned long addr, unsigned long size);

	/*
	 * Start a host thread that runs fn(arg).  Returns 0 or -errno.  The
	 * thread ends by calling thread_exit(); it never returns from fn.
	 */
	int (*thread_start)(void (*fn)(void *), void *arg);
	void (*thread_exit)(void);
	/* The host pid of the calling process (cheap: called on every entry). */
	unsigned int (*host_pid)(void);

	/* Block while *word == val (spurious wake-ups allowed). */
	void (*futex_wait)(unsigned int *word, unsigned int val);
	/* Wake up to n waiters on word. */
	void (*futex_wake)(unsigned int *word, int n);
	/*
	 * A task's host thread parked until the task runs again waits here
	 * while its run word is LX_RUN_NOT (spurious returns allowed).  It
	 * may spin first; before it sleeps it turns the word into
	 * LX_RUN_SLEEPING, and a waker that exchanges LX_RUN_GO for that
	 * must futex_wake() it.  While it sleeps, a program thread keeps
	 * the host's process-directed signals for the process's CPU time
	 * from itself, so that the host gives them to a thread that runs
	 * (lx_park_block_signals()); one that comes during the spin is
	 * noted and passed on as before.
	 */
	void (*park_wait)(unsigned int *run);
	/*
	 * Wake up to n of the host futex waiters on a program's word whose
	 * bitset meets bitset, private and shared (a nommu kernel does not
	 * tell them apart): programs wait with the host's futex (guest/),
	 * and the kernel wakes them for a child tid or a robust list.
	 */
	void (*user_futex_wake)(unsigned int *uaddr, int n,
				unsigned int bitset);

	/*
	 * The anchor of this host process: a task of its thread group with no
	 * thread of its own, from which the tasks of new host threads are
	 * made.  Process-private host memory (each forked process has its own).
	 */
	void **anchor;

	/* Take (1) or drop (0) this process's lock on making tasks. */
	void (*task_create_lock)(int lock);

	/* The per-host-thread pointer to the thread's kernel task (or 0). */
	void *(*task_get)(void);
	void (*task_set)(void *task);

	/* Nanoseconds of the host's CLOCK_MONOTONIC (0), CLOCK_REALTIME (1)
	 * or CLOCK_MONOTONIC_RAW (2). */
	unsigned long long (*time_ns)(int which);
	/*
	 * Program the one-shot host timer: delta_ns nanoseconds from now the
	 * host's timer thread calls lx_timer_interrupt().  0 disarms.
	 */
	void (*timer_set)(unsigned long long delta_ns);

	/* Sleep, outside the kernel (no CPU held). */
	void (*sleep_us)(unsigned int us);

	/* Fill buf with entropy (RDSEED/RDRAND or getrandom). */
	void (*entropy)(void *buf, unsigned long len);

	/*
	 * A register access of size bytes to a virtio-mmio device at "physical"
	 * address addr (in the window arch/lx's asm/io.h defines), made by the
	 * thread holding the CPU.  Never blocks on device I/O.
	 */
	unsigned long long (*mmio_read)(unsigned long addr, int size);
	void (*mmio_write)(unsigned long addr, int size, unsigned long long val);

	/*
	 * Host fds behind hostfd files (arch/lx/kernel/hostfd.c).  None of
	 * these blocks.  fd_reopen: a new, non-blocking open file description
	 * of the pipe or tty behind fd (access mode acc), or -errno.  fd_io:
	 * readv/writev (pos < 0) or preadv/pwritev of an array of struct
	 * iovec; -EAGAIN if it would block.  fd_poll: the poll events ready
	 * now.  fd_arm: have the home process's poller call
	 * lx_kernel_hostfd_ready(slot) once fd has one of events.  fd_ioctl
	 * on a checked argument; fd_stat fills an x86-64 struct stat.
	 */
	int (*fd_reopen)(int fd, int acc);
	long (*fd_io)(int fd, void *iov, int cnt, int write, long long pos,
		      unsigned int flags);
	int (*fd_poll)(int fd, int events);
	void (*fd_arm)(int fd, int slot, int events);
	long (*fd_ioctl)(int fd, unsigned int cmd, unsigned long arg);
	int (*fd_stat)(int fd, void *st);
	void (*fd_close)(int fd);
	/* lseek(): the new offset or -errno */
	long long (*fd_seek)(int fd, long long off, int whence);

	/*
	 * read() of a virtio-fs file from the host file itself
	 * (arch/lx/kernel/fuseref.c): preadv of the open file ref names, at
	 * pos, of what the host has in memory; the bytes read (0 at the end
	 * of the file), -EAGAIN if part of it is on the disk, or -errno.
	 * Does not block.
	 */
	long (*fuse_read)(const struct lx_fuse_ref *ref, void *iov, int cnt,
			  long long pos);
	/*
	 * write() of a virtio-fs file through the host file: pwritev of the
	 * open file ref names at pos; the bytes written or -errno.  May block:
	 * lx calls it without its CPU.
	 */
	long (*fuse_write)(const struct lx_fuse_ref *ref, const void *iov,
			   int cnt, long long pos);
	/*
	 * lx closed a file of the node ref names (its last reference, in this
	 * process): close this process's write fd of it, and the read fd too
	 * if all.
	 */
	void (*fuse_closed)(const struct lx_fuse_ref *ref, int all);

	/*
	 * The kernel is about to read or replace the calling thread's vector
	 * and x87 state (a signal frame, rt_sigreturn): make the live
	 * registers the ones the caller had, if host code saved them away
	 * (lx_fpu_lazy in lx.h); later changes are then the caller's.
	 */
	void (*fpu_sync)(void);

	/*
	 * A signal came for the task of host thread tid of process pid
	 * (LX_SYS_KICKABLE) while it runs outside lx: send it LX_KICK_SIGNAL.
	 */
	void (*kick)(int pid, int tid);
};

/* fd_io flags */
#define LX_IO_SOCKET 0x1	/* a socket: MSG_DONTWAIT does it */
#define LX_IO_NONBLOCK 0x2	/* a description of lx's own, O_NONBLOCK */

/*
 * lx's own system calls, outside the x86-64 numbers: made by host/ through
 * lx_syscall() (guest/ refuses them to programs).
 *   LX_SYS_HOSTFD(host_fd, flags, name): an lx fd for host_fd (see
 *     lx_hostfd()); name, if not NULL, is what its path shows.
 *   LX_SYS_HOSTFD_GET(fd): the host fd behind a hostfd file, in the calling
 *     process (-EINVAL for other files).
 *   LX_SYS_FUSE_REF(fd, struct lx_fuse_ref *, flags): what names the host
 *     file behind an lx fd of a regular file on virtio-fs (-EINVAL for
 *     others).  flags LX_FUSE_REF_SHARED: the file is about to be mapped
 *     shared from the host file; from now on reads of the file fetch from
 *     the host (lx's writes go through already), so that read() and write()
 *     see the mapping's stores and the mapping theirs.
 *   LX_SYS_MAP_PAGES(fd, pgoff, n, uaddr, unsigned long *kaddrs): for a
 *     MAP_SHARED mapping at uaddr of pages pgoff.. of the ramfs file fd:
 *     each page's address in kernel RAM (0 past the end of the file), held
 *     for the mapping until LX_SYS_UMAP says it went (unmapped, mapped
 *     over, moved) or the address space ends.
 *   LX_SYS_UMAP(op, ...): guest/ tells lx of a program's host mappings,
 *     for /proc/PID/maps (LX_UMAP_* below), its stack and program file.
 *   LX_SYS_FUTEX_INTR(the arguments of futex), LX_SYS_FUTEX_WAITV_INTR(the
 *     arguments of futex_waitv): guest/'s host wait for a program's futex
 *     word was interrupted by a kick.  Made with the program's registers.
 *     If a signal is pending, the call becomes the program's futex or
 *     futex_waitv, interrupted as Linux interrupts it: -ERESTARTSYS, or
 *     for a futex wait with a timeout -ERESTARTNOHAND (Linux restarts
 *     those with the time left; lx waits the whole time again, which
 *     for an absolute timeout is the same); else 0, and guest/ waits
 *     again.
 */
#define LX_SYS_BASE 0x4c580000
#define LX_SYS_HOSTFD (LX_SYS_BASE + 1)
#define LX_SYS_FUSE_REF (LX_SYS_BASE + 2)
#define LX_FUSE_REF_SHARED 0x1
#define LX_SYS_MAP_PAGES (LX_SYS_BASE + 3)
#define LX_SYS_HOSTFD_GET (LX_SYS_BASE + 5)
#define LX_SYS_UMAP (LX_SYS_BASE + 6)
/* LX_SYS_KICKABLE(host pid, host tid): kick this thread, see kick() */
#define LX_SYS_KICKABLE (LX_SYS_BASE + 7)
#define LX_SYS_FUTEX_INTR (LX_SYS_BASE + 8)
#define LX_SYS_FUTEX_WAITV_INTR (LX_SYS_BASE + 9)
/*
 * LX_SYS_CPU_SIGNAL(sig): the host's CPU-time limit for the calling
 * process fired (SIGVTALRM, SIGPROF of its itimers, SIGXCPU of
 * RLIMIT_CPU, SIGKILL past its hard limit): lx sends the signal to the
 * process as its own timer would have.  CPU time is the host's: only it sees the time of user code.
 */
#define LX_SYS_CPU_SIGNAL (LX_SYS_BASE + 10)
/*
 * LX_SYS_CPU_TIMER(sig, timer id, overrun, value, tid): a program's posix
 * timer on a CPU-time clock (a host timer) expired: lx sends sig as the
 * kernel's timer would (SI_TIMER with the timer's id, overrun and
 * sigev_value), to thread tid of the calling process or, tid 0, to the
 * process.
 */
#define LX_SYS_CPU_TIMER (LX_SYS_BASE + 11)


/* LX_SYS_UMAP(op, ...): a program process's mappings, as lx shows them */
#define LX_UMAP_MAP 1		/* (start, len, prot | SHARED, fd or -1, off) */
#define LX_UMAP_UNMAP 2		/* (start, len) */
#define LX_UMAP_PROTECT 3	/* (start, len, prot) */
#define LX_UMAP_MOVE 4		/* (old, old len, new len, -, new) */
#define LX_UMAP_STACK 5		/* (where the main thread's stack starts) */
#define LX_UMAP_EXE 6		/* (-, -, -, fd of the program file) */
#define LX_UMAP_SHARED 0x100

struct lx_fuse_ref {
	char tag[40];			/* the share's tag: the mount's source */
	unsigned long long nodeid;	/* FUSE node id */
	unsigned long long fh;		/* FUSE file handle of the open file */
};

/* What arch/lx exports to host/ (the only global symbols of the kernel). */
int lx_kernel_boot(const struct lx_host_ops *ops, const char *cmdline);
int lx_kernel_halt(void);
long lx_kernel_syscall(void *regs);
/* trap: struct lx_trap (lx.h), or NULL */
long lx_kernel_user_entry(void *regs, int sig, int code, unsigned long addr,
			  const void *trap);
int lx_kernel_running(void);
void lx_kernel_thread_gone(void *task);
void lx_timer_interrupt(void);
/* Raise a device's interrupt from any host thread (it runs at once if the
 * CPU is free, else when its holder enables interrupts). */
void lx_trigger_irq(int irq);
/* The poller: the host fd armed for slot is ready. */
void lx_kernel_hostfd_ready(int slot);
long lx_kernel_fork_prepare(void **anchor, void **main);
void lx_kernel_fork_child(void *anchor, void *main, int host_pid);
void lx_kernel_fork_parent(void *anchor, void *main, int host_pid);
void lx_kernel_fork_cancel(void *anchor, void *main);
long lx_kernel_thread_prepare(void **task, unsigned long clear_tid);
void lx_kernel_thread_unprepare(void *task);
int lx_kernel_process_died(int host_pid);
void lx_kernel_adopter(void);

/* Address ranges of the kernel image, for the host side of lx. */
extern char lx_data_start[], lx_data_end[];
extern char lx_uaccess_start[], lx_uaccess_end[], lx_uaccess_fixup[];
/*
 * A copy whose fault (on a host thread whose fault handler calls
 * lx_uaccess_fault()) returns the bytes not copied: arch/lx lib.S.
 */
unsigned long lx_copy_user(void *to, const void *from, unsigned long n);

#endif /* _LX_HOST_OPS_H */
