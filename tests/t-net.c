// SPDX-License-Identifier: GPL-2.0
/* Tests lx networking over loopback, epoll, event/timer/signal fds, timers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>

#include "util.h"

#define CHUNK	8192
#define ROUNDS	16		/* CHUNK * ROUNDS bytes echoed over TCP */

/* A loopback address of family (port 0: any) and its length. */
static socklen_t loop_addr(int family, struct sockaddr_storage *ss,
			   uint16_t port)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		return sizeof(*s6);
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*s4);
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	return ss->ss_family == AF_INET &&
	       s4->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/*
 * A socket whose blocking receives give up after 10 s, so that a lost
 * packet fails the test instead of hanging it.
 */
static long net_socket(int family, int type)
{
	struct timeval tv = { 10, 0 };
	long fd;

	fd = lx_syscall3(SYS_socket, family, type | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		must(lx_syscall5(SYS_setsockopt, fd, SOL_SOCKET, SO_RCVTIMEO,
				 &tv, sizeof(tv)));
	return fd;
}

/* A socket bound to the loopback address of family; its address in ss. */
static long bound_socket(int family, int type, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	long fd = net_socket(family, type);

	if (!CHECK_OK(fd))
		return fd;
	*len = loop_addr(family, ss, 0);
	if (!CHECK_EQ(lx_syscall3(SYS_bind, fd, ss, *len), 0) ||
	    !CHECK_EQ(lx_syscall3(SYS_getsockname, fd, ss, len), 0) ||
	    !CHECK(ss->ss_family == family && addr_port(ss) != 0,
		   "bound to family %d port %u", ss->ss_family,
		   addr_port(ss))) {
		close_fd(fd);
		return -1;
	}
	return fd;
}

struct peer {
	struct sockaddr_storage addr;	/* the server's */
	socklen_t len;
	int family;
};

static void test_loopback_up(void)
{
	CHECK_EQ(loopback_up(), 0);
}

/* Send CHUNK-sized pieces and check each comes back unchanged. */
static void *tcp_client(void *arg)
{
	static unsigned char out[CHUNK], in[CHUNK];
	struct peer *p = arg;
	long fd;
	int i;

	fd = net_socket(p->family, SOCK_STREAM);
	if (!CHECK_OK(fd))
		return NULL;
	if (!CHECK_EQ(lx_syscall3(SYS_connect, fd, &p->addr, p->len), 0))
		goto out;
	for (i = 0; i < ROUNDS; i++) {
		fill_pattern(out, CHUNK, i);
		memset(in, 0, CHUNK);
		if (!CHECK_EQ(write_all(fd, out, CHUNK), CHUNK) ||
		    !CHECK_EQ(read_all(fd, in, CHUNK), CHUNK) ||
		    !CHECK_EQ(check_pattern(in, CHUNK, i), -1))
			break;
	}
out:
	close_fd(fd);
	return NULL;
}

static void tcp_echo(int family)
{
	static unsigned char buf[CHUNK];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	long lfd, afd, n, total = 0;
	struct peer p = { .family = family };
	pthread_t t;

	lfd = bound_socket(family, SOCK_STREAM, &p.addr, &p.len);
	if (lfd < 0)
		return;
	if (!CHECK_EQ(lx_syscall2(SYS_listen, lfd, 4), 0))
		goto out;
	start_thread(&t, tcp_client, &p);
	afd = lx_syscall4(SYS_accept4, lfd, &from, &flen, SOCK_CLOEXEC);
	if (CHECK_OK(afd)) {
		CHECK(is_loopback(&from), "peer family %d is not loopback",
		      from.ss_family);
		/* echo until the client closes */
		while ((n = lx_syscall3(SYS_read, afd, buf, sizeof(buf))) > 0) {
			total += n;
			if (!CHECK_EQ(write_all(afd, buf, n), n))
				break;
		}
		CHECK_EQ(n, 0);
		CHECK_EQ(total, CHUNK * ROUNDS);
		close_fd(afd);
	}
	join_thread(t);
out:
	close_fd(lfd);
}

static void *udp_client(void *arg)
{
	static unsigned char out[1400], in[1400];
	struct sockaddr_storage from;
	struct peer *p = arg;
	socklen_t flen;
	long fd, i, len;

	fd = net_socket(p->family, SOCK_DGRAM);
	if (!CHECK_OK(fd))
		return NULL;
	for (i = 1; i <= 10; i++) {
		len = i * 140;
		fill_pattern(out, len, i);
		memset(in, 0, len);
		flen = sizeof(from);
		if (!CHECK_EQ(lx_syscall6(SYS_sendto, fd, (long)out, len, 0,
					  (long)&p->addr, p->len), len) ||
		    !CHECK_EQ(lx_syscall6(SYS_recvfrom, fd, (long)in,
					  sizeof(in), 0, (long)&from,
					  (long)&flen), len))
			break;
		CHECK_EQ(check_pattern(in, len, i), -1);
		CHECK(is_loopback(&from) &&
		      addr_port(&from) == addr_port(&p->addr),
		      "reply from family %d port %u", from.ss_family,
		      addr_port(&from));
	}
	close_fd(fd);
	return NULL;
}

static void udp_echo(int family)
{
	static unsigned char buf[2000];
	struct sockaddr_storage from;
	struct peer p = { .family = family };
	socklen_t flen;
	pthread_t t;
	long fd, n, i;

	fd = bound_socket(family, SOCK_DGRAM, &p.addr, &p.len);
	if (fd < 0)
		return;
	start_thread(&t, udp_client, &p);
	for (i = 1; i <= 10; i++) {
		flen = sizeof(from);
		n = lx_syscall6(SYS_recvfrom, fd, (long)buf, sizeof(buf), 0,
				(long)&from, (long)&flen);
		if (!CHECK_EQ(n, i * 140))
			break;
		CHECK(is_loopback(&from), "datagram from family %d",
		      from.ss_family);
		if (!CHECK_EQ(lx_syscall6(SYS_sendto, fd, (long)buf, n, 0,
					  (long)&from, flen), n))
			break;
	}
	join_thread(t);
	close_fd(fd);
}

static void test_tcp4(void)
{
	tcp_echo(AF_INET);
}

static void test_tcp6(void)
{
	tcp_echo(AF_INET6);
}

static void test_udp4(void)
{
	udp_echo(AF_INET);
}

static void test_udp6(void)
{
	udp_echo(AF_INET6);
}

/* A UDP socket sending to itself, watched by epoll; returns the epoll fd. */
static long epoll_self(bool et, long *fdp, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct epoll_event ev = { .events = EPOLLIN | (et ? EPOLLET : 0) };
	long fd, epfd;

	fd = bound_socket(AF_INET, SOCK_DGRAM, ss, len);
	if (fd < 0)
		return -1;
	*fdp = fd;
	epfd = lx_syscall1(SYS_epoll_create1, EPOLL_CLOEXEC);
	if (!CHECK_OK(epfd))
		return -1;
	ev.data.u64 = fd;
	CHECK_EQ(lx_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD, fd, &ev), 0);
	return epfd;
}

