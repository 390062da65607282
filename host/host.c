// SPDX-License-Identifier: GPL-2.0
/*
 * host.c - the Linux-host side of the lx kernel: the host ops table, the
 * shared kernel region, the timer thread, and the public API of lx.h.
 *
 * Kernel memory (its RAM and its writable sections) lives in one memfd
 * mapped MAP_SHARED, so a host fork() shares one kernel between processes
 * (DESIGN.md decision 5).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/ptrace.h>

#include <valgrind/valgrind.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <lx/lx.h>
#include <lx/host_ops.h>
#include "home.h"
#include "hostfd.h"
#include "virtio.h"

/* The region: [0, data_len) backs .lxdata, RAM follows page aligned. */
static int region_fd = -1;
static unsigned long region_len;
static int booted;

/* Kernel RAM: devices translate "physical" addresses (offsets) into it. */
static unsigned long ram_base, ram_size;

/*
 * The clock event device: one timerfd, read by the home process's timer
 * thread and programmed by whichever thread holds the CPU when the kernel
 * reprograms its next event.  That may be a thread of any process
 * lx_fork() made (it runs the timer interrupt itself when the tick comes
 * while it holds the CPU), so those processes keep the fd: it is the same
 * open timer, so what they set is what the timer thread waits for.
 */
static int timer_fd = -1;
static int stop_fd = -1;	/* eventfd: the timer thread ends (halt) */
static pthread_t timer_thread, adopter_thread;
static int adopter_started;

/*
 * The processes forked through lx_fork(): their parents write their host
 * pids into this pipe (made by the home process, inherited by every fork);
 * the home process's watcher opens a pidfd for each and reaps its tasks
 * when it dies.
 */
static int watch_pipe[2] = { -1, -1 };
static int epoll_fd = -1;
static unsigned int my_pid;
static int log_to_stderr;
static pthread_key_t task_key;
static struct sigaction old_segv, old_bus;

static void *process_anchor;
static __thread void *thread_task;
/* __builtin_setjmp's buffer: see host_thread_exit() */
static __thread void **kthread_exit_jb;

/*
 * The boot console: until the virtio-console (hvc0) registers, the kernel
 * log goes to that console's fd (as a VM's early console precedes hvc0),
 * or with LX_LOG set to stderr.
 */
static void host_print(const char *str, int len)
{
	int fd = lx_console_fd();

	if (fd < 0 && log_to_stderr)
		fd = 2;
	if (fd >= 0 && write(fd, str, len) < 0)
		return;
}

/*
 * The kernel panicked: nothing of this process can go on, and a hang
 * would leave the container's engine waiting.  The one place host/ ends
 * the process.
 */
static void host_panic(const char *msg)
{
	fprintf(stderr, "lx: kernel panic: %s\n", msg);
	_exit(134);
}

static unsigned long region_grow(unsigned long len)
{
	unsigned long off = region_len;

	if (ftruncate(region_fd, off + len) < 0)
		return 0;
	region_len = off + len;
	return off;
}

#define RAM_ALIGN (4UL << 20)

/*
 * Kernel RAM on 2 MiB host pages (hugeram.c): all of it is one file, its
 * offsets the pages' physical addresses (so its 2 MiB line up with RAM's,
 * and a mapping made from a page of RAM with mremap(old size 0) runs on
 * in the same file past it).  Mapped MADV_NOHUGEPAGE until the kernel
 * says which part the boot leaves for later (mem_late): a 2 MiB page for
 * each place the boot touches would add to every container's memory what
 * its data does not need.  Open until the boot is over.
 */
static int ram_fd = -1;
static unsigned long ram_off;	/* RAM's offset in region_fd (not on ram_fd) */

static int map_ram(unsigned long start, unsigned long size, int hugeram)
{
	unsigned long off;
	void *p;
	int fd = hugeram ? lx_huge_file(size, hugeram > 0) : -1;

	if (fd >= 0) {
		p = mmap((void *)start, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0);
		if (p != MAP_FAILED &&
		    madvise(p, size, MADV_NOHUGEPAGE) == 0) {
			ram_fd = fd;
			return 0;
		}
		close(fd);
	}
	off = region_grow(size);
	if (!off)
		return -ENOMEM;
	p = mmap((void *)start, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, region_fd, off);
	if (p == MAP_FAILED)
		return -errno;
	ram_off = off;
	return 0;
}

