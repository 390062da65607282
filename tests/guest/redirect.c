// SPDX-License-Identifier: GPL-2.0
/*
 * redirect.c - a static program the redirection tests (t-redirect) run
 * inside lx and natively.
 *
 *   redirect regs FILE PROGRAM
 *                        sentinels in the vector registers (zmm0-31 with
 *                        AVX-512, else ymm0-15), in general registers, the
 *                        x87 control word and MXCSR must survive getppid,
 *                        a read that blocks, an open of FILE (on lx: a
 *                        virtio-fs request, through a device register) and
 *                        an executable mapping of PROGRAM (on lx: served
 *                        by host code, which rewrites its sites)
 *   redirect reach       a system call from code written at run time, and
 *                        numbers out of range (-1, 1000, lx's private ones)
 *   redirect bypass      (inside lx only) raw host system calls past lx:
 *                        which numbers the host's seccomp filter lets by
 *   redirect wait [N]    make and join N threads (default none), say
 *                        "ready", wait until stdin closes
 *   redirect sigfp       the sentinels around a tgkill of itself whose
 *                        handler changes vector, x87 and MXCSR state
 *   redirect inside      getpid through a site a branch lands inside of
 *                        (lx must leave it trapped), the branch taken
 *   redirect zpoline     numbers through a site no jump can take (lx
 *                        --zpoline makes it a call through address 0),
 *                        calls through null and small pointers in rax
 *                        and rdx, a store through one
 *   redirect zploop N    the time of N getppid calls through that site
 *
 * Each system call is "mov $NR, %eax; syscall" in one asm block, the
 * pattern lx rewrites; the program says whether its site was rewritten
 * (the mov became a jump: "site=rewritten") or not ("site=original").
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static int avx512;

/*
 * Everything one call needs, reached through r12 (which a system call
 * keeps).  gin holds the sentinels, or the arguments in r8-r10 (a system
 * call keeps those too).  Offsets are used by the asm below.
 */
struct blk {
	uint8_t in[32][64];		/* 0: vector sentinels */
	uint8_t out[32][64];		/* 2048: vector registers after */
	uint64_t gin[7];		/* 4096: rbx r8 r9 r10 r13 r14 r15 */
	uint64_t gout[7];		/* 4152 */
	uint32_t cw_in, mxcsr_in;	/* 4208, 4212 */
	uint32_t cw_out, mxcsr_out;	/* 4216, 4220 */
	uint32_t cw_saved, mxcsr_saved;	/* 4224, 4228 */
	uint8_t *site;			/* 4232: the address of the mov */
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct blk, gin) == 4096, "layout");
_Static_assert(offsetof(struct blk, cw_in) == 4208, "layout");
_Static_assert(offsetof(struct blk, site) == 4232, "layout");

#define TEST_CW 0x0e7f		/* round toward zero, 64-bit precision */
#define TEST_MXCSR 0xff80	/* FZ, round toward zero, all masked */

#define LOAD_ZMM(n) "vmovdqu64 " #n "*64(%%r12), %%zmm" #n "\n\t"
#define SAVE_ZMM(n) "vmovdqu64 %%zmm" #n ", 2048+" #n "*64(%%r12)\n\t"
#define LOAD_YMM(n) "vmovdqu " #n "*64(%%r12), %%ymm" #n "\n\t"
#define SAVE_YMM(n) "vmovdqu %%ymm" #n ", 2048+" #n "*64(%%r12)\n\t"
#define ALL16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) \
	X(10) X(11) X(12) X(13) X(14) X(15)
#define ALL32(X) ALL16(X) X(16) X(17) X(18) X(19) X(20) X(21) X(22) \
	X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)

