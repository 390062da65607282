// SPDX-License-Identifier: GPL-2.0
/*
 * Linux 6.1's own selftests inside lx and natively, side by side.
 *
 * The tests are those of the kernel tree lx is built from
 * (build/linux/tools/testing/selftests), built statically by
 * tests/selftests/build.sh into build/selftests: futex/functional (every
 * run of its run.sh, requeue_pi's included), timers (nanosleep,
 * posix_timers, set-timer-lat, inconsistency-check for one second per
 * clock) and the net tests that do not fork.  Each case is one command
 * line of the test's wrapper script (run.sh, *.sh, the Makefile's
 * TEST_GEN_PROGS run as they are), with the sysctls the wrapper sets:
 *
 * - natively, as root on the host, from a copy of the binaries; a net
 *   case in a network namespace of its own (unshare(CLONE_NEWNET) in the
 *   child, lo up, the sysctls written in that namespace's /proc/sys), so
 *   nothing of the host's network is touched and the namespace is gone
 *   with the test;
 * - inside lx: "lxexec --sysctl KEY=VALUE... --rootfs ROOT --cwd /tmp --
 *   /GROUP/NAME ARGS", ROOT holding the same binaries (lo is up in lx,
 *   the sysctls are lx's).
 *
 * A case passes when the test passes natively (exit status 0) and inside
 * lx, and both runs give the same verdict lines (kselftest "ok N ..." /
 * "not ok N ...", and the "[OK]", "[FAILED]", "[UNSUPPORTED]" marks of
 * the older tests, digits and spacing ignored), so a sub-test that passes
 * natively but is skipped inside lx is caught too.  tcp_fastopen_backup_key
 * carries the check its script makes with nstat (build.sh links it in).
 *
 * A difference that is a documented lx limit (limits[] below, each with
 * its reason) is reported "ok N - name # SKIP lx limit: reason", which
 * tests/run-tests.sh counts as skipped, never as passed: a limit hides no
 * failure in the totals, and "# SKIP" is the only mark the runner knows
 * besides a failure (a "not ok ... # TODO" would count as failed and keep
 * the suite red for a known limit; an "ok ... # TODO" would count as
 * passed).  A limit case whose lx run passes after all is reported as a
 * pass, with a note that the table entry is stale.  A test that fails
 * natively fails the case (the comparison needs a native pass), except
 * a latency test that missed its bound a few times (latency_spikes()):
 * the machine was busy, which the case reports as a skip with the load.
 *
 * The runs take time (set-timer-lat alone runs 80 s; run-tests.sh gives a
 * program 300 s), so they go in four lanes at once: set-timer-lat
 * natively, set-timer-lat in lx (both at a higher priority), the other
 * timer tests one after another (the busy ones never beside each other;
 * inconsistency-check at the lowest priority), and futex and net.  Timing
 * tests (the selftests warn of false negatives under load) get a second
 * try on either side before a failure counts.  All runs end before the
 * results are printed; the temp directory, the namespaces and every
 * process go with the test, also when it is killed (LX_SELFTESTS_KEEP=1
 * keeps the directory, with every run's output, and says where;
 * LX_SELFTESTS_RUN_ALL=1 runs also the limits that would spin inside lx
 * until killed, which are otherwise not run at all, to see whether they
 * still do).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

/* lanes: the runs of one lane are one after another */
enum { LANE_STL_NATIVE, LANE_STL_LX, LANE_TIMERS, LANE_OTHERS, NR_LANES };

/* case flags */
#define NETNS	1	/* natively in a network namespace of its own */
#define TIMING	2	/* a timing test: a failed run gets a second try */
#define LATENCY	4	/* see latency_spikes() */

#define RUN_TIMEOUT_S	30	/* a run's default time limit */
#define LIMIT_TIMEOUT_S	10	/* inside lx, for a case with a limit */
#define MAX_ARGS	8
#define MAX_SYSCTLS	3

struct scase {
	const char *prog;		/* GROUP/NAME under build/selftests */
	const char *args[MAX_ARGS];
	const char *sysctls[MAX_SYSCTLS];	/* KEY=VALUE, as the wrapper */
	unsigned int flags;
	int timeout;			/* seconds, per run (default 30) */
	int nice;			/* the run's nice value, both sides */
};

