// SPDX-License-Identifier: GPL-2.0
/*
 * lx's own C suite (tests/prog/) inside lx and natively: every program,
 * built static-pie with glibc, static with musl, dynamic with glibc and
 * dynamic with musl (its loader ld-musl-x86_64.so.1), runs under lxexec
 * and natively in a chroot of the same root (with /proc, a tmpfs on /tmp
 * and the host's /dev, in a mount namespace of its own, as lxexec gives
 * them); stdout and the exit status must be the same, and the native run
 * must give the status the case expects.  One line per case and build.
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

#define RUN_TIMEOUT_S	30

static const char *const builds[] = {
	"glibc-static-pie", "musl-static", "glibc-dynamic", "musl-dynamic",
};

/* A run of one program of the suite, and the status it ends with. */
struct pcase {
	const char *argv[4];
	int status;
	const char *lxopt;	/* an lxexec option for this case, or NULL */
};

static const struct pcase cases[] = {
	{ { "threads" }, 0, NULL },
	{ { "join" }, 0, NULL },
	{ { "robust" }, 0, NULL },
	{ { "mmap", "/tmp", "private" }, 0, NULL },
	{ { "mmap", "/tmp", "shared-ro" }, 0, NULL },
	{ { "mmap", "/tmp", "shared-write" }, 0, NULL },
	{ { "mmap", "/data", "private" }, 0, NULL },
	{ { "mmap", "/data", "shared-ro" }, 0, NULL },
	{ { "mmap", "/data", "shared-write" }, 0, NULL },
	{ { "mmap", "/data", "shared-ro" }, 0, "--cache=strict" },
	{ { "mmap", "/data", "shared-write" }, 0, "--cache=strict" },
	{ { "mmap", "/dev/shm", "shared-ro" }, 0, NULL },
	{ { "mmap", "/dev/shm", "shared-write" }, 0, NULL },
	{ { "brk" }, 0, NULL },
	{ { "flags" }, 0, NULL },
	{ { "maps" }, 0, NULL },
	{ { "memfd" }, 0, NULL },
	{ { "memfd", "seals" }, 0, NULL },
	{ { "epoll" }, 0, NULL },
	{ { "sockets", "unix" }, 0, NULL },
	{ { "sockets", "tcp" }, 0, NULL },
	{ { "sockets", "udp" }, 0, NULL },
	{ { "exit", "exit", "3" }, 3, NULL },
	{ { "exit", "return", "4" }, 4, NULL },
	{ { "exit", "_exit", "5" }, 5, NULL },
	{ { "exit", "thread-exit", "6" }, 6, NULL },
	{ { "exit", "busy-exit", "7" }, 7, NULL },
	{ { "exit", "main-pthread-exit" }, 0, NULL },
	{ { "exit", "raise", "15" }, 128 + SIGTERM, NULL },
	{ { "exit", "raise", "9" }, 128 + SIGKILL, NULL },
	{ { "exit", "abort" }, 128 + SIGABRT, NULL },
	{ { "exit", "segv", "0" }, 128 + SIGSEGV, NULL },
	{ { "faults" }, 0, NULL },
	{ { "faults", "default" }, 128 + SIGSEGV, NULL },
	{ { "signals" }, 0, NULL },
	{ { "futex" }, 0, NULL },
	{ { "futex" }, 0, "--no-rewrite" },
	{ { "cputime" }, 0, NULL },
	{ { "cputime" }, 0, "--no-rewrite" },
	{ { "cputime", "hard" }, 128 + SIGKILL, NULL },
	{ { "filter" }, 0, NULL },
	{ { "inherit" }, 0, NULL },
};

static const struct pcase *cur_case;
static const char *cur_build;

static char progdir[512];

static void setup(void)
{
	char prog[512];
	unsigned int b;

	/* build/tests/prog, or from build/asan/tests the same */
	if (beside_self("prog", progdir, sizeof(progdir)) &&
	    beside_self("../../tests/prog", progdir, sizeof(progdir)))
		tap_bail("the suite's programs are missing (make test builds them)");
	scratch_setup("lx-cprogs");
	if (host_sh("mkdir -p %s/proc %s/dev %s/tmp %s/data %s/lib && "
		    "cp -r %s %s/prog", root, root, root, root, root, progdir,
		    root))
		setup_fail("cannot make the root %s", root);
	for (b = 0; b < ARRAY_SIZE(builds); b++) {
		snprintf(prog, sizeof(prog), "%s/prog/%s/threads", root,
			 builds[b]);
		if (access(prog, X_OK))
			setup_fail("%s is missing", prog);
	}
	/*
	 * glibc's loader and libraries, as ldd finds them, and the
	 * libgcc_s.so.1 its pthread_exit loads to unwind; musl's loader
	 */
	if (host_sh("cd %s && for l in $(ldd prog/glibc-dynamic/threads | "
		    "grep -o '/[^ ]*') $(ldconfig -p | awk '/libgcc_s.so.1 .*"
		    "x86-64/ { print $NF }'); do mkdir -p .$(dirname $l) && "
		    "cp -L $l .$l || exit 1; done", root) ||
	    host_sh("cp -L /lib/ld-musl-x86_64.so.1 %s/lib/", root))
		setup_fail("cannot copy the C libraries into %s", root);
}

static void test_one(void)
{
	const char *argv[8];
	char path[256];
	int i;

	snprintf(path, sizeof(path), "/prog/%s/%s", cur_build,
		 cur_case->argv[0]);
	argv[0] = path;
	for (i = 1; i < 4 && cur_case->argv[i]; i++)
		argv[i] = cur_case->argv[i];
	argv[i] = NULL;

	scratch_compare(cur_case->lxopt, argv, cur_case->status,
			RUN_TIMEOUT_S);
}

int main(void)
{
	char name[160];
	unsigned int b, c;

	setup();
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		for (b = 0; b < ARRAY_SIZE(builds); b++) {
			const struct pcase *p = &cases[c];

			cur_case = p;
			cur_build = builds[b];
			snprintf(name, sizeof(name), "%s: %s%s%s%s%s%s%s",
				 builds[b], p->argv[0], p->argv[1] ? " " : "",
				 p->argv[1] ? p->argv[1] : "",
				 p->argv[2] ? " " : "",
				 p->argv[2] ? p->argv[2] : "",
				 p->lxopt ? ", lxexec " : "",
				 p->lxopt ? p->lxopt : "");
			tap_run(name, test_one);
		}
	}
	cleanup();
	return tap_done();
}
