// SPDX-License-Identifier: GPL-2.0
/*
 * One kernel shared by forked host processes (lx_fork()): the child is its
 * own lx process, tasks of both processes wake each other, and the child's
 * death - by exit, by SIGKILL in user code or inside a blocking call -
 * leaves the kernel running and the child reaped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>

#include "tap.h"
#include "util.h"

static long lx_pipe(int fds[2])
{
	return lx_syscall2(SYS_pipe2, fds, 0);
}

/* Wait for host process pid and for its lx process, return lx's status. */
static int reap(pid_t host_pid, long lx_pid)
{
	int status = -1, host_status;

	waitpid(host_pid, &host_status, 0);
	CHECK_EQ(lx_syscall4(SYS_wait4, lx_pid, &status, 0, NULL), lx_pid);
	return status;
}

static void test_identity(void)
{
	long ppid = lx_syscall0(SYS_getpid);
	int p[2], fd, st;
	long cpid;
	pid_t pid;
	char c;

	must(lx_pipe(p));
	fd = must(lx_syscall4(SYS_openat, AT_FDCWD, "/fork-a",
			      O_CREAT | O_RDWR, 0600));
	pid = lx_fork();
	if (pid == 0) {
		long me = lx_syscall0(SYS_getpid);

		CHILD_CHECK(me > 0 && me != ppid);
		CHILD_CHECK(lx_syscall0(SYS_getppid) == ppid);
		CHILD_CHECK(lx_syscall0(SYS_gettid) > 0);
		/* the fd table is a copy: closing here leaves the parent's */
		CHILD_CHECK(lx_syscall1(SYS_close, fd) == 0);
		CHILD_CHECK(lx_syscall3(SYS_write, p[1], &me, sizeof(me)) ==
			    sizeof(me));
		lx_syscall1(SYS_exit_group, child_fail ? 1 : 7);
		_exit(99);
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &cpid, sizeof(cpid)),
		 sizeof(cpid));
	CHECK(cpid != ppid, "child pid %ld, parent %ld", cpid, ppid);
	/* the parent's fd is still open */
	CHECK_EQ(lx_syscall3(SYS_write, fd, "x", 1), 1);
	(void)c;
	st = reap(pid, cpid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "child status %#x", st);
	lx_syscall1(SYS_close, fd);
	lx_syscall1(SYS_close, p[0]);
	lx_syscall1(SYS_close, p[1]);
}

/*
 * The child blocks in a pipe read, in nanosleep and in poll; the parent
 * wakes the first and the last, the timer thread of the home process the
 * second; then the parent blocks and the child wakes it.
 */
/*
 * SysV semaphores: the sleeper's queue entry lives on its kernel stack and
 * the waker, in the other process, takes it off the shared list.
 */
static void test_semaphore(void)
{
	struct sembuf down = { .sem_num = 0, .sem_op = -1 };
	struct sembuf up = { .sem_num = 0, .sem_op = 1 };
	long cpid = 0, semid;
	int p[2], st;
	pid_t pid;
	char c;

	semid = lx_syscall3(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (!CHECK_OK(semid))
		return;
	must(lx_pipe(p));
	pid = lx_fork();
	if (pid == 0) {
		long me = lx_syscall0(SYS_getpid);

		lx_syscall3(SYS_write, p[1], &me, sizeof(me));
		/* blocks: the count is 0 */
		CHILD_CHECK(lx_syscall3(SYS_semop, semid, &down, 1) == 0);
		lx_syscall3(SYS_write, p[1], "d", 1);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &cpid, sizeof(cpid)),
		 sizeof(cpid));
	usleep(50000);
	/* the child waits on the semaphore */
	CHECK_EQ(lx_syscall3(SYS_semctl, semid, 0, GETNCNT), 1);
	CHECK_EQ(lx_syscall3(SYS_semop, semid, &up, 1), 0);
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &c, 1), 1);
	st = reap(pid, cpid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	lx_syscall3(SYS_semctl, semid, 0, IPC_RMID);
	lx_syscall1(SYS_close, p[0]);
	lx_syscall1(SYS_close, p[1]);
}

