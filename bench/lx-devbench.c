// SPDX-License-Identifier: GPL-2.0
/*
 * lx-devbench - lx's devices against native Linux, in one run.
 *
 * Network: one traffic program (a TCP sender, a counting receiver, a
 * 1-byte request/response loop) runs with its container side in lx, on
 * AF_PACKET bound to a veth (what containers use) and on a tap, against a
 * peer on the host; and natively between two network namespaces joined by
 * a veth pair.  The namespaces are the program's own: it unshares its
 * network namespace first, so nothing outlives it.  Each figure is the
 * median of three flows, native's and lx's taken in turn (one with
 * --quick), and comes with the CPU time of the container side in that
 * flow: every thread of this process but the peer's (lx's device threads
 * included), or the native sender/receiver thread.
 *
 * Disk: 256 MiB written (then fsync) and read back cold, on an ext4 image
 * through virtio-blk, against the same on the host file system.
 *
 * virtio-fs, each cache mode: stat, and create+unlink, of 10,000 files in
 * a shared directory, lx's and native's loops taking turns 500 files at a
 * time (the host's disk changes speed within minutes); 256 MiB written and
 * read, against the same on the host directory.
 *
 * Needs root.  Output: a markdown table (bench/run.sh puts it in
 * docs/BENCHMARKS.md).  --quick runs shorter.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>
#include <lx/netconf.h>

typedef long (*sys_fn)(long nr, long a, long b, long c, long d, long e, long f);

static long sys_host(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);

	return r < 0 ? -errno : r;
}

static long sys_lx(long nr, long a, long b, long c, long d, long e, long f)
{
	return lx_syscall6(nr, a, b, c, d, e, f);
}

static double seconds = 1.5;
static int rr_rounds = 10000;
#define NET_ROUNDS_MAX 3
static unsigned int net_rounds = NET_ROUNDS_MAX; /* a network figure's flows */
static int rr_only;			/* --rr */
static long disk_mib = 256;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lx-devbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of the threads of this process now, but skip's. */
static double cpu_except(pid_t skip)
{
	long ticks = sysconf(_SC_CLK_TCK);
	double sum = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], buf[1024], *p;
		unsigned long ut, st;
		int fd, n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == skip)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		p = strrchr(buf, ')');
		/* fields after comm: state is 3, utime 14, stime 15 */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) == 2)
			sum += (double)(ut + st) / ticks;
	}
	closedir(d);
	return sum;
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A side of a connection: which kernel, which network namespace. */
struct side {
	sys_fn sys;
	int netns;		/* host netns fd to enter, or -1 */
};

static socklen_t addr(struct sockaddr_in *sa, const char *ip, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
	return sizeof(*sa);
}

enum job { GOODPUT, RR };

struct flow {
	enum job job;
	struct side rx, tx;	/* receiver/server, sender/client */
	const char *ip;
	int port;
	size_t size;
	/* results */
	double bytes, secs, rx_cpu, tx_cpu;
	long lfd;
	int ready;
};

static void enter(const struct side *s)
{
	if (s->netns >= 0 && setns(s->netns, CLONE_NEWNET))
		die("setns: %s", strerror(errno));
}

static char big[1 << 20];

static void *receiver(void *arg)
{
	struct flow *f = arg;
	sys_fn sys = f->rx.sys;
	double t0 = 0, c0;
	long c, n, one = 1;

	enter(&f->rx);
	c = sys(SYS_accept4, f->lfd, 0, 0, 0, 0, 0);
	if (c < 0)
		die("accept: %s", strerror(-c));
	c0 = thread_cpu();
	if (f->job == GOODPUT) {
		while ((n = sys(SYS_read, c, (long)big, sizeof(big), 0, 0, 0)) > 0) {
			if (!t0)
				t0 = now();
			f->bytes += n;
		}
		f->secs = now() - t0;
	} else {
		char b;

		sys(SYS_setsockopt, c, IPPROTO_TCP, TCP_NODELAY, (long)&one,
		    sizeof(one), 0);
		while (sys(SYS_read, c, (long)&b, 1, 0, 0, 0) == 1)
			if (sys(SYS_write, c, (long)&b, 1, 0, 0, 0) != 1)
				break;
	}
	f->rx_cpu = thread_cpu() - c0;
	sys(SYS_close, c, 0, 0, 0, 0, 0);
	return NULL;
}

