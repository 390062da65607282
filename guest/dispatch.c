// SPDX-License-Identifier: GPL-2.0
/*
 * dispatch.c - what a program's system call becomes.
 *
 * Most calls go to lx with the thread's registers (lx_syscall_regs()).
 * Memory belongs to the host (DESIGN.md decision 2): mmap, munmap,
 * mprotect, mremap, madvise and brk are host calls on the program's
 * address space; the FS base is the program's own (arch_prctl); exits end
 * the host thread or process after lx has seen them.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/ptrace.h>

#include <lx/host_ops.h>
#include <lx/lx.h>
#include "guest.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#endif

#define ALTSTACK_SIZE (64 << 10)
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

/* XSAVE and XRSTOR of the components in mask */
static inline void xsave_mask(void *area, uint64_t mask)
{
	__asm__ volatile("xsave64 (%0)"
			 : : "r"(area), "a"((uint32_t)mask),
			   "d"((uint32_t)(mask >> 32))
			 : "memory");
}

static inline void xrstor_mask(void *area, uint64_t mask)
{
	__asm__ volatile("xrstor64 (%0)"
			 : : "r"(area), "a"((uint32_t)mask),
			   "d"((uint32_t)(mask >> 32))
			 : "memory");
}

/* An area of xsave_area()'s size holds every component the host enabled. */
static inline void xsave(void *area)
{
	xsave_mask(area, -1);
}

static inline void xrstor(void *area)
{
	xrstor_mask(area, -1);
}

/* The program's vector state saved only if host libc runs (lx.h). */
static inline void lazy_arm(struct lx_thread *t)
{
	lx_fpu_area = lx_fpu_lazy = t->xsave;
}

static inline void lazy_end(struct lx_thread *t)
{
	if (!lx_fpu_lazy)
		xrstor(t->xsave);
	lx_fpu_area = lx_fpu_lazy = NULL;
}

_Static_assert(offsetof(struct lx_thread, prog_fs) == LX_THREAD_PROG_FS &&
	       offsetof(struct lx_thread, lx_fs) == LX_THREAD_LX_FS &&
	       offsetof(struct lx_thread, selector) == LX_THREAD_SELECTOR &&
	       offsetof(struct lx_thread, prog_sp) == LX_THREAD_PROG_SP &&
	       offsetof(struct lx_thread, ret_rip) == LX_THREAD_RET_RIP &&
	       offsetof(struct lx_thread, stack_top) == LX_THREAD_STACK_TOP &&
	       offsetof(struct lx_thread, xsave) == LX_THREAD_XSAVE &&
	       offsetof(struct lx_thread, kick) == LX_THREAD_KICK &&
	       offsetof(struct lx_thread, zp_entry) == LX_THREAD_ZP_ENTRY &&
	       offsetof(struct lx_thread, zp_rcx) == LX_THREAD_ZP_RCX &&
	       offsetof(struct lx_thread, zp_r11) == LX_THREAD_ZP_R11,
	       "entry.S's offsets in struct lx_thread");
_Static_assert(offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]) == UC_RIP,
	       "entry.S's offset of rip in ucontext_t");
_Static_assert(LX_KICK_SIGNO == LX_KICK_SIGNAL, "entry.S's kick signal");
_Static_assert(offsetof(siginfo_t, si_value) == SI_VALUE,
	       "entry.S's offset of si_value in siginfo_t");

/*
 * Copy to (write) or from program memory through the host: a bad
 * pointer is -EFAULT, not a fault of lx's.
 */
static long prog_copy(void *lx, uint64_t prog, size_t n, int write)
{
	struct iovec l = { lx, n }, r = { (void *)prog, n };
	ssize_t done = write ? process_vm_writev(getpid(), &l, 1, &r, 1, 0) :
			       process_vm_readv(getpid(), &l, 1, &r, 1, 0);

	return done == (ssize_t)n ? 0 : -EFAULT;
}

/* The program break: its own mapping, never the host's brk (a pitfall). */
static uint64_t brk_start, brk_cur, brk_mapped;

/*
 * Tell lx of a program mapping made, unmapped, protected or moved, for
 * /proc/PID/maps (LX_UMAP_*).  Best effort: the program's call succeeded.
 */
void lx_guest_umap(long op, uint64_t start, uint64_t len, long prot,
		   long fd, uint64_t arg)
{
	lx_syscall6(LX_SYS_UMAP, op, start, len, prot, fd, arg);
}

void lx_guest_set_brk(uint64_t start)
{
	brk_start = brk_cur = brk_mapped = (start + 4095) & ~4095UL;
}

