// SPDX-License-Identifier: GPL-2.0
/*
 * A static Go program inside lx and natively: tests/go/lxgo.go, built by
 * Debian's golang-go with CGO_ENABLED=0, runs each of its checks under
 * lxexec and natively in a chroot of the same root (with /proc, a tmpfs
 * on /tmp and the host's /dev, in a mount namespace of its own, as
 * lxexec gives them).  stdout and the exit status must be the same, and
 * the native run must give the status the case expects.  Go's runtime
 * leans on what C programs rarely do all at once: many threads parked
 * on futexes, SIGURG to preempt a goroutine that spins (a lost one hangs
 * the program), signals handled on a goroutine's alternate stack, the
 * poller (epoll) for sockets, pipes and timers.  Without the binary (no
 * go on the machine: make deps installs golang-go) the test fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"
#include "scratch.h"

/* a run that hangs (a lost wake-up, a lost preemption) ends here */
#define RUN_TIMEOUT_S	20

/* One check of lxgo (lxgo CHECK), and the status it ends with. */
struct gocase {
	const char *check;
	int status;
	const char *what;
};

static const struct gocase cases[] = {
	{ "goroutines", 0, "1000 goroutines, a channel ring, a mutex, context" },
	{ "gc", 0, "the collector under load from 4 threads, finalizers" },
	{ "gc-preempt", 0, "collections while a goroutine spins (SIGURG)" },
	{ "preempt", 0, "a spinning goroutine preempted on one P (SIGURG)" },
	{ "http", 0, "net/http server and clients over 127.0.0.1" },
	{ "net", 0, "/etc/hosts, TCP half-close and deadline, UDP" },
	{ "signal", 0, "os/signal: SIGUSR1, SIGUSR2, SIGTERM, SIGINT, ignored" },
	{ "timers", 0, "Ticker, AfterFunc, Reset, monotonic sleep" },
	{ "files", 0, "files, a pipe with a deadline, a unix socket" },
	{ "panics", 0, "nil dereference recovered, deep stacks, a big map" },
	{ "sigterm", 128 + SIGTERM, "SIGTERM with no handler ends it" },
	{ "crash", 2, "an unrecovered nil dereference: status 2" },
	/* threads, timers and signal state carried from check to check */
	{ "all", 0, "every check but the last two in one process" },
};

static const struct gocase *cur_case;

/* The temp dir: root/ (the container's root) and the output files. */
static char root[96], out_native[96], out_lx[96];
static char err_native[96], err_lx[96];
static char lxexec[512], lxgo[512];

static void setup(void)
{
	char t[] = "/tmp/lx-go-XXXXXX";

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	/* $LXEXEC (make test sets it), or build/tests/../lxexec */
	if (getenv("LXEXEC"))
		snprintf(lxexec, sizeof(lxexec), "%s", getenv("LXEXEC"));
	else
		beside_self("../lxexec", lxexec, sizeof(lxexec));
	if (access(lxexec, X_OK))
		tap_bail("%s is missing", lxexec);
	/* build/tests/go/lxgo, or from build/asan/tests the same */
	if (beside_self("go/lxgo", lxgo, sizeof(lxgo)) &&
	    beside_self("../../tests/go/lxgo", lxgo, sizeof(lxgo)))
		tap_bail("the Go program is missing: make test builds it with "
			 "go (golang-go: make deps installs it)");
	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(top, sizeof(top), "%s", t);
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(out_native, sizeof(out_native), "%s/out.native", top);
	snprintf(out_lx, sizeof(out_lx), "%s/out.lx", top);
	snprintf(err_native, sizeof(err_native), "%s/err.native", top);
	snprintf(err_lx, sizeof(err_lx), "%s/err.lx", top);
	/* lxgo's "files" check reads /etc/lxgo.txt, "net" /etc/hosts */
	if (host_sh("mkdir -p %s/proc %s/dev %s/tmp %s/etc && "
		    "cp %s %s/lxgo && printf 'lx go test\\n' > %s/etc/lxgo.txt &&"
		    " printf '127.0.0.1 localhost\\n' > %s/etc/hosts",
		    root, root, root, root, lxgo, root, root, root))
		setup_fail("cannot make the root %s", root);
}

