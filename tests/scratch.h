/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scratch.h - for a test that runs programs natively and inside lx one at
 * a time: its scratch directory (top, under /tmp) and the program now
 * running, both gone when the test ends, bails out or is killed.
 */
#ifndef _LX_TEST_SCRATCH_H
#define _LX_TEST_SCRATCH_H

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>

static char top[64];
static volatile pid_t running;

static void cleanup(void)
{
	if (top[0])
		host_sh("rm -rf %s", top);
}

/* Killed (run-tests.sh's timeout): end the program running, clean up. */
static void on_signal(int sig)
{
	static char rm[] = "rm", rf[] = "-rf";
	char *const argv[] = { rm, rf, top, NULL };
	pid_t pid;

	if (running > 0)
		kill(running, SIGKILL);
	pid = fork();
	if (pid == 0) {
		execv("/bin/rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
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

#endif
