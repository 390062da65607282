// SPDX-License-Identifier: GPL-2.0
/*
 * zpoline.c - the opt-in mode for the sites a jump cannot take (lxexec
 * --zpoline; DESIGN.md decision 6).
 *
 * rewrite.c turns a syscall site into a jump to a stub when the bytes
 * around it can move; the others (a branch lands among them, they are
 * branches themselves) stay trapped by Syscall User Dispatch, a SIGSYS
 * round trip of microseconds.  In this mode each of those syscall
 * instructions (0f 05) becomes "call *%rax" (ff d0), two bytes in place:
 * the call goes to the address that is the system call's number, and at
 * address 0 lx maps a page of nops that slide into a jump to lx (through
 * the thread block: %gs).  So it needs a mapping at address 0, which the
 * host allows only with vm.mmap_min_addr = 0 (or CAP_SYS_RAWIO): lx never
 * changes that sysctl itself; without it the mode says so and the sites
 * stay trapped.
 *
 * Why it is opt-in: the call stores its return address at the 8 bytes
 * below the stack pointer, which code may use (the x86-64 red zone) - no
 * compiler keeps anything there across a syscall it emits in asm with a
 * "memory" clobber, but hand-written code could.  And the page at 0 makes
 * a call through a null function pointer land in lx: lx checks the call
 * site (lx_zpoline_site()) and gives a call from anywhere else the fault
 * it gets natively.  Numbers past the nops (513 and up, invalid on
 * x86-64 anyway) fault or trap in the page or past its end;
 * lx_zpoline_fault() serves those as the system calls they are (lx says
 * -ENOSYS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <asm/ptrace.h>

#include <lx/host_ops.h>
#include "guest.h"

int lx_zpoline_wanted;	/* lxexec --zpoline */
int lx_zpoline_on;	/* the page is at 0: sites may be rewritten so */
long lx_zpoline_min_addr = -1;	/* the host's vm.mmap_min_addr, for errors */

/* Before the sandbox, which has no /proc/sys: the host's setting. */
void lx_zpoline_read_min_addr(void)
{
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");

	if (!f)
		return;
	if (fscanf(f, "%ld", &lx_zpoline_min_addr) != 1)
		lx_zpoline_min_addr = -1;
	fclose(f);
}

/*
 * The page at 0: nops to ZP_JMP, "jmp *%gs:LX_THREAD_ZP_ENTRY" there,
 * int3 after it.  x86-64's numbers end at 450 (Linux 6.1): a short sled
 * is a quick one.  Every other entry faults before anything is written
 * or the stack moves: the jump's bytes past its first (numbers 513-519)
 * decode to a jump through the nops at 0x48 (not a canonical address),
 * byte operations on %al, %ah and %eax and a store to the read-only page
 * (checked by hand for this offset), or reach an int3; 520-4095 are an
 * int3.
 */
#define ZP_PAGE 4096
#define ZP_JMP 512

_Static_assert(LX_THREAD_ZP_ENTRY == 0x48, "the jump's bytes were checked "
	       "for this offset");

/*
 * The addresses of the sites made calls, for the check at entry: open
 * addressing, never shrinking (a site of an unmapped library stays; a
 * call there is a system call only if its bytes are still "call *%rax"
 * and its target below 4096).  Readers take no lock: a slot is written
 * once, with a CAS.  A full table leaves new sites trapped.
 */
#define ZP_SLOTS 16384
static uint64_t *zp_sites;

static uint64_t zp_hash(uint64_t a)
{
	a ^= a >> 29;
	a *= 0xbf58476d1ce4e5b9ULL;
	return a ^ (a >> 32);
}

/*
 * Map the page at 0 (in the program process, before the program is
 * loaded).  0, or -errno: the host does not allow it (its reason said).
 */