static void test_epoll_level(void)
{
	struct sockaddr_storage ss;
	struct epoll_event evs[2];
	long fd = -1, epfd;
	socklen_t len;
	char c;

	epfd = epoll_self(false, &fd, &ss, &len);
	if (epfd < 0)
		goto out;
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 0);
	CHECK_EQ(lx_syscall6(SYS_sendto, fd, (long)"x", 1, 0, (long)&ss, len),
		 1);
	if (CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 5000), 1)) {
		CHECK_EQ(evs[0].events, EPOLLIN);
		CHECK_EQ(evs[0].data.u64, fd);
	}
	/* still readable: reported again and again */
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 1);
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 1);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &c, 1), 1);
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 0);
	close_fd(epfd);
out:
	close_fd(fd);
}

static void test_epoll_edge(void)
{
	struct sockaddr_storage ss;
	struct epoll_event evs[2];
	long fd = -1, epfd;
	socklen_t len;
	char c;

	epfd = epoll_self(true, &fd, &ss, &len);
	if (epfd < 0)
		goto out;
	CHECK_EQ(lx_syscall6(SYS_sendto, fd, (long)"x", 1, 0, (long)&ss, len),
		 1);
	if (CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 5000), 1))
		CHECK_EQ(evs[0].events, EPOLLIN);
	/* no new data since: no new edge, although still readable */
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 0);
	CHECK_EQ(lx_syscall6(SYS_sendto, fd, (long)"y", 1, 0, (long)&ss, len),
		 1);
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 5000), 1);
	CHECK_EQ(lx_syscall4(SYS_epoll_wait, epfd, evs, 2, 0), 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &c, 1), 1);
	CHECK_EQ(c, 'x');
	CHECK_EQ(lx_syscall3(SYS_read, fd, &c, 1), 1);
	CHECK_EQ(c, 'y');
	close_fd(epfd);