static unsigned long host_mem_alloc(unsigned long size, int hugeram)
{
	unsigned long start, end;
	void *p;

	/* reserve room to align, then map RAM into it */
	p = mmap(NULL, size + RAM_ALIGN, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	start = ((unsigned long)p + RAM_ALIGN - 1) & ~(RAM_ALIGN - 1);
	end = (unsigned long)p + size + RAM_ALIGN;
	if (start > (unsigned long)p)
		munmap(p, start - (unsigned long)p);
	if (end > start + size)
		munmap((void *)(start + size), end - start - size);
	if (map_ram(start, size, hugeram)) {
		munmap((void *)start, size);
		return 0;
	}
	/* kernel stacks live in kernel RAM: tell valgrind, if it runs us */
	VALGRIND_STACK_REGISTER(start, start + size);
	ram_base = start;
	ram_size = size;
	return start;
}

/*
 * The part of RAM the boot left for later (page cache, program memory)
 * may take 2 MiB pages: a 2 MiB page costs ~80 us where 512 first
 * touches of 4 KiB pages cost ~1.3 ms.  The same file at the same
 * offsets, mapped again without MADV_NOHUGEPAGE: what is in it stays.
 */
static unsigned long host_mem_late(unsigned long addr, unsigned long size)
{
	unsigned long pa = addr - ram_base;

	if (addr < ram_base || size > ram_size || pa > ram_size - size)
		return 4096;
	/* the kernel reports what the boot used, below addr (ramahead.c) */
	if (ram_fd < 0) {
		lx_ram_ahead_range(ram_base, ram_size, region_fd, ram_off,
				   false);
		return 4096;
	}
	lx_ram_ahead_range(ram_base, ram_size, ram_fd, 0, true);
	/* a failed MAP_FIXED may have left the range unmapped */
	if (mmap((void *)addr, size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, ram_fd, pa) == MAP_FAILED)
		host_panic("cannot map kernel RAM again");
	return 2UL << 20;
}

/* At the end of a boot, good or not. */
static void boot_over(void)
{
	if (ram_fd >= 0)
		close(ram_fd);
	ram_fd = -1;
	lx_huge_forget();
}

static void host_threads_stop(void);

static void host_mem_free(unsigned long addr, unsigned long size)
{
	/*
	 * Every host thread that may touch kernel RAM (device, timer, poller
	 * and adopter threads, and those of kernel threads still on their
	 * way off a kernel stack) has ended before it goes.
	 */
	lx_vdevs_destroy();
	host_threads_stop();
	lx_ram_ahead_stop();
	munmap((void *)addr, size);
	ram_base = ram_size = 0;
}

void *lx_guest_ptr(uint64_t pa, uint64_t len)
{
	if (len > ram_size || pa > ram_size - len)
		return NULL;
	return (void *)(ram_base + pa);
}

static int region_init(void);

/* Device state: in the region, so every process of the container sees it. */
void *lx_shared_alloc(size_t size)
{
	unsigned long off;
	void *p;

	if (region_fd < 0 && region_init())
		return NULL;
	size = (size + 4095) & ~4095UL;
	off = region_grow(size);
	if (!off)
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, region_fd, off);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Threads of the home process take no host signal meant for a program.
 * cpus, if not NULL, is where the thread may run.  name (its first 15
 * characters) is what ps, top and perf show for it.
 */
static int home_thread(pthread_t *t, const char *name,
		       void *(*fn)(void *), void *arg, const cpu_set_t *cpus)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	pthread_attr_init(&attr);
	if (cpus)
		pthread_attr_setaffinity_np(&attr, sizeof(*cpus), cpus);
	sigfillset(&all);
	/* faults in uaccess must reach the fixup handler */
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(t, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (!err) {
		char n[16];	/* the host keeps 15 characters */

		snprintf(n, sizeof(n), "%s", name);
		pthread_setname_np(*t, n);
	}
	return -err;
}

int lx_home_thread(pthread_t *t, const char *name, void *(*fn)(void *),
		   void *arg)
{
	return home_thread(t, name, fn, arg, NULL);
}

/* The host threads behind kernel threads, joined at halt. */
static pthread_t *kthreads;
static unsigned int nr_kthreads, max_kthreads;
static pthread_mutex_t kthreads_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * While the kernel boots, only kernel tasks run kernel code, one at a
 * time (the one lx CPU); between those with host threads of their own -
 * idle's, init's and the runner of the fibers (sched.c) - the CPU goes
 * with a futex wake.  On one host CPU that is a wake-up on the CPU being
 * left; spread over several, the host sends an interrupt to wake the
 * other CPU, which in a VM costs far more (launch of /bin/true, before
 * fibers: 20.5 ms spread, 17 ms with all of lxexec on one CPU).  So the
 * boot pins these host threads to the CPU the caller was on, then gives
 * them back the caller's CPUs: afterwards program threads, which take
 * the lx CPU from wherever they run, and device threads share the host's
 * CPUs as the host scheduler sees fit.  kthreads_lock guards both.
 */
static cpu_set_t boot_cpus, boot_saved;
static bool boot_pinned;

static void boot_pin(void)
{
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(boot_saved), &boot_saved) ||
	    CPU_COUNT(&boot_saved) < 2 || !CPU_ISSET(cpu, &boot_saved))
		return;
	CPU_ZERO(&boot_cpus);
	CPU_SET(cpu, &boot_cpus);
	pthread_mutex_lock(&kthreads_lock);
	boot_pinned = true;
	pthread_mutex_unlock(&kthreads_lock);
}