static void test_wakeups(void)
{
	int to_child[2], to_parent[2], st;
	struct timespec ts;
	long cpid = 0;
	pid_t pid;
	char c;

	must(lx_pipe(to_child));
	must(lx_pipe(to_parent));
	pid = lx_fork();
	if (pid == 0) {
		struct timespec d = { 0, 50000000 };
		struct pollfd pfd = { .fd = to_child[0], .events = POLLIN };
		long me = lx_syscall0(SYS_getpid);
		double t0, t1;

		lx_syscall3(SYS_write, to_parent[1], &me, sizeof(me));
		/* 1: blocked in read, woken by the parent */
		CHILD_CHECK(lx_syscall3(SYS_read, to_child[0], &c, 1) == 1);
		/* 2: nanosleep, woken by the home process's timer */
		lx_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec + ts.tv_nsec / 1e9;
		CHILD_CHECK(lx_syscall2(SYS_nanosleep, &d, NULL) == 0);
		lx_syscall2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		t1 = ts.tv_sec + ts.tv_nsec / 1e9;
		CHILD_CHECK(t1 - t0 >= 0.049);
		lx_syscall3(SYS_write, to_parent[1], "s", 1);
		/* 3: poll, woken by the parent */
		CHILD_CHECK(lx_syscall3(SYS_poll, &pfd, 1, 10000) == 1);
		CHILD_CHECK(lx_syscall3(SYS_read, to_child[0], &c, 1) == 1);
		/* 4: wake the parent, which blocks in read */
		usleep(50000);
		lx_syscall3(SYS_write, to_parent[1], "w", 1);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	CHECK_EQ(lx_syscall3(SYS_read, to_parent[0], &cpid, sizeof(cpid)),
		 sizeof(cpid));
	usleep(50000);	/* let the child block */
	CHECK_EQ(lx_syscall3(SYS_write, to_child[1], "r", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_read, to_parent[0], &c, 1), 1);
	CHECK_EQ(c, 's');
	usleep(50000);
	CHECK_EQ(lx_syscall3(SYS_write, to_child[1], "p", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_read, to_parent[0], &c, 1), 1);
	CHECK_EQ(c, 'w');
	st = reap(pid, cpid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	lx_syscall1(SYS_close, to_child[0]);
	lx_syscall1(SYS_close, to_child[1]);
	lx_syscall1(SYS_close, to_parent[0]);
	lx_syscall1(SYS_close, to_parent[1]);
}

/*
 * The child dies by the host's SIGKILL (in user code, or inside a blocking
 * lx read) or by a plain host exit: its lx process is reaped, killed by
 * SIGKILL, and the kernel goes on.
 */
static void child_death(int how)
{
	int p[2], q[2], st;
	long cpid = 0;
	pid_t pid;
	char c;

	must(lx_pipe(p));
	must(lx_pipe(q));
	pid = lx_fork();
	if (pid == 0) {
		long me = lx_syscall0(SYS_getpid);

		lx_syscall3(SYS_write, p[1], &me, sizeof(me));
		if (how == 0)
			for (;;)
				;	/* killed in user code */
		if (how == 1)
			lx_syscall3(SYS_read, q[0], &c, 1);	/* killed here */
		_exit(0);	/* a host exit, lx never told */
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &cpid, sizeof(cpid)),
		 sizeof(cpid));
	usleep(50000);
	if (how < 2)
		kill(pid, SIGKILL);
	st = reap(pid, cpid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "child status %#x", st);
	/* the kernel still runs, and the pipe the child held still works */
	CHECK_EQ(lx_syscall3(SYS_write, q[1], "k", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_read, q[0], &c, 1), 1);
	lx_syscall1(SYS_close, p[0]);
	lx_syscall1(SYS_close, p[1]);
	lx_syscall1(SYS_close, q[0]);
	lx_syscall1(SYS_close, q[1]);
}

static void test_kill_in_user(void)
{
	child_death(0);
}

static void test_kill_blocked(void)
{
	child_death(1);
}

static void test_host_exit(void)
{
	child_death(2);
}

int main(void)
{
	boot_kernel();
	tap_run("lx_fork: the child is its own process with its own fd table",
		test_identity);
	tap_run("wake-ups across processes: pipe, nanosleep, poll, both ways",
		test_wakeups);
	tap_run("SysV semaphore: the child sleeps in semop, the parent wakes it",
		test_semaphore);
	tap_run("child killed by SIGKILL in user code is reaped",
		test_kill_in_user);
	tap_run("child killed by SIGKILL inside a blocking read is reaped",
		test_kill_blocked);
	tap_run("child that exits on the host without lx is reaped",
		test_host_exit);
	halt_kernel();
	return tap_done();
}
