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

/* A run of lxgo, natively or in lx (scratch.h). */
static int run(int native, const char *const *argv, const char *out,
	       const char *err)
{
	return scratch_run(native, lxexec, NULL, root, argv, out, err,
			   RUN_TIMEOUT_S);
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