static long guest_brk(uint64_t want)
{
	uint64_t top;
	void *p;

	if (!want || want < brk_start || want > (1UL << 47))
		return brk_cur;
	top = (want + 4095) & ~4095UL;
	if (top < brk_mapped) {
		/* memory given back comes back zeroed (glibc's calloc counts on it) */
		if (madvise((void *)top, brk_mapped - top, MADV_DONTNEED))
			return brk_cur;
	}
	if (top > brk_mapped) {
		p = mmap((void *)brk_mapped, top - brk_mapped,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return brk_cur;
		lx_guest_umap(LX_UMAP_MAP, brk_start, top - brk_start,
			      PROT_READ | PROT_WRITE, -1, 0);
		brk_mapped = top;
	}
	brk_cur = want;
	return brk_cur;
}

static long host_ret(long r)
{
	return r < 0 ? -errno : r;
}

/*
 * A shared mapping of a file on virtio-fs: the host file itself, which
 * the home process opens (DESIGN.md decision 2).  Writable later by
 * mprotect() if the lx fd was opened for writing, as on Linux.
 */
static long guest_mmap_shared(uint64_t addr, uint64_t len, int prot,
			      int flags, long fd, long off)
{
	long fl = lx_syscall2(SYS_fcntl, fd, F_GETFL);
	int hfd;
	void *p;

	if (fl < 0)
		return fl;
	hfd = lx_homefd_fs(fd, (fl & O_ACCMODE) == O_RDWR ? O_RDWR : O_RDONLY,
			   1);
	if (hfd < 0)
		return hfd;
	p = mmap((void *)addr, len, prot, flags, hfd, off);
	close(hfd);
	return p == MAP_FAILED ? -errno : (long)p;
}

/*
 * A shared mapping of a ramfs file (/tmp, /dev/shm): the pages of lx's
 * page cache themselves, which are kernel RAM, mapped shared in every
 * process of the container (LX_SYS_MAP_PAGES holds them for the mapping;
 * mremap() with old size 0 maps the same pages again, here).  Pages past
 * the end of the file stay inaccessible.
 */
static long guest_mmap_ramfs(uint64_t addr, uint64_t len, int prot,
			     int flags, long fd, long off)
{
	long fl = lx_syscall2(SYS_fcntl, fd, F_GETFL), r;
	size_t n = (len + 4095) / 4096, i, run;
	unsigned long *kaddrs;
	uint8_t *p;

	if (fl < 0)
		return fl;
	if (off & 4095 || !len)
		return -EINVAL;
	if ((prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR)
		return -EACCES;
	kaddrs = malloc(n * sizeof(*kaddrs));
	if (!kaddrs)
		return -ENOMEM;
	p = mmap((void *)addr, n * 4096, PROT_NONE,
		 (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) | MAP_PRIVATE |
			 MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		free(kaddrs);
		return -errno;
	}
	r = lx_syscall5(LX_SYS_MAP_PAGES, fd, off / 4096, n, p, kaddrs);
	for (i = 0; !r && i < n; i += run) {
		/* runs of pages that are next to each other in kernel RAM */
		for (run = 1; i + run < n && kaddrs[i] &&
			      kaddrs[i + run] == kaddrs[i] + run * 4096; run++)
			;
		if (!kaddrs[i])
			continue;
		if (mremap((void *)kaddrs[i], 0, run * 4096,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   p + i * 4096) == MAP_FAILED ||
		    mprotect(p + i * 4096, run * 4096, prot))
			r = -errno;
	}
	free(kaddrs);
	if (r) {
		munmap(p, n * 4096);
		lx_guest_umap(LX_UMAP_UNMAP, (uint64_t)p, n * 4096, 0, -1, 0);
		return r;
	}
	return (long)p;
}

/* How many of len bytes from off are in the file (the rest would fault). */
static size_t file_bytes(long fd, long off, size_t len)
{
	struct stat st;

	if (lx_syscall2(SYS_fstat, fd, &st) || st.st_size <= off)
		return 0;
	return (uint64_t)(st.st_size - off) < len ? (size_t)(st.st_size - off) :
						    len;
}

/*
 * memfd_create(): host memory behind a hostfd file (DESIGN.md decision
 * 2), so that the program maps it from the host fd, and seals are the
 * host's.
 */
static long guest_memfd_create(const char *uname, unsigned int flags)
{
	char shown[300];
	long fd;
	int hfd;

	hfd = syscall(SYS_memfd_create, uname, flags | MFD_CLOEXEC);
	if (hfd < 0)
		return -errno;
	/* the host read the name: it is a string of at most 249 bytes */
	snprintf(shown, sizeof(shown), "/memfd:%s (deleted)", uname);
	fd = lx_syscall3(LX_SYS_HOSTFD, hfd,
			 O_RDWR | (flags & MFD_CLOEXEC ? O_CLOEXEC : 0), shown);
	if (fd < 0)
		close(hfd);
	return fd;
}

/*
 * Seals and size of a memfd are the host file's; other files' are lx's.
 * Returns -ENOTSUP for a call lx serves.
 */
static long guest_hostfd_call(struct pt_regs *r)
{
	long hfd = lx_syscall1(LX_SYS_HOSTFD_GET, r->rdi);
	struct stat st;

	if (hfd < 0 || fstat(hfd, &st) || !S_ISREG(st.st_mode))
		return -ENOTSUP;
	if (r->orig_rax == SYS_ftruncate)
		return host_ret(ftruncate(hfd, r->rsi));
	return host_ret(fcntl(hfd, r->rsi, r->rdx));
}

/*
 * A file mapping of an lx fd: a memfd's from its host fd, shared ones of
 * virtio-fs files from the host file, of ramfs files from lx's page
 * cache; the others a private copy read through lx (executable text
 * rewritten, rewrite.c).
 */
static long guest_mmap_file(uint64_t addr, uint64_t len, int prot, int flags,
			    long fd, long off)
{
	void *p;
	long n, done = 0;

	n = lx_syscall1(LX_SYS_HOSTFD_GET, fd);
	if (n >= 0) {
		p = mmap((void *)addr, len, prot, flags, n, off);
		return p == MAP_FAILED ? -errno : (long)p;
	}
	if (flags & MAP_SHARED) {
		n = guest_mmap_shared(addr, len, prot, flags, fd, off);
		if (n == -EINVAL || n == -ENODEV)
			n = guest_mmap_ramfs(addr, len, prot, flags, fd, off);
		if (n != -EINVAL)
			return n;
		if (prot & PROT_WRITE)
			return -ENODEV;	/* other file systems: not yet */
	}
	/*
	 * A private mapping of a virtio-fs file: the host file itself (its
	 * pages shared with the host's page cache until written); writable
	 * at first, for the rewriting of executable text.
	 */
	n = lx_homefd_fs(fd, O_RDONLY, 0);
	if (n >= 0) {
		p = mmap((void *)addr, len, prot | PROT_READ | PROT_WRITE,
			 (flags & ~(MAP_SHARED | MAP_SHARED_VALIDATE)) |
				 MAP_PRIVATE, n, off);
		close(n);
		if (p == MAP_FAILED)
			return -errno;
		if (prot & PROT_EXEC)
			lx_rewrite(fd, off, p, file_bytes(fd, off, len), NULL);
		if (mprotect(p, len, prot)) {
			munmap(p, len);
			return -errno;
		}
		return (long)p;
	}
	/* other files: a private copy read through lx */
	p = mmap((void *)addr, len, PROT_READ | PROT_WRITE,
		 (flags & ~(MAP_SHARED | MAP_SHARED_VALIDATE)) | MAP_PRIVATE |
			 MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	while ((uint64_t)done < len) {
		n = lx_syscall4(SYS_pread64, fd, (char *)p + done, len - done,
				off + done);
		if (n < 0) {
			munmap(p, len);
			return n;
		}
		if (n == 0)
			break;	/* past the end: zeroes */
		done += n;
	}
	if (prot & PROT_EXEC)
		lx_rewrite(fd, off, p, done, NULL);
	if (mprotect(p, len, prot)) {
		munmap(p, len);
		return -errno;
	}
	return (long)p;
}

/*
 * SysV shared memory: its kernel pages mapped directly (DESIGN.md
 * decision 2).  lx's shmat() attaches a segment where its pages are -
 * nommu maps it in place, in kernel RAM, which lx refuses as a user
 * pointer - and the program gets the same pages mapped again at an
 * address of its own, as a shared ramfs file's are (guest_mmap_ramfs).
 * nommu keeps one mapping per address in an address space, and every
 * attachment of a segment is at the same kernel address, so a process
 * has one lx attachment per segment (made with write access when it
 * may, for later attachments that ask for it), which keeps the segment
 * (IPC_RMID's deferred removal) until the process's last shmdt() of it
 * or its exit.  Limits: shm_nattch counts processes, not attachments; a
 * later attachment is checked against the access the first one got; a
 * munmap() of an attachment keeps lx's until shmdt() or exit.
 */
struct shm_seg {
	long id;
	uint64_t kaddr, len;
	int prot;		/* what lx's attachment allows */
	unsigned int refs;	/* the program's attachments */
};

struct shm_att {
	uint64_t uaddr;
	struct shm_seg *seg;
};

static struct shm_att *shm_atts;
static size_t shm_natts, shm_max;
static pthread_mutex_t shm_lock = PTHREAD_MUTEX_INITIALIZER;

/* The program's attachment i is gone: lx's too with the last one. */
static long shm_att_drop(size_t i)
{
	struct shm_seg *seg = shm_atts[i].seg;
	long r = 0;

	shm_atts[i] = shm_atts[--shm_natts];
	if (!--seg->refs) {
		r = lx_syscall1(SYS_shmdt, seg->kaddr);
		free(seg);
	}
	return r;
}

/* lx's attachment of segment id (of len bytes), made or found. */
static struct shm_seg *shm_seg_get(long id, uint64_t len, int prot,
				   long *err)
{
	struct shm_seg *seg;
	long kaddr;
	size_t i;

	for (i = 0; i < shm_natts; i++) {
		seg = shm_atts[i].seg;
		if (seg->id != id)
			continue;
		if (prot & ~seg->prot) {
			*err = -EACCES;
			return NULL;
		}
		return seg;
	}
	seg = malloc(sizeof(*seg));
	if (!seg) {
		*err = -ENOMEM;
		return NULL;
	}
	/* write access if the caller has it, for later attachments */
	kaddr = lx_syscall3(SYS_shmat, id, 0, prot & PROT_EXEC ? SHM_EXEC : 0);
	if (kaddr == -EACCES && !(prot & PROT_WRITE)) {
		prot &= ~PROT_WRITE;
		kaddr = lx_syscall3(SYS_shmat, id, 0, SHM_RDONLY |
				    (prot & PROT_EXEC ? SHM_EXEC : 0));
	} else {
		prot |= PROT_WRITE;
	}
	if (kaddr < 0) {
		free(seg);
		*err = kaddr;
		return NULL;
	}
	*seg = (struct shm_seg){ id, kaddr, len, prot | PROT_READ, 0 };
	return seg;
}

static long guest_shmat(long id, uint64_t addr, long flg)
{
	int prot = flg & SHM_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS;
	struct shm_seg *seg;
	struct shmid_ds ds;
	long r = 0;
	size_t i;
	void *p;

	if (flg & SHM_EXEC)
		prot |= PROT_EXEC;
	if (addr) {
		/* SHMLBA is the page size on x86-64 */
		if (addr & 4095) {
			if (!(flg & SHM_RND) || !(addr & ~4095UL))
				return -EINVAL;
			addr &= ~4095UL;
		}
		mflags |= flg & SHM_REMAP ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	} else if (flg & SHM_REMAP) {
		return -EINVAL;
	}
	/* the segment exists and may be read (as attaching needs): its size */
	r = lx_syscall3(SYS_shmctl, id, IPC_STAT, &ds);
	if (r < 0)
		return r;
	pthread_mutex_lock(&shm_lock);
	if (shm_natts == shm_max) {
		struct shm_att *more = realloc(shm_atts, (shm_max * 2 + 8) *
							 sizeof(*more));

		if (!more) {
			r = -ENOMEM;
			goto out;
		}
		shm_atts = more;
		shm_max = shm_max * 2 + 8;
	}
	seg = shm_seg_get(id, (ds.shm_segsz + 4095) & ~4095UL, prot, &r);
	if (!seg)
		goto out;
	p = mmap((void *)addr, seg->len, PROT_NONE, mflags, -1, 0);
	if (p == MAP_FAILED) {
		r = errno == EEXIST ? -EINVAL : -errno;
	} else if (mremap((void *)seg->kaddr, 0, seg->len,
			  MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED ||
		   mprotect(p, seg->len, prot)) {
		r = -errno;
		munmap(p, seg->len);
	} else {
		/*
		 * attachments it mapped over (SHM_REMAP) are gone - after
		 * this one counts, so that lx's attachment they share stays
		 */
		seg->refs++;
		for (i = shm_natts; i-- > 0;)
			if (shm_atts[i].uaddr >= (uint64_t)p &&
			    shm_atts[i].uaddr + shm_atts[i].seg->len <=
				    (uint64_t)p + seg->len)
				shm_att_drop(i);
		shm_atts[shm_natts++] = (struct shm_att){ (uint64_t)p, seg };
		lx_guest_umap(LX_UMAP_MAP, (uint64_t)p, seg->len,
			      prot | LX_UMAP_SHARED, -1, 0);
		r = (long)p;
	}
	if (!seg->refs) {
		lx_syscall1(SYS_shmdt, seg->kaddr);
		free(seg);
	}
out:
	pthread_mutex_unlock(&shm_lock);
	return r;
}

static long guest_shmdt(uint64_t addr)
{
	long r = -EINVAL;	/* no attachment starts there */
	uint64_t len;
	size_t i;

	pthread_mutex_lock(&shm_lock);
	for (i = 0; i < shm_natts; i++) {
		if (shm_atts[i].uaddr != addr)
			continue;
		len = shm_atts[i].seg->len;
		munmap((void *)addr, len);
		lx_guest_umap(LX_UMAP_UNMAP, addr, len, 0, -1, 0);
		r = shm_att_drop(i);
		break;
	}
	pthread_mutex_unlock(&shm_lock);
	return r;
}

static long guest_arch_prctl(struct lx_thread *t, long code, uint64_t addr)
{
	switch (code) {
	case ARCH_SET_FS:
		/* wrfsbase faults on a non-canonical address: Linux says EPERM */
		if (addr >= (1UL << 47))
			return -EPERM;
		t->prog_fs = addr;
		return 0;
	case ARCH_GET_FS:
		return prog_copy(&t->prog_fs, addr, 8, 1);
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -EINVAL;	/* GS is lx's: a documented limit */
	default:
		return -EINVAL;
	}
}

/*
 * New processes, threads and programs are not served yet: the program
 * gets -ENOSYS (shells then say they cannot fork), and lx says why, once.
 */
static long guest_unsupported(long nr)
{
	static int said;
	static const char msg[] =
		"lx: fork, clone, vfork and execve are not supported yet: "
		"the program gets ENOSYS\n";

	(void)nr;
	if (!said++ && write(2, msg, sizeof(msg) - 1) < 0)
		said = 1;
	return -ENOSYS;
}

static unsigned int inside, exiting;	/* end_process() */
static void leave_lx(void);

/*
 * Into lx, counted as a program thread in a call (end_process() waits for
 * those); a thread that finds the process ending ends.  leave_lx() after.
 */
static void count_in(void)
{
	__atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&exiting, __ATOMIC_SEQ_CST))
		leave_lx();
}

/*
 * clone(CLONE_THREAD): a host thread of this process for the new program
 * thread.  Its task is a clone of the creator's, made here in the
 * creator's name (lx_thread_prepare()) and adopted by the new thread,
 * which tells us it is ready, then starts where the program's clone
 * returns, with the registers the clone left, its stack and its TLS.
 */
struct clone_req {
	struct lx_start start;
	uint64_t fs, flags, ctid, ptid;
	void *task;		/* the creator's clone */
	uint32_t done;		/* host futex word: tid is final */
	long tid;		/* the task's, or -EAGAIN if the thread failed */
};

/* A bad pointer is ignored, as Linux does. */
static void put_tid(uint64_t addr, long tid)
{
	int v = tid;

	prog_copy(&v, addr, sizeof(v), 1);
}

/*
 * A program thread's exit, after lx's: the host thread ends.  One that
 * spawn_thread() made goes back to thread_main() to end as the pthread it
 * is, which gives back its stack; the first ends itself.
 */
static void __attribute__((noreturn)) thread_exit(struct lx_thread *t,
						  int code)
{
	if (t->has_exit_jb)
		__builtin_longjmp(t->exit_jb, 1);
	for (;;)
		syscall(SYS_exit, code);
}

/*
 * What lx_guest_thread_init() gave the thread, given back: nothing may
 * use the block or its stacks any more - no host signal (all blocked),
 * no SUD selector, no alternate stack, no lazily saved vector state.
 */
static void thread_done(struct lx_thread *t)
{
	stack_t ss = { .ss_flags = SS_DISABLE };
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	sigaltstack(&ss, NULL);
	lx_fpu_area = lx_fpu_lazy = NULL;
	munmap(t->altstack, 2 * ALTSTACK_SIZE);
	free(t->xsave);
	free(t);
}

static void *thread_main(void *arg)
{
	struct clone_req *c = arg;
	struct lx_start st = c->start;
	struct lx_thread *t = calloc(1, sizeof(*t));
	sigset_t none;
	long tid = c->tid;

	/*
	 * No call of the program's before its code runs: the task has its
	 * seccomp filters already, which would see them.  lx's own
	 * LX_SYS_KICKABLE (lx_guest_thread_init()) is the first, and fails
	 * if the task was killed meanwhile; from then on a signal lx's own
	 * calls meet waits for the program's code, and kicks reach it.
	 */
	lx_thread_adopt(c->task);
	count_in();
	if (!t || lx_guest_thread_init(t)) {
		lx_thread_abandon(c->task);
		tid = -EAGAIN;
	}
	leave_lx();
	/*
	 * The parent's copy of the tid before the thread runs: written after
	 * it, it could land after the thread's exit cleared it, and
	 * pthread_join() would wait for ever.  Through the host: a bad
	 * pointer is ignored, as Linux does, not a fault of lx's.
	 */
	if (tid > 0 && (c->flags & CLONE_PARENT_SETTID))
		put_tid(c->ptid, tid);
	if (tid > 0 && (c->flags & CLONE_CHILD_SETTID))
		put_tid(c->ctid, tid);
	if (t)
		t->prog_fs = c->fs;
	c->tid = tid;
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &c->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (tid < 0)
		return NULL;
	/* the program's signals are lx's: nothing blocked on the host */
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	t->has_exit_jb = 1;
	if (__builtin_setjmp(t->exit_jb)) {
		/* its exit (thread_exit()): here, on the pthread's stack */
		thread_done(t);
		return NULL;
	}
	lx_guest_resume(&st);
}

/*
 * A new program thread (clone or clone3 with CLONE_THREAD): it starts
 * with the caller's registers but rax 0, on stack sp, with TLS tls if
 * CLONE_SETTLS.  Returns its tid or -errno.
 */
static long spawn_thread(struct lx_thread *t, struct pt_regs *r,
			 unsigned long flags, uint64_t sp, uint64_t ptid,
			 uint64_t ctid, uint64_t tls)
{
	struct clone_req *c;
	pthread_attr_t attr;
	sigset_t all, was;
	int r_create;
	pthread_t th;
	long tid;

	if (!(flags & CLONE_THREAD) || !(flags & CLONE_VM))
		return guest_unsupported(SYS_clone);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->start = (struct lx_start){
		.rbx = r->rbx, .rbp = r->rbp, .r12 = r->r12, .r13 = r->r13,
		.r14 = r->r14, .r15 = r->r15, .r8 = r->r8, .r9 = r->r9,
		.r10 = r->r10, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.rsp = sp ? sp : r->rsp, .rip = r->rip,
	};
	c->fs = flags & CLONE_SETTLS ? tls : t->prog_fs;
	c->flags = flags;
	count_in();
	tid = lx_thread_prepare(&c->task,
				flags & CLONE_CHILD_CLEARTID ? ctid : 0);
	leave_lx();
	if (tid < 0) {
		free(c);
		return tid;
	}
	c->tid = tid;
	c->ctid = ctid;
	c->ptid = ptid;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 << 10);
	/*
	 * The new thread starts with this one's GS (its block) until
	 * lx_guest_thread_init(): no host signal may reach it before, or
	 * lx's handlers would take this thread's block for its own.  It
	 * inherits the mask, and thread_main() clears it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was);
	r_create = pthread_create(&th, &attr, thread_main, c);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	if (r_create) {
		pthread_attr_destroy(&attr);
		count_in();
		lx_thread_abandon(c->task);
		leave_lx();
		free(c);
		return -EAGAIN;
	}
	pthread_attr_destroy(&attr);
	while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &c->done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL,
			0);
	tid = c->tid;
	free(c);
	return tid;
}

static long guest_clone(struct lx_thread *t, struct pt_regs *r)
{
	/* clone(flags, stack, parent_tid, child_tid, tls) */
	return spawn_thread(t, r, r->rdi, r->rsi, r->rdx, r->r10, r->r8);
}

/* clone3(struct clone_args *, size): threads as clone gives them */
static long guest_clone3(struct lx_thread *t, struct pt_regs *r)
{
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
		uint64_t stack, stack_size, tls, set_tid, set_tid_size;
		uint64_t cgroup;
	} a = { 0 };
	size_t n = r->rsi < sizeof(a) ? r->rsi : sizeof(a);

	if (r->rsi < 64)	/* CLONE_ARGS_SIZE_VER0 */
		return -EINVAL;
	if (prog_copy(&a, r->rdi, n, 0))
		return -EFAULT;
	if (!(a.flags & CLONE_THREAD))
		return guest_unsupported(SYS_clone3);
	/* what a thread of lx's cannot have: libcs then use clone */
	if (a.exit_signal || a.set_tid || a.set_tid_size || a.cgroup ||
	    (a.flags & (CLONE_PIDFD | 0x200000000ULL)))	/* CLONE_INTO_CGROUP */
		return -ENOSYS;
	return spawn_thread(t, r, a.flags,
			    a.stack ? a.stack + a.stack_size : 0,
			    a.parent_tid, a.child_tid, a.tls);
}