/* their threads get a few ms to block (usleep): timing tests */
#define FUTEX(name, ...) \
	{ .prog = "futex/functional/" name, .args = { __VA_ARGS__ }, \
	  .flags = TIMING }
#define REQUEUE_PI(...) FUTEX("futex_requeue_pi", __VA_ARGS__)
#define NET(name, ...) \
	{ .prog = "net/" name, .args = { __VA_ARGS__ }, .flags = NETNS }
#define FLOWLABEL(sysctl, ...) \
	{ .prog = "net/ipv6_flowlabel", .args = { __VA_ARGS__ }, \
	  .sysctls = { sysctl }, .flags = NETNS }
#define TFO(arg) \
	{ .prog = "net/tcp_fastopen_backup_key", .args = { arg }, \
	  .sysctls = { "net.ipv4.tcp_fastopen=3" }, .flags = NETNS }
#define PING_SOCKETS \
	"net.ipv6.flowlabel_reflect=4", "net.ipv4.ping_group_range=0 2147483647"

static const struct scase cases[] = {
	/* futex/functional/run.sh, in its order (it repeats two lines) */
	REQUEUE_PI(NULL),
	REQUEUE_PI("-b"),
	REQUEUE_PI("-b", "-l"),
	REQUEUE_PI("-b", "-o"),
	REQUEUE_PI("-l"),
	REQUEUE_PI("-o"),
	REQUEUE_PI("-b", "-l", "-t", "5000"),
	REQUEUE_PI("-l", "-t", "5000"),
	REQUEUE_PI("-b", "-l", "-t", "500000"),
	REQUEUE_PI("-l", "-t", "500000"),
	REQUEUE_PI("-b", "-t", "5000"),
	REQUEUE_PI("-t", "5000"),
	REQUEUE_PI("-b", "-t", "500000"),
	REQUEUE_PI("-t", "500000"),
	REQUEUE_PI("-b", "-o", "-t", "5000"),
	REQUEUE_PI("-l", "-t", "5000"),
	REQUEUE_PI("-b", "-o", "-t", "500000"),
	REQUEUE_PI("-l", "-t", "500000"),
	REQUEUE_PI("-b", "-l", "-t", "2000000000"),
	REQUEUE_PI("-l", "-t", "2000000000"),
	FUTEX("futex_requeue_pi_mismatched_ops", NULL),
	FUTEX("futex_requeue_pi_signal_restart", NULL),
	FUTEX("futex_wait_timeout", NULL),
	FUTEX("futex_wait_wouldblock", NULL),
	FUTEX("futex_wait_uninitialized_heap", NULL),
	FUTEX("futex_wait_private_mapped_file", NULL),
	FUTEX("futex_wait", NULL),
	FUTEX("futex_requeue", NULL),
	FUTEX("futex_waitv", NULL),
	/* timers/Makefile's TEST_GEN_PROGS (no arguments; settings: no timeout) */
	{ .prog = "timers/posix_timers", .flags = TIMING },
	{ .prog = "timers/nanosleep", .flags = TIMING },
	/* busy reading clocks: out of the way of the latency tests */
	{ .prog = "timers/inconsistency-check", .args = { "-t", "1" },
	  .nice = 19 },
	/*
	 * latencies, measured while the other lanes run (80 s, too long to
	 * run alone): both sides get the same higher priority
	 */
	{ .prog = "timers/set-timer-lat", .flags = LATENCY, .timeout = 110,
	  .nice = -10 },
	/* net: run_netsocktests, TEST_GEN_PROGS, and two TEST_GEN_FILES */
	NET("socket", NULL),
	NET("reuseport_dualstack", NULL),
	NET("reuseaddr_conflict", NULL),
	NET("sk_bind_sendto_listen", NULL),
	NET("sk_connect_zero_addr", NULL),
	NET("tcp_inq", NULL),
	NET("so_netns_cookie", NULL),
	/* ipv6_flowlabel.sh: each line in a namespace of its own */
	NET("ipv6_flowlabel_mgr", NULL),
	FLOWLABEL("net.ipv6.auto_flowlabels=0", "-l", "1"),
	FLOWLABEL("net.ipv6.auto_flowlabels=1", "-l", "1"),
	FLOWLABEL(PING_SOCKETS, "-l", "1", "-p"),
	NET("ipv6_flowlabel", "-l", "1", "-s"),
	FLOWLABEL(PING_SOCKETS, "-l", "1", "-p", "-s"),
	/* udpgso.sh */
	NET("udpgso", "-4", "-C"),
	NET("udpgso", "-4", "-C", "-s"),
	NET("udpgso", "-6", "-C"),
	NET("udpgso", "-6", "-C", "-s"),
	NET("udpgso", "-4", "-c"),
	NET("udpgso", "-4", "-C", "-m"),
	NET("udpgso", "-6", "-C", "-m"),
	/*
	 * tcp_fastopen_backup_key.sh: tcp_fastopen=3, then each run after
	 * "ip tcp_metrics flush" in one namespace; here each run has a
	 * namespace (a kernel) of its own, which starts with no metrics
	 */
	TFO("-4"), TFO("-6"), TFO("-4"), TFO("-6"),
	TFO("-4s"), TFO("-6s"), TFO("-4s"), TFO("-6s"),
	TFO("-4r"), TFO("-6r"), TFO("-4r"), TFO("-6r"),
	TFO("-4sr"), TFO("-6sr"), TFO("-4sr"), TFO("-6sr"),
};