static void *sender(void *arg)
{
	struct flow *f = arg;
	sys_fn sys = f->tx.sys;
	struct sockaddr_in sa;
	socklen_t sl = addr(&sa, f->ip, f->port);
	double end, c0, t0;
	long fd, one = 1, i;

	enter(&f->tx);
	fd = sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
	if (sys(SYS_connect, fd, (long)&sa, sl, 0, 0, 0))
		die("connect to %s:%d failed", f->ip, f->port);
	c0 = thread_cpu();
	if (f->job == GOODPUT) {
		end = now() + seconds;
		while (now() < end)
			for (i = 0; i < 64; i++)
				if (sys(SYS_write, fd, (long)big, f->size, 0, 0, 0) <= 0)
					die("write failed");
	} else {
		char b = 'x';

		sys(SYS_setsockopt, fd, IPPROTO_TCP, TCP_NODELAY, (long)&one,
		    sizeof(one), 0);
		t0 = now();
		for (i = 0; i < rr_rounds; i++)
			if (sys(SYS_write, fd, (long)&b, 1, 0, 0, 0) != 1 ||
			    sys(SYS_read, fd, (long)&b, 1, 0, 0, 0) != 1)
				die("request/response failed");
		f->secs = now() - t0;
	}
	f->tx_cpu = thread_cpu() - c0;
	sys(SYS_close, fd, 0, 0, 0, 0, 0);
	return NULL;
}

/* A listening socket of the receiver's side, made in its namespace. */
static void *make_listener(void *arg)
{
	struct flow *f = arg;
	sys_fn sys = f->rx.sys;
	struct sockaddr_in sa;
	socklen_t sl = addr(&sa, f->ip, f->port);
	long one = 1;

	enter(&f->rx);
	f->lfd = sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
	sys(SYS_setsockopt, f->lfd, SOL_SOCKET, SO_REUSEADDR, (long)&one,
	    sizeof(one), 0);
	if (f->lfd < 0 || sys(SYS_bind, f->lfd, (long)&sa, sl, 0, 0, 0) ||
	    sys(SYS_listen, f->lfd, 8, 0, 0, 0, 0))
		die("listen on %s:%d failed", f->ip, f->port);
	return NULL;
}

/*
 * Run a flow.  The container side's CPU: its own thread's, plus what the
 * threads that outlive the flow used meanwhile (lx's device threads,
 * kernel threads, timer and poller; the flow's threads are joined by then).
 */
static void run_flow(struct flow *f, int container_is_tx, double *cpu)
{
	pthread_t r, s, l;
	double c0;

	pthread_create(&l, NULL, make_listener, f);
	pthread_join(l, NULL);
	c0 = cpu_except(0);
	pthread_create(&r, NULL, receiver, f);
	pthread_create(&s, NULL, sender, f);
	pthread_join(s, NULL);
	pthread_join(r, NULL);
	f->rx.sys(SYS_close, f->lfd, 0, 0, 0, 0, 0);
	if (cpu)
		*cpu = cpu_except(0) - c0 + (container_is_tx ? f->tx_cpu : f->rx_cpu);
}

struct row {
	char name[64];
	double lx, native, lx_cpu, native_cpu;
	const char *unit, *target;
	int higher_better;
};

static struct row rows[64];
static int nr_rows;