/* "mov $NR, %eax; syscall" with the sentinels in place around it */
#define CALL_WITH_SENTINELS(LOADS, SAVES)				\
	__asm__ volatile(						\
		"fnstcw 4224(%%r12)\n\t"				\
		"stmxcsr 4228(%%r12)\n\t"				\
		"fldcw 4208(%%r12)\n\t"					\
		"ldmxcsr 4212(%%r12)\n\t"				\
		LOADS							\
		"mov 4096+0*8(%%r12), %%rbx\n\t"			\
		"mov 4096+1*8(%%r12), %%r8\n\t"				\
		"mov 4096+2*8(%%r12), %%r9\n\t"				\
		"mov 4096+3*8(%%r12), %%r10\n\t"			\
		"mov 4096+4*8(%%r12), %%r13\n\t"			\
		"mov 4096+5*8(%%r12), %%r14\n\t"			\
		"mov 4096+6*8(%%r12), %%r15\n\t"			\
		"lea 1f(%%rip), %%rax\n\t"				\
		"mov %%rax, 4232(%%r12)\n\t"				\
		"1: mov %[nr], %%eax\n\t"				\
		"syscall\n\t"						\
		"mov %%rbx, 4152+0*8(%%r12)\n\t"			\
		"mov %%r8, 4152+1*8(%%r12)\n\t"				\
		"mov %%r9, 4152+2*8(%%r12)\n\t"				\
		"mov %%r10, 4152+3*8(%%r12)\n\t"			\
		"mov %%r13, 4152+4*8(%%r12)\n\t"			\
		"mov %%r14, 4152+5*8(%%r12)\n\t"			\
		"mov %%r15, 4152+6*8(%%r12)\n\t"			\
		SAVES							\
		"fnstcw 4216(%%r12)\n\t"				\
		"stmxcsr 4220(%%r12)\n\t"				\
		"fldcw 4224(%%r12)\n\t"					\
		"ldmxcsr 4228(%%r12)\n\t"				\
		"vzeroupper\n\t"					\
		: "=&a"(ret), "+D"(a0), "+S"(a1), "+d"(a2)		\
		: "r"(r12), [nr] "i"(NR)				\
		: "rbx", "rcx", "r8", "r9", "r10", "r11", "r13",	\
		  "r14", "r15", "memory", "cc",				\
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",	\
		  "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",	\
		  "xmm12", "xmm13", "xmm14", "xmm15")

#define DEFINE_CALL(name, NRV)						\
	static long name(struct blk *b, long a0, long a1, long a2)	\
	{								\
		register struct blk *r12 __asm__("r12") = b;		\
		enum { NR = NRV };					\
		long ret;						\
									\
		if (avx512)						\
			CALL_WITH_SENTINELS(ALL32(LOAD_ZMM),		\
					    ALL32(SAVE_ZMM));		\
		else							\
			CALL_WITH_SENTINELS(ALL16(LOAD_YMM),		\
					    ALL16(SAVE_YMM));		\
		return ret;						\
	}

DEFINE_CALL(call_getppid, SYS_getppid)
DEFINE_CALL(call_read, SYS_read)
DEFINE_CALL(call_open, SYS_open)
DEFINE_CALL(call_mmap, SYS_mmap)

static void fill(struct blk *b, int seed)
{
	int i, j;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < 32; i++)
		for (j = 0; j < 64; j++)
			b->in[i][j] = (uint8_t)(seed * 131 + i * 64 + j * 7 + 1);
	for (i = 0; i < 7; i++)
		b->gin[i] = 0x5a5a000000000011ULL | (uint64_t)(i + seed) << 8;
	b->cw_in = TEST_CW;
	b->mxcsr_in = TEST_MXCSR;
}

static void check(const char *what, long ret, const struct blk *b)
{
	int nvec = avx512 ? 32 : 16, width = avx512 ? 64 : 32, i, bad = 0;

	for (i = 0; i < nvec; i++)
		if (memcmp(b->in[i], b->out[i], width)) {
			printf("%s: %smm%d changed\n", what,
			       avx512 ? "z" : "y", i);
			bad = 1;
		}
	for (i = 0; i < 7; i++)
		if (b->gin[i] != b->gout[i]) {
			printf("%s: general register %d changed\n", what, i);
			bad = 1;
		}
	if ((b->cw_out & 0xffff) != TEST_CW) {
		printf("%s: x87 control word %#x\n", what, b->cw_out & 0xffff);
		bad = 1;
	}
	if (b->mxcsr_out != TEST_MXCSR) {
		printf("%s: MXCSR %#x\n", what, b->mxcsr_out);
		bad = 1;
	}
	printf("%s: %s (%s) site=%s\n", what, bad ? "FAILED" : "ok",
	       ret >= 0 ? "no error" : strerror(-ret),
	       b->site[0] == 0xe9 ? "rewritten" : "original");
}