/*
 * The end of the process.  Its host threads must not end while one of
 * them is inside lx (holding the CPU, or half-way through a change of
 * kernel state): the home process would find the kernel broken.  So the
 * thread that ends the process - by exit_group, or because lx killed its
 * task (a fatal signal) - waits until the others have left lx; lx has
 * killed their tasks too, which wakes them.  A thread that finds the
 * process ending when it leaves lx, or before it enters, ends its host
 * thread.  lxexec reports the status lx gave the process.  (inside:
 * program threads in a call into lx, count_in(); exiting: the process
 * ends.)
 */
static void leave_lx(void)
{
	__atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&exiting, __ATOMIC_SEQ_CST)) {
		syscall(SYS_futex, &inside, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
			0);
		syscall(SYS_exit, 0);
	}
}

static void __attribute__((noreturn)) end_process(int status)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int n;
	int i;

	__atomic_store_n(&exiting, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
	/* bounded: a thread stuck in lx for 2 s is the kernel's bug */
	for (i = 0; i < 200; i++) {
		n = __atomic_load_n(&inside, __ATOMIC_SEQ_CST);
		if (!n)
			break;
		syscall(SYS_futex, &inside, FUTEX_WAIT_PRIVATE, n, &ts, NULL,
			0);
	}
	for (;;)
		syscall(SYS_exit_group, status);
}

