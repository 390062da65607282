/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guest.h - running unmodified x86-64 programs on lx (DESIGN.md decisions
 * 6 and 7): the per-thread block, the system call gate, the loader.
 */
#ifndef _LX_GUEST_H
#define _LX_GUEST_H

/* Offsets in struct lx_thread, for entry.S (checked in dispatch.c). */
#define LX_THREAD_SELF 0
#define LX_THREAD_PROG_FS 8
#define LX_THREAD_LX_FS 16
#define LX_THREAD_SELECTOR 24
#define LX_THREAD_PROG_SP 32
#define LX_THREAD_RET_RIP 40
#define LX_THREAD_STACK_TOP 48
#define LX_THREAD_XSAVE 56
#define LX_THREAD_KICK 64
#define LX_THREAD_ZP_ENTRY 72
#define LX_THREAD_ZP_RCX 80
#define LX_THREAD_ZP_R11 88
/* the interrupted rip in a host signal handler's ucontext_t */
#define UC_RIP 168
/* LX_KICK_SIGNAL (lx.h), for entry.S */
#define LX_KICK_SIGNO 23
/* the host signal of the program's CPU-clock timers (SIGRTMAX) */
#define LX_CPUTIMER_SIGNO 64
/* si_value in a siginfo_t of a timer */
#define SI_VALUE 24

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>

struct pt_regs;

/*
 * lx's block of a program thread, reached through GS base (programs'
 * libcs and Go do not use GS).  The offsets are used by entry.S.
 */
struct lx_thread {
	struct lx_thread *self;		/* 0: %gs:0 gives the block */
	uint64_t prog_fs;		/* 8: the program's FS base */
	uint64_t lx_fs;			/* 16: lx's own FS base (host TLS) */
	volatile uint8_t selector;	/* 24: SUD: 0 allow, 1 block */
	uint8_t pad[7];
	uint64_t prog_sp;		/* 32: the program's rsp (fast path) */
	uint64_t ret_rip;		/* 40: where the fast path returns */
	uint64_t stack_top;		/* 48: lx's stack for the fast path */
	void *xsave;			/* 56: vector state (XSAVE area) */
	volatile uint8_t kick;		/* 64: kicked in lx: check on the way out */
	uint8_t trapped;		/* in the SIGSYS handler (kicks blocked) */
	uint8_t pad2[6];
	void *zp_entry;			/* 72: lx_zpoline_entry (zpoline.c) */
	uint64_t zp_rcx, zp_r11;	/* 80, 88: the program's, there */
	void *altstack;
	size_t altstack_size;
	void *exit_jb[5];		/* a thread's way out (spawn_thread()) */
	uint8_t has_exit_jb;
};

/* entry.S */
extern char lx_gate_start[], lx_gate_end[];
void lx_sigsys_entry(int sig, void *info, void *uc);
void lx_sigsys_restorer(void);
void lx_guest_jump(uint64_t entry, uint64_t sp) __attribute__((noreturn));
void lx_fast_entry(void);
void lx_zpoline_entry(void);
void lx_fault_entry(int sig, void *info, void *uc);
void lx_kick_entry(int sig, void *info, void *uc);
extern char lx_fast_jne[], lx_fast_popf[], lx_fast_movrsp[], lx_fast_jmp[];
long lx_wait_call(const long call[7]);
/*
 * Host signals for the process's CPU time (SIGVTALRM, SIGPROF, SIGXCPU)
 * that lx has not been told of yet: a bit per signal (entry.S sets them).
 */
extern unsigned int lx_host_sigs;
/* the CPU-clock timers (a bit per slot) that fired since lx was told */
extern unsigned int lx_cputimers_fired;

/* The registers a new thread starts with (offsets used by entry.S). */
struct lx_start {
	uint64_t rbx, rbp, r12, r13, r14, r15, r8, r9, r10, rdx, rsi, rdi;
	uint64_t rsp, rip;
};
void lx_guest_resume(const struct lx_start *s) __attribute__((noreturn));

/* dispatch.c */
int lx_guest_thread_init(struct lx_thread *t);
void lx_guest_sigsys(int sig, void *info, void *uc);
void lx_guest_user_fault(int sig, void *info, void *uc);
void lx_guest_lx_fault(int sig, void *info, void *uc);
void lx_guest_kick(int sig, void *info, void *uc);
void lx_guest_pending(struct pt_regs *r);
void lx_guest_set_brk(uint64_t start);
void lx_guest_umap(long op, uint64_t start, uint64_t len, long prot,
		   long fd, uint64_t arg);
void lx_guest_fast(struct pt_regs *r);
void lx_guest_zpoline(struct pt_regs *r);

/* homefd.c */
int lx_homefd_start(void);
void lx_homefd_forked(int in_program);
/*
 * A host fd of the virtio-fs file behind lx fd lx_fd (O_RDONLY or O_RDWR),
 * from the home process; shared: for a MAP_SHARED mapping (lx's reads of
 * the file then see its stores).  -EINVAL if not on virtio-fs.
 */
int lx_homefd_fs(long lx_fd, int flags, int shared);
/*
 * The syscall sites of len bytes from off of the ELF file behind lx fd
 * lx_fd (on virtio-fs), from the home process's cache or its sweep of the
 * host file (rewrite.c's reply, at most max bytes, in reply): its size,
 * or -errno.  name is for --debug.
 */
long lx_homefd_sites(long lx_fd, uint64_t off, uint64_t len,
		     const char *name, void *reply, size_t max);
/* the most a reply holds: a seqpacket message well within a socket's buffer */
#define LX_HOMEFD_REPLY_MAX (60 << 10)

/* zpoline.c */
extern int lx_zpoline_wanted, lx_zpoline_on;
void lx_zpoline_read_min_addr(void);
int lx_zpoline_start(void);
int lx_zpoline_add(uint8_t *site);
int lx_zpoline_site(uint64_t site);
int lx_zpoline_guard(long nr, const uint64_t a[5]);
int lx_zpoline_stray(const void *uc, int sig, uint64_t *at);
int lx_zpoline_fault(const void *uc, int sig, uint64_t *nr, uint64_t *ret,
		     uint64_t *sp);
uint64_t lx_zpoline_target(const struct pt_regs *r, uint64_t rcx,
			   uint64_t ret);

/* confine.c */
int lx_guest_confine(void);

/* rewrite.c */
/* the site cache, O_RDWR | O_APPEND: the home process's (lxexec opens it) */
extern int lx_rewrite_cache_fd;
extern int lx_rewrite_debug;	/* say which path each site takes */
extern int lx_rewrite_enabled;	/* 0: every site stays trapped */
/* load the disassembler (capstone) the sweeps need: 0 or -ENOENT */
int lx_rewrite_preload(void);
void lx_rewrite(long fd, uint64_t file_off, void *text, size_t len,
		const char *name);
long lx_rewrite_sites_host(int fd, uint64_t file_off, uint64_t len,
			   const char *name, void *reply, size_t max);

/* loader.c */
struct lx_image {
	uint64_t entry;		/* where the program starts */
	uint64_t sp;		/* its initial stack pointer */
	uint64_t brk;		/* end of its data: the program break */
};
int lx_guest_load(const char *path, char *const argv[], char *const envp[],
		  struct lx_image *img, char *err, size_t errlen);

#endif

#endif /* _LX_GUEST_H */