static int pipefd[2];

static void *late_writer(void *arg)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	(void)arg;
	nanosleep(&ts, NULL);
	if (write(pipefd[1], "x", 1) != 1)
		abort();
	return NULL;
}

static int regs(const char *file, const char *self)
{
	static struct blk b;
	pthread_t th;
	char c;
	long r;
	int fd;

	fill(&b, 1);
	r = call_getppid(&b, 0, 0, 0);
	check("getppid", r, &b);

	if (pipe(pipefd) || pthread_create(&th, NULL, late_writer, NULL))
		return 1;
	fill(&b, 2);
	r = call_read(&b, pipefd[0], (long)&c, 1);
	check("blocking read", r, &b);
	pthread_join(th, NULL);

	fill(&b, 3);
	r = call_open(&b, (long)file, O_RDONLY, 0);
	check("open", r, &b);

	/*
	 * An executable mapping of a program file: on lx the host side maps
	 * it and rewrites its sites (host libc runs on this thread).
	 */
	fd = open(self, O_RDONLY);
	fill(&b, 4);
	b.gin[1] = fd;		/* r8: fd */
	b.gin[2] = 0;		/* r9: offset */
	b.gin[3] = MAP_PRIVATE;	/* r10: flags */
	r = call_mmap(&b, 0, 1 << 20, PROT_READ | PROT_EXEC);
	check("mmap of a program", r < 0 && r > -4096 ? r : 0, &b);
	return 0;
}

/*
 * A signal handler that changes vector and x87 state, run at the end of
 * a system call (tgkill of self): the interrupted code's state must come
 * back when it returns.
 */
static volatile int handled;

static void clobber_handler(int sig)
{
	(void)sig;
	__asm__ volatile("vpxor %%xmm0, %%xmm0, %%xmm0\n\t"
			 "vpcmpeqb %%ymm1, %%ymm1, %%ymm1\n\t"
			 "vpcmpeqb %%ymm15, %%ymm15, %%ymm15\n\t"
			 "fninit\n\t"
			 "ldmxcsr %0\n\t"
			 : : "m"((uint32_t){ 0x1f80 })
			 : "xmm0", "xmm1", "xmm15", "memory");
	handled++;
}

DEFINE_CALL(call_tgkill, SYS_tgkill)

static int sigfp(void)
{
	static struct blk b;
	struct sigaction sa = { .sa_handler = clobber_handler };
	long r;

	sigaction(SIGUSR1, &sa, NULL);
	fill(&b, 5);
	r = call_tgkill(&b, getpid(), gettid(), SIGUSR1);
	check("a handler at the end of tgkill", r, &b);
	printf("handled: %d\n", handled);
	return 0;
}

/* getpid from code written into an anonymous page at run time */
static int reach(void)
{
	static const uint8_t code[] = {
		0xb8, SYS_getpid, 0, 0, 0,	/* mov $SYS_getpid, %eax */
		0x0f, 0x05,			/* syscall */
		0xc3,				/* ret */
	};
	static const long nrs[] = { -1, 1000, 1023, 0x4c580001, 0x4c580002,
				    0x40000000 + SYS_getpid };
	long (*fn)(void);
	unsigned int i;
	void *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof(code));
	fn = (long (*)(void))p;
	printf("jit getpid %s\n", fn() == getpid() ? "same" : "differs");
	printf("jit site %s\n", ((uint8_t *)p)[0] == 0xb8 ? "original" :
							  "rewritten");
	{
		/* a bad pointer on the trapped path: EFAULT, lx goes on */
		static const uint8_t raw[] = {
			0x48, 0x89, 0xf8,	/* mov %rdi, %rax */
			0x48, 0x89, 0xf7,	/* mov %rsi, %rdi */
			0x0f, 0x05,		/* syscall */
			0xc3,			/* ret */
		};
		long (*call1)(long, long) = (long (*)(long, long))((char *)p + 64);

		memcpy((char *)p + 64, raw, sizeof(raw));
		printf("jit uname(bad pointer): %s\n",
		       call1(SYS_uname, 16) == -EFAULT ? "EFAULT" : "other");
	}
	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		long r = syscall(nrs[i], 0, 0, 0, 0, 0, 0);

		printf("syscall %#lx: %ld %s\n", nrs[i], r,
		       r < 0 ? strerror(errno) : "");
	}
	return 0;
}

