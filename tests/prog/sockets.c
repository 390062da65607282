// SPDX-License-Identifier: GPL-2.0
/*
 * sockets.c - sockets inside one program.
 *
 *   sockets unix   AF_UNIX socket pairs: a stream carrying 1 MiB from a
 *                  second thread, datagram boundaries, SCM_RIGHTS passing
 *                  a pipe, SO_PEERCRED, shutdown seen as end of file
 *   sockets tcp    TCP over 127.0.0.1 between two threads: a server
 *                  thread accepts and returns a checksum of 4 MiB the
 *                  client sends; addresses, TCP_NODELAY, a refused
 *                  connection
 *   sockets udp    UDP over 127.0.0.1: datagrams both ways, their source
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "prog.h"

#define UNIX_LEN	(1 << 20)
#define TCP_LEN		(4 << 20)
#define SEED		11

static int sv[2];

/* A blocking call on fd gives up after 10 s (EAGAIN) instead of hanging. */
static void time_limit(int fd)
{
	struct timeval tv = { 10, 0 };

	TRYSYS(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	TRYSYS(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
}

static long send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		done += n;
	}
	return done;
}

static void *stream_sender(void *arg)
{
	static unsigned char buf[UNIX_LEN];

	(void)arg;
	prog_fill(buf, UNIX_LEN, 0, SEED);
	TRY(send_all(sv[0], buf, UNIX_LEN) == UNIX_LEN, "send: %s",
	    strerror(errno));
	TRYSYS(shutdown(sv[0], SHUT_WR));
	return NULL;
}

/* Receive until end of file; how many bytes matched the pattern. */
static long recv_pattern(int fd, long *bad)
{
	unsigned char buf[65536];
	long total = 0;
	ssize_t n;

	*bad = 0;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		if (prog_check(buf, n, total, SEED) >= 0)
			(*bad)++;
		total += n;
	}
	if (n < 0)
		printf("recv: %s\n", prog_errname(errno));
	return total;
}

static void unix_sockets(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { 0 };
	struct iovec iov;
	struct cmsghdr *c;
	pthread_t t;
	long total, bad;
	int pipefd[2], got = -1;
	ssize_t n;

	TRYSYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	time_limit(sv[0]);
	time_limit(sv[1]);
	TRY0(pthread_create(&t, NULL, stream_sender, NULL));
	total = recv_pattern(sv[1], &bad);
	TRY0(pthread_join(t, NULL));
	printf("stream: %ld bytes from a thread, intact: %s\n", total,
	       prog_yes(!bad));
	TRYSYS(getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &cred, &len));
	printf("SO_PEERCRED: our pid %s, uid %d\n",
	       prog_yes(cred.pid == getpid()), (int)cred.uid);

	/* an fd through the socket: a pipe's write end */
	TRYSYS(pipe(pipefd));
	iov = (struct iovec){ "f", 1 };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
	TRY(sendmsg(sv[1], &msg, 0) == 1, "sendmsg: %s", strerror(errno));
	memset(cbuf, 0, sizeof(cbuf));
	iov = (struct iovec){ buf, sizeof(buf) };
	msg.msg_controllen = sizeof(cbuf);
	n = recvmsg(sv[0], &msg, 0);
	c = CMSG_FIRSTHDR(&msg);
	if (n == 1 && c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(c), sizeof(int));
	printf("SCM_RIGHTS: a new fd %s\n", prog_yes(got >= 0 && got != pipefd[1]));
	if (got >= 0) {
		TRY(write(got, "via", 3) == 3, "write: %s", strerror(errno));
		n = read(pipefd[0], buf, sizeof(buf));
		printf("written through it, read from the pipe: %.*s\n",
		       (int)(n > 0 ? n : 0), buf);
		close(got);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	close(sv[0]);
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("recv after the peer closed: %zd\n", n);
	close(sv[1]);

	TRYSYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	TRY(send(sv[0], "one", 3, 0) == 3, "send");
	TRY(send(sv[0], "second", 6, 0) == 6, "send");
	TRY(send(sv[0], "", 0, 0) == 0, "send");
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("datagram 1: %zd bytes %.*s\n", n, (int)(n > 0 ? n : 0), buf);
	n = recv(sv[1], buf, 2, 0);
	printf("datagram 2 into 2 bytes: %zd bytes %.*s\n", n,
	       (int)(n > 0 ? n : 0), buf);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	printf("datagram 3: %zd bytes\n", n);
	n = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	printf("no more: %s\n", prog_errname(n < 0 ? errno : 0));
	close(sv[0]);
	close(sv[1]);
}