/*
 * The documented lx limits: a case of prog (with exactly these
 * arguments, or any if args is NULL) that fails inside lx is reported
 * "# SKIP lx limit: reason".  Keep in step with docs/SELFTESTS.md.
 */
enum limit_kind {
	FAILS,		/* fails inside lx: a pass there says the entry is stale */
	RACY,		/* a race lx loses more often than Linux: may pass */
	SPINS,		/* spins inside lx until killed: not run (either side) */
};

struct limit {
	const char *prog;
	const char *args;	/* the arguments joined by spaces, or NULL */
	enum limit_kind kind;
	const char *reason;
};

static const struct limit limits[] = {
	{ "net/ipv6_flowlabel_mgr", NULL, FAILS,
	  "needs fork (lx limit): the test forks children to check flow "
	  "label sharing between processes; programs cannot fork in lx yet" },
	{ "futex/functional/futex_requeue", NULL, RACY,
	  "a program's clone() waits until the new thread's host thread has "
	  "started and made its task in lx (two host wake-ups, 0.1-0.4 ms "
	  "a thread on an idle machine, several ms on a busy one), where "
	  "Linux returns at once; the test gives 10 new waiters 10 ms to "
	  "block, and under load the last ones are not waiting yet "
	  "(ARCHITECTURE.md, known limits: threads made from the anchor)" },
};

/* A latency test's occasional miss inside lx (latency_spikes()). */
static const char latency_limit[] =
	"timer signal latency under host CPU load: the bound was missed "
	"inside lx only, in a few checks; lx's timer signal takes two host "
	"wake-ups (its timer thread, then the task's thread) where Linux "
	"takes one, so a busy machine delays it more often";

/* The result of the runs of one case on one side. */
struct side {
	int status;		/* exit status, 128+N for signal N, -1 */
	int tries;
	double secs;
	char out[128], err[128];
};

static struct side results[ARRAY_SIZE(cases)][2];	/* [native, lx] */

static char top[64], root[96], lxexec[512], stdir[512];
static pid_t running[NR_LANES];	/* each lane's run (its process group) */
static int stopping;			/* killed: no more runs */

static int lane_of(const struct scase *c, int lx)
{
	if (!strcmp(c->prog, "timers/set-timer-lat"))
		return lx ? LANE_STL_LX : LANE_STL_NATIVE;
	if (!strncmp(c->prog, "timers/", 7))
		return LANE_TIMERS;
	return LANE_OTHERS;
}

/* The case's arguments joined by spaces, in buf. */
static const char *args_str(const struct scase *c, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < MAX_ARGS && c->args[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? " " : "",
			      c->args[i]);
	return buf;
}

static const struct limit *limit_of(const struct scase *c)
{
	char args[256];
	unsigned int i;

	args_str(c, args, sizeof(args));
	for (i = 0; i < ARRAY_SIZE(limits); i++)
		if (!strcmp(limits[i].prog, c->prog) &&
		    (!limits[i].args || !strcmp(limits[i].args, args)))
			return &limits[i];
	return NULL;
}