/*
 * Run argv with stdout to out, stderr to err and stdin from /dev/null:
 * natively, in a chroot of root in a mount namespace of its own; under
 * lxexec otherwise.  Its status, 128+N if signal N ended it, -1 if it
 * could not run or ran out of time.
 */
static int run(int native, const char *const *argv, const char *out,
	       const char *err)
{
	static char path[] =
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *const env[] = { path, NULL };
	char mnt[3][128];
	const char *args[16];
	int n = 0, i, st, fd;
	pid_t pid, w;
	time_t end;

	if (!native) {
		args[n++] = lxexec;
		args[n++] = "--rootfs";
		args[n++] = root;
		args[n++] = "--";
	}
	for (i = 0; argv[i]; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	snprintf(mnt[0], sizeof(mnt[0]), "%s/proc", root);
	snprintf(mnt[1], sizeof(mnt[1]), "%s/tmp", root);
	snprintf(mnt[2], sizeof(mnt[2]), "%s/dev", root);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (!native) {
			execv(lxexec, (char *const *)args);
			_exit(127);
		}
		/* the mounts go with the namespace when the program ends */
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("proc", mnt[0], "proc", 0, NULL) ||
		    mount("tmpfs", mnt[1], "tmpfs", 0, "mode=1777") ||
		    mount("/dev", mnt[2], NULL, MS_BIND | MS_REC, NULL) ||
		    chroot(root) || chdir("/")) {
			dprintf(2, "native run: %s\n", strerror(errno));
			_exit(126);
		}
		execve(args[0], (char *const *)args, env);
		_exit(127);
	}
	running = pid;
	end = time(NULL) + RUN_TIMEOUT_S;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && time(NULL) < end)
		host_msleep(5);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		running = 0;
		tap_diag("%s %s: %s did not end in %d s", argv[0], argv[1],
			 native ? "the native run" : "lxexec", RUN_TIMEOUT_S);
		return -1;
	}
	running = 0;
	if (w < 0)
		return -1;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* Print a file's first lines as TAP comments, each after a prefix. */
static void show(const char *what, const char *path, int max)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (n++ == max) {
			tap_diag("  %s: ...", what);
			break;
		}
		tap_diag("  %s: %s", what, line);
	}
	fclose(f);
}

static int same_file(const char *a, const char *b)
{
	return host_sh("cmp -s %s %s", a, b) == 0;
}

static void test_one(void)
{
	const char *argv[] = { "/lxgo", cur_case->check, NULL };
	int nat, lx;

	nat = run(1, argv, out_native, err_native);
	lx = run(0, argv, out_lx, err_lx);
	if (!CHECK(nat == cur_case->status,
		   "natively: status %d, want %d", nat, cur_case->status)) {
		show("native", out_native, 40);
		show("native stderr", err_native, 10);
	}
	CHECK(lx == nat, "status %d in lx, %d natively", lx, nat);
	if (!CHECK(same_file(out_native, out_lx), "stdout differs")) {
		tap_diag("  diff native lx:");
		fflush(stdout);
		host_sh("diff %s %s | head -40 | sed 's/^/#   /'", out_native,
			out_lx);
	}
	if (__atomic_load_n(&tap.cur_failed, __ATOMIC_SEQ_CST))
		show("lx stderr", err_lx, 10);
}

int main(void)
{
	char name[160];
	unsigned int c;

	setup();
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		cur_case = &cases[c];
		snprintf(name, sizeof(name), "go: %s (%s)", cases[c].check,
			 cases[c].what);
		tap_run(name, test_one);
	}
	cleanup();
	return tap_done();
}