/*
 * A program that bypasses the redirection on purpose: it switches Syscall
 * User Dispatch to "allow" through lx's thread block (selector at %gs:24,
 * in its address space) and makes raw system calls from an anonymous
 * page.  They reach the host, whose seccomp filter must answer ENOSYS to
 * all but lx's documented few.  Prints the numbers that got any other
 * answer, then what int $0x80 and an x32 number got.
 */
static int bypass(void)
{
	static const uint8_t code[] = {
		0x48, 0x89, 0xf8,			/* mov %rdi, %rax */
		0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff, /* mov $-1, %rdi */
		0x48, 0x89, 0xfe,			/* mov %rdi, %rsi */
		0x48, 0x89, 0xfa,			/* mov %rdi, %rdx */
		0x49, 0x89, 0xfa,			/* mov %rdi, %r10 */
		0x49, 0x89, 0xf8,			/* mov %rdi, %r8 */
		0x49, 0x89, 0xf9,			/* mov %rdi, %r9 */
		0x0f, 0x05,				/* syscall */
		0xc3,					/* ret */
		0x48, 0x89, 0xf8,			/* 28: mov %rdi, %rax */
		0xcd, 0x80,				/* int $0x80 */
		0xc3,					/* ret */
	};
	/*
	 * Would end or replace this thread, or block, if let through; and
	 * the host's uretprobe (335) and uprobe (336), which seccomp lets
	 * through by design (Linux 6.12 on) and which kill a caller that is
	 * not their own trampoline with SIGILL.
	 */
	static const long skip[] = { SYS_rt_sigreturn, SYS_exit,
				     SYS_exit_group, SYS_clone, SYS_fork,
				     SYS_vfork, SYS_pause, SYS_rt_sigsuspend,
				     SYS_clone3, 335, 336 };
	static long res[1026], tiocsti;
	long (*raw)(long);
	unsigned int i, j;
	uint8_t *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof(code));
	raw = (long (*)(long))p;
	__asm__ volatile("movb $0, %%gs:24" ::: "memory");
	for (i = 0; i < 1024; i++) {
		res[i] = -ENOSYS;
		for (j = 0; j < sizeof(skip) / sizeof(skip[0]); j++)
			if (skip[j] == (long)i)
				break;
		if (j == sizeof(skip) / sizeof(skip[0]))
			res[i] = raw(i);
	}
	res[1024] = raw(0x40000000 | SYS_getpid);	/* x32 */
	res[1025] = ((long (*)(long))(p + 28))(20);	/* i386 getpid */
	{
		/* typing into the engine's terminal: refused */
		static const uint8_t raw3[] = {
			0x48, 0x89, 0xf8,	/* mov %rdi, %rax */
			0x48, 0x89, 0xf7,	/* mov %rsi, %rdi */
			0x48, 0x89, 0xd6,	/* mov %rdx, %rsi */
			0x48, 0x89, 0xca,	/* mov %rcx, %rdx */
			0x0f, 0x05,		/* syscall */
			0xc3,			/* ret */
		};
		char c = ' ';

		memcpy(p + 64, raw3, sizeof(raw3));
		tiocsti = ((long (*)(long, long, long, long))(p + 64))(
			SYS_ioctl, 0, 0x5412 /* TIOCSTI */, (long)&c);
	}
	__asm__ volatile("movb $1, %%gs:24" ::: "memory");
	printf("reached:");
	for (i = 0; i < 1024; i++)
		if (res[i] != -ENOSYS)
			printf(" %u", i);
	printf("\nx32 %ld\nint80 %ld\ntiocsti %ld\n", res[1024], res[1025],
	       tiocsti);
	return 0;
}