out:
	close_fd(fd);
}

static void test_eventfd(void)
{
	uint64_t v;
	long fd;

	fd = lx_syscall2(SYS_eventfd2, 3, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!CHECK_OK(fd))
		return;
	v = 5;
	CHECK_EQ(lx_syscall3(SYS_write, fd, &v, 8), 8);
	v = 0;
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 8), 8);
	CHECK_EQ(v, 8);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 8), -EAGAIN);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 4), -EINVAL);
	v = UINT64_MAX;
	CHECK_EQ(lx_syscall3(SYS_write, fd, &v, 8), -EINVAL);
	v = UINT64_MAX - 1;
	CHECK_EQ(lx_syscall3(SYS_write, fd, &v, 8), 8);
	v = 1;
	CHECK_EQ(lx_syscall3(SYS_write, fd, &v, 8), -EAGAIN);
	close_fd(fd);

	fd = lx_syscall2(SYS_eventfd2, 2, EFD_SEMAPHORE | EFD_NONBLOCK);
	if (!CHECK_OK(fd))
		return;
	v = 0;
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 8), 8);
	CHECK_EQ(v, 1);
	v = 0;
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 8), 8);
	CHECK_EQ(v, 1);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &v, 8), -EAGAIN);
	close_fd(fd);
}

static void test_timerfd(void)
{
	struct itimerspec its = { .it_value = { 0, 20000000 } }, cur;
	uint64_t n = 0;
	long fd;

	fd = lx_syscall2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall4(SYS_timerfd_settime, fd, 0, &its, NULL), 0);
	/* blocks until the timer expires */
	CHECK_EQ(lx_syscall3(SYS_read, fd, &n, 8), 8);
	CHECK_EQ(n, 1);
	memset(&cur, 0xa5, sizeof(cur));
	if (CHECK_EQ(lx_syscall2(SYS_timerfd_gettime, fd, &cur), 0))
		CHECK(!cur.it_value.tv_sec && !cur.it_value.tv_nsec &&
		      !cur.it_interval.tv_sec && !cur.it_interval.tv_nsec,
		      "one-shot timer still armed: %ld.%09ld",
		      (long)cur.it_value.tv_sec, (long)cur.it_value.tv_nsec);
	CHECK_EQ(lx_syscall3(SYS_fcntl, fd, F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, &n, 8), -EAGAIN);
	close_fd(fd);
}

static void test_signalfd(void)
{
	unsigned long mask = SIGBIT(SIGUSR1), old = 0, cur = 0;
	struct signalfd_siginfo si;
	long fd, pid, tid;

	CHECK_EQ(sizeof(si), 128);
	if (!CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &mask, &old,
				  KSIGSET_SIZE), 0))
		return;
	CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur,
			     KSIGSET_SIZE), 0);
	CHECK(cur & SIGBIT(SIGUSR1), "SIGUSR1 not blocked: mask %#lx", cur);
	fd = lx_syscall4(SYS_signalfd4, -1, &mask, KSIGSET_SIZE,
			 SFD_NONBLOCK | SFD_CLOEXEC);
	if (!CHECK_OK(fd))
		goto out;
	CHECK_EQ(lx_syscall3(SYS_read, fd, &si, sizeof(si)), -EAGAIN);
	pid = lx_syscall0(SYS_getpid);
	tid = lx_syscall0(SYS_gettid);
	CHECK_OK(pid);
	CHECK_OK(tid);
	CHECK_EQ(lx_syscall3(SYS_tgkill, pid, tid, SIGUSR1), 0);
	memset(&si, 0, sizeof(si));
	if (CHECK_EQ(lx_syscall3(SYS_read, fd, &si, sizeof(si)), sizeof(si))) {
		CHECK_EQ(si.ssi_signo, SIGUSR1);
		CHECK_EQ((int)si.ssi_code, SI_TKILL);
		CHECK_EQ(si.ssi_pid, pid);
		CHECK_EQ(si.ssi_uid, 0);
	}
	/* consumed: nothing pending any more */
	CHECK_EQ(lx_syscall3(SYS_read, fd, &si, sizeof(si)), -EAGAIN);
	cur = ~0UL;
	CHECK_EQ(lx_syscall2(SYS_rt_sigpending, &cur, KSIGSET_SIZE), 0);
	CHECK_EQ(cur & SIGBIT(SIGUSR1), 0);
	close_fd(fd);