static void boot_unpin(void)
{
	unsigned int i;

	pthread_mutex_lock(&kthreads_lock);
	if (boot_pinned) {
		boot_pinned = false;
		/*
		 * One that ended (init's, when the boot is done) is not
		 * joined yet; libc then passes its tid, 0, and sets the
		 * caller's own affinity: to the mask the caller has anyway.
		 */
		for (i = 0; i < nr_kthreads; i++)
			pthread_setaffinity_np(kthreads[i], sizeof(boot_saved),
					       &boot_saved);
	}
	pthread_mutex_unlock(&kthreads_lock);
}

struct kthread_start {
	void (*fn)(void *);
	void *arg;
};

/*
 * AddressSanitizer (make test-asan) cannot see the jumps between this
 * thread's stack and kernel stacks: after the last one, the part of this
 * stack below the current frame holds no live frame, so clear what it
 * left poisoned there.
 */
static void stack_forget_below(void)
{
#if defined(__SANITIZE_ADDRESS__)
	uintptr_t here = (uintptr_t)__builtin_frame_address(0) - 256;
	pthread_attr_t a;
	void *lo;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &a))
		return;
	pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_destroy(&a);
	if ((uintptr_t)lo < here)
		__asan_unpoison_memory_region(lo, here - (uintptr_t)lo);
#endif
}

static void *kthread_main(void *p)
{
	struct kthread_start s = *(struct kthread_start *)p;
	void *jb[5];

	free(p);
	kthread_exit_jb = jb;
	if (__builtin_setjmp(jb) == 0)
		s.fn(s.arg);
	stack_forget_below();
	return NULL;
}

static int host_thread_start(void (*fn)(void *), void *arg)
{
	struct kthread_start *s = malloc(sizeof(*s));
	pthread_t t;
	int err;

	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->arg = arg;
	pthread_mutex_lock(&kthreads_lock);
	if (nr_kthreads == max_kthreads) {
		unsigned int n = max_kthreads ? 2 * max_kthreads : 64;
		pthread_t *k = realloc(kthreads, n * sizeof(*k));

		if (!k) {
			pthread_mutex_unlock(&kthreads_lock);
			free(s);
			return -ENOMEM;
		}
		kthreads = k;
		max_kthreads = n;
	}
	err = home_thread(&t, "lx-kthread", kthread_main, s,
			  boot_pinned ? &boot_cpus : NULL);
	if (!err)
		kthreads[nr_kthreads++] = t;
	pthread_mutex_unlock(&kthreads_lock);
	if (err)
		free(s);
	return err;
}

/*
 * Called on the kernel stack of the thread's task: back to kthread_main()
 * on the thread's own stack.  Not libc's longjmp(), which AddressSanitizer
 * intercepts and which would then clear the shadow between this stack and
 * the thread's as if they were one.
 */
