// SPDX-License-Identifier: GPL-2.0
/*
 * hostfd files: lx fds that are host fds.  A pipe stays a pipe (fstat says
 * FIFO), a pty stays a tty with its window size, EOF arrives; a blocked
 * read leaves the CPU free and a signal interrupts it; poll and epoll wake
 * on host data; memfds and sockets; a forked process uses its copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <lx/lx.h>

#include "../host/home.h"
#include "tap.h"
#include "util.h"

static long lx_fstat_mode(long fd)
{
	struct stat st;
	long ret = lx_syscall2(SYS_fstat, fd, &st);

	return ret < 0 ? ret : (long)st.st_mode;
}

static void test_bad(void)
{
	int p[2];

	CHECK_EQ(lx_hostfd(-1, O_RDONLY), -EBADF);
	CHECK_EQ(lx_hostfd(12345, O_RDONLY), -EBADF);
	CHECK(pipe(p) == 0, "pipe");
	CHECK_EQ(lx_hostfd(p[0], O_RDONLY | O_APPEND), -EINVAL);
	/* the caller still owns it after an error */
	CHECK_EQ(fcntl(p[0], F_GETFD), 0);
	close(p[0]);
	close(p[1]);
}

static void test_pipe(void)
{
	int p[2];
	long fd;
	char buf[8] = { 0 };

	CHECK(pipe(p) == 0, "pipe");
	fd = lx_hostfd(p[0], O_RDONLY | O_CLOEXEC);
	CHECK_OK(fd);
	CHECK(S_ISFIFO(lx_fstat_mode(fd)), "mode %lo", lx_fstat_mode(fd));
	CHECK_EQ(write(p[1], "abc", 3), 3);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 3);
	CHECK(!strcmp(buf, "abc"), "read '%s'", buf);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), -ESPIPE);
	CHECK_EQ(lx_syscall3(SYS_ioctl, fd, 0x5401 + 0x100, 0), -ENOTTY);
	close(p[1]);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 0); /* EOF */
	close_fd(fd);
	/* lx owned p[0]: it is closed now */
	CHECK(fcntl(p[0], F_GETFD) < 0 && errno == EBADF, "p[0] still open");
}

struct reader {
	long fd;
	long ret;
	long tid;
	char buf[16];
};

static void *blocking_reader(void *arg)
{
	struct reader *r = arg;

	__atomic_store_n(&r->tid, lx_syscall0(SYS_gettid), __ATOMIC_RELEASE);
	r->ret = lx_syscall3(SYS_read, r->fd, r->buf, sizeof(r->buf));
	return NULL;
}

static void test_blocking(void)
{
	struct reader r = { 0 };
	pthread_t t;
	int p[2], i;

	CHECK(pipe(p) == 0, "pipe");
	r.fd = lx_hostfd(p[0], O_RDONLY);
	CHECK_OK(r.fd);
	start_thread(&t, blocking_reader, &r);
	host_msleep(50);
	/* the reader sleeps in lx: the CPU is free for others */
	for (i = 0; i < 100; i++)
		CHECK_OK(lx_syscall0(SYS_getppid));
	CHECK_EQ(r.ret, 0);
	CHECK_EQ(write(p[1], "late", 4), 4);
	join_thread(t);
	CHECK_EQ(r.ret, 4);
	CHECK(!memcmp(r.buf, "late", 4), "data");
	close_fd(r.fd);
	close(p[1]);
}

static void handler(int sig)
{
	(void)sig;
}

static void test_signal(void)
{
	struct { void *h; unsigned long flags; void *restorer; unsigned long mask; }
		act = { (void *)handler, 0x04000000 /* SA_RESTORER */, (void *)handler, 0 };
	struct reader r = { 0 };
	long tid = 0;
	pthread_t t;
	int p[2];

	CHECK(pipe(p) == 0, "pipe");
	r.fd = lx_hostfd(p[0], O_RDONLY);
	CHECK_OK(lx_syscall4(SYS_rt_sigaction, SIGUSR1, &act, NULL, KSIGSET_SIZE));
	start_thread(&t, blocking_reader, &r);
	host_msleep(50);
	tid = __atomic_load_n(&r.tid, __ATOMIC_ACQUIRE);
	CHECK(tid > 0, "reader's tid %ld", tid);
	CHECK_OK(lx_syscall3(SYS_tgkill, lx_syscall0(SYS_getpid), tid, SIGUSR1));
	join_thread(t);
	CHECK_EQ(r.ret, -EINTR);
	close_fd(r.fd);
	close(p[1]);
}