out:
	CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
			     KSIGSET_SIZE), 0);
}

static void test_poll(void)
{
	struct pollfd pfd[2];
	int p[2];
	char c;

	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	pfd[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = p[1], .events = POLLOUT };
	CHECK_EQ(lx_syscall3(SYS_poll, pfd, 2, 0), 1);
	CHECK_EQ(pfd[0].revents, 0);
	CHECK_EQ(pfd[1].revents, POLLOUT);
	CHECK_EQ(lx_syscall3(SYS_write, p[1], "z", 1), 1);
	CHECK_EQ(lx_syscall3(SYS_poll, pfd, 2, 0), 2);
	CHECK_EQ(pfd[0].revents, POLLIN);
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &c, 1), 1);
	/* times out with nothing to read */
	CHECK_EQ(lx_syscall3(SYS_poll, pfd, 1, 20), 0);
	CHECK_EQ(pfd[0].revents, 0);
	close_fd(p[1]);
	CHECK_EQ(lx_syscall3(SYS_poll, pfd, 1, 0), 1);
	CHECK_EQ(pfd[0].revents, POLLHUP);
	close_fd(p[0]);
}

/* The kernel's fd_set: a bitmap of unsigned longs. */
struct kfd_set {
	unsigned long bits[1024 / (8 * sizeof(long))];
};

static void kfd_set(int fd, struct kfd_set *s)
{
	s->bits[fd / (8 * sizeof(long))] |= 1UL << (fd % (8 * sizeof(long)));
}

static bool kfd_isset(int fd, const struct kfd_set *s)
{
	return (s->bits[fd / (8 * sizeof(long))] >>
		(fd % (8 * sizeof(long)))) & 1;
}

static void test_select(void)
{
	struct kfd_set r, w;
	struct timeval tv;
	int p[2], nfds;
	char c;

	if (!CHECK_EQ(lx_syscall2(SYS_pipe2, p, O_CLOEXEC), 0))
		return;
	nfds = (p[0] > p[1] ? p[0] : p[1]) + 1;
	memset(&r, 0, sizeof(r));
	memset(&w, 0, sizeof(w));
	kfd_set(p[0], &r);
	kfd_set(p[1], &w);
	tv = (struct timeval){ 0, 0 };
	CHECK_EQ(lx_syscall5(SYS_select, nfds, &r, &w, NULL, &tv), 1);
	CHECK(!kfd_isset(p[0], &r), "empty pipe readable");
	CHECK(kfd_isset(p[1], &w), "empty pipe not writable");

	CHECK_EQ(lx_syscall3(SYS_write, p[1], "z", 1), 1);
	memset(&r, 0, sizeof(r));
	kfd_set(p[0], &r);
	tv = (struct timeval){ 5, 0 };
	CHECK_EQ(lx_syscall5(SYS_select, nfds, &r, NULL, NULL, &tv), 1);
	CHECK(kfd_isset(p[0], &r), "pipe with data not readable");
	CHECK_EQ(lx_syscall3(SYS_read, p[0], &c, 1), 1);

	/* times out, and the time left is written back as 0 */
	memset(&r, 0, sizeof(r));
	kfd_set(p[0], &r);
	tv = (struct timeval){ 0, 20000 };
	CHECK_EQ(lx_syscall5(SYS_select, nfds, &r, NULL, NULL, &tv), 0);
	CHECK(!kfd_isset(p[0], &r), "fd left set after a timeout");
	CHECK(!tv.tv_sec && !tv.tv_usec, "time left %ld.%06ld",
	      (long)tv.tv_sec, (long)tv.tv_usec);
	close_fd(p[0]);
	close_fd(p[1]);
	memset(&r, 0, sizeof(r));
	kfd_set(p[0], &r);
	CHECK_EQ(lx_syscall5(SYS_select, nfds, &r, NULL, NULL, NULL), -EBADF);
}