/*
 * getpid through "mov $37, %eax; 1: inc %eax; inc %eax; syscall", whose
 * jnz (taken if the argument is not 0) lands at the first inc, inside the
 * bytes a rewrite would replace: the site must stay trapped.  t-redirect
 * makes a copy of this program whose jnz lands at the mov instead (the
 * bytes 75 05 become 75 00), which leaves its build-id as it was, and
 * checks that lx never takes that copy's verified site for this one.
 */
long inside_call(long jump);
extern const uint8_t inside_site[];
__asm__(".text\n"
	".globl inside_call\n"
	".type inside_call, @function\n"
	"inside_call:\n\t"
	"mov $37, %eax\n\t"
	"test %rdi, %rdi\n\t"
	"jnz 1f\n"
	".globl inside_site\n"
	"inside_site:\n\t"
	"mov $37, %eax\n"
	"1:\tinc %eax\n\t"
	"inc %eax\n\t"
	"syscall\n\t"
	"ret\n"
	".size inside_call, .-inside_call\n");

static int inside(void)
{
	long a = inside_call(0), b = inside_call(1);

	printf("inside getpid %s site=%s\n",
	       a == getpid() && b == a ? "same" : "differs",
	       inside_site[0] == 0xe9 ? "rewritten" : "original");
	return 0;
}

/*
 * A syscall no jump can take - a branch lands on it, a jump follows it -
 * which lx --zpoline makes "call *%rax": getppid, and numbers past the
 * nops at address 0 (the jump's own bytes, the page's end, beyond, a
 * kernel address, one not canonical: ENOSYS, as natively); then a call
 * through a null (and a small) pointer from code lx did not make: the
 * fault at the pointer, the return address pushed, as natively.
 */
long zp_call(long nr, long a0);
extern const uint8_t zp_site[];
__asm__(".text\n"
	".globl zp_call\n"
	".type zp_call, @function\n"
	"zp_call:\n\t"
	"mov %rdi, %rax\n\t"
	"mov %rsi, %rdi\n\t"
	"jmp 1f\n"
	"1:\n"
	".globl zp_site\n"
	"zp_site:\n\t"
	"syscall\n\t"
	"jmp 2f\n"
	"2:\tret\n"
	".size zp_call, .-zp_call\n");

void null_call(long target);
extern const uint8_t null_ret[];
__asm__(".text\n"
	".globl null_call\n"
	".type null_call, @function\n"
	"null_call:\n\t"
	"mov %rdi, %rax\n\t"
	"call *%rax\n"
	".globl null_ret\n"
	"null_ret:\n\t"
	"ret\n"
	".size null_call, .-null_call\n");

/* the same through rdx, with rax at a nop of the page's */
void null_call_rdx(long target);
extern const uint8_t null_ret_rdx[];
__asm__(".text\n"
	".globl null_call_rdx\n"
	".type null_call_rdx, @function\n"
	"null_call_rdx:\n\t"
	"mov %rdi, %rdx\n\t"
	"mov $5, %eax\n\t"
	"call *%rdx\n"
	".globl null_ret_rdx\n"
	"null_ret_rdx:\n\t"
	"ret\n"
	".size null_call_rdx, .-null_call_rdx\n");

static sigjmp_buf zp_jb;
static volatile uint64_t zp_addr, zp_rip, zp_ret;
static volatile int zp_code;

static void zp_segv(int sig, siginfo_t *si, void *ucp)
{
	ucontext_t *uc = ucp;

	(void)sig;
	zp_addr = (uint64_t)si->si_addr;
	zp_code = si->si_code;
	zp_rip = uc->uc_mcontext.gregs[REG_RIP];
	zp_ret = *(uint64_t *)uc->uc_mcontext.gregs[REG_RSP];
	siglongjmp(zp_jb, 1);
}

