/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lx.h - the public interface of the lx library kernel.
 *
 * lx is the Linux 6.1 kernel built as a library (arch/lx).  Any host thread
 * of a process that booted the kernel (or of a process forked through the
 * fork hooks below) may call into it; calls are x86-64 system calls with the
 * x86-64 numbers and structure layouts, so host code uses the host's own
 * <linux/...> and <sys/...> headers to build arguments.
 *
 * Every function returns a negative errno value on failure, like the kernel.
 */
#ifndef _LX_LX_H
#define _LX_LX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_regs;

/*
 * Boot the kernel with the given command line ("mem=64M" and the usual
 * kernel parameters; NULL for the defaults).  lx puts its own defaults
 * before it (host/host.c, LX_DEFAULT_ARGS:
 * sysctl.vm.dirty_background_ratio=1), which an argument of the caller's
 * overrides.  Returns 0 once the kernel runs, -EALREADY if a kernel was
 * started in this process (also after lx_halt(): one boot per process),
 * or another -errno.  The threads of the booting process are threads of
 * init: getpid through lx gives 1.
 */
int lx_start_kernel(const char *cmdline);

/*
 * Declare a device before lx_start_kernel().  spec is "TYPE:OPTIONS", the
 * options a comma-separated list of key=value or flags:
 *
 *   blk:file=PATH[,ro][,direct]        virtio-blk on a host file (/dev/vdX);
 *                                      direct: O_DIRECT, no host page cache
 *   console:fd=N | console:file=PATH   virtio-console: the kernel log
 *                                      (printk) goes there (hvc0)
 *   net:tap=NAME[,mac=M][,mtu=N]       virtio-net on an existing tap device
 *                                      of the caller's network namespace
 *   net:packet=IFNAME[,mac=M][,mtu=N]  virtio-net on AF_PACKET bound to an
 *                                      existing interface (a veth)
 *   fs:tag=T,dir=PATH[,ro][,cache=fast|strict]
 *                                      virtio-fs sharing a host directory
 *                                      or file; mount -t virtiofs T /mnt
 *
 * Disks appear in the order declared (vda, vdb, ...), as do interfaces
 * (eth0, eth1, ...).  Returns 0, or -errno with a message naming the
 * option or file that was wrong in err (errlen bytes; err may be NULL).
 */
int lx_device_add(const char *spec, char *err, size_t errlen);

/* Whether a kernel is running in this process (1) or not (0). */
int lx_running(void);

/*
 * Whether the calling host thread has a task in lx (1) or not (0): none
 * before its first call, and none after its task ended - by its own exit,
 * or killed (a fatal signal, another thread's exit_group).
 */
int lx_thread_has_task(void);

/*
 * A thread that is about to start another host thread makes that thread's
 * task, as clone(CLONE_THREAD) would: a clone of its own (credentials,
 * seccomp filters, signal mask, name...); clear_tid, if not 0, is the
 * address CLONE_CHILD_CLEARTID clears at its exit.  lx_thread_prepare()
 * returns the new task's tid and sets *task, or returns -errno; the new
 * host thread calls lx_thread_adopt(task) before its first call into lx.
 * A task whose thread will not run (it did not start, or failed before)
 * is ended with lx_thread_abandon(task), by the one or the other thread.
 */
long lx_thread_prepare(void **task, unsigned long clear_tid);
void lx_thread_adopt(void *task);
void lx_thread_abandon(void *task);

/*
 * Make the x86-64 system call nr with six arguments.  A host thread that has
 * no lx task yet gets one (a new thread of this process) on its first call;
 * the task exits with the host thread.  Returns the kernel's result: a value
 * >= 0 or -errno.  -ENOSYS for unknown numbers, -ENODEV before boot or after
 * lx_halt().
 *
 * A plain lx_syscall() caller has no user context to run a signal handler
 * in.  A pending signal whose action is a handler is taken at the end of
 * the call without running the handler: the call returns -EINTR, or is made
 * again if the handler has SA_RESTART (as if the handler had run and
 * returned), and the caller's signal mask stays as it was.  Default actions
 * (terminate, stop) and ignored signals are Linux's own; a fatal signal
 * ends the calling thread's task, and the call returns -EINTR.  Use
 * lx_syscall_regs() to have handlers run.
 */