static void add_row(const char *name, double lx, double lx_cpu, double nat,
		    double nat_cpu, const char *unit, int higher_better,
		    const char *target)
{
	struct row *r = &rows[nr_rows++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->lx = lx;
	r->native = nat;
	r->lx_cpu = lx_cpu;
	r->native_cpu = nat_cpu;
	r->unit = unit;
	r->higher_better = higher_better;
	r->target = target;
	fprintf(stderr, "  %-44s lx %10.3f  native %10.3f %s\n", name, lx, nat,
		unit);
}

static int native_ns = -1, host_ns = -1;

static void setup_net(void)
{
	char path[64];

	if (geteuid())
		die("needs root (network namespaces, tap, AF_PACKET)");
	if (unshare(CLONE_NEWNET))
		die("unshare(CLONE_NEWNET): %s", strerror(errno));
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	/* the native peer's namespace: a thread makes it, ip moves into it */
	if (sh("ip link set lo up && "
	       "ip link add lxbv0 type veth peer name lxbv1 && "
	       "ip link set lxbv0 up && ip link set lxbv1 up && "
	       "ip addr add 10.40.0.1/24 dev lxbv1 && "
	       "ip tuntap add dev lxbt0 mode tap && ip link set lxbt0 up && "
	       "ip addr add 10.50.0.1/24 dev lxbt0 && "
	       "ip link add lxbn0 type veth peer name lxbn1 && "
	       "ip addr add 10.60.0.1/24 dev lxbn0 && ip link set lxbn0 up"))
		die("cannot make the veth and tap devices");
	if (unshare(CLONE_NEWNET))
		die("unshare: %s", strerror(errno));
	native_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(host_ns, CLONE_NEWNET))
		die("setns: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", getpid(), native_ns);
	if (sh("ip link set lxbn1 netns %s && "
	       "nsenter --net=%s sh -c 'ip link set lo up && ip link set lxbn1 up && "
	       "ip addr add 10.60.0.2/24 dev lxbn1'", path, path))
		die("cannot set up the native namespace");
}

static void lx_net(void)
{
	char err[256];

	if (lx_device_add("net:packet=lxbv0", err, sizeof(err)) ||
	    lx_device_add("net:tap=lxbt0", err, sizeof(err)))
		die("%s", err);
}

static void lx_net_config(void)
{
	if (lx_net_link_set("lo", 1, 0) || lx_net_link_set("eth0", 1, 0) ||
	    lx_net_link_set("eth1", 1, 0) ||
	    lx_net_addr_add("eth0", "10.40.0.2/24") ||
	    lx_net_addr_add("eth1", "10.50.0.2/24"))
		die("cannot configure lx's interfaces");
}

static const size_t sizes[] = { 64, 1024, 16384, 65536 };

/* One measurement: goodput (Gbit/s) or RR (us), and the container side's CPU. */
struct sample {
	double v, cpu;
};

static int sample_cmp(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return (x->v > y->v) - (x->v < y->v);
}

/* The median of n samples by value (the CPU time of that same run). */
static struct sample median(struct sample *s, int n)
{
	qsort(s, n, sizeof(*s), sample_cmp);
	return s[n / 2];
}

/*
 * One flow: a goodput of size-byte writes (Gbit/s), or RR if size is 0
 * (us a round trip), from tx to rx at ip.  The CPU is the container
 * side's: in lx every thread of lx's with it, natively its own thread.
 */
static struct sample flow(struct side tx, struct side rx, const char *ip,
			  size_t size, int container_is_tx, int in_lx,
			  int *port)
{
	struct flow f = { .job = size ? GOODPUT : RR, .size = size, .tx = tx,
			  .rx = rx, .ip = ip, .port = (*port)++ };
	struct sample s;

	run_flow(&f, container_is_tx, in_lx ? &s.cpu : NULL);
	if (!in_lx)
		s.cpu = container_is_tx ? f.tx_cpu : f.rx_cpu;
	s.v = size ? f.bytes * 8 / f.secs / 1e9 : f.secs / rr_rounds * 1e6;
	return s;
}