static int zpoline(void)
{
	static const long nrs[] = { -1, 511, 512, 513, 514, 515, 516, 517,
				    518, 519, 520, 1000, 4095, 4096,
				    (1L << 40) + 1000, (1L << 47) + 1000,
				    0x40000000 + SYS_getppid };
	static const long targets[] = { 0, 8, 4000 };
	struct sigaction sa = { .sa_sigaction = zp_segv,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	unsigned int i;
	long r;

	printf("zpoline site=%s\n", zp_site[0] == 0xff ? "call" :
	       zp_site[0] == 0x0f ? "original" : "other");
	printf("getppid %s\n", zp_call(SYS_getppid, 0) == getppid() ?
	       "same" : "differs");
	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		r = zp_call(nrs[i], 0);
		printf("number %#lx: %ld\n", nrs[i], r);
	}
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		zp_addr = zp_rip = zp_ret = 1;
		if (!sigsetjmp(zp_jb, 1))
			null_call(targets[i]);
		printf("call through %#lx: fault at %#lx, rip %#lx, return "
		       "address %s\n", targets[i], (unsigned long)zp_addr,
		       (unsigned long)zp_rip,
		       zp_ret == (uint64_t)null_ret ? "pushed" : "wrong");
		zp_addr = zp_rip = zp_ret = 1;
		if (!sigsetjmp(zp_jb, 1))
			null_call_rdx(targets[i]);
		printf("call through %%rdx = %#lx: fault at %#lx, rip %#lx, "
		       "return address %s\n", targets[i],
		       (unsigned long)zp_addr, (unsigned long)zp_rip,
		       zp_ret == (uint64_t)null_ret_rdx ? "pushed" : "wrong");
	}
	/* a store through a small pointer: nothing is mapped there */
	zp_addr = 1;
	zp_code = 0;
	if (!sigsetjmp(zp_jb, 1)) {
		volatile int *volatile small = (volatile int *)16;

		*small = 1;
	}
	printf("store to 0x10: fault at %#lx, code %d\n",
	       (unsigned long)zp_addr, zp_code);
	return 0;
}

/* ns per getppid through the site no jump can take (a measurement) */
static int zploop(long n)
{
	struct timespec a, b;
	long i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		zp_call(SYS_getppid, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("getppid through the site: %.0f ns (site=%s)\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n,
	       zp_site[0] == 0xff ? "call" : "original");
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	unsigned int a, b, c, d;

	setvbuf(stdout, NULL, _IOLBF, 0);
	avx512 = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1 << 16));
	if (argc == 4 && !strcmp(argv[1], "regs"))
		return regs(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "reach"))
		return reach();
	if (argc == 2 && !strcmp(argv[1], "bypass"))
		return bypass();
	if (argc == 2 && !strcmp(argv[1], "sigfp"))
		return sigfp();
	if (argc == 2 && !strcmp(argv[1], "inside"))
		return inside();
	if (argc == 2 && !strcmp(argv[1], "zpoline"))
		return zpoline();
	if (argc == 3 && !strcmp(argv[1], "zploop"))
		return zploop(atol(argv[2]));
	if ((argc == 2 || argc == 3) && !strcmp(argv[1], "wait")) {
		/* until stdin closes: t-redirect looks at the processes */
		int i, n = argc == 3 ? atoi(argv[2]) : 0;
		pthread_t th;
		char c;

		for (i = 0; i < n; i++) {
			if (pthread_create(&th, NULL, nothing, NULL))
				return 1;
			pthread_join(th, NULL);
		}
		/* a file read: lx reads it through a host fd it keeps */
		i = open("/readme.txt", O_RDONLY);
		if (i >= 0) {
			char buf[64];

			if (read(i, buf, sizeof(buf)) < 0)
				return 1;
			close(i);
		}
		printf("ready\n");
		return read(0, &c, 1) < 0;
	}
	fprintf(stderr, "usage: redirect regs FILE PROGRAM | redirect reach | "
			"redirect bypass (in lx only)\n");
	return 2;
}
