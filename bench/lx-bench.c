// SPDX-License-Identifier: GPL-2.0
/*
 * lx-bench: measures lx (Linux 6.1 as a library in this process) side by
 * side with the host kernel, and prints a Markdown table of the results:
 *
 *   - boot: lx_start_kernel() to the first completed system call (getpid),
 *     each boot in its own fork()ed child (a kernel boots once per process);
 *   - the cost of one system call: getppid, fstat, and a 1-byte pipe
 *     write + read in one thread, through lx_syscall() vs the host's
 *     syscall(2);
 *   - getppid from two host threads at once (aggregate throughput);
 *   - a 1-byte ping-pong between two threads over two pipes;
 *   - the resident memory (PSS) that booting lx with mem=64M adds.
 *
 * Every timed figure is the median of several rounds, after a warm-up, timed
 * with the host's CLOCK_MONOTONIC; the rounds of lx and of the host
 * alternate, so that changes in the load of the machine hit both alike.
 * Progress goes to stderr, the results to stdout.  Nothing here checks a result against a target: the targets are
 * only printed next to the figures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>

#define BENCH_CMDLINE	"mem=64M"

#define __printf(a, b)	__attribute__((format(printf, a, b)))
#define __noreturn	__attribute__((noreturn))

#define MAX_ROUNDS	32
#define MAX_BOOTS	32

/* How much work a run does; --quick picks the smaller set. */
struct bench_cfg {
	int rounds;		/* timed rounds per measurement */
	double round_ns;	/* target length of one round */
	double calib_ns;	/* the warm-up grows until a run is this long */
	int boots;		/* timed boots (plus one warm-up boot) */
};

static const struct bench_cfg cfg_full = {
	.rounds = 9, .round_ns = 60e6, .calib_ns = 10e6, .boots = 9,
};

static const struct bench_cfg cfg_quick = {
	.rounds = 5, .round_ns = 10e6, .calib_ns = 2e6, .boots = 5,
};

static const struct bench_cfg *cfg = &cfg_full;