/*
 * Each figure is the median of net_rounds flows, native's and lx's on each
 * backend taken in turn, so that the host's swings (this machine's
 * cross-CPU wake-ups, its other work) fall on both sides of a ratio.
 */
static void bench_net(void)
{
	static const struct {
		const char *name, *host_ip, *lx_ip;
	} be[] = {
		{ "AF_PACKET", "10.40.0.1", "10.40.0.2" },
		{ "tap", "10.50.0.1", "10.50.0.2" },
	};
	struct side lx = { sys_lx, -1 }, host = { sys_host, host_ns },
		    nat = { sys_host, native_ns };
	/* [size index, 4 for RR][direction]: native, and lx on each backend */
	struct sample nat_s[5][2][NET_ROUNDS_MAX], lx_s[5][2][2][NET_ROUNDS_MAX];
	struct sample n, l;
	unsigned int b, i, dir, r, ndir;
	char name[64];
	int port = 20000;

	for (i = rr_only ? 4 : 0; i < 5; i++) {
		ndir = i < 4 ? 2 : 1;	/* RR: the container is the client */
		for (dir = 0; dir < ndir; dir++) {
			size_t size = i < 4 ? sizes[i] : 0;

			for (r = 0; r < net_rounds; r++) {
				/* natively the container side is in host_ns */
				nat_s[i][dir][r] = dir == 0 ?
					flow(host, nat, "10.60.0.2", size, 1, 0, &port) :
					flow(nat, host, "10.60.0.1", size, 0, 0, &port);
				for (b = 0; b < 2; b++)
					lx_s[i][dir][b][r] = dir == 0 ?
						flow(lx, host, be[b].host_ip, size, 1, 1, &port) :
						flow(host, lx, be[b].lx_ip, size, 0, 1, &port);
			}
		}
	}

	for (b = 0; b < 2; b++) {
		for (dir = 0; dir < 2 && !rr_only; dir++) {
			for (i = 0; i < 4; i++) {
				n = median(nat_s[i][dir], net_rounds);
				l = median(lx_s[i][dir][b], net_rounds);
				snprintf(name, sizeof(name), "TCP %s %zu B, %s",
					 dir == 0 ? "lx->host" : "host->lx",
					 sizes[i], be[b].name);
				add_row(name, l.v, l.cpu, n.v, n.cpu, "Gbit/s", 1,
					b ? "" :
					dir == 0 ? (i == 0 ? ">= 1.0x" : ">= 0.8x") :
					(i == 0 ? ">= 0.9x" : ">= 0.8x"));
			}
		}
		n = median(nat_s[4][0], net_rounds);
		l = median(lx_s[4][0][b], net_rounds);
		snprintf(name, sizeof(name), "TCP 1-byte RR, %s", be[b].name);
		add_row(name, l.v, l.cpu, n.v, n.cpu, "us", 0,
			b ? "" : "<= 1.5x");
	}
}

/* Sequential write (with fsync) and cold read of disk_mib MiB. */
/*
 * Write disk_mib MiB to path in 1 MiB writes and fsync, then read it back:
 * with lx's page cache dropped first (drop_lx) and the host's (drop_host).
 * Throughput and CPU time of each phase.
 */