static void test_timer_none(void)
{
	struct itimerspec its = { .it_value = { 10, 0 } }, a, b;
	struct sigevent sev;
	int timer = -1;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	if (!CHECK_EQ(lx_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &sev,
				  &timer), 0))
		return;
	CHECK(timer >= 0, "timer id %d", timer);
	CHECK_EQ(lx_syscall4(SYS_timer_settime, timer, 0, &its, NULL), 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK_EQ(lx_syscall2(SYS_timer_gettime, timer, &a), 0);
	host_msleep(50);
	CHECK_EQ(lx_syscall2(SYS_timer_gettime, timer, &b), 0);
	CHECK(ts_ns(&a.it_value) > 0 && ts_ns(&a.it_value) <= 10000000000LL,
	      "first timer_gettime %lld ns", (long long)ts_ns(&a.it_value));
	CHECK(ts_ns(&b.it_value) > 0 &&
	      ts_ns(&b.it_value) < ts_ns(&a.it_value),
	      "not counting down: %lld ns, then %lld ns",
	      (long long)ts_ns(&a.it_value), (long long)ts_ns(&b.it_value));
	CHECK_EQ(lx_syscall1(SYS_timer_delete, timer), 0);
	CHECK_EQ(lx_syscall2(SYS_timer_gettime, timer, &a), -EINVAL);
}

static void test_timer_signal(void)
{
	struct itimerspec its = { .it_value = { 0, 10000000 } };
	unsigned long mask = SIGBIT(SIGUSR2), old = 0;
	struct timespec timeout = { 10, 0 };
	struct sigevent sev;
	siginfo_t si;
	int timer = -1;

	if (!CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &mask, &old,
				  KSIGSET_SIZE), 0))
		return;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	sev.sigev_value.sival_int = 0x5eed;
	if (!CHECK_EQ(lx_syscall3(SYS_timer_create, CLOCK_MONOTONIC, &sev,
				  &timer), 0))
		goto out;
	CHECK_EQ(lx_syscall4(SYS_timer_settime, timer, 0, &its, NULL), 0);
	memset(&si, 0, sizeof(si));
	if (CHECK_EQ(lx_syscall4(SYS_rt_sigtimedwait, &mask, &si, &timeout,
				 KSIGSET_SIZE), SIGUSR2)) {
		CHECK_EQ(si.si_signo, SIGUSR2);
		CHECK_EQ(si.si_code, SI_TIMER);
		CHECK_EQ(si.si_value.sival_int, 0x5eed);
	}
	CHECK_EQ(lx_syscall1(SYS_timer_delete, timer), 0);
out:
	CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
			     KSIGSET_SIZE), 0);
}

int main(void)
{
	boot_kernel();
	tap_run("bring loopback up with SIOCSIFFLAGS", test_loopback_up);
	tap_run("TCP over 127.0.0.1: connect from a thread, echo",
		test_tcp4);
	tap_run("TCP over ::1: connect from a thread, echo", test_tcp6);
	tap_run("UDP over 127.0.0.1: echo between threads", test_udp4);
	tap_run("UDP over ::1: echo between threads", test_udp6);
	tap_run("epoll level-triggered reports until drained",
		test_epoll_level);
	tap_run("epoll edge-triggered reports once per new data",
		test_epoll_edge);
	tap_run("eventfd counter and semaphore semantics", test_eventfd);
	tap_run("timerfd 20 ms one-shot: read gives 1 expiration",
		test_timerfd);
	tap_run("signalfd reads a blocked SIGUSR1 sent with tgkill",
		test_signalfd);
	tap_run("poll on a pipe", test_poll);
	tap_run("select on a pipe with kernel fd_set", test_select);
	tap_run("posix timer SIGEV_NONE counts down", test_timer_none);
	tap_run("posix timer SIGEV_SIGNAL seen by rt_sigtimedwait",
		test_timer_signal);
	halt_kernel();
	return tap_done();
}