/* The fault lx_guest_user_fault() passes to deliver(). */
static __thread struct {
	int sig, code;
	unsigned long addr;
	struct lx_trap trap;
} fault;

/*
 * The fault of a jump to addr where nothing is mapped (an instruction
 * fetch by user code): what a call into lx's page at 0 from no site of
 * lx's gets, as it does natively (zpoline.c).
 */
static void fetch_fault(unsigned long addr)
{
	fault.sig = SIGSEGV;
	fault.code = SEGV_MAPERR;
	fault.addr = addr;
	fault.trap = (struct lx_trap){ .trapno = 14, .err = 0x14,
				       .cr2 = addr };
}

/*
 * Into lx for a program thread: a system call (sig < 0) with
 * lx_syscall_regs(), or from user code (a fault, sig > 0) with
 * lx_user_entry().  Returns rax.
 */
unsigned int lx_host_sigs, lx_cputimers_fired;

/*
 * A program's posix timer on a CPU-time clock: a host timer on the same
 * clock, whose host signal (LX_CPUTIMER_SIGNO, its slot as the value)
 * lx_kick_entry notes in lx_cputimers_fired; lx holds a timer that is
 * never armed, for the id the program knows it by.
 */
#define CPUTIMERS 32
static struct cputimer {
	int used;
	int lx_id;
	timer_t host;
	int sig, tid;		/* the signal, to thread tid or (0) all */
	uint64_t value;		/* sigev_value */
} cputimers[CPUTIMERS];
static pthread_mutex_t cputimers_lock = PTHREAD_MUTEX_INITIALIZER;

/* RLIMIT_CPU's hard limit, in seconds (guest_cputime()) */
static uint64_t cpu_hard = RLIM_INFINITY;

/* What the host's CPU-time limits and timers sent, lx sends (signal.c). */
static void send_host_sigs(void)
{
	unsigned int m = __atomic_exchange_n(&lx_host_sigs, 0,
					     __ATOMIC_ACQ_REL);
	unsigned int f = __atomic_exchange_n(&lx_cputimers_fired, 0,
					     __ATOMIC_ACQ_REL);
	struct cputimer *c;
	struct timespec ts;

	/* past RLIMIT_CPU's hard limit: SIGKILL, as Linux sends then */
	if ((m & (1U << SIGXCPU)) && cpu_hard != RLIM_INFINITY &&
	    !syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts) &&
	    (uint64_t)ts.tv_sec >= cpu_hard)
		m = 1U << SIGKILL;
	for (; m; m &= m - 1)
		lx_syscall1(LX_SYS_CPU_SIGNAL, __builtin_ctz(m));
	for (; f; f &= f - 1) {
		c = &cputimers[__builtin_ctz(f)];
		if (c->used && c->sig)
			lx_syscall5(LX_SYS_CPU_TIMER, c->sig, c->lx_id,
				    syscall(SYS_timer_getoverrun, c->host),
				    c->value, c->tid);
	}
}

static long enter_lx(struct pt_regs *r, int sig, int code, unsigned long addr)
{
	int sys = sig < 0;	/* else a fault, or 0: take pending signals */

	count_in();
	if (__atomic_load_n(&lx_host_sigs, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&lx_cputimers_fired, __ATOMIC_RELAXED))
		send_host_sigs();
	if (sys)
		lx_syscall_regs(r);
	else
		lx_user_entry(r, sig, code, addr, sig ? &fault.trap : NULL);
	if (!lx_thread_has_task() && !(sys && r->orig_rax == SYS_exit)) {
		/*
		 * The process ends: by this exit_group, or lx killed the task
		 * (a fatal signal, another thread's exit_group, which may not
		 * have set exiting yet: then both wait, and either ends it).
		 */
		if ((sys && r->orig_rax == SYS_exit_group) ||
		    !__atomic_load_n(&exiting, __ATOMIC_SEQ_CST))
			end_process(sys && r->orig_rax == SYS_exit_group ?
					    (int)r->rdi : 128 + SIGKILL);
	}
	leave_lx();
	return r->rax;
}

static long call_lx(struct pt_regs *r)
{
	return enter_lx(r, -1, 0, 0);
}

/*
 * Program futexes are the host's (DESIGN.md, pitfalls): a program's futex
 * word is in its own host memory, so its threads wait for it and wake
 * each other with the host's futex - a contended lock needs no CPU of
 * lx's, and waits are keyed as Linux keys them (private to the process,
 * or by the shared page).  The kernel wakes host waiters too when it
 * clears a child tid or walks a robust list (arch/lx futex.c).  A wait
 * is a kickable host call (lx_wait_call): a signal for the thread kicks
 * it, and lx then makes the call the interrupted futex the program's
 * handler and restart expect (LX_SYS_FUTEX_INTR).  PI futexes (their
 * words hold lx's tids) and any other operation go to lx's futex code.
 * Only raw host calls here: the program's vector state is live.
 */