static void file_rw(sys_fn sys, const char *path, int drop_lx, int drop_host,
		    double *w, double *r, double *wcpu, double *rcpu)
{
	long fd, i, n;
	double t0, c0;

	fd = sys(SYS_openat, AT_FDCWD, (long)path,
		 O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644, 0, 0);
	if (fd < 0)
		die("open %s: %s", path, strerror(-fd));
	memset(big, 0x5a, sizeof(big));
	c0 = cpu_except(0);
	t0 = now();
	for (i = 0; i < disk_mib; i++)
		if (sys(SYS_write, fd, (long)big, sizeof(big), 0, 0, 0) !=
		    sizeof(big))
			die("write %s failed", path);
	sys(SYS_fsync, fd, 0, 0, 0, 0, 0);
	*w = disk_mib / (now() - t0);
	*wcpu = cpu_except(0) - c0;
	sys(SYS_close, fd, 0, 0, 0, 0, 0);
	if (drop_lx) {
		lx_syscall0(SYS_sync);
		fd = lx_syscall4(SYS_openat, AT_FDCWD, "/proc/sys/vm/drop_caches",
				 O_WRONLY, 0);
		lx_syscall3(SYS_write, fd, "3", 1);
		lx_syscall1(SYS_close, fd);
	}
	if (drop_host)
		sh("sync; echo 3 > /proc/sys/vm/drop_caches");
	fd = sys(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0,
		 0);
	c0 = cpu_except(0);
	t0 = now();
	while ((n = sys(SYS_read, fd, (long)big, sizeof(big), 0, 0, 0)) > 0)
		;
	*r = disk_mib / (now() - t0);
	*rcpu = cpu_except(0) - c0;
	sys(SYS_close, fd, 0, 0, 0, 0, 0);
}

static char workdir[64];		/* --workdir and a name: short */
static const char *workbase = "/var/tmp";	/* --workdir */
static const char *disk_opts = "";	/* --disk-opts */

/* The work directory goes however the program ends (die() too). */
static void workdir_remove(void)
{
	if (workdir[0])
		sh("rm -rf %s", workdir);
	workdir[0] = 0;
}

/*
 * ... and on Ctrl-C, a kill or a closed pipe (`| head`): only calls a
 * signal handler may make, then the signal's own end.
 */