long lx_syscall(long nr, const long args[6]);

/*
 * Make the system call described by regs, an x86-64 struct pt_regs (the
 * layout of <asm/ptrace.h>): orig_rax is the number, rdi, rsi, rdx, r10, r8
 * and r9 the arguments, rip and rsp the user's.  On return regs holds the
 * registers to resume the user with: rax the result, and, if a handled
 * signal was delivered, the handler's entry with its rt_sigframe written on
 * the user stack (or the syscall rewound for -ERESTART*).  Returns rax.
 */
long lx_syscall_regs(struct pt_regs *regs);

/*
 * Enter lx from user code that was interrupted with regs (not a system
 * call: every register kept, no restart): by a fault - sig SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL or SIGTRAP with its si_code and si_addr, which lx
 * forces on the thread, and the CPU's trap number, error code and cr2 as
 * the host reported them (trap, or NULL), which the signal's sigcontext
 * shows - or, sig 0, to take the signals pending for it.
 * On return regs holds where the thread goes on: a handler's entry with
 * its rt_sigframe written, or regs as they were.  0, or -EINTR if the
 * thread's task ended (a fatal signal), -EINVAL for another sig.
 */
struct lx_trap {
	unsigned long trapno, err, cr2;
};
long lx_user_entry(struct pt_regs *regs, int sig, int code,
		   unsigned long addr, const struct lx_trap *trap);

/*
 * Have the calling host thread sent LX_KICK_SIGNAL when a signal comes for
 * its task while it runs outside lx (its handler then calls
 * lx_user_entry()).  0 or -errno.
 */
#define LX_KICK_SIGNAL SIGURG
int lx_kick_me(void);

/*
 * Host signals (a mask, bit N-1 for signal N) the calling host thread
 * blocks while its task sleeps in lx: process-directed ones then go to a
 * thread that runs.  0: none (the default).
 */
void lx_park_block_signals(unsigned long long mask);

/*
 * Lazy saving of a caller's vector state.  The kernel and lx's host code
 * are built with general registers only; host libc (memcpy, printf,
 * pthread_create) is not.  A caller that promised its own caller that
 * vector and x87 state survive a call - a program's system call - points
 * lx_fpu_area and lx_fpu_lazy at a 64-byte aligned, zero-initialised XSAVE
 * area for every state component the host enabled, then calls
 * lx_syscall_regs().  The first host code on that thread that may use
 * those registers saves them there (XSAVE) and clears lx_fpu_lazy; when
 * the kernel itself reads or sets the state (signal frames), the saved
 * state is loaded back first and lx_fpu_lazy set again.  After the call
 * the caller restores the area (XRSTOR) if lx_fpu_lazy is clear, and
 * clears both.
 */
extern __thread void *lx_fpu_area;
extern __thread void *lx_fpu_lazy;

/*
 * For a SIGSEGV or SIGBUS handler of the caller's own (guest/ has one in
 * program processes): if the fault (ucontext ctx) is the kernel's access
 * to a bad user pointer, make it resume at its fixup (-EFAULT) and return
 * 1; 0 if the fault is not lx's to fix.
 */
int lx_uaccess_fault(void *ctx);

/*
 * Fork hooks.  lx_fork() is fork(2) for a process that uses lx: the parent
 * makes the child's lx process (new tgid, the caller as parent, a copy of the
 * fd table and signal handlers) before the host fork, and the child's thread
 * adopts it after.  Returns like fork(2): the child's host pid, 0, or -errno.
 * getpid through lx gives each side its lx pid.  The booting process
 * watches its forks: when one dies (even killed inside a blocking call),
 * its tasks exit, and its parent reaps it with wait4 through lx.
 */