static long kickable_wait(struct lx_thread *t, struct pt_regs *r,
			  long call[7], long intr)
{
	const uint64_t kick = 1UL << (LX_KICK_SIGNAL - 1);
	long ret, nr = r->orig_rax;

	uint64_t rip = r->rip, rsp = r->rsp;

	for (;;) {
		/* the trapped path blocks kicks in its handler: not here */
		if (t->trapped)
			syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &kick, NULL, 8);
		ret = lx_wait_call(call);
		if (t->trapped) {
			syscall(SYS_rt_sigprocmask, SIG_BLOCK, &kick, NULL, 8);
			/* a kick that came after the call: taken here */
			if (ret != -EINTR && t->kick)
				ret = -EINTR;
		}
		if (ret != -EINTR)
			return ret;
		/*
		 * lx delivers what kicked it: the call becomes the program's,
		 * interrupted (orig_rax), and lx sets rax and rip (a handler,
		 * a restart); or it finds nothing to take - but for a signal
		 * that came meanwhile, whose handler lx set up all the same
		 * (rip, rsp): the wait then ends as woken, which a futex
		 * wait may.
		 */
		t->kick = 0;
		r->orig_rax = intr;
		call_lx(r);
		if (r->orig_rax != (uint64_t)intr)
			return r->rax;
		r->orig_rax = nr;
		if (r->rip != rip || r->rsp != rsp)
			return r->rax;
		/* nothing to take (another thread took it): wait on */
	}
}

static long guest_futex(struct lx_thread *t, struct pt_regs *r)
{
	int op = r->rsi, cmd = op & FUTEX_CMD_MASK;
	long call[7] = { SYS_futex, r->rdi, op, r->rdx, r->r10, r->r8, r->r9 };
	struct timespec rel, at;

	switch (cmd) {
	case FUTEX_WAIT:
		if (op & FUTEX_CLOCK_REALTIME)
			return -ENOSYS;
		/* the same wait with a deadline: a kick may make it again */
		call[2] = (op & ~FUTEX_CMD_MASK) | FUTEX_WAIT_BITSET;
		call[6] = FUTEX_BITSET_MATCH_ANY;
		if (r->r10) {
			if (prog_copy(&rel, r->r10, sizeof(rel), 0))
				return -EFAULT;
			if (rel.tv_sec < 0 ||
			    (unsigned long)rel.tv_nsec >= 1000000000UL)
				return -EINVAL;
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &at);
			at.tv_nsec += rel.tv_nsec;
			at.tv_sec += at.tv_nsec >= 1000000000L;
			at.tv_nsec %= 1000000000L;
			/* far enough: Linux's ktime saturates too */
			at.tv_sec = rel.tv_sec > (1L << 40) ? (1L << 40) :
							      at.tv_sec + rel.tv_sec;
			call[4] = (long)&at;
		}
		return kickable_wait(t, r, call, LX_SYS_FUTEX_INTR);
	case FUTEX_WAIT_BITSET:
		return kickable_wait(t, r, call, LX_SYS_FUTEX_INTR);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP:
		return host_ret(syscall(SYS_futex, r->rdi, op, r->rdx, r->r10,
					r->r8, r->r9));
	case FUTEX_CMP_REQUEUE_PI: {
		/*
		 * Its waiters (FUTEX_WAIT_REQUEUE_PI) wait in lx, but plain
		 * waiters on the word wait on the host, out of lx's sight,
		 * and Linux refuses to requeue those (-EINVAL).  The host
		 * has no requeue-PI waiters, so its own call moves nothing:
		 * -EINVAL for a plain waiter, 0 for none (or the argument
		 * errors lx would give too); then lx's.
		 */
		long ret = host_ret(syscall(SYS_futex, r->rdi, op, r->rdx,
					    r->r10, r->r8, r->r9));

		return ret ? ret : call_lx(r);
	}
	default:
		return call_lx(r);
	}
}

/* futex_waitv(waiters, n, flags, deadline, clockid): the host's */
static long guest_futex_waitv(struct lx_thread *t, struct pt_regs *r)
{
	long call[7] = { SYS_futex_waitv, r->rdi, r->rsi, r->rdx, r->r10,
			 r->r8, 0 };

	return kickable_wait(t, r, call, LX_SYS_FUTEX_WAITV_INTR);
}

/*
 * CPU time is the host's (DESIGN.md, pitfalls): lx's kernel runs only in
 * system calls, the program's code runs on host threads it never sees.
 * So the CPU-time clocks of the process and the calling thread, the user
 * and system times of getrusage and times, and the CPU-time itimers are
 * the host's, of the program process, and so are RLIMIT_CPU (also set in
 * lx, which reports it) and posix timers on those clocks (cputimers[]);
 * the signals the host sends for them come back
 * through lx_kick_entry and lx sends them (send_host_sigs()), but for
 * the hard limit's SIGKILL, which ends the process as it would.  The kernel's own count stays for other processes'
 * clocks and /proc/PID/stat.
 */
#define CPUCLOCK_PID(c) ((int)~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) ((c) & 4)

/*
 * A clock id of the caller's own CPU time, as the host names it, or -1.
 * (A clockid_t is an int: the caller passes the register's low half.)
 */
static long own_cpu_clock(long id)
{
	static long lx_pid;

	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID)
		return id;
	if (id >= 0 || (id & 3) == 3)	/* 3: CPUCLOCK_FD */
		return -1;
	if (CPUCLOCK_PID(id) == 0)
		return id;
	if (CPUCLOCK_PERTHREAD(id))
		return -1;	/* another thread's: lx's count */
	if (!lx_pid)
		lx_pid = lx_syscall0(SYS_getpid);
	/* the process's own, by its pid in lx: pid 0 on the host */
	return CPUCLOCK_PID(id) == lx_pid ? (long)(~0UL << 3) | (id & 7) : -1;
}

static struct cputimer *cputimer_of(long lx_id)
{
	int i;

	for (i = 0; i < CPUTIMERS; i++)
		if (cputimers[i].used && cputimers[i].lx_id == lx_id)
			return &cputimers[i];
	return NULL;
}

/* timer_create(clock, sevp, id) on a clock of the caller's CPU time */
static long cputimer_create(struct pt_regs *r, long clock)
{
	struct {
		uint64_t value;
		int signo, notify, tid, pad[11];
	} ev = { .signo = SIGALRM, .notify = SIGEV_SIGNAL };
	struct sigevent hev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = LX_CPUTIMER_SIGNO };
	struct cputimer *c = NULL;
	int i, lx_id;
	long ret;

	if (r->rsi && prog_copy(&ev, r->rsi, sizeof(ev), 0))
		return -EFAULT;
	if ((ev.notify != SIGEV_NONE && ev.notify != SIGEV_SIGNAL &&
	     ev.notify != SIGEV_THREAD_ID) ||
	    (ev.notify != SIGEV_NONE && (ev.signo <= 0 || ev.signo > 64)))
		return -EINVAL;
	if (ev.notify == SIGEV_THREAD_ID &&
	    lx_syscall3(SYS_tgkill, lx_syscall0(SYS_getpid), ev.tid, 0))
		return -EINVAL;
	for (i = 0; i < CPUTIMERS && !c; i++)
		if (!cputimers[i].used)
			c = &cputimers[i];
	if (!c)
		return -EAGAIN;
	/* lx's timer, never armed: the id */
	ret = lx_syscall3(SYS_timer_create, CLOCK_MONOTONIC,
			  &(struct sigevent){ .sigev_notify = SIGEV_NONE },
			  &lx_id);
	if (ret)
		return ret;
	hev.sigev_value.sival_int = c - cputimers;
	if (syscall(SYS_timer_create, clock, &hev, &c->host)) {
		ret = -errno;
		lx_syscall1(SYS_timer_delete, lx_id);
		return ret;
	}
	if (prog_copy(&lx_id, r->rdx, sizeof(lx_id), 1)) {
		syscall(SYS_timer_delete, c->host);
		lx_syscall1(SYS_timer_delete, lx_id);
		return -EFAULT;
	}
	c->lx_id = lx_id;
	c->sig = ev.notify == SIGEV_NONE ? 0 : ev.signo;
	c->tid = ev.notify == SIGEV_THREAD_ID ? ev.tid : 0;
	c->value = r->rsi ? ev.value : (uint64_t)lx_id;
	__atomic_store_n(&c->used, 1, __ATOMIC_RELEASE);
	return 0;
}

static long guest_cputimer(struct pt_regs *r)
{
	struct cputimer *c;
	long nr = r->orig_rax, clock;

	if (nr == SYS_timer_create) {
		long ret;

		clock = own_cpu_clock((int)r->rdi);
		if (clock == -1)
			return call_lx(r);
		/* two threads' creations must not take one slot */
		pthread_mutex_lock(&cputimers_lock);
		ret = cputimer_create(r, clock);
		pthread_mutex_unlock(&cputimers_lock);
		return ret;
	}
	c = cputimer_of(r->rdi);
	if (!c)
		return call_lx(r);
	switch (nr) {
	case SYS_timer_settime:
		return host_ret(syscall(nr, c->host, r->rsi, r->rdx, r->r10));
	case SYS_timer_gettime:
		return host_ret(syscall(nr, c->host, r->rsi));
	case SYS_timer_getoverrun:
		return host_ret(syscall(nr, c->host));
	}
	/* timer_delete */
	syscall(SYS_timer_delete, c->host);
	__atomic_store_n(&c->used, 0, __ATOMIC_RELEASE);
	return call_lx(r);
}