static __printf(1, 2) __noreturn
void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("lx-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static __printf(1, 2)
void progress(const char *fmt, ...)
{
	va_list ap;

	fputs("lx-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n); sorts v. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A system call through lx or on the host; the result or -errno. */
static long sys_lx(long nr, long a, long b, long c)
{
	return lx_syscall3(nr, a, b, c);
}

static long sys_host(long nr, long a, long b, long c)
{
	long ret = syscall(nr, a, b, c);

	return ret < 0 ? -errno : ret;
}

typedef long (*sys_fn)(long nr, long a, long b, long c);

static const char *errstr(long err)
{
	return lx_strerror(err);
}

/* A measurement: the median and the range of its rounds, in ns per op. */
struct result {
	double med, lo, hi;
};

/*
 * One measurement: run(ctx, n) does n operations and returns how long they
 * took in ns; lx_ctx makes them through lx, host_ctx on the host.  For each
 * side a warm-up doubles n until a run lasts calib_ns, which also sizes the
 * rounds to about round_ns each, then one more untimed round follows.  The
 * timed rounds alternate between lx and the host, so that a change in the
 * load of the machine hits both sides alike.
 */
typedef double (*run_fn)(void *ctx, long n);

static long calibrate(run_fn run, void *ctx)
{
	long n = 16;
	double t;

	for (;;) {
		t = run(ctx, n);
		if (t >= cfg->calib_ns || n >= (1L << 30))
			break;
		n *= 2;
	}
	n = (long)(n * (cfg->round_ns / (t > 0 ? t : 1)));
	if (n < 1)
		n = 1;
	run(ctx, n);
	return n;
}

static void summarize(struct result *r, double *per_round)
{
	r->med = median(per_round, cfg->rounds);
	r->lo = per_round[0];
	r->hi = per_round[cfg->rounds - 1];
}

static void measure(run_fn run, void *lx_ctx, void *host_ctx,
		    struct result *lx, struct result *host)
{
	double per_lx[MAX_ROUNDS], per_host[MAX_ROUNDS];
	long n_lx, n_host;
	int i;

	n_lx = calibrate(run, lx_ctx);
	n_host = calibrate(run, host_ctx);
	for (i = 0; i < cfg->rounds; i++) {
		per_lx[i] = run(lx_ctx, n_lx) / n_lx;
		per_host[i] = run(host_ctx, n_host) / n_host;
	}
	summarize(lx, per_lx);
	summarize(host, per_host);
}

/* ---- the table ---- */

struct row {
	char name[48];
	char lx[32];
	char host[32];
	char ratio[16];
	char note[160];
};

static struct row rows[16];
static int nr_rows;

static __printf(5, 6)
void add_row(const char *name, const char *lx, const char *host,
	     const char *ratio, const char *note_fmt, ...)
{
	struct row *r = &rows[nr_rows++];
	va_list ap;

	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->lx, sizeof(r->lx), "%s", lx);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->ratio, sizeof(r->ratio), "%s", ratio);
	va_start(ap, note_fmt);
	vsnprintf(r->note, sizeof(r->note), note_fmt, ap);
	va_end(ap);
}

/* ns as "123 ns", or as "1.23 µs" if in_us. */
static void fmt_time(char *buf, size_t size, double ns, int in_us)
{
	if (in_us)
		snprintf(buf, size, "%.2f µs", ns / 1e3);
	else
		snprintf(buf, size, "%.0f ns", ns);
}

/*
 * A row of two medians in ns per operation, shown in ns or in us; with
 * show_range, the note ends with the range of the rounds of both.
 */
static __printf(6, 7)
void add_time_row(const char *name, const struct result *l,
		  const struct result *h, int in_us, int show_range,
		  const char *note_fmt, ...)
{
	char lx[32], host[32], ratio[16], note[160], t[4][24];
	va_list ap;
	size_t len;

	fmt_time(lx, sizeof(lx), l->med, in_us);
	fmt_time(host, sizeof(host), h->med, in_us);
	snprintf(ratio, sizeof(ratio), "%.2fx", l->med / h->med);
	va_start(ap, note_fmt);
	vsnprintf(note, sizeof(note), note_fmt, ap);
	va_end(ap);
	len = strlen(note);
	if (show_range && len < sizeof(note)) {
		fmt_time(t[0], sizeof(t[0]), l->lo, in_us);
		fmt_time(t[1], sizeof(t[1]), l->hi, in_us);
		fmt_time(t[2], sizeof(t[2]), h->lo, in_us);
		fmt_time(t[3], sizeof(t[3]), h->hi, in_us);
		snprintf(note + len, sizeof(note) - len,
			 "; rounds: lx %s-%s, host %s-%s",
			 t[0], t[1], t[2], t[3]);
	}
	add_row(name, lx, host, ratio, "%s", note);
}

static void print_table(void)
{
	int i;

	printf("| benchmark | lx | host | ratio lx/host | note |\n");
	printf("|---|--:|--:|--:|---|\n");
	for (i = 0; i < nr_rows; i++)
		printf("| %s | %s | %s | %s | %s |\n", rows[i].name,
		       rows[i].lx, rows[i].host, rows[i].ratio, rows[i].note);
}

static const char *met(int ok)
{
	return ok ? "met" : "not met";
}

/* ---- boot ---- */

struct boot_report {
	long err;
	double ns;
};

/* In a fork()ed child: boot, getpid, report the time through fd. */
static void __noreturn boot_child(int fd)
{
	struct boot_report rep = { 0, 0 };
	double t0 = now_ns();
	long ret;

	ret = lx_start_kernel(BENCH_CMDLINE);
	if (ret == 0)
		ret = lx_syscall0(SYS_getpid);
	rep.ns = now_ns() - t0;
	rep.err = ret < 0 ? ret : 0;
	if (write(fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	_exit(0);
}

static double boot_once(void)
{
	struct boot_report rep;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		boot_child(fds[1]);
	}
	close(fds[1]);
	do {
		n = read(fds[0], &rep, sizeof(rep));
	} while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %s", strerror(errno));
	if (n != sizeof(rep))
		die("boot: the child reported nothing (status 0x%x)", status);
	if (rep.err)
		die("boot: lx_start_kernel(\"%s\") or getpid: %s",
		    BENCH_CMDLINE, errstr(rep.err));
	return rep.ns;
}

static void bench_boot(void)
{
	double t[MAX_BOOTS], lo, hi, med;
	char lx[32];
	int i;

	progress("boot: %d boots, each in a fork()ed child", cfg->boots);
	boot_once();		/* warm-up: page cache, host allocator */
	for (i = 0; i < cfg->boots; i++)
		t[i] = boot_once();
	med = median(t, cfg->boots);
	lo = t[0];
	hi = t[cfg->boots - 1];
	snprintf(lx, sizeof(lx), "%.2f ms", med / 1e6);
	add_row("boot to first syscall", lx, "n/a", "n/a",
		"target: median <= 10 ms (%s); %d boots, %.2f-%.2f ms",
		met(med <= 10e6), cfg->boots, lo / 1e6, hi / 1e6);
}

/* ---- memory ---- */

/* The PSS of this process in KiB, or -1 if the host cannot tell. */
static long pss_kib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long pss_before, pss_booted;

static void add_mem_row(void)
{
	long now = pss_kib();
	char lx[32];
	double mib;

	if (pss_before < 0 || pss_booted < 0 || now < 0) {
		add_row("resident memory (PSS)", "n/a", "n/a", "n/a",
			"no /proc/self/smaps_rollup on this host");
		return;
	}
	mib = (pss_booted - pss_before) / 1024.0;
	snprintf(lx, sizeof(lx), "%.1f MiB", mib);
	add_row("resident memory (PSS)", lx, "n/a", "n/a",
		"target: <= 12 MiB (%s); PSS added by booting with %s; "
		"%.1f MiB after all benchmarks", met(mib <= 12), BENCH_CMDLINE,
		(now - pss_before) / 1024.0);
}

/* ---- one thread: getppid, fstat, pipe write + read ---- */

struct call_ctx {
	sys_fn sys;
	long fd;		/* fstat: the file; pipe: the read end */
	long wfd;		/* pipe: the write end */
};

static double run_getppid(void *arg, long n)
{
	struct call_ctx *c = arg;
	double t0 = now_ns();
	long i, ret;

	for (i = 0; i < n; i++) {
		ret = c->sys(SYS_getppid, 0, 0, 0);
		if (ret < 0)
			die("getppid: %s", errstr(ret));
	}
	return now_ns() - t0;
}

static double run_fstat(void *arg, long n)
{
	struct call_ctx *c = arg;
	double t0 = now_ns();
	struct stat st;
	long i, ret;

	for (i = 0; i < n; i++) {
		ret = c->sys(SYS_fstat, c->fd, (long)&st, 0);
		if (ret < 0)
			die("fstat: %s", errstr(ret));
	}
	return now_ns() - t0;
}

static double run_pipe1(void *arg, long n)
{
	struct call_ctx *c = arg;
	double t0 = now_ns();
	char b = 'x';
	long i, ret;

	for (i = 0; i < n; i++) {
		ret = c->sys(SYS_write, c->wfd, (long)&b, 1);
		if (ret != 1)
			die("pipe write: %ld (%s)", ret, errstr(ret));
		ret = c->sys(SYS_read, c->fd, (long)&b, 1);
		if (ret != 1)
			die("pipe read: %ld (%s)", ret, errstr(ret));
	}
	return now_ns() - t0;
}

static void bench_single(void)
{
	struct call_ctx lx = { .sys = sys_lx }, host = { .sys = sys_host };
	char path[] = "/tmp/lx-bench.XXXXXX";
	struct result l, h;
	int fds[2];
	long ret;

	progress("getppid");
	measure(run_getppid, &lx, &host, &l, &h);
	add_time_row("getppid", &l, &h, 0, 0, "ns per call");

	progress("fstat");
	lx.fd = lx_syscall4(SYS_openat, AT_FDCWD, "/lx-bench-fstat",
			    O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lx.fd < 0)
		die("openat in lx: %s", errstr(lx.fd));
	host.fd = mkstemp(path);
	if (host.fd < 0)
		die("mkstemp %s: %s", path, strerror(errno));
	unlink(path);
	measure(run_fstat, &lx, &host, &l, &h);
	add_time_row("fstat", &l, &h, 0, 0,
		     "ns per call; a file in lx's root fs vs a host /tmp file");
	lx_syscall1(SYS_close, lx.fd);
	lx_syscall1(SYS_unlink, "/lx-bench-fstat");
	close(host.fd);

	progress("pipe write + read, one thread");
	ret = lx_syscall2(SYS_pipe2, fds, O_CLOEXEC);
	if (ret < 0)
		die("pipe2 in lx: %s", errstr(ret));
	lx.fd = fds[0];
	lx.wfd = fds[1];
	if (pipe2(fds, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
	host.fd = fds[0];
	host.wfd = fds[1];
	measure(run_pipe1, &lx, &host, &l, &h);
	add_time_row("pipe write + read, 1 byte", &l, &h, 0, 0,
		     "ns per write + read pair, same thread");
	lx_syscall1(SYS_close, lx.fd);
	lx_syscall1(SYS_close, lx.wfd);
	close(host.fd);
	close(host.wfd);
}

/* ---- two threads calling getppid at once ---- */

struct contend_ctx {
	sys_fn sys;
	pthread_barrier_t start, done;
	long n;			/* calls per thread in this run */
	int quit;
	pthread_t th[2];
};

static void *contend_worker(void *arg)
{
	struct contend_ctx *c = arg;
	long i, ret;

	for (;;) {
		pthread_barrier_wait(&c->start);
		if (c->quit)
			break;
		for (i = 0; i < c->n; i++) {
			ret = c->sys(SYS_getppid, 0, 0, 0);
			if (ret < 0)
				die("getppid (2 threads): %s", errstr(ret));
		}
		pthread_barrier_wait(&c->done);
	}
	return NULL;
}

/* n calls in all, n / 2 by each thread. */
static double run_contend(void *arg, long n)
{
	struct contend_ctx *c = arg;
	double t0;

	c->n = (n + 1) / 2;
	t0 = now_ns();
	pthread_barrier_wait(&c->start);
	pthread_barrier_wait(&c->done);
	return (now_ns() - t0) * n / (2 * c->n);
}

static void contend_start(struct contend_ctx *c, sys_fn sys)
{
	int i, err;

	c->sys = sys;
	c->quit = 0;
	pthread_barrier_init(&c->start, NULL, 3);
	pthread_barrier_init(&c->done, NULL, 3);
	for (i = 0; i < 2; i++) {
		err = pthread_create(&c->th[i], NULL, contend_worker, c);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
}

static void contend_stop(struct contend_ctx *c)
{
	int i;

	c->quit = 1;
	pthread_barrier_wait(&c->start);
	for (i = 0; i < 2; i++)
		pthread_join(c->th[i], NULL);
	pthread_barrier_destroy(&c->start);
	pthread_barrier_destroy(&c->done);
}

static void bench_contend(void)
{
	struct contend_ctx lx, host;
	struct result l, h;

	progress("getppid, 2 threads at once");
	contend_start(&lx, sys_lx);
	contend_start(&host, sys_host);
	measure(run_contend, &lx, &host, &l, &h);
	contend_stop(&lx);
	contend_stop(&host);
	add_time_row("getppid, 2 threads at once", &l, &h, 0, 1,
		     "aggregate ns per call (wall time / all calls)");
}

/* ---- ping-pong between two threads over two pipes ---- */

struct pingpong_ctx {
	sys_fn sys;
	int p1[2], p2[2];	/* A -> B, B -> A */
	pthread_t b;
};

/* Thread B: echo every byte from pipe 1 to pipe 2 until a 'q'. */
static void *pingpong_b(void *arg)
{
	struct pingpong_ctx *c = arg;
	char b;
	long ret;

	for (;;) {
		ret = c->sys(SYS_read, c->p1[0], (long)&b, 1);
		if (ret != 1)
			die("round trip: read in B: %ld (%s)", ret, errstr(ret));
		if (b == 'q')
			break;
		ret = c->sys(SYS_write, c->p2[1], (long)&b, 1);
		if (ret != 1)
			die("round trip: write in B: %ld (%s)", ret,
			    errstr(ret));
	}
	return NULL;
}

static double run_pingpong(void *arg, long n)
{
	struct pingpong_ctx *c = arg;
	double t0 = now_ns();
	char b = 'x';
	long i, ret;

	for (i = 0; i < n; i++) {
		ret = c->sys(SYS_write, c->p1[1], (long)&b, 1);
		if (ret != 1)
			die("round trip: write in A: %ld (%s)", ret, errstr(ret));
		ret = c->sys(SYS_read, c->p2[0], (long)&b, 1);
		if (ret != 1)
			die("round trip: read in A: %ld (%s)", ret, errstr(ret));
	}
	return now_ns() - t0;
}

static void pingpong_start(struct pingpong_ctx *c, sys_fn sys)
{
	long ret;
	int err;

	c->sys = sys;
	ret = sys(SYS_pipe2, (long)c->p1, O_CLOEXEC, 0);
	if (ret == 0)
		ret = sys(SYS_pipe2, (long)c->p2, O_CLOEXEC, 0);
	if (ret < 0)
		die("pipe2: %s", errstr(ret));
	err = pthread_create(&c->b, NULL, pingpong_b, c);
	if (err)
		die("pthread_create: %s", strerror(err));
}

static void pingpong_stop(struct pingpong_ctx *c)
{
	char q = 'q';
	long ret;
	int i;

	ret = c->sys(SYS_write, c->p1[1], (long)&q, 1);
	if (ret != 1)
		die("round trip: write 'q': %ld (%s)", ret, errstr(ret));
	pthread_join(c->b, NULL);
	for (i = 0; i < 2; i++) {
		c->sys(SYS_close, c->p1[i], 0, 0);
		c->sys(SYS_close, c->p2[i], 0, 0);
	}
}

static void bench_pingpong(void)
{
	struct pingpong_ctx lx, host;
	struct result l, h;

	progress("pipe round trip between 2 threads");
	pingpong_start(&lx, sys_lx);
	pingpong_start(&host, sys_host);
	measure(run_pingpong, &lx, &host, &l, &h);
	pingpong_stop(&lx);
	pingpong_stop(&host);
	add_time_row("pipe round trip, 2 threads", &l, &h, 1, 1,
		     "target: <= 1.0x (%s); 1 byte A -> B -> A",
		     met(l.med <= h.med));
}

/* ---- main ---- */

static void cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], *p;

	snprintf(buf, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		p = strchr(line, ':');
		if (!p)
			break;
		p += strspn(p + 1, " \t") + 1;
		p[strcspn(p, "\n")] = '\0';
		snprintf(buf, size, "%s", p);
		break;
	}
	fclose(f);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lx-bench [--quick] [--help]\n"
		"Measures lx (Linux 6.1 as a library in this process) against\n"
		"the host kernel and prints a Markdown table: boot time, the\n"
		"cost of getppid, fstat and pipe calls, getppid from 2 threads\n"
		"at once, a pipe round trip between 2 threads, and the memory\n"
		"booting with %s adds.  Timed figures are medians of several\n"
		"rounds after a warm-up.\n"
		"\n"
		"  --quick   fewer and shorter rounds (a few seconds in all)\n"
		"  --help    this text\n", BENCH_CMDLINE);
}

int main(int argc, char **argv)
{
	char cpu[256], date[64];
	time_t t = time(NULL);
	long ret;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--quick")) {
			cfg = &cfg_quick;
		} else {
			fprintf(stderr, "lx-bench: unknown option %s\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}

	cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));

	/* Boots first: each child must fork from a process without lx. */
	bench_boot();

	pss_before = pss_kib();
	progress("boot in this process with %s", BENCH_CMDLINE);
	ret = lx_start_kernel(BENCH_CMDLINE);
	if (ret == 0)
		ret = lx_syscall0(SYS_getpid);
	if (ret < 0)
		die("lx_start_kernel(\"%s\"): %s", BENCH_CMDLINE, errstr(ret));
	pss_booted = pss_kib();

	bench_single();
	bench_contend();
	bench_pingpong();
	add_mem_row();

	ret = lx_halt();
	if (ret < 0)
		die("lx_halt: %s", errstr(ret));

	printf("lx-bench: lx (Linux 6.1 as a library) vs the host kernel\n");
	printf("CPU: %s\n", cpu);
	printf("Date: %s\n", date);
	printf("Mode: %s: median of %d rounds of ~%.0f ms; %d boots\n",
	       cfg == &cfg_quick ? "quick" : "full", cfg->rounds,
	       cfg->round_ns / 1e6, cfg->boots);
	printf("\n");
	print_table();
	return 0;
}