static void cleanup(void)
{
	if (top[0] && getenv("LX_SELFTESTS_KEEP"))
		tap_diag("the runs' output is in %s", top);
	else if (top[0])
		host_sh("rm -rf %s", top);
}

/*
 * Killed (run-tests.sh's timeout): no new runs, end those running, clean
 * up, die.  A run a lane starts meanwhile sees stopping and ends itself
 * (run_once()); every run also dies with this process (PR_SET_PDEATHSIG).
 */
static void on_signal(int sig)
{
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	pid_t r;
	int i, n;

	__atomic_store_n(&stopping, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < NR_LANES; i++) {
		r = __atomic_load_n(&running[i], __ATOMIC_SEQ_CST);
		if (r > 0)
			kill(-r, SIGKILL);
	}
	/* the killed runs may still be closing their output files */
	nanosleep(&pause, NULL);
	for (n = 0; n < 2 && top[0]; n++)
		remove_tree_now(top);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup(void)
{
	char t[] = "/tmp/lx-selftests-XXXXXX", path[700], *abs;
	unsigned int i;

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	if (getenv("LXEXEC"))
		snprintf(lxexec, sizeof(lxexec), "%s", getenv("LXEXEC"));
	else
		beside_self("../lxexec", lxexec, sizeof(lxexec));
	/* runs start in directories of their own: the path must be absolute */
	abs = access(lxexec, X_OK) ? NULL : realpath(lxexec, NULL);
	if (!abs || strlen(abs) >= sizeof(lxexec))
		tap_bail("%s is missing", lxexec);
	strcpy(lxexec, abs);
	free(abs);
	/* build/tests/../selftests, or from build/asan/tests the same */
	if (beside_self("../selftests", stdir, sizeof(stdir)) &&
	    beside_self("../../selftests", stdir, sizeof(stdir)))
		tap_bail("build/selftests is missing (tests/selftests/build.sh; "
			 "make test builds it)");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(path, sizeof(path), "%s/%s", stdir, cases[i].prog);
		if (access(path, X_OK))
			tap_bail("%s is missing (tests/selftests/build.sh)",
				 path);
	}
	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(top, sizeof(top), "%s", t);
	snprintf(root, sizeof(root), "%s/root", top);
	/* the root lx gets; native runs use the same copies */
	if (host_sh("mkdir -p %s/proc %s/dev %s/tmp %s/cwd && cp -r %s/. %s/",
		    root, root, root, top, stdir, root)) {
		cleanup();
		tap_bail("cannot make the root %s", root);
	}
	for (i = 0; i < NR_LANES; i++) {
		snprintf(path, sizeof(path), "%s/cwd/%u", top, i);
		if (mkdir(path, 0755)) {
			cleanup();
			tap_bail("mkdir %s: %s", path, strerror(errno));
		}
	}
}