static void test_write_and_epipe(void)
{
	struct { void *h; unsigned long flags; void *restorer; unsigned long mask; }
		ign = { SIG_IGN, 0, NULL, 0 };
	char buf[8] = { 0 };
	int p[2];
	long fd;

	CHECK(pipe(p) == 0, "pipe");
	fd = lx_hostfd(p[1], O_WRONLY);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "out", 3), 3);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK(!strcmp(buf, "out"), "host got '%s'", buf);
	close(p[0]);
	CHECK_OK(lx_syscall4(SYS_rt_sigaction, SIGPIPE, &ign, NULL, KSIGSET_SIZE));
	CHECK_EQ(lx_syscall3(SYS_write, fd, "x", 1), -EPIPE);
	close_fd(fd);
}

static void test_nonblock_poll_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd pfd;
	char buf[8];
	int p[2];
	long fd, ep;

	CHECK(pipe(p) == 0, "pipe");
	fd = lx_hostfd(p[0], O_RDONLY | O_NONBLOCK);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), -EAGAIN);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	CHECK_EQ(lx_syscall3(SYS_poll, &pfd, 1, 0), 0);
	if (fork() == 0) {
		usleep(50000);
		if (write(p[1], "p", 1) != 1)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(lx_syscall3(SYS_poll, &pfd, 1, 5000), 1);
	CHECK(pfd.revents & POLLIN, "revents %#x", pfd.revents);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 1);
	wait(NULL);
	ep = lx_syscall1(SYS_epoll_create1, 0);
	CHECK_OK(ep);
	CHECK_OK(lx_syscall4(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, fd, &ev));
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, ep, &out, 1, 0), 0);
	if (fork() == 0) {
		usleep(50000);
		if (write(p[1], "e", 1) != 1)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, ep, &out, 1, 5000), 1);
	wait(NULL);
	/* an event loop: drain to EAGAIN, wait again, get the next chunk */
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 1);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), -EAGAIN);
	if (fork() == 0) {
		usleep(50000);
		if (write(p[1], "2", 1) != 1)
			_exit(1);
		_exit(0);
	}
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, ep, &out, 1, 5000), 1);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 1);
	wait(NULL);
	close_fd(ep);
	close_fd(fd);
	close(p[1]);
}

static void test_pty(void)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 111 }, got = { 0 };
	struct termios tio;
	int master, slave;
	char buf[8] = { 0 };
	long fd;

	if (!CHECK(openpty(&master, &slave, NULL, NULL, NULL) == 0, "openpty"))
		return;
	fd = lx_hostfd(slave, O_RDWR);
	CHECK_OK(fd);
	CHECK(S_ISCHR(lx_fstat_mode(fd)), "mode %lo", lx_fstat_mode(fd));
	/* isatty() is TCGETS */
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, TCGETS, &tio));
	CHECK_OK(ioctl(master, TIOCSWINSZ, &ws));
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, TIOCGWINSZ, &got));
	CHECK(got.ws_row == 33 && got.ws_col == 111, "winsize %dx%d",
	      got.ws_col, got.ws_row);
	/* raw mode through lx, then bytes through the pty both ways */
	cfmakeraw(&tio);
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, TCSETS, &tio));
	CHECK_EQ(write(master, "kb", 2), 2);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 2);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "tty", 3), 3);
	CHECK_EQ(read(master, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "tty", 3), "master read");
	/* a bad pointer: -EFAULT, nothing written on the host's behalf */
	CHECK_EQ(lx_syscall3(SYS_ioctl, fd, TIOCGWINSZ, 8), -EFAULT);
	close_fd(fd);
	close(master);
}

static void test_memfd_socket(void)
{
	char buf[16] = { 0 };
	struct stat st;
	int m, sv[2];
	long fd;

	m = memfd_create("lx-test", MFD_CLOEXEC);
	CHECK_EQ(write(m, "hello memfd", 11), 11);
	fd = lx_hostfd(m, O_RDWR);
	CHECK_OK(fd);
	CHECK_OK(lx_syscall2(SYS_fstat, fd, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 11, "memfd stat");
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 5, 6), 5);
	CHECK(!memcmp(buf, "memfd", 5), "pread");
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_END), 11);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "!", 1), 1);
	close_fd(fd);
	CHECK_EQ(lseek(m, 0, SEEK_END), -1); /* m was lx's: closed with fd */

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "sp");
	fd = lx_hostfd(sv[0], O_RDWR);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "sock", 4), 4);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 4);
	CHECK_EQ(write(sv[1], "back", 4), 4);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "back", 4), "socket read");
	close_fd(fd);
	close(sv[1]);
}

/*
 * A regular file given as stdio (a shell's "> file"): its offset is shared
 * with the host's other holders; write() appends where they left off.
 */