static long guest_cputime(struct pt_regs *r)
{
	long nr = r->orig_rax, id, ret;

	switch (nr) {
	case SYS_clock_gettime:
	case SYS_clock_getres:
		id = own_cpu_clock((int)r->rdi);
		if (id == -1)
			return call_lx(r);
		return host_ret(syscall(nr, id, r->rsi));
	case SYS_setitimer:
	case SYS_getitimer:
		if (r->rdi != ITIMER_VIRTUAL && r->rdi != ITIMER_PROF)
			return call_lx(r);
		return host_ret(syscall(nr, r->rdi, r->rsi, r->rdx));
	case SYS_getrusage: {
		struct rusage h;

		ret = call_lx(r);
		if (ret || (r->rdi != RUSAGE_SELF && r->rdi != RUSAGE_THREAD) ||
		    syscall(SYS_getrusage, r->rdi, &h))
			return ret;
		/* the times, and what the host's memory saw */
		prog_copy(&h, r->rsi, offsetof(struct rusage, ru_ixrss), 1);
		prog_copy(&h.ru_minflt,
			  r->rsi + offsetof(struct rusage, ru_minflt),
			  2 * sizeof(h.ru_minflt), 1);
		return ret;
	}
	case SYS_prlimit64:
	case SYS_setrlimit: {
		/* (pid, resource, new, old) or (resource, new) */
		int pl = nr == SYS_prlimit64;
		long res = pl ? (long)r->rsi : (long)r->rdi;
		uint64_t lim = pl ? r->rdx : r->rsi;
		struct rlimit rl;

		struct rlimit host;

		ret = call_lx(r);
		if (ret || res != RLIMIT_CPU || !lim || (pl && r->rdi &&
		    (long)r->rdi != lx_syscall0(SYS_getpid)) ||
		    prog_copy(&rl, lim, sizeof(rl), 0) ||
		    syscall(SYS_prlimit64, 0, RLIMIT_CPU, NULL, &host))
			return ret;
		/*
		 * The host counts the time and sends SIGXCPU from the soft
		 * limit on, each second; the hard limit is lx's to enforce
		 * (send_host_sigs()): the host's SIGKILL could end the process
		 * while it is inside lx.
		 */
		cpu_hard = rl.rlim_max;
		host.rlim_cur = rl.rlim_cur < host.rlim_max ? rl.rlim_cur :
							      host.rlim_max;
		syscall(SYS_prlimit64, 0, RLIMIT_CPU, &host, NULL);
		return ret;
	}
	case SYS_times: {
		struct tms h;

		ret = call_lx(r);
		if (ret >= 0 && r->rdi && syscall(SYS_times, &h) != -1)
			prog_copy(&h, r->rdi, 2 * sizeof(h.tms_utime), 1);
		return ret;
	}
	}
	return call_lx(r);
}

/*
 * The calls guest_call() serves on the host side rather than in lx (1),
 * or looks at first (2).
 */
static const unsigned char host_side[1024] = {
	[SYS_mmap] = 1, [SYS_munmap] = 1, [SYS_mprotect] = 1,
	[SYS_mremap] = 1, [SYS_madvise] = 1, [SYS_brk] = 1,
	[SYS_msync] = 1, [SYS_mlock] = 1, [SYS_mlock2] = 1, [SYS_munlock] = 1,
	[SYS_mlockall] = 1, [SYS_munlockall] = 1, [SYS_membarrier] = 1,
	[SYS_arch_prctl] = 1, [SYS_rseq] = 1, [SYS_clone] = 1,
	[SYS_clone3] = 1, [SYS_fork] = 1, [SYS_vfork] = 1, [SYS_execve] = 1,
	[SYS_execveat] = 1, [SYS_exit] = 1, [SYS_exit_group] = 1,
	[SYS_timer_create] = 1, [SYS_timer_settime] = 1,
	[SYS_timer_gettime] = 1, [SYS_timer_getoverrun] = 1,
	[SYS_timer_delete] = 1,
	[SYS_memfd_create] = 1, [SYS_shmat] = 1, [SYS_shmdt] = 1,
	/* looked at by guest_call(), with raw host calls only (no XSAVE) */
	[SYS_ftruncate] = 2, [SYS_fcntl] = 2, [SYS_futex] = 2,
	[SYS_futex_waitv] = 2, [SYS_clock_gettime] = 2,
	[SYS_clock_getres] = 2, [SYS_setitimer] = 2, [SYS_getitimer] = 2,
	[SYS_getrusage] = 2, [SYS_times] = 2, [SYS_prlimit64] = 2,
	[SYS_setrlimit] = 2,
};

/* Serve the call in regs; returns the value for rax. */
static long guest_call(struct lx_thread *t, struct pt_regs *r)
{
	long nr = r->orig_rax;

	if (lx_zpoline_on) {
		/* the page at 0 is lx's (zpoline.c) */
		const uint64_t a[5] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8 };

		if (lx_zpoline_guard(nr, a))
			return -EPERM;
	}
	switch (nr) {
	case SYS_mmap: {
		long a, fd = -1;

		if (r->r10 & MAP_ANONYMOUS) {
			a = host_ret((long)mmap((void *)r->rdi, r->rsi, r->rdx,
						r->r10, -1, 0));
		} else {
			a = guest_mmap_file(r->rdi, r->rsi, r->rdx, r->r10,
					    r->r8, r->r9);
			fd = r->r8;
		}
		if (a >= 0)
			lx_guest_umap(LX_UMAP_MAP, a, r->rsi,
				      r->rdx | (r->r10 & MAP_SHARED ?
						LX_UMAP_SHARED : 0),
				      fd, r->r9);
		return a;
	}
	case SYS_munmap:
		if (munmap((void *)r->rdi, r->rsi))
			return -errno;
		/* lx lists it, and lets go of ramfs pages held there */
		lx_guest_umap(LX_UMAP_UNMAP, r->rdi, r->rsi, 0, -1, 0);
		return 0;
	case SYS_mprotect:
		if (mprotect((void *)r->rdi, r->rsi, r->rdx))
			return -errno;
		lx_guest_umap(LX_UMAP_PROTECT, r->rdi, r->rsi, r->rdx, -1, 0);
		return 0;
	case SYS_mremap: {
		long a;

		/*
		 * A second mapping of the same pages (old size 0) would not
		 * hold ramfs pages the way the first does: not served.
		 */
		if (!r->rsi)
			return -EINVAL;
		a = host_ret((long)mremap((void *)r->rdi, r->rsi, r->rdx,
					  r->r10, (void *)r->r8));
		if (a < 0)
			return a;
		/* held ramfs pages follow the mapping (usermaps.c) */
		lx_guest_umap(LX_UMAP_MOVE, r->rdi, r->rsi, r->rdx, -1, a);
		return a;
	}
	case SYS_madvise:
		return host_ret(madvise((void *)r->rdi, r->rsi, r->rdx));
	case SYS_msync:
	case SYS_mlock:
	case SYS_mlock2:
	case SYS_munlock:
	case SYS_mlockall:
	case SYS_munlockall:
	case SYS_membarrier:
		/* the program's memory is the host's: so are these */
		return host_ret(syscall(nr, r->rdi, r->rsi, r->rdx));
	case SYS_brk:
		return guest_brk(r->rdi);
	case SYS_arch_prctl:
		return guest_arch_prctl(t, r->rdi, r->rsi);
	case SYS_rseq:
		return -ENOSYS;
	case SYS_memfd_create:
		return guest_memfd_create((const char *)r->rdi, r->rsi);
	case SYS_shmat:
		return guest_shmat(r->rdi, r->rsi, r->rdx);
	case SYS_shmdt:
		return guest_shmdt(r->rdi);
	case SYS_fcntl:
		if (r->rsi != F_ADD_SEALS && r->rsi != F_GET_SEALS)
			return call_lx(r);
		/* fall through */
	case SYS_ftruncate: {
		long ret = guest_hostfd_call(r);

		return ret == -ENOTSUP ? call_lx(r) : ret;
	}
	case SYS_futex:
		return guest_futex(t, r);
	case SYS_futex_waitv:
		return guest_futex_waitv(t, r);
	case SYS_clock_gettime:
	case SYS_clock_getres:
	case SYS_setitimer:
	case SYS_getitimer:
	case SYS_getrusage:
	case SYS_times:
	case SYS_prlimit64:
	case SYS_setrlimit:
		return guest_cputime(r);
	case SYS_timer_create:
	case SYS_timer_settime:
	case SYS_timer_gettime:
	case SYS_timer_getoverrun:
	case SYS_timer_delete:
		return guest_cputimer(r);
	case SYS_clone:
		return guest_clone(t, r);
	case SYS_clone3:
		return guest_clone3(t, r);
	case SYS_fork:
	case SYS_vfork:
	case SYS_execve:
	case SYS_execveat:
		return guest_unsupported(nr);
	case SYS_exit:
		/*
		 * lx sees the exit first (for a thread, its child tid cleared
		 * and woken for pthread_join; for the last one, the parent's
		 * wait4), then the host thread ends.
		 */
		call_lx(r);
		thread_exit(t, r->rdi);
	case SYS_exit_group:
		call_lx(r);	/* ends the process */
		return -ENOSYS;
	default:
		if ((unsigned long)nr >= 1024)
			return -ENOSYS;	/* lx's own numbers are not programs' */
		return call_lx(r);
	}
}