__attribute__((no_sanitize_address, noinline))
static void host_thread_exit(void)
{
	__builtin_longjmp(kthread_exit_jb, 1);
}

static unsigned int host_pid(void)
{
	return my_pid;
}

static void host_futex_wait(unsigned int *word, unsigned int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0);
}

/* lx_park_block_signals(): the calling thread's, or 0 */
static __thread uint64_t park_blocked;

void lx_park_block_signals(unsigned long long mask)
{
	park_blocked = mask;
}

/*
 * A parked task's thread: the wake-up often comes within microseconds (a
 * device that served the task's request, a task that answers it), so spin
 * LX_PARK_SPIN_NS first, then say LX_RUN_SLEEPING and sleep.  Waker and
 * sleeper each exchange the word, so one of them sees the other's value:
 * the waker wakes only a sleeper.
 */
#define LX_PARK_SPIN_NS 20000

static void host_park_wait(unsigned int *run)
{
	uint64_t mask = park_blocked, was;
	unsigned int not = LX_RUN_NOT;

	if (lx_spin_while(run, LX_RUN_NOT, LX_PARK_SPIN_NS))
		return;
	if (!__atomic_compare_exchange_n(run, &not, LX_RUN_SLEEPING, 0,
					 __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
		return;
	if (mask)
		syscall(SYS_rt_sigprocmask, SIG_BLOCK, &mask, &was, 8);
	syscall(SYS_futex, run, FUTEX_WAIT, LX_RUN_SLEEPING, NULL, NULL, 0);
	if (mask)
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &was, NULL, 8);
}

static void host_futex_wake(unsigned int *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

static void host_user_futex_wake(unsigned int *uaddr, int n,
				 unsigned int bitset)
{
	syscall(SYS_futex, uaddr, FUTEX_WAKE_BITSET_PRIVATE, n, NULL, NULL,
		bitset);
	syscall(SYS_futex, uaddr, FUTEX_WAKE_BITSET, n, NULL, NULL, bitset);
}

static pthread_mutex_t task_create_mutex = PTHREAD_MUTEX_INITIALIZER;

static void host_task_create_lock(int lock)
{
	if (lock)
		pthread_mutex_lock(&task_create_mutex);
	else
		pthread_mutex_unlock(&task_create_mutex);
}

static void *host_task_get(void)
{
	return thread_task;
}

int lx_thread_has_task(void)
{
	return thread_task != NULL;
}

static void host_task_set(void *task)
{
	thread_task = task;
	/* a host thread of the program: its task ends with it */
	if (!kthread_exit_jb)
		pthread_setspecific(task_key, task);
}

long lx_thread_prepare(void **task, unsigned long clear_tid)
{
	return lx_kernel_thread_prepare(task, clear_tid);
}

void lx_thread_adopt(void *task)
{
	host_task_set(task);
}

void lx_thread_abandon(void *task)
{
	/* the adopter whose task was killed in its first call: it is gone */
	if (!thread_task)
		return;
	lx_kernel_thread_unprepare(task);
	/* ended: not again when this thread ends (task_key_destroy()) */
	if (thread_task == task)
		host_task_set(NULL);
}

static void task_key_destroy(void *task)
{
	lx_kernel_thread_gone(task);
}

static unsigned long long host_time_ns(int which)
{
	static const clockid_t ids[] = { CLOCK_MONOTONIC, CLOCK_REALTIME,
					 CLOCK_MONOTONIC_RAW };
	struct timespec ts;

	clock_gettime(ids[which], &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void host_timer_set(unsigned long long delta_ns)
{
	struct itimerspec its = {
		.it_value.tv_sec = delta_ns / 1000000000ULL,
		.it_value.tv_nsec = delta_ns % 1000000000ULL,
	};

	/* the same timer in every process: see timer_fd */
	timerfd_settime(timer_fd, 0, &its, NULL);
}

static void host_sleep_us(unsigned int us)
{
	usleep(us);
}

static void host_entropy(void *buf, unsigned long len)
{
	if (getrandom(buf, len, 0) < 0)
		memset(buf, 0, len);
}

__thread void *lx_fpu_lazy;
__thread void *lx_fpu_area;

/* Save the caller's vector state if lx_fpu_lazy asks for it (lx.h). */
static inline void fpu_enter(void)
{
	void *area = lx_fpu_lazy;

	if (__builtin_expect(area != NULL, 0)) {
		__asm__ volatile("xsave64 (%0)"
				 : : "r"(area), "a"(-1), "d"(-1) : "memory");
		lx_fpu_lazy = NULL;
	}
}

static void host_kick(int pid, int tid)
{
	syscall(SYS_tgkill, pid, tid, LX_KICK_SIGNAL);
}

static void host_fpu_sync(void)
{
	void *area = lx_fpu_area;

	if (area && !lx_fpu_lazy) {
		__asm__ volatile("xrstor64 (%0)"
				 : : "r"(area), "a"(-1), "d"(-1) : "memory");
		lx_fpu_lazy = area;
	}
}

/*
 * The operations that may reach host libc code using vector registers
 * (string functions, stdio, pthreads) save the caller's state first.  The
 * hot ones that make only raw system calls or touch TLS (host_pid, futex,
 * task_get/set, time_ns, timer_set, sleep_us) do not.
 */
#define GUARDED(ret, fn, params, args)		\
	static ret guarded_##fn params		\
	{					\
		fpu_enter();			\
		return fn args;			\
	}

GUARDED(void, host_print, (const char *str, int len), (str, len))
GUARDED(void, host_panic, (const char *msg), (msg))
GUARDED(unsigned long, host_mem_alloc, (unsigned long size, int hugeram),
	(size, hugeram))
GUARDED(unsigned long, host_mem_late, (unsigned long addr, unsigned long size),
	(addr, size))
GUARDED(void, host_mem_free, (unsigned long addr, unsigned long size),
	(addr, size))
GUARDED(int, host_thread_start, (void (*fn)(void *), void *arg), (fn, arg))
GUARDED(void, host_thread_exit, (void), ())
GUARDED(void, host_task_create_lock, (int lock), (lock))
GUARDED(void, host_entropy, (void *buf, unsigned long len), (buf, len))
GUARDED(unsigned long long, lx_mmio_read, (unsigned long addr, int size),
	(addr, size))
GUARDED(void, lx_mmio_write,
	(unsigned long addr, int size, unsigned long long val),
	(addr, size, val))
GUARDED(int, lx_hostfd_fd_reopen, (int fd, int acc), (fd, acc))
GUARDED(long, lx_hostfd_fd_io,
	(int fd, void *iov, int cnt, int write, long long pos,
	 unsigned int flags),
	(fd, iov, cnt, write, pos, flags))
GUARDED(int, lx_hostfd_fd_poll, (int fd, int events), (fd, events))
GUARDED(void, lx_hostfd_fd_arm, (int fd, int slot, int events),
	(fd, slot, events))
GUARDED(long, lx_hostfd_fd_ioctl,
	(int fd, unsigned int cmd, unsigned long arg), (fd, cmd, arg))
GUARDED(int, lx_hostfd_fd_stat, (int fd, void *st), (fd, st))
GUARDED(void, lx_hostfd_fd_close, (int fd), (fd))
GUARDED(long long, lx_hostfd_fd_seek, (int fd, long long off, int whence),
	(fd, off, whence))
GUARDED(long, lx_fs_fuse_read,
	(const struct lx_fuse_ref *ref, void *iov, int cnt, long long pos),
	(ref, iov, cnt, pos))
GUARDED(void, lx_fs_fuse_closed, (const struct lx_fuse_ref *ref, int all),
	(ref, all))
GUARDED(long, lx_fs_fuse_write,
	(const struct lx_fuse_ref *ref, const void *iov, int cnt,
	 long long pos),
	(ref, iov, cnt, pos))

static struct lx_host_ops ops = {
	.print = guarded_host_print,
	.panic = guarded_host_panic,
	.mem_alloc = guarded_host_mem_alloc,
	.mem_free = guarded_host_mem_free,
	.mem_late = guarded_host_mem_late,
	.mem_used = lx_ram_ahead_used,
	.thread_start = guarded_host_thread_start,
	.thread_exit = guarded_host_thread_exit,
	.host_pid = host_pid,
	.futex_wait = host_futex_wait,
	.futex_wake = host_futex_wake,
	.park_wait = host_park_wait,
	.user_futex_wake = host_user_futex_wake,
	.anchor = &process_anchor,
	.task_create_lock = guarded_host_task_create_lock,
	.task_get = host_task_get,
	.task_set = host_task_set,
	.time_ns = host_time_ns,
	.timer_set = host_timer_set,
	.sleep_us = host_sleep_us,
	.entropy = guarded_host_entropy,
	.mmio_read = guarded_lx_mmio_read,
	.mmio_write = guarded_lx_mmio_write,
	.fd_reopen = guarded_lx_hostfd_fd_reopen,
	.fd_io = guarded_lx_hostfd_fd_io,
	.fd_poll = guarded_lx_hostfd_fd_poll,
	.fd_arm = guarded_lx_hostfd_fd_arm,
	.fd_ioctl = guarded_lx_hostfd_fd_ioctl,
	.fd_stat = guarded_lx_hostfd_fd_stat,
	.fd_close = guarded_lx_hostfd_fd_close,
	.fd_seek = guarded_lx_hostfd_fd_seek,
	.fuse_read = guarded_lx_fs_fuse_read,
	.fuse_write = guarded_lx_fs_fuse_write,
	.fuse_closed = guarded_lx_fs_fuse_closed,
	.fpu_sync = host_fpu_sync,
	.kick = host_kick,
};

static void process_gone(int pid)
{
	if (lx_kernel_process_died(pid) == -EDEADLK) {
		fprintf(stderr,
			"lx: process %d died inside the kernel: it stops\n",
			pid);
		_exit(128 + SIGKILL);
	}
}

/* Watch the processes lx_fork() made since the last look. */
static void watch_new(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int pids[64], n, i, fd;

	n = read(watch_pipe[0], pids, sizeof(pids));
	for (i = 0; i < n / (int)sizeof(int); i++) {
		fd = syscall(SYS_pidfd_open, pids[i], 0);
		if (fd < 0) {
			/* gone already */
			process_gone(pids[i]);
			continue;
		}
		ev.data.u64 = (unsigned long)pids[i] << 32 | fd;
		epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/*
 * The home process's host thread for events: the timer, and the death of
 * processes that share the kernel.
 */
static void *timer_main(void *arg __attribute__((unused)))
{
	struct epoll_event evs[16];
	unsigned long long n;
	int i, k;

	for (;;) {
		k = epoll_wait(epoll_fd, evs, 16, -1);
		for (i = 0; i < k; i++) {
			int fd = evs[i].data.u64 & 0xffffffff;

			if (fd == stop_fd)
				return NULL;
			if (fd == timer_fd) {
				if (read(timer_fd, &n, sizeof(n)) == sizeof(n))
					lx_timer_interrupt();
			} else if (fd == watch_pipe[0]) {
				watch_new();
			} else {
				epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				process_gone(evs[i].data.u64 >> 32);
			}
		}
	}
	return NULL;
}

/* At halt: end the home process's threads (the kernel has stopped). */
static void host_threads_stop(void)
{
	/* not pthread_cancel(): ended threads leave nothing half unwound */
	if (eventfd_write(stop_fd, 1) == 0)
		pthread_join(timer_thread, NULL);
	if (adopter_started)
		pthread_join(adopter_thread, NULL);
	adopter_started = 0;
	lx_hostfd_stop();
	/* kernel threads said they ended; wait until they are off their stacks */
	while (nr_kthreads)
		pthread_join(kthreads[--nr_kthreads], NULL);
	free(kthreads);
	kthreads = NULL;
	max_kthreads = 0;
}

/* Runs the tasks of dead processes until they have exited. */
static void *adopter_main(void *arg __attribute__((unused)))
{
	lx_kernel_adopter();
	return NULL;
}

int lx_uaccess_fault(void *ctx)
{
	ucontext_t *uc = ctx;
	unsigned long ip = uc->uc_mcontext.gregs[REG_RIP];

	if (ip >= (unsigned long)lx_uaccess_start &&
	    ip < (unsigned long)lx_uaccess_end) {
		uc->uc_mcontext.gregs[REG_RIP] = (unsigned long)lx_uaccess_fixup;
		return 1;
	}
	return 0;
}

/* A fault in a kernel copy from or to a user pointer resumes at its fixup. */
static void fault_handler(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;

	if (lx_uaccess_fault(ctx))
		return;
	/* not ours: the program's handler, or the default action */
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, ctx);
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
	} else {
		sigaction(sig, old, NULL);
	}
}

static bool page_is_zero(const char *p)
{
	const uint64_t *w = (const uint64_t *)p;
	unsigned int i;

	for (i = 0; i < 4096 / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/*
 * Move the kernel's writable sections into the shared region.  Only the
 * pages with something in them are copied: the memfd reads as zeros, and
 * every page written now would be a host page fault the boot may never
 * have needed (.bss and zeroed .data are most of the ~1 MiB).
 */
static int region_init(void)
{
	unsigned long len = lx_data_end - lx_data_start, off, end;
	void *p;

	region_fd = memfd_create("lx-kernel", MFD_CLOEXEC);
	if (region_fd < 0)
		return -errno;
	if (ftruncate(region_fd, len) < 0)
		goto fail;
	for (off = 0; off < len; off = end) {
		while (off < len && off + 4096 <= len &&
		       page_is_zero(lx_data_start + off))
			off += 4096;
		for (end = off; end < len; end += 4096)
			if (end + 4096 <= len && page_is_zero(lx_data_start + end))
				break;
		if (end > len)
			end = len;
		if (end > off && pwrite(region_fd, lx_data_start + off,
					end - off, off) != (ssize_t)(end - off))
			goto fail;
	}
	p = mmap(lx_data_start, len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, region_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	region_len = len;
	return 0;
fail:
	close(region_fd);
	region_fd = -1;
	return -errno;
}

static void events_close(void)
{
	int *fds[] = { &timer_fd, &stop_fd, &epoll_fd, &watch_pipe[0],
		       &watch_pipe[1] };
	unsigned int i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int events_init(void)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (pipe2(watch_pipe, O_CLOEXEC) < 0)
		return -errno;
	/*
	 * Non-blocking: a thread that reprograms the timer between the timer
	 * thread's epoll_wait() and its read() clears the expiration, and a
	 * blocking read would then hold the timer thread (and the watcher
	 * and halt with it) until the next one, or forever if disarmed.
	 */
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	stop_fd = eventfd(0, EFD_CLOEXEC);
	if (timer_fd < 0 || epoll_fd < 0 || stop_fd < 0)
		return -errno;
	ev.data.u64 = stop_fd;
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stop_fd, &ev);
	ev.data.u64 = timer_fd;
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev);
	ev.data.u64 = watch_pipe[0];
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, watch_pipe[0], &ev);
	return 0;
}

/*
 * Kernel arguments lx puts before the caller's, which may override them
 * (the kernel applies sysctl.* arguments in order, after the boot).
 *
 * Background writeback from 1% of memory dirty, not 10%: a disk of lx is
 * a host file written by host threads on another CPU, so writing back
 * early costs lx's CPU only the submission, and overlaps the host's disk
 * time with the program's writes.  At 10% a program's 256 MiB write to
 * ext4 in a 1 GiB lx waited ~70 ms before the first request reached the
 * host, and its write+fsync took 230-280 ms; at 1% 185-250 ms.
 */
#define LX_DEFAULT_ARGS "sysctl.vm.dirty_background_ratio=1 "

static int start_kernel(const char *cmdline)
{
	struct sigaction sa = { .sa_sigaction = fault_handler,
				.sa_flags = SA_SIGINFO | SA_ONSTACK };
	static char full_cmdline[4096];
	int ret;

	if (lx_kernel_running() || booted)
		return -EALREADY;
	booted = 1;
	log_to_stderr = getenv("LX_LOG") != NULL;
	if (region_fd < 0) {
		ret = region_init();
		if (ret)
			return ret;
	}
	if (strlen(cmdline ? cmdline : "") >=
	    sizeof(full_cmdline) - sizeof(LX_DEFAULT_ARGS) - 8)
		return -E2BIG;
	snprintf(full_cmdline, sizeof(full_cmdline), LX_DEFAULT_ARGS "%s%s",
		 cmdline ? cmdline : "",
		 log_to_stderr || lx_console_fd() >= 0 ? " lxlog" : "");
	if (pthread_key_create(&task_key, task_key_destroy))
		return -EAGAIN;
	my_pid = getpid();
	ret = events_init();
	if (ret)
		goto fail_events;
	ret = lx_home_thread(&timer_thread, "lx-timer", timer_main, NULL);
	if (ret)
		goto fail_events;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	ret = lx_hostfd_start();
	if (ret)
		goto fail_timer;
	ret = lx_vdevs_start(full_cmdline, sizeof(full_cmdline));
	if (ret)
		goto fail_devices;
	boot_pin();
	ret = lx_kernel_boot(&ops, full_cmdline);
	boot_unpin();
	if (ret)
		goto fail_devices;
	lx_ram_ahead_start();
	ret = lx_home_thread(&adopter_thread, "lx-adopter", adopter_main,
			     NULL);
	if (ret)
		return ret;	/* the kernel runs; lx_halt() stops it */
	adopter_started = 1;
	return 0;

	/* nothing of a boot that failed stays behind */
fail_devices:
	lx_vdevs_destroy();
	lx_hostfd_stop();
fail_timer:
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (eventfd_write(stop_fd, 1) == 0)
		pthread_join(timer_thread, NULL);
fail_events:
	events_close();
	return ret;
}

int lx_start_kernel(const char *cmdline)
{
	int ret = start_kernel(cmdline);

	boot_over();
	return ret;
}

int lx_running(void)
{
	return lx_kernel_running();
}

long lx_syscall_regs(struct pt_regs *regs)
{
	return lx_kernel_syscall(regs);
}

int lx_kick_me(void)
{
	return lx_syscall2(LX_SYS_KICKABLE, getpid(), gettid());
}

long lx_user_entry(struct pt_regs *regs, int sig, int code,
		   unsigned long addr, const struct lx_trap *trap)
{
	return lx_kernel_user_entry(regs, sig, code, addr, trap);
}

long lx_syscall(long nr, const long args[6])
{
	struct pt_regs regs = {
		.orig_rax = nr,
		.rdi = args[0],
		.rsi = args[1],
		.rdx = args[2],
		.r10 = args[3],
		.r8 = args[4],
		.r9 = args[5],
		.rip = 2,	/* no user context: see lx_kernel_syscall() */
		.cs = 0x33,
		.ss = 0x2b,
	};

	return lx_kernel_syscall(&regs);
}

int lx_halt(void)
{
	int ret = lx_kernel_halt();

	if (ret)
		return ret;
	/* host_mem_free() stopped the threads; what is left are fds */
	lx_device_fds_close();
	events_close();
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	thread_task = NULL;
	pthread_setspecific(task_key, NULL);
	return 0;
}

pid_t lx_fork(void)
{
	void *anchor, *main_task;
	long ret;
	pid_t pid;

	ret = lx_kernel_fork_prepare(&anchor, &main_task);
	if (ret)
		return ret;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		lx_kernel_fork_cancel(anchor, main_task);
		return ret;
	}
	if (pid == 0) {
		/*
		 * the child: its own lx process, on the shared kernel; the home
		 * process's watcher and region fds are not its business.  The
		 * timer fd stays (see timer_fd): a timer interrupt or a new
		 * hrtimer handled here reprograms it, and had this process no
		 * timer to program, the kernel's next event would be lost and
		 * with it every tick and timer after it.
		 */
		close(stop_fd);
		close(epoll_fd);
		close(watch_pipe[0]);
		close(region_fd);
		stop_fd = epoll_fd = watch_pipe[0] = region_fd = -1;
		lx_device_fds_close();
		lx_console_forget();
		lx_hostfd_forget_proc();
		lx_fs_files_forget();
		my_pid = getpid();
		lx_kernel_fork_child(anchor, main_task, my_pid);
		pthread_mutex_init(&task_create_mutex, NULL);
		process_anchor = anchor;
		thread_task = main_task;
		pthread_setspecific(task_key, main_task);
		return 0;
	}
	lx_kernel_fork_parent(anchor, main_task, pid);
	/* tell the home process to watch it (a pipe write this small is atomic) */
	if (write(watch_pipe[1], &pid, sizeof(pid)) != sizeof(pid))
		return -EIO;
	return pid;
}

const char *lx_strerror(long err)
{
	return strerror(err < 0 ? -err : err);
}