int lx_zpoline_start(void)
{
	uint8_t *p;

	p = mmap(NULL, ZP_SLOTS * sizeof(*zp_sites), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	zp_sites = (uint64_t *)p;
	p = mmap(NULL, ZP_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != NULL) {
		int err = p == MAP_FAILED ? errno : EEXIST;

		if (p != MAP_FAILED)
			munmap(p, ZP_PAGE);	/* an old kernel: a hint */
		munmap(zp_sites, ZP_SLOTS * sizeof(*zp_sites));
		zp_sites = NULL;
		fprintf(stderr, "lxexec: --zpoline: the host does not allow a "
			"mapping at address 0 (%s; vm.mmap_min_addr is %ld): "
			"the sites a jump cannot take stay trapped\n",
			strerror(err), lx_zpoline_min_addr);
		return -err;
	}
	/* p is 0 here, which the compiler must not treat as "no object" */
	__asm__("" : "+r"(p));
	memset(p, 0x90, ZP_JMP);			/* nop */
	p[ZP_JMP] = 0x65;				/* %gs: */
	p[ZP_JMP + 1] = 0xff;				/* jmp *disp32 */
	p[ZP_JMP + 2] = 0x24;
	p[ZP_JMP + 3] = 0x25;
	p[ZP_JMP + 4] = LX_THREAD_ZP_ENTRY;
	p[ZP_JMP + 5] = p[ZP_JMP + 6] = p[ZP_JMP + 7] = 0;
	memset(p + ZP_JMP + 8, 0xcc, ZP_PAGE - ZP_JMP - 8);	/* int3 */
	/* execute-only where the CPU has protection keys; else readable */
	if (mprotect(p, ZP_PAGE, PROT_EXEC)) {
		int err = errno;

		munmap(p, ZP_PAGE);
		munmap(zp_sites, ZP_SLOTS * sizeof(*zp_sites));
		zp_sites = NULL;
		return -err;
	}
	lx_zpoline_on = 1;
	return 0;
}

/* Make the syscall instruction at site a call through %rax: 0 or -1. */
int lx_zpoline_add(uint8_t *site)
{
	uint64_t a = (uint64_t)site, i, h;

	if (!lx_zpoline_on || site[0] != 0x0f || site[1] != 0x05)
		return -1;
	for (i = 0, h = zp_hash(a); i < ZP_SLOTS; i++, h++) {
		uint64_t *slot = &zp_sites[h % ZP_SLOTS], old = 0;

		if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == a ||
		    __atomic_compare_exchange_n(slot, &old, a, 0,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED) ||
		    old == a) {
			/* known before the call is there to be made */
			site[0] = 0xff;
			site[1] = 0xd0;
			return 0;
		}
	}
	return -1;
}

/*
 * Read n bytes at a program address that may not be mapped (a library
 * gone, a stack pointer gone wild): 0, or -1 if it faulted.
 */
static int peek(uint64_t addr, void *buf, size_t n)
{
	return lx_copy_user(buf, (const void *)addr, n) ? -1 : 0;
}

/* Is site (a return address minus 2) one lx made? */
int lx_zpoline_site(uint64_t site)
{
	uint64_t i, h, v;
	uint8_t b[2];

	if (!lx_zpoline_on || site < ZP_PAGE)
		return 0;
	for (i = 0, h = zp_hash(site); i < ZP_SLOTS; i++, h++) {
		v = __atomic_load_n(&zp_sites[h % ZP_SLOTS], __ATOMIC_ACQUIRE);
		if (!v)
			return 0;
		if (v == site)
			return !peek(site, b, 2) && b[0] == 0xff &&
			       b[1] == 0xd0;
	}
	return 0;
}

/*
 * Where a call that came down the nops from no site of lx's was going:
 * the register of a "call *%reg" just before ret (r: the registers, rcx
 * as the program had it), else rax if it is in the nops (call *%rax, or
 * a jump through rax), else 0 (a call through memory: not known).
 */
