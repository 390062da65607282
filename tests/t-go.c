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

static char lxgo[512];

static void setup(void)
{
	/* build/tests/go/lxgo, or from build/asan/tests the same */
	if (beside_self("go/lxgo", lxgo, sizeof(lxgo)) &&
	    beside_self("../../tests/go/lxgo", lxgo, sizeof(lxgo)))
		tap_bail("the Go program is missing: make test builds it with "
			 "go (golang-go: make deps installs it)");
	scratch_setup("lx-go");
	/* lxgo's "files" check reads /etc/lxgo.txt, "net" /etc/hosts */
	if (host_sh("mkdir -p %s/proc %s/dev %s/tmp %s/etc && "
		    "cp %s %s/lxgo && printf 'lx go test\\n' > %s/etc/lxgo.txt &&"
		    " printf '127.0.0.1 localhost\\n' > %s/etc/hosts",
		    root, root, root, root, lxgo, root, root, root))
		setup_fail("cannot make the root %s", root);
}

static void test_one(void)
{
	const char *argv[] = { "/lxgo", cur_case->check, NULL };

	scratch_compare(NULL, argv, cur_case->status, RUN_TIMEOUT_S);
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