/* IFF_UP on the host's lo of the caller's network namespace. */
static int host_lo_up(void)
{
	struct ifreq ifr;
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!ret) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/* Write KEY=VALUE to /proc/sys/KEY (dots as slashes), as sysctl -w. */
static int host_sysctl(const char *kv)
{
	const char *eq = strchr(kv, '=');
	char path[256];
	int fd, n, ok;
	size_t i;

	if (!eq || (size_t)(eq - kv) > 200)
		return -1;
	n = snprintf(path, sizeof(path), "/proc/sys/");
	for (i = 0; kv + i < eq; i++)
		path[n + i] = kv[i] == '.' ? '/' : kv[i];
	path[n + i] = 0;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		dprintf(2, "t-selftests: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = write(fd, eq + 1, strlen(eq + 1)) == (ssize_t)strlen(eq + 1);
	if (!ok)
		dprintf(2, "t-selftests: %s: %s\n", path, strerror(errno));
	close(fd);
	return ok ? 0 : -1;
}

/*
 * One run of case c, natively (lx 0) or inside lx, stdout and stderr to
 * side's files, in lane's directory; its status, 128+N if signal N ended
 * it, -1 if it could not start or ran out of time (then killed, with
 * everything it started: it has a process group of its own).
 */
static int run_once(const struct scase *c, int lx, int lane, struct side *s)
{
	char prog[700], cwd[128];
	const char *argv[4 + 2 * MAX_SYSCTLS + 8 + MAX_ARGS];
	int n = 0, i, st, fd;
	int timeout = c->timeout ? c->timeout : RUN_TIMEOUT_S;
	pid_t pid, w, parent;
	int64_t start, end;

	snprintf(cwd, sizeof(cwd), "%s/cwd/%d", top, lane);
	/* a known limit may hang inside lx: it need not run out the clock */
	if (lx && limit_of(c) && limit_of(c)->kind == FAILS &&
	    timeout > LIMIT_TIMEOUT_S)
		timeout = LIMIT_TIMEOUT_S;
	if (lx) {
		argv[n++] = lxexec;
		for (i = 0; i < MAX_SYSCTLS && c->sysctls[i]; i++) {
			argv[n++] = "--sysctl";
			argv[n++] = c->sysctls[i];
		}
		argv[n++] = "--rootfs";
		argv[n++] = root;
		argv[n++] = "--cwd";
		argv[n++] = "/tmp";
		argv[n++] = "--";
		snprintf(prog, sizeof(prog), "/%s", c->prog);
	} else {
		snprintf(prog, sizeof(prog), "%s/%s", root, c->prog);
	}
	argv[n++] = prog;
	for (i = 0; i < MAX_ARGS && c->args[i]; i++)
		argv[n++] = c->args[i];
	argv[n] = NULL;

	if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
		return -1;
	start = host_ns(CLOCK_MONOTONIC);
	parent = getpid();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setpgid(0, 0);
		/* the run ends with this program, however it ends */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(126);
		if (c->nice && setpriority(PRIO_PROCESS, 0, c->nice))
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		fd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		fd = open(s->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (chdir(cwd))
			_exit(126);
		if (lx) {
			execv(argv[0], (char *const *)argv);
			dprintf(2, "t-selftests: %s: %s\n", argv[0],
				strerror(errno));
			_exit(127);
		}
		/* the host's own network and sysctls are never touched */
		if (c->flags & NETNS) {
			if (unshare(CLONE_NEWNET) || host_lo_up()) {
				dprintf(2, "t-selftests: netns: %s\n",
					strerror(errno));
				_exit(126);
			}
			for (i = 0; i < MAX_SYSCTLS && c->sysctls[i]; i++)
				if (host_sysctl(c->sysctls[i]))
					_exit(126);
		} else if (c->sysctls[0]) {
			dprintf(2, "t-selftests: sysctls outside a netns\n");
			_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		dprintf(2, "t-selftests: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* the child's group at once: a kill must not miss it */
	setpgid(pid, pid);
	__atomic_store_n(&running[lane], pid, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&stopping, __ATOMIC_SEQ_CST))
		kill(-pid, SIGKILL);
	end = start + (int64_t)timeout * 1000000000;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 &&
	       host_ns(CLOCK_MONOTONIC) < end)
		host_msleep(10);
	if (w == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	/* anything left in its group (a test's own children) */
	kill(-pid, SIGKILL);
	__atomic_store_n(&running[lane], 0, __ATOMIC_SEQ_CST);
	s->secs = (host_ns(CLOCK_MONOTONIC) - start) / 1e9;
	if (w == 0) {
		fd = open(s->err, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0) {
			dprintf(fd, "t-selftests: no end after %d s: killed\n",
				timeout);
			close(fd);
		}
		return -1;
	}
	if (w < 0)
		return -1;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Has the line a verdict mark of the older tests: [OK], [FAILED]...? */
static int has_mark(const char *line)
{
	const char *p = line, *q;

	while ((p = strchr(p, '['))) {
		for (q = ++p; *q >= 'A' && *q <= 'Z'; q++)
			;
		if (*q == ']' && q - p >= 2)
			return 1;
	}
	return 0;
}

/*
 * The verdict lines of a run's stdout, one per line in buf: kselftest's
 * "ok N ..." and "not ok N ...", and lines with a mark like [OK],
 * [FAILED] or [UNSUPPORTED]; digits read as '#', runs of spaces as one
 * (latencies and alignment differ from run to run).
 */
static void verdicts(const char *path, char *buf, size_t len)
{
	char line[512], *p;
	size_t n = 0;
	FILE *f = fopen(path, "r");
	int sp;

	buf[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "ok ", 3) && strncmp(line, "not ok ", 7) &&
		    !has_mark(line))
			continue;
		sp = 0;
		for (p = line; *p && *p != '\n' && n + 2 < len; p++) {
			if (isspace((unsigned char)*p)) {
				sp = 1;
				continue;
			}
			if (sp && n && buf[n - 1] != '\n')
				buf[n++] = ' ';
			sp = 0;
			if (isdigit((unsigned char)*p)) {
				if (n && buf[n - 1] == '#')
					continue;
				buf[n++] = '#';
			} else {
				buf[n++] = *p;
			}
		}
		if (n + 1 < len)
			buf[n++] = '\n';
		buf[n] = 0;
	}
	fclose(f);
}

/* Does the verdict text v tell of a failed sub-test? */
static int verdict_failed(const char *v)
{
	return strstr(v, "[FAIL") || !strncmp(v, "not ok", 6) ||
	       strstr(v, "\nnot ok");
}

/* Did the run fail: its status, or a failed sub-test it still passed? */
static int run_failed(const struct side *s)
{
	static __thread char v[16384];

	if (s->status)
		return 1;
	verdicts(s->out, v, sizeof(v));
	return verdict_failed(v);
}

static void run_side(unsigned int i, int lx)
{
	const struct scase *c = &cases[i];
	struct side *s = &results[i][lx];
	int lane = lane_of(c, lx);

	snprintf(s->out, sizeof(s->out), "%s/%u.%s.out", top, i,
		 lx ? "lx" : "native");
	snprintf(s->err, sizeof(s->err), "%s/%u.%s.err", top, i,
		 lx ? "lx" : "native");
	/* nothing to compare it with: the native run would only load the CPUs */
	if (limit_of(c) && limit_of(c)->kind == SPINS &&
	    !getenv("LX_SELFTESTS_RUN_ALL")) {
		s->status = -1;
		s->tries = 0;	/* not run */
		return;
	}
	s->status = run_once(c, lx, lane, s);
	s->tries = 1;
	/* a limit that fails inside lx is not tried again there */
	if ((c->flags & TIMING) && run_failed(s) &&
	    !(lx && limit_of(c) && limit_of(c)->kind != RACY)) {
		s->status = run_once(c, lx, lane, s);
		s->tries = 2;
	}
}

static void *lane_main(void *arg)
{
	int lane = (int)(long)arg, lx;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		for (lx = 0; lx < 2; lx++)
			if (lane_of(&cases[i], lx) == lane)
				run_side(i, lx);
	return NULL;
}

/*
 * What a failed run said, as TAP comments: its lines that tell of a
 * failure (at most 10), then the last lines of its stdout and stderr.
 */
static void show_run(const char *what, const struct side *s)
{
	fflush(stdout);
	host_sh("grep -hE 'not ok|FAIL|ERROR' %s %s | head -n 10 | "
		"sed 's/^/#   %s failed: /'", s->out, s->err, what);
	host_sh("tail -n 6 %s | sed 's/^/#   %s: /'", s->out, what);
	host_sh("tail -n 4 %s | sed 's/^/#   %s stderr: /'", s->err, what);
}

/* Write text to path+suffix. */
static void save(const char *path, const char *suffix, const char *text)
{
	char name[160];
	FILE *f;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	f = fopen(name, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * A latency test (set-timer-lat: a timer signal more than 40 ms late
 * fails it) measures the machine as much as the kernel: on this 2-CPU
 * VM, with its CPUs busy, native runs miss that bound too, now and then,
 * and lx's timer signal takes two host wake-ups (the timer thread, then
 * the task's thread) where Linux takes one.  A run whose only failures
 * are at most MAX_SPIKES "max latency ... [FAILED]" lines had a load
 * spike; more, or any other failure (early, missing or extra signals),
 * is a failure.  Marks those lines passed in the verdict text v and
 * returns how many there were, or -1 if v fails otherwise or too often.
 */
#define MAX_SPIKES	2

static int latency_spikes(char *v)
{
	char *line, *end, *mark;
	int n = 0;

	for (line = v; *line; line = end + (*end == '\n')) {
		end = line + strcspn(line, "\n");
		mark = strstr(line, "[FAILED]");
		if (mark && mark < end && strstr(line, "max latency") &&
		    strstr(line, "max latency") < end) {
			/* "[FAILED]" -> "[OK]" and 4 spaces, cut below */
			memcpy(mark, "[OK]    ", 8);
			n++;
		} else if ((mark && mark < end) || !strncmp(line, "not ok", 6)) {
			return -1;
		}
	}
	/* the padding left by the marks, so that texts compare */
	while ((mark = strstr(v, "[OK]    ")))
		memmove(mark + 4, mark + 8, strlen(mark + 8) + 1);
	return n <= MAX_SPIKES ? n : -1;
}

static const char *loadavg(void)
{
	static char buf[64];
	FILE *f = fopen("/proc/loadavg", "r");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, " ")] = 0;
		fclose(f);
	}
	return buf;
}

static const struct scase *cur;
static unsigned int cur_i;

static void compare_case(void)
{
	static char vn[16384], vl[16384];
	const struct side *n = &results[cur_i][0], *l = &results[cur_i][1];
	const struct limit *lim = limit_of(cur);
	int native_ok, lx_ok, same, spikes;

	native_ok = !run_failed(n);
	verdicts(n->out, vn, sizeof(vn));
	verdicts(l->out, vl, sizeof(vl));
	same = !strcmp(vn, vl);
	lx_ok = !run_failed(l) && same;
	if (lim && !l->tries) {
		tap_skip("lx limit (not run, inside lx it would spin until "
			 "killed): %s", lim->reason);
		return;
	}
	tap_diag("native: status %d in %.2f s%s; lx: status %d in %.2f s%s",
		 n->status, n->secs, n->tries > 1 ? " (second try)" : "",
		 l->status, l->secs, l->tries > 1 ? " (second try)" : "");
	if (!native_ok && (cur->flags & LATENCY) && n->status == 1 &&
	    (spikes = latency_spikes(vn)) > 0) {
		show_run("native", n);
		tap_skip("the machine missed the latency bound natively (%d "
			 "time(s), load average %s): nothing to compare",
			 spikes, loadavg());
		return;
	}
	if (!CHECK(native_ok, "fails natively (status %d%s): nothing to "
		   "compare", n->status, n->status ? "" : ", a sub-test failed")) {
		show_run("native", n);
		return;
	}
	if (lim && !lx_ok) {
		tap_skip("lx limit: %s", lim->reason);
		return;
	}
	if (lim && lim->kind == FAILS)
		tap_diag("passes inside lx now: the lx limit \"%s\" is stale",
			 lim->reason);
	if (!lx_ok && (cur->flags & LATENCY) && l->status == 1 &&
	    (spikes = latency_spikes(vl)) > 0 && !strcmp(vn, vl)) {
		show_run("lx", l);
		tap_skip("lx limit: %s (%d time(s), load average %s)",
			 latency_limit, spikes, loadavg());
		return;
	}
	CHECK(l->status == 0, "fails inside lx (status %d), passes natively",
	      l->status);
	if (!CHECK(same, "verdict lines differ (< native, > lx):")) {
		save(n->out, ".v", vn);
		save(l->out, ".v", vl);
		fflush(stdout);
		host_sh("diff %s.v %s.v | grep '^[<>]' | head -20 | "
			"sed 's/^/#   /'", n->out, l->out);
	}
	if (!lx_ok)
		show_run("lx", l);
}

int main(void)
{
	pthread_t lanes[NR_LANES];
	char name[512], args[256];
	unsigned int i;
	int k, j;

	setup();
	for (k = 0; k < NR_LANES; k++)
		start_thread(&lanes[k], lane_main, (void *)(long)k);
	for (k = 0; k < NR_LANES; k++)
		join_thread(lanes[k]);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cur = &cases[i];
		cur_i = i;
		k = snprintf(name, sizeof(name), "%s%s%s", cur->prog,
			     cur->args[0] ? " " : "",
			     args_str(cur, args, sizeof(args)));
		for (j = 0; j < MAX_SYSCTLS && cur->sysctls[j]; j++)
			k += snprintf(name + k, sizeof(name) - k, "%s%s",
				      j ? ", " : " [sysctl ", cur->sysctls[j]);
		if (j)
			snprintf(name + k, sizeof(name) - k, "]");
		tap_run(name, compare_case);
	}
	cleanup();
	return tap_done();
}