pid_t lx_fork(void);

/*
 * Stop the kernel: all kernel threads end and its memory is returned to the
 * host.  Must be called from the thread that booted it, with no other
 * thread inside the kernel.  Returns 0 or -errno.
 */
int lx_halt(void);

/*
 * An lx file descriptor for the host fd host_fd (a pipe, tty, socket,
 * regular file or memfd of this process), so that a program's stdio stays
 * what its engine gave: read, write, poll, the tty ioctls and fstat go to
 * host_fd, and a task waiting on it sleeps in lx (signals interrupt it)
 * without holding the kernel's CPU.  flags: O_RDONLY/O_WRONLY/O_RDWR,
 * O_CLOEXEC, O_NONBLOCK.  Make it before forking (lx_fork()) so that every
 * process has the host fd.  Returns the lx fd, and lx then owns host_fd
 * (closed with the last lx file), or -errno and the caller keeps it.
 */
int lx_hostfd(int host_fd, int flags);

/*
 * The host file behind lx fd lx_fd, a regular file on a virtio-fs share:
 * a new host fd of it (the caller closes it), opened with flags O_RDONLY,
 * O_WRONLY or O_RDWR (within what lx_fd was opened for), so that the file can be
 * mapped from the host itself, coherent with write() through lx (DESIGN.md
 * decision 2).  In the process that declared the share.  -EINVAL if lx_fd
 * is not on virtio-fs, -EACCES for more access than lx_fd has.
 */
int lx_fs_host_fd(int lx_fd, int flags);

/*
 * The same for an open file named by LX_SYS_FUSE_REF (host_ops.h), made by
 * another process of the container (a program process asks the home
 * process, which declared the share).
 */
struct lx_fuse_ref;
int lx_fs_host_fd_ref(const struct lx_fuse_ref *ref, int flags);

/*
 * How this process opens a virtio-fs file that lx reads or writes through
 * the host file (read() and write() of a virtio-fs file): a new host fd of
 * the file ref names, with access acc (O_RDONLY or O_WRONLY), or -errno.
 * By default lx_fs_host_fd_ref(); a program process asks its home process
 * instead (guest/homefd.c).
 */
extern int (*lx_fs_file_open)(const struct lx_fuse_ref *ref, int acc);

/*
 * How many FUSE requests with opcode (<linux/fuse.h>) the server of the
 * virtio-fs share tag has taken since it was declared, in the process that
 * declared it (diagnostics; tests count round trips with it); -ENODEV if
 * no share has that tag.
 */
long lx_fs_served(const char *tag, uint32_t opcode);

/*
 * Confine the home process (DESIGN.md decision 8), after its devices are
 * declared and before lx_start_kernel(): a mount namespace of its own with
 * an empty read-only root (the old one detached: the devices' fds are all
 * it keeps of the host's files), only the capabilities lx's FUSE server
 * needs, no_new_privs.  Processes forked later inherit it.  0, or -errno
 * with what failed in err.
 */
int lx_home_sandbox(char *err, size_t errlen);

/* A short text for a -errno value returned by lx (e.g. "No such file"). */
const char *lx_strerror(long err);

/* Typed helpers for the calls used most; any other call goes through lx_syscall. */
static inline long lx_syscall6(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	long args[6] = { a, b, c, d, e, f };

	return lx_syscall(nr, args);
}
#define lx_syscall0(nr) lx_syscall6(nr, 0, 0, 0, 0, 0, 0)
#define lx_syscall1(nr, a) lx_syscall6(nr, (long)(a), 0, 0, 0, 0, 0)
#define lx_syscall2(nr, a, b) lx_syscall6(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define lx_syscall3(nr, a, b, c) \
	lx_syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define lx_syscall4(nr, a, b, c, d) \
	lx_syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define lx_syscall5(nr, a, b, c, d, e) \
	lx_syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#ifdef __cplusplus
}
#endif

#endif /* _LX_LX_H */