uint64_t lx_zpoline_target(const struct pt_regs *r, uint64_t rcx,
			   uint64_t ret)
{
	const uint64_t regs[16] = { r->rax, rcx, r->rdx, r->rbx, r->rsp + 8,
				    r->rbp, r->rsi, r->rdi, r->r8, r->r9,
				    r->r10, r->r11, r->r12, r->r13, r->r14,
				    r->r15 };
	uint8_t b[3];

	if (ret >= 3 && !peek(ret - 3, b, 3) && b[1] == 0xff &&
	    b[2] >= 0xd0 && b[2] <= 0xd7)		/* ff /2, a register */
		return regs[(b[0] == 0x41 ? 8 : 0) + b[2] - 0xd0]; /* REX.B */
	return r->rax <= ZP_JMP ? r->rax : 0;
}

static int in_page(uint64_t rip, int sig)
{
	/* past the nops; 4096 only after the last int3 */
	return rip > ZP_JMP && (rip < ZP_PAGE ||
				(rip == ZP_PAGE && sig == SIGTRAP));
}

/*
 * A fault that is a site's call with a number past the nops: the call
 * pushed its return address and the fetch at the target faulted (the
 * number is rip, 4096 and up), or the page's bytes past the nops faulted
 * or trapped (513-4095: on their way they may have changed rax, so the
 * number said is rip, one of them or next to them), or the target was
 * not a canonical address and the call itself faulted, pushing nothing
 * (the number is rax).  Then *nr is the number, *ret where the system
 * call returns to and *sp the stack pointer after it: 1; else 0.
 */
int lx_zpoline_fault(const void *ucp, int sig, uint64_t *nr,
		     uint64_t *ret, uint64_t *sp)
{
	const ucontext_t *uc = ucp;
	const greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = g[REG_RIP], rsp = g[REG_RSP], rax = g[REG_RAX], top;

	if (!lx_zpoline_on)
		return 0;
	if ((rip == rax && rip >= ZP_PAGE) || in_page(rip, sig)) {
		if (peek(rsp, &top, sizeof(top)) || !lx_zpoline_site(top - 2))
			return 0;
		/* an int3 stops one byte on: rax is the number still */
		*nr = sig == SIGTRAP && rax == rip - 1 ? rax : rip;
		*ret = top;
		*sp = rsp + 8;
		return 1;
	}
	if (lx_zpoline_site(rip)) {
		*nr = g[REG_RAX];
		*ret = rip + 2;
		*sp = rsp;
		return 1;
	}
	return 0;
}

/*
 * A program's memory call that would touch the page at 0 - a fixed
 * mapping there, an unmap, protection change or move of it, a move onto
 * it - is refused with -EPERM (as a non-zero vm.mmap_min_addr refuses a
 * mapping there): 1 then, else 0.  a: the call's arguments.
 */
int lx_zpoline_guard(long nr, const uint64_t a[5])
{
	if (!lx_zpoline_on)
		return 0;
	switch (nr) {
	case SYS_mmap:
		return (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) &&
		       a[0] < ZP_PAGE && a[1];
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_madvise:
		return a[0] < ZP_PAGE && a[1];
	case SYS_mremap:
		return a[0] < ZP_PAGE ||
		       ((a[3] & MREMAP_FIXED) && a[4] < ZP_PAGE);
	}
	return 0;
}

/*
 * Code that is no site of lx's went into the page at 0 past the nops (a
 * call or jump through a small pointer; lx_zpoline_fault() said no):
 * natively a fault at where it went, which an int3 there is one byte
 * short of.  That address in *at: 1; else 0.
 */
int lx_zpoline_stray(const void *ucp, int sig, uint64_t *at)
{
	const ucontext_t *uc = ucp;
	uint64_t rip = uc->uc_mcontext.gregs[REG_RIP];

	if (!lx_zpoline_on || !in_page(rip, sig))
		return 0;
	*at = sig == SIGTRAP && rip > ZP_JMP + 8 ? rip - 1 : rip;
	return 1;
}