/* The TCP server: accept one client, read until EOF, answer a sum. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int port;
static char server_saw[128];

static void *server(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int ls, cs, one = 1, ok;
	long total, bad;
	char line[64];

	(void)arg;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = TRYSYS(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	time_limit(ls);
	TRYSYS(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	ok = TRYSYS(bind(ls, (struct sockaddr *)&a, sizeof(a))) == 0 &&
	     TRYSYS(listen(ls, 4)) == 0 &&
	     TRYSYS(getsockname(ls, (struct sockaddr *)&a, &len)) == 0;
	pthread_mutex_lock(&lock);
	port = ok ? ntohs(a.sin_port) : -1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	if (port < 0)
		return NULL;
	len = sizeof(a);
	cs = TRYSYS(accept(ls, (struct sockaddr *)&a, &len));
	if (cs >= 0) {
		time_limit(cs);
		total = recv_pattern(cs, &bad);
		snprintf(server_saw, sizeof(server_saw),
			 "a client from %s, %ld bytes", inet_ntoa(a.sin_addr),
			 total);
		snprintf(line, sizeof(line), "%ld bytes, %ld bad chunks", total,
			 bad);
		TRY(send_all(cs, line, strlen(line)) > 0, "send: %s",
		    strerror(errno));
		close(cs);
	}
	close(ls);
	return NULL;
}

static void tcp(void)
{
	static unsigned char buf[TCP_LEN];
	struct sockaddr_in a = { .sin_family = AF_INET }, me, peer;
	socklen_t len;
	char line[64];
	pthread_t t;
	int s, one = 1, v = 0;
	ssize_t n, got = 0;

	TRY0(pthread_create(&t, NULL, server, NULL));
	pthread_mutex_lock(&lock);
	while (!port)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	if (port < 0) {
		TRY0(pthread_join(t, NULL));
		return;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	s = TRYSYS(socket(AF_INET, SOCK_STREAM, 0));
	time_limit(s);
	TRYSYS(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	len = sizeof(v);
	TRYSYS(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len));
	printf("client: TCP_NODELAY %d\n", v);
	TRYSYS(connect(s, (struct sockaddr *)&a, sizeof(a)));
	len = sizeof(me);
	TRYSYS(getsockname(s, (struct sockaddr *)&me, &len));
	len = sizeof(peer);
	TRYSYS(getpeername(s, (struct sockaddr *)&peer, &len));
	printf("client: from %s, to the server's port: %s\n",
	       inet_ntoa(me.sin_addr), prog_yes(ntohs(peer.sin_port) == port));
	prog_fill(buf, TCP_LEN, 0, SEED);
	TRY(send_all(s, buf, TCP_LEN) == TCP_LEN, "send: %s", strerror(errno));
	TRYSYS(shutdown(s, SHUT_WR));
	while ((n = recv(s, line + got, sizeof(line) - 1 - got, 0)) > 0)
		got += n;
	line[got] = 0;
	TRY0(pthread_join(t, NULL));
	printf("server: %s\n", server_saw);
	printf("client: the server says: %s\n", line);
	close(s);

	/* nobody listens there any more */
	s = TRYSYS(socket(AF_INET, SOCK_STREAM, 0));
	n = connect(s, (struct sockaddr *)&a, sizeof(a));
	printf("connect to a closed port: %s\n", prog_errname(n ? errno : 0));
	close(s);
}

static void udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, b, from;
	socklen_t len = sizeof(b), flen;
	int x, y;
	char buf[64];
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	x = TRYSYS(socket(AF_INET, SOCK_DGRAM, 0));
	y = TRYSYS(socket(AF_INET, SOCK_DGRAM, 0));
	time_limit(x);
	time_limit(y);
	if (TRYSYS(bind(x, (struct sockaddr *)&a, sizeof(a))) ||
	    TRYSYS(bind(y, (struct sockaddr *)&a, sizeof(a)))) {
		close(x);
		close(y);
		return;
	}
	TRYSYS(getsockname(y, (struct sockaddr *)&b, &len));
	len = sizeof(a);
	TRYSYS(getsockname(x, (struct sockaddr *)&a, &len));
	TRY(sendto(x, "ping", 4, 0, (struct sockaddr *)&b, sizeof(b)) == 4,
	    "sendto: %s", strerror(errno));
	flen = sizeof(from);
	n = recvfrom(y, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	printf("udp: got %.*s from the sender's address: %s\n",
	       (int)(n > 0 ? n : 0), buf,
	       prog_yes(n == 4 && from.sin_port == a.sin_port &&
			from.sin_addr.s_addr == a.sin_addr.s_addr));
	TRY(sendto(y, "pong", 4, 0, (struct sockaddr *)&from, flen) == 4,
	    "sendto: %s", strerror(errno));
	n = recv(x, buf, sizeof(buf), 0);
	printf("udp: the answer %.*s\n", (int)(n > 0 ? n : 0), buf);
	close(x);
	close(y);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sockets unix|tcp|udp\n");
		return 2;
	}
	if (!strcmp(argv[1], "unix"))
		unix_sockets();
	else if (!strcmp(argv[1], "tcp"))
		tcp();
	else if (!strcmp(argv[1], "udp"))
		udp();
	else
		TRY(0, "unknown mode %s", argv[1]);
	return prog_done();
}