/*
 * The XSAVE image of the program's vector state in the host's signal
 * frame, or NULL if the host saved a legacy (FXSAVE) image only.
 */
static void *frame_fpstate(ucontext_t *uc, uint64_t *xfeatures)
{
	struct _fpstate *fp = (struct _fpstate *)uc->uc_mcontext.fpregs;
	uint32_t magic1;

	if (!fp || ((uintptr_t)fp & 63))
		return NULL;
	/*
	 * sw_reserved: the _fpx_sw_bytes at byte 464 of the image, with the
	 * components the host saved there: AMX tile data only for a process
	 * that asked for it, so the frame has no room for its 8 KiB, and an
	 * XSAVE of every enabled component writes past it, into the stack
	 * of the program
	 */
	memcpy(&magic1, (char *)fp + 464, sizeof(magic1));
	memcpy(xfeatures, (char *)fp + 464 + 8, sizeof(*xfeatures));
	return magic1 == 0x46505853U ? fp : NULL;	/* FP_XSTATE_MAGIC1 */
}

/* The registers of a host signal frame as a struct pt_regs, and back. */
static void regs_from_uc(const ucontext_t *uc, struct pt_regs *r)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	*r = (struct pt_regs){
		.r15 = g[REG_R15], .r14 = g[REG_R14], .r13 = g[REG_R13],
		.r12 = g[REG_R12], .rbp = g[REG_RBP], .rbx = g[REG_RBX],
		.r11 = g[REG_R11], .r10 = g[REG_R10], .r9 = g[REG_R9],
		.r8 = g[REG_R8], .rax = g[REG_RAX], .rcx = g[REG_RCX],
		.rdx = g[REG_RDX], .rsi = g[REG_RSI], .rdi = g[REG_RDI],
		.rip = g[REG_RIP], .cs = 0x33, .eflags = g[REG_EFL],
		.rsp = g[REG_RSP], .ss = 0x2b,
	};
}

static void regs_to_uc(const struct pt_regs *r, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;

	g[REG_R15] = r->r15;
	g[REG_R14] = r->r14;
	g[REG_R13] = r->r13;
	g[REG_R12] = r->r12;
	g[REG_RBP] = r->rbp;
	g[REG_RBX] = r->rbx;
	g[REG_R11] = r->r11;
	g[REG_R10] = r->r10;
	g[REG_R9] = r->r9;
	g[REG_R8] = r->r8;
	g[REG_RAX] = r->rax;
	g[REG_RCX] = r->rcx;
	g[REG_RDX] = r->rdx;
	g[REG_RSI] = r->rsi;
	g[REG_RDI] = r->rdi;
	g[REG_RIP] = r->rip;
	g[REG_RSP] = r->rsp;
	g[REG_EFL] = r->eflags;
}

/*
 * Serve a call of lx's (fn) on the registers of a host signal frame:
 * lx may give the thread a signal handler or take it back from one
 * (rt_sigreturn), and then reads or sets the live vector state.  The
 * host reset it for this handler; the program's is in the host's frame.
 * Load it, and put what lx leaves back into the frame, which the host
 * restores.
 */
static long with_frame_fpu(struct lx_thread *t, ucontext_t *uc,
			   struct pt_regs *r,
			   long (*fn)(struct lx_thread *, struct pt_regs *))
{
	uint64_t xfeatures;
	void *fp = frame_fpstate(uc, &xfeatures);
	long ret;

	if (!fp)
		return fn(t, r);
	xrstor_mask(fp, xfeatures);
	lazy_arm(t);
	ret = fn(t, r);
	lazy_end(t);
	xsave_mask(fp, xfeatures);
	return ret;
}

/*
 * Serve the system call in r from a host signal handler (kicks blocked
 * meanwhile), the program's state in uc; lx may move the thread (a
 * restart, a signal handler), and uc follows r.
 */
static void serve_from_handler(struct lx_thread *t, ucontext_t *uc,
			       struct pt_regs *r)
{
	t->trapped = 1;
	if (r->orig_rax < 1024 && host_side[r->orig_rax] != 1)
		r->rax = with_frame_fpu(t, uc, r, guest_call);
	else
		r->rax = guest_call(t, r);
	t->trapped = 0;
	regs_to_uc(r, uc);
}

void lx_guest_sigsys(int sig, void *info, void *ucp)
{
	ucontext_t *uc = ucp;
	struct lx_thread *t;
	struct pt_regs r;

	(void)sig;
	/* a SIGSYS someone sent (kill -SYS) is not a system call */
	if (((siginfo_t *)info)->si_code != SYS_USER_DISPATCH)
		return;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	regs_from_uc(uc, &r);
	r.orig_rax = ((siginfo_t *)info)->si_syscall;
	r.rax = -ENOSYS;
	serve_from_handler(t, uc, &r);
}

static long deliver(struct lx_thread *t, struct pt_regs *r)
{
	(void)t;
	return enter_lx(r, fault.sig, fault.code, fault.addr);
}

/*
 * A fault in the program's code (lx_fault_entry): lx forces the signal on
 * the thread and delivers it - the program's handler runs when the host
 * returns from this one, or the default action ends the process.
 */
void lx_guest_user_fault(int sig, void *info, void *ucp)
{
	siginfo_t *si = info;
	ucontext_t *uc = ucp;
	struct lx_thread *t;
	struct pt_regs r;
	uint64_t nr, ret, sp;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	if (si->si_code <= 0) {
		/* sent with kill() on the host: not the program's fault */
		return;
	}
	regs_from_uc(uc, &r);
	if (lx_zpoline_fault(uc, sig, &nr, &ret, &sp)) {
		/* a system call after all, with a number past the nops */
		r.orig_rax = nr;
		r.rax = -ENOSYS;
		r.rip = r.rcx = ret;
		r.r11 = r.eflags;
		r.rsp = sp;
		serve_from_handler(t, uc, &r);
		return;
	}
	r.orig_rax = -1;
	fault.sig = sig;
	fault.code = si->si_code;
	fault.addr = (unsigned long)si->si_addr;
	fault.trap = (struct lx_trap){
		.trapno = uc->uc_mcontext.gregs[REG_TRAPNO],
		.err = uc->uc_mcontext.gregs[REG_ERR],
		.cr2 = uc->uc_mcontext.gregs[REG_CR2],
	};
	if (lx_zpoline_stray(uc, sig, &r.rip)) {
		/* into lx's page at 0 from no site: where it went, natively */
		fetch_fault(r.rip);
	} else if (lx_zpoline_on && sig == SIGSEGV &&
		   fault.addr < 4096) {
		/* a store to lx's page at 0 (or a read, with protection
		 * keys): natively nothing is mapped there */
		fault.code = SEGV_MAPERR;
		fault.trap.err &= ~1UL;	/* not present */
	}
	with_frame_fpu(t, uc, &r, deliver);
	regs_to_uc(&r, uc);
}

extern char __executable_start[], etext[];

/*
 * A signal came for the thread while it ran with the program's FS
 * (lx_kick_entry): in the program's code, or at the end of the fast
 * path's way out, where rip, rsp and rflags are in reach (entry.S) - lx
 * delivers it from those registers, and the host returns to what lx
 * says.  Elsewhere in lx's code the way out takes it (t->kick).
 */
