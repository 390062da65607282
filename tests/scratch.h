/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scratch.h - for a test that runs programs natively and inside lx one at
 * a time: its scratch directory (top, under /tmp) and the program now
 * running, both gone when the test ends, bails out or is killed.
 */
#ifndef _LX_TEST_SCRATCH_H
#define _LX_TEST_SCRATCH_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>

static char top[64];
static volatile pid_t running;
/* in top: root/ (the container's root) and the runs' output files */
static char root[96], out_native[96], out_lx[96];
static char err_native[96], err_lx[96];
static char lxexec[512];

static void cleanup(void)
{
	if (top[0])
		host_sh("rm -rf %s", top);
}

/* Killed (run-tests.sh's timeout): end the program running, clean up. */
static void on_signal(int sig)
{
	if (running > 0)
		kill(running, SIGKILL);
	remove_tree_now(top);
	signal(sig, SIG_DFL);
	raise(sig);
}

static __printf(1, 2) void setup_fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cleanup();
	tap_bail("%s", msg);
}

/*
 * Run argv with stdout to out, stderr to err and stdin from /dev/null:
 * natively, in a chroot of root/ in a mount namespace of its own (proc,
 * a tmpfs on /tmp and the host's /dev, as lxexec gives them); under
 * lxexec (with option lxopt, if not NULL) otherwise, for at most
 * timeout_s seconds.  Its status, 128+N if signal N ended it, -1 if it
 * could not run or ran out of time.
 */
static int scratch_run(int native, const char *lxopt,
		       const char *const *argv, const char *out,
		       const char *err, int timeout_s)
{
	static char path[] =
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *const env[] = { path, NULL };
	char mnt[3][128];
	const char *args[16];
	int n = 0, i, st, fd;
	pid_t pid, w;
	time_t end;

	if (native) {
		for (i = 0; argv[i]; i++)
			args[n++] = argv[i];
	} else {
		args[n++] = lxexec;
		if (lxopt)
			args[n++] = lxopt;
		args[n++] = "--rootfs";
		args[n++] = root;
		args[n++] = "--";
		for (i = 0; argv[i]; i++)
			args[n++] = argv[i];
	}
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
	end = time(NULL) + timeout_s;
	while ((w = waitpid(pid, &st, WNOHANG)) == 0 && time(NULL) < end)
		host_msleep(5);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		running = 0;
		tap_diag("%s%s%s: %s did not end in %d s", argv[0],
			 argv[1] ? " " : "", argv[1] ? argv[1] : "",
			 native ? "the native run" : "lxexec", timeout_s);
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

/*
 * The scratch directory /tmp/PREFIX-XXXXXX and its file names, lxexec
 * found ($LXEXEC, as make test sets it, or build/tests/../lxexec), and
 * the clean-up on a kill.  Bails out (TAP) if it cannot.
 */
static void scratch_setup(const char *prefix)
{
	char t[64];

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	if (getenv("LXEXEC"))
		snprintf(lxexec, sizeof(lxexec), "%s", getenv("LXEXEC"));
	else
		beside_self("../lxexec", lxexec, sizeof(lxexec));
	if (access(lxexec, X_OK))
		tap_bail("%s is missing", lxexec);
	snprintf(t, sizeof(t), "/tmp/%s-XXXXXX", prefix);
	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(top, sizeof(top), "%s", t);
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(out_native, sizeof(out_native), "%s/out.native", top);
	snprintf(out_lx, sizeof(out_lx), "%s/out.lx", top);
	snprintf(err_native, sizeof(err_native), "%s/err.native", top);
	snprintf(err_lx, sizeof(err_lx), "%s/err.lx", top);
}

/*
 * argv run natively and under lxexec (with lxopt, if not NULL), each for
 * at most timeout_s seconds: the native run must end with status want,
 * the lx run the same way, with the same stdout.  TAP checks, with what
 * differs as comments.
 */
static void scratch_compare(const char *lxopt, const char *const *argv,
			    int want, int timeout_s)
{
	int nat, lx;

	nat = scratch_run(1, lxopt, argv, out_native, err_native, timeout_s);
	lx = scratch_run(0, lxopt, argv, out_lx, err_lx, timeout_s);
	if (!CHECK(nat == want, "natively: status %d, want %d", nat, want)) {
		show("native", out_native, 40);
		show("native stderr", err_native, 10);
	}
	CHECK(lx == nat, "status %d in lx, %d natively", lx, nat);
	if (!CHECK(!host_sh("cmp -s %s %s", out_native, out_lx),
		   "stdout differs")) {
		tap_diag("  diff native lx:");
		fflush(stdout);
		host_sh("diff %s %s | head -40 | sed 's/^/#   /'", out_native,
			out_lx);
	}
	if (__atomic_load_n(&tap.cur_failed, __ATOMIC_SEQ_CST))
		show("lx stderr", err_lx, 10);
}

#endif