static void test_shared_offset(void)
{
	char path[] = "/tmp/lx-hostfd-XXXXXX", buf[16] = { 0 };
	int f = mkstemp(path);
	long fd;

	unlink(path);
	CHECK_EQ(write(f, "A", 1), 1);
	fd = lx_hostfd(dup(f), O_WRONLY);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "B", 1), 1);
	CHECK_EQ(write(f, "C", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "D", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 4);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "x", 1, 0), 1);
	/* a pwrite at the current offset does not move it */
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "E", 1, 4), 1);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 4);
	CHECK_EQ(pread(f, buf, sizeof(buf), 0), 5);
	CHECK(!strcmp(buf, "xBCDE"), "file holds '%s'", buf);
	close_fd(fd);
	close(f);
}

/* A forked lx process reads its copy of the pipe, blocking. */
static void test_child(void)
{
	int p[2], hst;
	long fd, st = -1;
	pid_t pid;

	CHECK(pipe(p) == 0, "pipe");
	fd = lx_hostfd(p[0], O_RDONLY);
	CHECK_OK(fd);
	pid = lx_fork();
	if (pid == 0) {
		char buf[8] = { 0 };
		long n = lx_syscall3(SYS_read, fd, buf, sizeof(buf));

		lx_syscall1(SYS_exit_group, n == 5 && !memcmp(buf, "child", 5) ? 0 : 1);
		_exit(99);
	}
	CHECK(pid > 0, "lx_fork");
	host_msleep(50);
	CHECK_EQ(write(p[1], "child", 5), 5);
	waitpid(pid, &hst, 0);
	CHECK(lx_syscall4(SYS_wait4, -1, &st, 0, NULL) > 0 && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0, "child status %#lx", st);
	close_fd(fd);
	close(p[1]);
}

/*
 * The host reads into a program's buffer itself: only the program's part
 * of it.  A child takes the page right below lx's RAM (where the host may
 * put a program's heap): a long read there stops before the RAM, and the
 * rest of the pipe's bytes are read after it, through 12 segments (more
 * than the kernel keeps on its stack).  The child's status is the number
 * of the check that failed.
 */
static int read_below_ram(long fd, unsigned char *page)
{
	unsigned char want[300], got[340];
	struct iovec iov[12];
	int i;

	for (i = 0; i < 300; i++)
		want[i] = i * 7;
	munmap(page, 4096);
	if (mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != page)
		return 1;
	if (lx_syscall3(SYS_read, fd, page + 4096 - 100, 1 << 20) != 100 ||
	    memcmp(page + 4096 - 100, want, 100))
		return 2;
	for (i = 0; i < 12; i++)
		iov[i] = (struct iovec){ got + 100 + i * 20, 20 };
	if (lx_syscall3(SYS_readv, fd, iov, 12) != 200 ||
	    memcmp(got + 100, want + 100, 200))
		return 3;
	if (lx_syscall3(SYS_read, fd, page + 4096, 10) != -EFAULT)
		return 4;
	return 0;
}

static void test_child_below_ram(void)
{
	unsigned char data[300];
	int p[2], hst, i;
	long fd, st = -1;
	pid_t pid;

	for (i = 0; i < 300; i++)
		data[i] = i * 7;
	CHECK(pipe(p) == 0, "pipe");
	CHECK_EQ(write(p[1], data, 300), 300);
	fd = lx_hostfd(p[0], O_RDONLY);
	CHECK_OK(fd);
	pid = lx_fork();
	if (pid == 0) {
		lx_syscall1(SYS_exit_group,
			    read_below_ram(fd, (unsigned char *)lx_guest_ptr(0, 1) -
					       4096));
		_exit(99);
	}
	CHECK(pid > 0, "lx_fork");
	waitpid(pid, &hst, 0);
	CHECK(lx_syscall4(SYS_wait4, -1, &st, 0, NULL) > 0 && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0, "check %ld failed (status %#lx)",
	      (long)WEXITSTATUS(st), st);
	close_fd(fd);
	close(p[1]);
}

int main(void)
{
	boot_kernel();
	tap_run("bad host fds and flags", test_bad);
	tap_run("a pipe stays a pipe; EOF arrives; lx owns the fd", test_pipe);
	tap_run("a blocked read leaves the CPU free", test_blocking);
	tap_run("a signal interrupts a blocked read", test_signal);
	tap_run("writes reach the host; a closed reader gives EPIPE",
		test_write_and_epipe);
	tap_run("O_NONBLOCK, poll and epoll on host data",
		test_nonblock_poll_epoll);
	tap_run("a pty is a tty: termios, window size, raw I/O", test_pty);
	tap_run("memfd and socket", test_memfd_socket);
	tap_run("a regular file shares its offset with the host's holders",
		test_shared_offset);
	tap_run("a forked lx process reads its copy", test_child);
	tap_run("the host reads into user memory right below lx's RAM, "
		"not into it", test_child_below_ram);
	halt_kernel();
	return tap_done();
}