void lx_guest_kick(int sig, void *info, void *ucp)
{
	ucontext_t *uc = ucp;
	greg_t *g = uc->uc_mcontext.gregs;
	char *rip = (char *)g[REG_RIP];
	uint64_t *sp = (uint64_t *)g[REG_RSP];
	struct lx_thread *t;
	struct pt_regs r;

	(void)sig;
	(void)info;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	if (rip >= __executable_start && rip < etext &&
	    rip != lx_fast_jne && rip != lx_fast_popf &&
	    rip != lx_fast_movrsp && rip != lx_fast_jmp)
		return;
	regs_from_uc(uc, &r);
	if (rip == lx_fast_jne || rip == lx_fast_popf) {
		r.eflags = sp[0];
		r.rsp = sp[1];
	} else if (rip == lx_fast_movrsp) {
		r.rsp = sp[0];
	}
	if (rip >= __executable_start && rip < etext)
		r.rip = t->ret_rip;
	t->kick = 0;
	r.orig_rax = -1;
	fault.sig = 0;
	with_frame_fpu(t, uc, &r, deliver);
	regs_to_uc(&r, uc);
}

/* The fast path's way out found a signal waiting (entry.S). */
void lx_guest_pending(struct pt_regs *r)
{
	struct lx_thread *t;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	r->orig_rax = -1;
	lazy_arm(t);
	enter_lx(r, 0, 0, 0);
	lazy_end(t);
}

/* A fault in lx's own code: a bad user pointer, or lx's bug. */
void lx_guest_lx_fault(int sig, void *info, void *ucp)
{
	ucontext_t *uc = ucp;
	char msg[160];
	int n;

	if (lx_uaccess_fault(ucp))
		return;
	n = snprintf(msg, sizeof(msg),
		     "lx: signal %d in lx's own code at %#llx (address %p)\n",
		     sig, (unsigned long long)uc->uc_mcontext.gregs[REG_RIP],
		     ((siginfo_t *)info)->si_addr);
	if (write(2, msg, n) < 0)
		return;
	/* the default action, when the fault comes again */
	signal(sig, SIG_DFL);
}

/*
 * A rewritten site's call (lx_fast_entry); regs->rax gets the result.
 * The program's vector and x87 state must survive it, as they survive a
 * syscall instruction: calls lx serves are saved lazily (lx_fpu_lazy),
 * the host-side ones (memory, clone: host libc) first.
 */
void lx_guest_fast(struct pt_regs *r)
{
	unsigned long nr = r->orig_rax;
	struct lx_thread *t;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	if (nr < 1024 && host_side[nr] != 1) {
		lazy_arm(t);
		r->rax = host_side[nr] ? guest_call(t, r) : call_lx(r);
		lazy_end(t);
		return;
	}
	xsave(t->xsave);
	r->rax = guest_call(t, r);
	xrstor(t->xsave);
}

/*
 * A call from the page at 0 (zpoline.c, entry.S's lx_zpoline_entry): a
 * system call if it came from a site lx made; else a call (or jump)
 * through a pointer below 4096, which natively faults at the pointer, the
 * return address pushed - lx gives the program that fault, with its
 * registers as they were (rcx and r11 too, kept in the thread block on
 * the way in), at the pointer if it can tell (lx_zpoline_target()).
 */
void lx_guest_zpoline(struct pt_regs *r)
{
	struct lx_thread *t;

	if (lx_zpoline_site(r->rip - 2)) {
		lx_guest_fast(r);
		return;
	}
	__asm__ volatile("mov %%gs:0, %0" : "=r"(t));
	r->rax = r->orig_rax;
	r->r11 = t->zp_r11;
	r->rsp -= 8;
	r->rip = lx_zpoline_target(r, t->zp_rcx, r->rip);
	r->rcx = t->zp_rcx;
	r->orig_rax = -1;
	fetch_fault(r->rip);
	lazy_arm(t);
	enter_lx(r, fault.sig, fault.code, fault.addr);
	lazy_end(t);
}

/* The kernel's sigaction, for SA_RESTORER with lx's own restorer. */
struct k_sigaction {
	void (*handler)(int, void *, void *);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

/* An XSAVE area for every state component the host enabled. */
static void *xsave_area(void)
{
	unsigned int eax, ebx, ecx, edx;
	void *p;

	if (!__get_cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx) || !ebx)
		return NULL;
	/* the header must start zeroed for XRSTOR */
	p = aligned_alloc(64, (ebx + 63) & ~63U);
	if (p)
		memset(p, 0, ebx);
	return p;
}

/*
 * Make the calling host thread a program thread: its block in GS, an
 * alternate stack for the gate, SIGSYS to the gate, and Syscall User
 * Dispatch on (selector "allow" until the program starts).
 */
int lx_guest_thread_init(struct lx_thread *t)
{
	struct k_sigaction sa = {
		.handler = lx_sigsys_entry,
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
		.restorer = lx_sigsys_restorer,
		/* faults stay deliverable: lx's uaccess fixup needs SIGSEGV */
		.mask = ~0UL & ~(1UL << (SIGSEGV - 1)) & ~(1UL << (SIGBUS - 1)) &
			~(1UL << (SIGFPE - 1)) & ~(1UL << (SIGILL - 1)) &
			~(1UL << (SIGTRAP - 1)),
	};
	static const int faults[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
				      SIGTRAP };
	static const int cpu_sigs[] = { SIGVTALRM, SIGPROF, SIGXCPU,
					LX_CPUTIMER_SIGNO };
	unsigned long long park_mask;
	unsigned int i;
	stack_t ss;
	uint64_t fs;

	t->self = t;
	t->selector = 0;
	t->zp_entry = lx_zpoline_entry;
	__asm__ volatile("rdfsbase %0" : "=r"(fs));
	t->lx_fs = fs;
	/*
	 * Two stacks of lx's: the alternate signal stack, where the host
	 * puts the gate's, the fault handler's and the kick handler's frames
	 * when the thread runs the program's code, and the fast path's.
	 * They must differ: a host signal that comes while lx's code runs
	 * on a kernel stack (a fault on a bad user pointer, a kick) gets its
	 * frame at the top of the alternate stack, which must then hold
	 * nothing live.  SS_AUTODISARM: inside the handlers themselves such
	 * signals go on the stack in use instead (below the handler's own
	 * frames, or on the kernel stack).
	 */
	t->altstack = mmap(NULL, 2 * ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->altstack == MAP_FAILED)
		return -errno;
	t->altstack_size = ALTSTACK_SIZE;
	t->stack_top = (uint64_t)t->altstack + 2 * ALTSTACK_SIZE;
	t->xsave = xsave_area();
	if (!t->xsave)
		return -ENOMEM;
	ss.ss_sp = t->altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = SS_AUTODISARM;
	if (sigaltstack(&ss, NULL))
		return -errno;
	__asm__ volatile("wrgsbase %0" : : "r"(t));
	if (syscall(SYS_rt_sigaction, SIGSYS, &sa, NULL, 8))
		return -errno;
	/*
	 * The program's faults go to lx, which delivers them to the
	 * program's handlers; lx's own faults (bad user pointers) are fixed
	 * up.  SA_NODEFER: a handler that calls into lx may meet the latter.
	 */
	sa.handler = lx_fault_entry;
	/* lx's own host calls (a homefd recvmsg) go on after a kick */
	sa.flags |= SA_NODEFER | SA_RESTART;
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		if (syscall(SYS_rt_sigaction, faults[i], &sa, NULL, 8))
			return -errno;
	/* a signal for the thread while it runs the program's code */
	sa.handler = lx_kick_entry;
	sa.flags &= ~SA_NODEFER;
	if (syscall(SYS_rt_sigaction, LX_KICK_SIGNAL, &sa, NULL, 8))
		return -errno;
	/*
	 * the host's CPU-time limits of the process (guest_cputime()): sent
	 * to the process, they must reach a thread that runs, not one asleep
	 * in lx, which would only note them
	 */
	park_mask = 0;
	for (i = 0; i < sizeof(cpu_sigs) / sizeof(cpu_sigs[0]); i++) {
		if (syscall(SYS_rt_sigaction, cpu_sigs[i], &sa, NULL, 8))
			return -errno;
		park_mask |= 1ULL << (cpu_sigs[i] - 1);
	}
	lx_park_block_signals(park_mask);
	if (lx_kick_me())
		return -EIO;
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
		  (unsigned long)lx_gate_start,
		  (unsigned long)(lx_gate_end - lx_gate_start),
		  &t->selector))
		return -errno;
	return 0;
}