static void workdir_remove_on(int sig)
{
	static char rm[] = "rm", rf[] = "-rf";
	char *const argv[] = { rm, rf, workdir, NULL };
	pid_t pid;

	if (workdir[0] && (pid = fork()) == 0) {
		execve("/bin/rm", argv, NULL);
		_exit(127);
	} else if (workdir[0] && pid > 0) {
		waitpid(pid, NULL, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void lx_disk(void)
{
	char spec[128], err[256];

	if (snprintf(workdir, sizeof(workdir), "%s/lx-devbench-XXXXXX",
		     workbase) >= (int)sizeof(workdir)) {
		workdir[0] = 0;
		die("--workdir %s: too long", workbase);
	}
	if (!mkdtemp(workdir)) {
		workdir[0] = 0;
		die("--workdir %s: cannot make a directory there: %s", workbase,
		    strerror(errno));
	}
	signal(SIGINT, workdir_remove_on);
	signal(SIGTERM, workdir_remove_on);
	signal(SIGHUP, workdir_remove_on);
	signal(SIGPIPE, workdir_remove_on);
	atexit(workdir_remove);
	if (sh("mke2fs -q -F -t ext4 %s/disk.img %ldM >/dev/null",
	       workdir, disk_mib * 2 + 64))
		die("mke2fs failed");
	snprintf(spec, sizeof(spec), "blk:file=%s/disk.img%s%s", workdir,
		 disk_opts[0] ? "," : "", disk_opts);
	if (lx_device_add(spec, err, sizeof(err)))
		die("%s", err);
}

static void bench_disk(void)
{
	double lw, lr, hw, hr, lwc, lrc, hwc, hrc;
	char path[128], name[64];

	lx_syscall2(SYS_mkdir, "/dev", 0755);
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	lx_syscall2(SYS_mkdir, "/mnt", 0755);
	if (lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0) ||
	    lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0) ||
	    lx_syscall5(SYS_mount, "/dev/vda", "/mnt", "ext4", 0, 0))
		die("cannot mount the disk in lx");
	/* cold: the page caches of lx and of the host are dropped */
	file_rw(sys_lx, "/mnt/f", 1, 1, &lw, &lr, &lwc, &lrc);
	lx_syscall2(SYS_umount2, "/mnt", 0);
	snprintf(path, sizeof(path), "%s/native.bin", workdir);
	file_rw(sys_host, path, 0, 1, &hw, &hr, &hwc, &hrc);
	snprintf(name, sizeof(name), "ext4 %ld MiB sequential write+fsync",
		 disk_mib);
	add_row(name, lw, lwc, hw, hwc, "MiB/s", 1, ">= 0.7x");
	snprintf(name, sizeof(name), "ext4 %ld MiB sequential read, cold",
		 disk_mib);
	add_row(name, lr, lrc, hr, hrc, "MiB/s", 1, ">= 0.7x");
}

/* This process's CPU seconds, all threads (precise, unlike /proc's ticks). */
static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* One side of the metadata loops: seconds and CPU seconds per part. */
enum { META_CREATE, META_STAT, META_UNLINK };
enum { OP_CREATE, OP_CLOSE, OP_UNLINK, OP_N };

struct meta {
	sys_fn sys;
	const char *dir;
	char prefix;		/* of the file names: each side its own */
	double stat_s, stat_cpu, cu_s, cu_cpu;
	double *op_s[OP_N];	/* each file's create, close, unlink */
};

/* Part part of the metadata loops on files from..to-1 of m's dir. */
static void meta_part(struct meta *m, int part, long from, long to)
{
	char path[256];
	struct stat st;
	double t0, t1;
	long i, fd;

	for (i = from; i < to; i++) {
		snprintf(path, sizeof(path), "%s/%c%ld", m->dir, m->prefix, i);
		t0 = now();
		switch (part) {
		case META_CREATE:
			fd = m->sys(SYS_openat, AT_FDCWD, (long)path,
				    O_CREAT | O_WRONLY | O_CLOEXEC, 0644, 0, 0);
			if (fd < 0)
				die("create %s: %s", path, strerror(-fd));
			t1 = now();
			m->sys(SYS_close, fd, 0, 0, 0, 0, 0);
			m->op_s[OP_CREATE][i] = t1 - t0;
			m->op_s[OP_CLOSE][i] = now() - t1;
			break;
		case META_STAT:
			if (m->sys(SYS_newfstatat, AT_FDCWD, (long)path,
				   (long)&st, 0, 0, 0))
				die("stat %s failed", path);
			break;
		default:
			if (m->sys(SYS_unlinkat, AT_FDCWD, (long)path, 0, 0, 0,
				   0))
				die("unlink %s failed", path);
			m->op_s[OP_UNLINK][i] = now() - t0;
		}
	}
}

/*
 * Metadata loops on nfiles files in lx's directory and the host's (the
 * same host directory, each side with names of its own): create them all,
 * stat them all, unlink them all.  The two sides take turns a chunk at a
 * time (each side first every other chunk): a VM's disk can change speed
 * tenfold within minutes (docs/BENCHMARKS.md), and both sides must see the
 * same disk.
 */
static void fs_meta(struct meta side[2], long nfiles)
{
	const long chunk = 500;
	long from, to, k = 0;
	double t0, c0, dt, dc;
	int part, j;

	for (part = META_CREATE; part <= META_UNLINK; part++) {
		for (from = 0; from < nfiles; from += chunk, k++) {
			to = from + chunk < nfiles ? from + chunk : nfiles;
			for (j = 0; j < 2; j++) {
				struct meta *m = &side[(j + k) % 2];

				c0 = cpu_self();
				t0 = now();
				meta_part(m, part, from, to);
				dt = now() - t0;
				dc = cpu_self() - c0;
				if (part == META_STAT) {
					m->stat_s += dt;
					m->stat_cpu += dc;
				} else {
					m->cu_s += dt;
					m->cu_cpu += dc;
				}
			}
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) in microseconds (v is sorted). */
static double median_us(double *v, long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2] * 1e6;
}

/* Each side's median create, close and unlink, on stderr. */
static void meta_ops_report(const char *mode, struct meta side[2], long n)
{
	fprintf(stderr, "  virtio-fs %s, medians per file: create, close, "
		"unlink lx %.1f %.1f %.1f us, native %.1f %.1f %.1f us\n", mode,
		median_us(side[0].op_s[OP_CREATE], n),
		median_us(side[0].op_s[OP_CLOSE], n),
		median_us(side[0].op_s[OP_UNLINK], n),
		median_us(side[1].op_s[OP_CREATE], n),
		median_us(side[1].op_s[OP_CLOSE], n),
		median_us(side[1].op_s[OP_UNLINK], n));
}

static char fastdir[128], strictdir[128];

static void lx_fs(void)
{
	char spec[300], err[256];

	snprintf(fastdir, sizeof(fastdir), "%s/fast", workdir);
	snprintf(strictdir, sizeof(strictdir), "%s/strict", workdir);
	if (mkdir(fastdir, 0755) || mkdir(strictdir, 0755))
		die("mkdir %s: %s", fastdir, strerror(errno));
	snprintf(spec, sizeof(spec), "fs:tag=fast,dir=%s", fastdir);
	if (lx_device_add(spec, err, sizeof(err)))
		die("%s", err);
	snprintf(spec, sizeof(spec), "fs:tag=strict,dir=%s,cache=strict",
		 strictdir);
	if (lx_device_add(spec, err, sizeof(err)))
		die("%s", err);
}

static void bench_fs(void)
{
	static const char *const modes[] = { "fast", "strict" };
	long nfiles = disk_mib >= 256 ? 10000 : 2000;
	double lw, lr, hw, hr, lwc, lrc, hwc, hrc;
	struct meta side[2];
	int j;
	char lxdir[32], path[160], name[80];
	const char *hdir;
	int m;

	lx_syscall2(SYS_mkdir, "/proc", 0555);
	lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0);
	for (m = 0; m < 2; m++) {
		snprintf(lxdir, sizeof(lxdir), "/%s", modes[m]);
		hdir = m ? strictdir : fastdir;
		lx_syscall2(SYS_mkdir, lxdir, 0755);
		if (lx_syscall5(SYS_mount, modes[m], lxdir, "virtiofs", 0, 0))
			die("cannot mount the %s share in lx", modes[m]);
		memset(side, 0, sizeof(side));
		for (j = 0; j < 2 * OP_N; j++) {
			side[j / OP_N].op_s[j % OP_N] =
				calloc(nfiles, sizeof(double));
			if (!side[j / OP_N].op_s[j % OP_N])
				die("out of memory");
		}
		side[0].sys = sys_lx;
		side[0].dir = lxdir;
		side[0].prefix = 'l';
		side[1].sys = sys_host;
		side[1].dir = hdir;
		side[1].prefix = 'n';
		fs_meta(side, nfiles);
		meta_ops_report(modes[m], side, nfiles);
		for (j = 0; j < 2 * OP_N; j++)
			free(side[j / OP_N].op_s[j % OP_N]);
		snprintf(name, sizeof(name), "virtio-fs %s: stat of %ld files",
			 modes[m], nfiles);
		add_row(name, side[0].stat_s * 1e3, side[0].stat_cpu,
			side[1].stat_s * 1e3, side[1].stat_cpu, "ms", 0,
			m ? "" : "<= 3x");
		snprintf(name, sizeof(name),
			 "virtio-fs %s: create+unlink of %ld files", modes[m],
			 nfiles);
		add_row(name, side[0].cu_s * 1e3, side[0].cu_cpu,
			side[1].cu_s * 1e3, side[1].cu_cpu, "ms", 0,
			m ? "" : "<= 3x");
		/* the host's page cache stays warm, lx's is dropped */
		snprintf(path, sizeof(path), "%s/big", lxdir);
		file_rw(sys_lx, path, 1, 0, &lw, &lr, &lwc, &lrc);
		lx_syscall3(SYS_unlinkat, AT_FDCWD, path, 0);
		snprintf(path, sizeof(path), "%s/big", hdir);
		file_rw(sys_host, path, 0, 0, &hw, &hr, &hwc, &hrc);
		unlink(path);
		snprintf(name, sizeof(name), "virtio-fs %s: %ld MiB write+fsync",
			 modes[m], disk_mib);
		add_row(name, lw, lwc, hw, hwc, "MiB/s", 1, ">= 0.7x");
		snprintf(name, sizeof(name),
			 "virtio-fs %s: %ld MiB read, host cache warm", modes[m],
			 disk_mib);
		add_row(name, lr, lrc, hr, hrc, "MiB/s", 1, ">= 0.7x");
		lx_syscall2(SYS_umount2, lxdir, 0);
	}
}

static void print_table(void)
{
	int i;

	printf("| benchmark | lx | native | lx/native | lx CPU s | native CPU s | target |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (i = 0; i < nr_rows; i++) {
		struct row *r = &rows[i];
		double ratio = r->native > 0 ? r->lx / r->native : 0;

		printf("| %s | %.3f %s | %.3f %s | %.2fx | %.2f | %.2f | %s |\n",
		       r->name, r->lx, r->unit, r->native, r->unit, ratio,
		       r->lx_cpu, r->native_cpu, r->target);
	}
}

int main(int argc, char **argv)
{
	int i, net = 1, disk = 1, fs = 1;
	char cmdline[512] = "mem=1G";

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--net")) {
			disk = fs = 0;
		} else if (!strcmp(argv[i], "--disk")) {
			net = fs = 0;
		} else if (!strcmp(argv[i], "--fs")) {
			net = disk = 0;
		} else if (!strcmp(argv[i], "--quick")) {
			seconds = 0.3;
			rr_rounds = 2000;
			net_rounds = 1;
			disk_mib = 32;
		} else if (!strcmp(argv[i], "--rr")) {
			disk = fs = 0;
			rr_only = 1;
		} else if (!strcmp(argv[i], "--workdir") && i + 1 < argc) {
			workbase = argv[++i];
		} else if (!strcmp(argv[i], "--disk-opts") && i + 1 < argc) {
			disk_opts = argv[++i];
		} else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
			snprintf(cmdline, sizeof(cmdline), "mem=1G %s",
				 argv[++i]);
		} else {
			if (strcmp(argv[i], "--help")) {
				fprintf(stderr, "lx-devbench: bad option '%s' "
					"(--help)\n", argv[i]);
				return 2;
			}
			printf("usage: lx-devbench [--quick] [--net|--rr|--disk|--fs] "
			       "[--kernel ARGS] [--disk-opts OPTS] [--workdir DIR]\n"
			       "Network and disk of lx against native Linux; needs root.\n"
			       "  --net, --disk, --fs  only the network, disk or virtio-fs part\n"
			       "  --rr           only the network's 1-byte round trips\n"
			       "  --workdir DIR  where the disk image and the shares go\n"
			       "                 (default /var/tmp; e.g. /dev/shm for tmpfs)\n"
			       "  --quick        shorter: 0.3 s flows, one per figure,\n"
			       "                 32 MiB files, 2,000 files\n"
			       "  --kernel ARGS  more kernel arguments after mem=1G\n"
			       "                 (e.g. lx_hugeram=1)\n"
			       "  --disk-opts OPTS  more virtio-blk options for lx's disk\n"
			       "                 (e.g. direct)\n");
			return 0;
		}
	}
	setup_net();
	lx_net();
	lx_disk();
	lx_fs();
	if (lx_start_kernel(cmdline))
		die("lx did not boot (%s)", cmdline);
	lx_net_config();
	if (net) {
		fprintf(stderr, "lx-devbench: network (about %d s)\n",
			rr_only ? 10 : net_rounds > 1 ? 130 : 15);
		bench_net();
	}
	if (disk) {
		fprintf(stderr, "lx-devbench: disk (about 20 s)\n");
		bench_disk();
	}
	if (fs) {
		fprintf(stderr, "lx-devbench: virtio-fs (about 30 s)\n");
		bench_fs();
	}
	lx_halt();
	workdir_remove();
	print_table();
	return 0;
}
