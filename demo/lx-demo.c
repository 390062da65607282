// SPDX-License-Identifier: GPL-2.0
/*
 * lx-demo: boot the library kernel inside this process and run a short
 * session in it - files on its root file system and a TCP exchange over
 * its own loopback - printing each step and how long it took.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double t0;

static void step(const char *what, long ret)
{
	double t = now_ms();

	if (ret < 0) {
		printf("  %-52s FAILED: %s\n", what, lx_strerror(ret));
		exit(1);
	}
	printf("  %-52s %8.3f ms\n", what, t - t0);
	t0 = now_ms();
}

static void usage(void)
{
	printf("usage: lx-demo [--help] [KERNEL-CMDLINE]\n"
	       "Boots lx (Linux 6.1 as a library) in this process and runs\n"
	       "a short session in it: files and TCP over its loopback.\n"
	       "Default command line: mem=64M.  LX_LOG=1 shows the kernel log.\n");
}

static void *server(void *arg)
{
	int lfd = *(int *)arg;
	char buf[64];
	long fd, n;

	fd = lx_syscall3(SYS_accept, lfd, NULL, NULL);
	if (fd < 0)
		return (void *)fd;
	n = lx_syscall3(SYS_read, fd, buf, sizeof(buf));
	if (n > 0)
		n = lx_syscall3(SYS_write, fd, buf, n);
	lx_syscall1(SYS_close, fd);
	return (void *)n;
}

int main(int argc, char **argv)
{
	const char *cmdline = argc > 1 ? argv[1] : "mem=64M";
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(7777) };
	struct ifreq ifr = { .ifr_name = "lo" };
	static const char msg[] = "hello from lx";
	struct utsname uts;
	char buf[64];
	pthread_t th;
	long fd, lfd, sfd, n;
	void *res;
	int one = 1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage();
		return 0;
	}
	printf("lx demo: Linux 6.1 as a library in process %d\n", getpid());
	t0 = now_ms();
	step("boot the kernel", lx_start_kernel(cmdline));

	step("uname", lx_syscall1(SYS_uname, &uts));
	printf("    %s %s %s\n", uts.sysname, uts.release, uts.machine);
	step("getpid (a thread of init)", lx_syscall0(SYS_getpid));

	step("mkdir /demo", lx_syscall2(SYS_mkdir, "/demo", 0755));
	fd = lx_syscall4(SYS_openat, AT_FDCWD, "/demo/hello.txt",
			 O_CREAT | O_RDWR | O_TRUNC, 0644);
	step("create /demo/hello.txt", fd);
	step("write 13 bytes", lx_syscall3(SYS_write, fd, msg, strlen(msg)));
	n = lx_syscall4(SYS_pread64, fd, buf, sizeof(buf), 0);
	step("read them back", n);
	printf("    \"%.*s\"\n", (int)n, buf);
	lx_syscall1(SYS_close, fd);

	sfd = lx_syscall3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	step("socket for ioctls", sfd);
	lx_syscall3(SYS_ioctl, sfd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	step("bring lo up", lx_syscall3(SYS_ioctl, sfd, SIOCSIFFLAGS, &ifr));
	lx_syscall1(SYS_close, sfd);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = lx_syscall3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	lx_syscall5(SYS_setsockopt, lfd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	step("TCP listen on 127.0.0.1:7777",
	     lx_syscall3(SYS_bind, lfd, &sin, sizeof(sin)) ?:
	     lx_syscall2(SYS_listen, lfd, 1));
	pthread_create(&th, NULL, server, &lfd);
	fd = lx_syscall3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	step("TCP connect from another host thread",
	     lx_syscall3(SYS_connect, fd, &sin, sizeof(sin)));
	step("send", lx_syscall3(SYS_write, fd, msg, strlen(msg)));
	n = lx_syscall3(SYS_read, fd, buf, sizeof(buf));
	step("receive the echo", n);
	printf("    \"%.*s\"\n", (int)n, buf);
	pthread_join(th, &res);
	lx_syscall1(SYS_close, fd);
	lx_syscall1(SYS_close, lfd);

	step("halt the kernel", lx_halt());
	printf("lx demo: done\n");
	return 0;
}
