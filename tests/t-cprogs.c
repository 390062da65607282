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
};

static const struct pcase *cur_case;
static const char *cur_build;

/* The temp dir: root/ (the container's root) and the output files. */
static char root[96], out_native[96], out_lx[96];
static char err_native[96], err_lx[96];
static char lxexec[512], progdir[512];

static void setup(void)
{
	char t[] = "/tmp/lx-cprogs-XXXXXX", prog[512];
	unsigned int b;

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
	/* build/tests/prog, or from build/asan/tests the same */
	if (beside_self("prog", progdir, sizeof(progdir)) &&
	    beside_self("../../tests/prog", progdir, sizeof(progdir)))
		tap_bail("the suite's programs are missing (make test builds them)");
	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(top, sizeof(top), "%s", t);
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(out_native, sizeof(out_native), "%s/out.native", top);
	snprintf(out_lx, sizeof(out_lx), "%s/out.lx", top);
	snprintf(err_native, sizeof(err_native), "%s/err.native", top);
	snprintf(err_lx, sizeof(err_lx), "%s/err.lx", top);
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

/* A run of the current case and build, natively or in lx (scratch.h). */
static int run(int native, const char *const *argv, const char *out,
	       const char *err)
{
	return scratch_run(native, lxexec, cur_case->lxopt, root, argv, out,
			   err, RUN_TIMEOUT_S);
}


static int same_file(const char *a, const char *b)
{
	return host_sh("cmp -s %s %s", a, b) == 0;
}


static void test_one(void)
{
	const char *argv[8];
	char path[256];
	int i, nat, lx;

	snprintf(path, sizeof(path), "/prog/%s/%s", cur_build,
		 cur_case->argv[0]);
	argv[0] = path;
	for (i = 1; i < 4 && cur_case->argv[i]; i++)
		argv[i] = cur_case->argv[i];
	argv[i] = NULL;

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
