// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net over a tap device and over AF_PACKET on a veth, in a network
 * namespace this program makes for itself (it vanishes with the program):
 * configuration through lx's rtnetlink, pings both ways, TCP and UDP echo
 * both ways on IPv4 and IPv6, bursts of datagrams of mixed sizes, bulk
 * TCP with offloads, I/O from a forked lx process, bad backends, and a
 * tap that goes away under lx.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lx/lx.h>
#include <lx/netconf.h>

#include "tap.h"
#include "util.h"

/* tap: host 10.10.0.1 / fd10::1, lx eth0 .2;  veth: 10.20.0.1 / fd20::1, lx eth1 .2 */
static const struct link {
	const char *name, *lx_if, *host4, *lx4, *host6, *lx6;
} links[] = {
	{ "tap", "eth0", "10.10.0.1", "10.10.0.2", "fd10::1", "fd10::2" },
	{ "AF_PACKET", "eth1", "10.20.0.1", "10.20.0.2", "fd20::1", "fd20::2" },
};

static char offloads_before[4096];

static void host_side(void)
{
	if (unshare(CLONE_NEWNET))
		tap_bail("unshare(CLONE_NEWNET): %s (needs root)",
			 strerror(errno));
	if (host_sh("ip link set lo up && "
	       "ip tuntap add dev lxtap0 mode tap user 0 && ip link set lxtap0 up && "
	       "ip addr add 10.10.0.1/24 dev lxtap0 && "
	       "ip addr add fd10::1/64 dev lxtap0 nodad && "
	       "ip link add lxveth0 type veth peer name lxveth1 && "
	       "ip link set lxveth0 up && ip link set lxveth1 up && "
	       "ip addr add 10.20.0.1/24 dev lxveth1 && "
	       "ip addr add fd20::1/64 dev lxveth1 nodad"))
		tap_bail("cannot make the tap and veth devices");
	if (host_sh("ethtool -k lxveth0 > /tmp/lx-offl-%d", getpid()) == 0) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/tmp/lx-offl-%d", getpid());
		fd = open(path, O_RDONLY);
		if (fd >= 0 && read(fd, offloads_before,
				    sizeof(offloads_before) - 1) < 0)
			offloads_before[0] = 0;
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
}

/* As nobody (no capabilities), try to open the backends. */
static void test_no_permission(void)
{
	char err[256];
	long ret;

	CHECK_OK(setresuid(65534, 65534, 65534));
	ret = lx_device_add("net:packet=lxveth0", err, sizeof(err));
	CHECK(ret == -EPERM && strstr(err, "lxveth0"), "%ld '%s'", ret, err);
	ret = lx_device_add("net:tap=lxtap0", err, sizeof(err));
	CHECK((ret == -EPERM || ret == -EACCES) && strstr(err, "lxtap0"),
	      "%ld '%s'", ret, err);
}

static void test_bad(void)
{
	char err[256];
	long ret;

	ret = lx_device_add("net:packet=lxnone9", err, sizeof(err));
	CHECK(ret == -ENODEV && strstr(err, "lxnone9"), "%ld '%s'", ret, err);
	ret = lx_device_add("net:tap=lxveth1", err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "not a tap"), "%ld '%s'", ret, err);
	ret = lx_device_add("net:tap=lxtap0,mac=01:00:00:00:00:01", err,
			    sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "mac="), "%ld '%s'", ret, err);
	ret = lx_device_add("net:tap=lxtap0,mtu=20", err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "mtu=20"), "%ld '%s'", ret, err);
}

static void test_add(void)
{
	CHECK_OK(add_device("net:tap=lxtap0,mac=02:00:00:00:00:10"));
	CHECK_OK(add_device("net:packet=lxveth0"));
}

static long lx_mtu(const char *ifname)
{
	struct ifreq ifr = { 0 };
	long fd, ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = lx_syscall3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	ret = lx_syscall3(SYS_ioctl, fd, SIOCGIFMTU, &ifr);
	close_fd(fd);
	return ret < 0 ? ret : ifr.ifr_mtu;
}

static void test_config(void)
{
	char a[64];
	unsigned int i;

	CHECK_OK(lx_net_link_set("lo", 1, 0));
	for (i = 0; i < ARRAY_SIZE(links); i++) {
		const struct link *l = &links[i];

		CHECK_OK(lx_net_link_set(l->lx_if, 1, 0));
		snprintf(a, sizeof(a), "%s/24", l->lx4);
		CHECK_OK(lx_net_addr_add(l->lx_if, a));
		snprintf(a, sizeof(a), "%s/64", l->lx6);
		CHECK_OK(lx_net_addr_add(l->lx_if, a));
	}
	CHECK_EQ(lx_net_addr_add("eth0", "10.10.0.2/24"), -EEXIST);
	CHECK_EQ(lx_net_addr_add("eth9", "10.10.0.2/24"), -ENODEV);
	CHECK_EQ(lx_net_addr_add("eth0", "10.10.0.300/24"), -EINVAL);
	/* a default gateway, and a link-scope gateway as Calico sets up */
	CHECK_OK(lx_net_route_add("default", "10.10.0.1", "eth0", 0));
	CHECK_OK(lx_net_route_add("default", "fd10::1", "eth0", 0));
	CHECK_OK(lx_net_route_add("169.254.1.1", NULL, "eth1", 0));
	CHECK_OK(lx_net_route_add("10.30.0.0/16", "169.254.1.1", "eth1", 1));
	CHECK_OK(lx_net_neigh_add("eth1", "169.254.1.1", "02:00:00:00:00:99"));
	/* the MTU: the veth's own, then set through netlink */
	CHECK_EQ(lx_mtu("eth1"), 1500);
	CHECK_OK(lx_net_link_set("eth1", 1, 1400));
	CHECK_EQ(lx_mtu("eth1"), 1400);
	CHECK_OK(lx_net_link_set("eth1", 1, 1500));
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	CHECK_OK(lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0));
	CHECK_OK(lx_sysctl_set("net.ipv4.ip_forward", "1"));
	CHECK_EQ(lx_sysctl_set("net.ipv4.no_such_thing", "1"), -ENOENT);
}

static void test_host_pings(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		CHECK(host_sh("ping -q -c 2 -i 0.2 -W 3 %s >/dev/null", links[i].lx4) == 0,
		      "host pings %s over %s", links[i].lx4, links[i].name);
		CHECK(host_sh("ping -q -6 -c 2 -i 0.2 -W 3 %s >/dev/null", links[i].lx6) == 0,
		      "host pings %s over %s", links[i].lx6, links[i].name);
	}
}

static uint16_t csum(const void *p, size_t len)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; len > 1; len -= 2)
		s += *w++;
	if (len)
		s += *(const uint8_t *)w;
	s = (s >> 16) + (s & 0xffff);
	s += s >> 16;
	return ~s;
}

/* One ICMP echo from lx to addr over a raw socket of lx; 0 if answered. */
static long lx_ping(const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	unsigned char pkt[64] = { 0 }, reply[256];
	int v6 = strchr(addr, ':') != NULL;
	struct pollfd p;
	socklen_t sl;
	long fd, ret = -ETIMEDOUT, n;
	int tries;

	if (v6) {
		struct sockaddr_in6 *s6 = (void *)&ss;
		struct icmp6_hdr *h = (void *)pkt;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		sl = sizeof(*s6);
		h->icmp6_type = ICMP6_ECHO_REQUEST;
		h->icmp6_id = htons(0x4c58);
		h->icmp6_seq = htons(1);
		fd = lx_syscall3(SYS_socket, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		struct icmphdr *h = (void *)pkt;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s4->sin_addr);
		sl = sizeof(*s4);
		h->type = ICMP_ECHO;
		h->un.echo.id = htons(0x4c58);
		h->un.echo.sequence = htons(1);
		h->checksum = csum(pkt, sizeof(pkt));
		fd = lx_syscall3(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP);
	}
	if (fd < 0)
		return fd;
	n = lx_syscall6(SYS_sendto, fd, (long)pkt, sizeof(pkt), 0, (long)&ss, sl);
	if (n != sizeof(pkt)) {
		close_fd(fd);
		return n < 0 ? n : -EIO;
	}
	for (tries = 0; tries < 20; tries++) {
		p.fd = fd;
		p.events = POLLIN;
		if (lx_syscall3(SYS_poll, &p, 1, 3000) <= 0)
			break;
		n = lx_syscall6(SYS_recvfrom, fd, (long)reply, sizeof(reply), 0, 0, 0);
		if (n <= 0)
			break;
		/* v4 raw sockets see the IP header; v6 ones do not */
		if (v6 ? reply[0] == ICMP6_ECHO_REPLY :
			 n >= 28 && reply[(reply[0] & 15) * 4] == ICMP_ECHOREPLY) {
			ret = 0;
			break;
		}
	}
	close_fd(fd);
	return ret;
}

static void test_lx_pings(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		CHECK(lx_ping(links[i].host4) == 0, "lx pings %s over %s",
		      links[i].host4, links[i].name);
		CHECK(lx_ping(links[i].host6) == 0, "lx pings %s over %s",
		      links[i].host6, links[i].name);
	}
}

static socklen_t make_addr(struct sockaddr_storage *ss, const char *a, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(a, ':')) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, a, &s6->sin6_addr);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, a, &s4->sin_addr);
	return sizeof(*s4);
}

#define ECHO_LEN (1 << 20)

struct echo {
	const char *addr;
	int port, type;
	long fd;		/* the listening/bound lx socket */
	long result;
};

/* lx side: echo one TCP connection or ECHO_LEN/1000 datagrams. */
static void *lx_echo_server(void *arg)
{
	struct echo *e = arg;
	static char b[65536];
	long c, n;

	if (e->type == SOCK_STREAM) {
		c = lx_syscall3(SYS_accept4, e->fd, 0, 0);
		if (c < 0) {
			e->result = c;
			return NULL;
		}
		while ((n = lx_syscall3(SYS_read, c, b, sizeof(b))) > 0)
			if (write_all(c, b, n) != n)
				break;
		close_fd(c);
		e->result = n;
	} else {
		struct sockaddr_storage from;
		socklen_t fl;
		int i;

		for (i = 0; i < 50; i++) {
			fl = sizeof(from);
			n = lx_syscall6(SYS_recvfrom, e->fd, (long)b, sizeof(b), 0,
					(long)&from, (long)&fl);
			if (n < 0)
				break;
			lx_syscall6(SYS_sendto, e->fd, (long)b, n, 0, (long)&from,
				    fl);
		}
		e->result = n < 0 ? n : 0;
	}
	return NULL;
}

static unsigned char out[ECHO_LEN], in[ECHO_LEN];

/* The host side of an echo: TCP stream of ECHO_LEN or 50 datagrams. */
static long host_echo_client(const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, addr, port);
	struct timeval tv = { 5, 0 };
	size_t sent = 0, got = 0;
	int fd, i;

	fd = socket(ss.ss_family, type, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (void *)&ss, sl))
		goto fail;
	fill_pattern(out, ECHO_LEN, port);
	if (type == SOCK_STREAM) {
		while (got < ECHO_LEN) {
			struct pollfd p = { .fd = fd, .events = POLLIN | (sent < ECHO_LEN ? POLLOUT : 0) };

			if (poll(&p, 1, 5000) <= 0)
				goto fail;
			if ((p.revents & POLLOUT) && sent < ECHO_LEN) {
				ssize_t n = send(fd, out + sent, ECHO_LEN - sent,
						 MSG_DONTWAIT);
				if (n > 0)
					sent += n;
			}
			if (p.revents & POLLIN) {
				ssize_t n = recv(fd, in + got, ECHO_LEN - got,
						 MSG_DONTWAIT);
				if (n <= 0)
					goto fail;
				got += n;
			}
		}
		shutdown(fd, SHUT_WR);
		if (memcmp(in, out, ECHO_LEN))
			goto fail;
	} else {
		for (i = 0; i < 50; i++) {
			if (send(fd, out + i * 1000, 1000, 0) != 1000 ||
			    recv(fd, in, 2000, 0) != 1000 ||
			    memcmp(in, out + i * 1000, 1000))
				goto fail;
		}
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -EIO;
}

static long lx_listen(const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, addr, port);
	long fd;

	fd = lx_syscall3(SYS_socket, ss.ss_family, type, 0);
	if (fd < 0)
		return fd;
	if (lx_syscall3(SYS_bind, fd, &ss, sl) ||
	    (type == SOCK_STREAM && lx_syscall2(SYS_listen, fd, 4))) {
		close_fd(fd);
		return -EADDRNOTAVAIL;
	}
	return fd;
}

static void echo_into_lx(const char *addr, int type, int port)
{
	struct echo e = { addr, port, type, -1, -1 };
	pthread_t t;

	e.fd = lx_listen(addr, port, type);
	if (!CHECK(e.fd >= 0, "listen on %s: %ld", addr, e.fd))
		return;
	start_thread(&t, lx_echo_server, &e);
	CHECK(host_echo_client(addr, port, type) == 0, "%s echo via %s",
	      type == SOCK_STREAM ? "TCP" : "UDP", addr);
	if (type == SOCK_DGRAM)
		lx_syscall2(SYS_shutdown, e.fd, SHUT_RDWR);
	join_thread(t);
	close_fd(e.fd);
}

/* A file of lx's /proc/net into buf, NUL-terminated; false if unreadable. */
static bool lx_proc_net(const char *name, char *buf, size_t size)
{
	char path[64];
	long fd, len;

	snprintf(path, sizeof(path), "/proc/net/%s", name);
	fd = lx_syscall3(SYS_open, path, O_RDONLY, 0);
	if (fd < 0)
		return false;
	len = read_all(fd, buf, size - 1);
	close_fd(fd);
	if (len <= 0)
		return false;
	buf[len] = 0;
	return true;
}

/*
 * IP packets lx's IPv4 or IPv6 took in shorter than their header says
 * (InTruncatedPkts in /proc/net/netstat, Ip6InTruncatedPkts in
 * /proc/net/snmp6), or -1 if the counter cannot be read.
 */
static long lx_ip_truncated(bool v6)
{
	static char buf[16384];
	char *names, *vals, *save1, *save2, *n, *v;

	if (v6) {
		if (!lx_proc_net("snmp6", buf, sizeof(buf)) ||
		    !(n = strstr(buf, "Ip6InTruncatedPkts ")))
			return -1;
		return atol(n + strlen("Ip6InTruncatedPkts "));
	}
	/* "IpExt: name name ...\nIpExt: value value ...\n" */
	if (!lx_proc_net("netstat", buf, sizeof(buf)) ||
	    !(names = strstr(buf, "IpExt: ")) || !(vals = strchr(names, '\n')))
		return -1;
	*vals++ = 0;
	if (strncmp(vals, "IpExt: ", 7) || !strchr(vals, '\n'))
		return -1;
	*strchr(vals, '\n') = 0;
	n = strtok_r(names + 7, " ", &save1);
	v = strtok_r(vals + 7, " ", &save2);
	for (; n && v; n = strtok_r(NULL, " ", &save1),
		       v = strtok_r(NULL, " ", &save2))
		if (!strcmp(n, "InTruncatedPkts"))
			return atol(v);
	return -1;
}

static void test_echo_host_to_lx(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		echo_into_lx(links[i].lx4, SOCK_STREAM, 7000 + i);
		echo_into_lx(links[i].lx6, SOCK_STREAM, 7100 + i);
		echo_into_lx(links[i].lx4, SOCK_DGRAM, 7200 + i);
		echo_into_lx(links[i].lx6, SOCK_DGRAM, 7300 + i);
	}
	/*
	 * The host's TCP sends segments of up to 64 KiB (TSO), each one frame
	 * with a virtio-net header: a frame cut short on its way into the
	 * driver's buffers reaches IP shorter than its header says (TCP
	 * would send it again and the echo still pass).
	 */
	CHECK(lx_ip_truncated(false) == 0 && lx_ip_truncated(true) == 0,
	      "IP packets cut short: IPv4 %ld, IPv6 %ld (-1: unreadable)",
	      lx_ip_truncated(false), lx_ip_truncated(true));
}

/*
 * Bursts of datagrams of mixed sizes, from one byte to 9000 (those above
 * the MTU come as IP fragments, several frames each), sent without waiting:
 * the receive thread takes many frames of different sizes in one pass,
 * each into as many of the driver's buffers as it needs.  Each datagram
 * must arrive whole, in order, with its own bytes.
 */
#define BURSTS 8
#define BURST_LEN 16

static size_t burst_size(int i)
{
	return (size_t)(i * 7919) % 9000 + 1;
}

struct burst_rx {
	long fd;
	long good;		/* datagrams that came whole, or -errno */
};

static void *lx_burst_receiver(void *arg)
{
	struct burst_rx *r = arg;
	struct timeval tv = { 5, 0 };
	struct sockaddr_storage from;
	static char b[65536];
	int i, k, buf = 1 << 20;
	socklen_t fl;
	long n;

	/* a burst (~70 KiB) fits the socket's buffer, with room */
	lx_syscall5(SYS_setsockopt, r->fd, SOL_SOCKET, SO_RCVBUF, &buf,
		    sizeof(buf));
	lx_syscall5(SYS_setsockopt, r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv));
	r->good = 0;
	for (k = 0; k < BURSTS; k++) {
		long good = 0;

		for (i = 0; i < BURST_LEN; i++) {
			int d = k * BURST_LEN + i;

			fl = sizeof(from);
			n = lx_syscall6(SYS_recvfrom, r->fd, (long)b, sizeof(b),
					0, (long)&from, (long)&fl);
			if (n < 0) {
				r->good = n;
				return NULL;
			}
			good += (size_t)n == burst_size(d) &&
				check_pattern(b, n, d) < 0;
		}
		r->good += good;
		/* the burst is in: the host sends the next one */
		lx_syscall6(SYS_sendto, r->fd, (long)&good, sizeof(good), 0,
			    (long)&from, fl);
	}
	return NULL;
}

static void burst_into_lx(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, addr, port);
	struct timeval tv = { 5, 0 };
	struct burst_rx r = { .good = -1 };
	static unsigned char b[9000];
	pthread_t t;
	int fd, i, k, sent = 0;
	long ack;

	r.fd = lx_listen(addr, port, SOCK_DGRAM);
	if (!CHECK(r.fd >= 0, "bind %s: %ld", addr, r.fd))
		return;
	start_thread(&t, lx_burst_receiver, &r);
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (void *)&ss, sl) == 0) {
		for (k = 0; k < BURSTS; k++) {
			for (i = 0; i < BURST_LEN; i++) {
				int d = k * BURST_LEN + i;

				fill_pattern(b, burst_size(d), d);
				sent += send(fd, b, burst_size(d), 0) ==
					(ssize_t)burst_size(d);
			}
			if (recv(fd, &ack, sizeof(ack), 0) != sizeof(ack))
				break;
		}
	}
	close(fd);
	join_thread(t);
	close_fd(r.fd);
	CHECK(sent == BURSTS * BURST_LEN && r.good == sent,
	      "%s: %d datagrams sent, %ld came whole", addr, sent, r.good);
}

static void test_bursts(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		burst_into_lx(links[i].lx4, 7400 + i);
		burst_into_lx(links[i].lx6, 7500 + i);
	}
}

/* The other way: a host echo server, an lx client. */
struct host_echo {
	int fd, type;
};

static void *host_echo_server(void *arg)
{
	struct host_echo *h = arg;
	static char b[65536];
	ssize_t n;
	int c, i;

	if (h->type == SOCK_STREAM) {
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		while ((n = read(c, b, sizeof(b))) > 0)
			if (write(c, b, n) != n)
				break;
		close(c);
	} else {
		struct sockaddr_storage from;
		socklen_t fl;

		for (i = 0; i < 50; i++) {
			fl = sizeof(from);
			n = recvfrom(h->fd, b, sizeof(b), 0, (void *)&from, &fl);
			if (n < 0)
				break;
			sendto(h->fd, b, n, 0, (void *)&from, fl);
		}
	}
	return NULL;
}

static long lx_echo_client(const char *addr, int port, int type)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, addr, port);
	size_t sent = 0, got = 0;
	long fd, n, ret = -EIO;
	int i;

	fd = lx_syscall3(SYS_socket, ss.ss_family, type, 0);
	if (fd < 0)
		return fd;
	if (lx_syscall3(SYS_connect, fd, &ss, sl))
		goto out;
	fill_pattern(out, ECHO_LEN, port);
	if (type == SOCK_STREAM) {
		while (got < ECHO_LEN) {
			struct pollfd p = { .fd = fd, .events = POLLIN | (sent < ECHO_LEN ? POLLOUT : 0) };

			if (lx_syscall3(SYS_poll, &p, 1, 5000) <= 0)
				goto out;
			if ((p.revents & POLLOUT) && sent < ECHO_LEN) {
				n = lx_syscall6(SYS_sendto, fd, (long)out + sent,
						ECHO_LEN - sent, MSG_DONTWAIT, 0, 0);
				if (n > 0)
					sent += n;
			}
			if (p.revents & POLLIN) {
				n = lx_syscall6(SYS_recvfrom, fd, (long)in + got,
						ECHO_LEN - got, MSG_DONTWAIT, 0, 0);
				if (n <= 0)
					goto out;
				got += n;
			}
		}
		lx_syscall2(SYS_shutdown, fd, SHUT_WR);
		if (memcmp(in, out, ECHO_LEN))
			goto out;
	} else {
		for (i = 0; i < 50; i++) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (lx_syscall3(SYS_write, fd, out + i * 1000, 1000) != 1000 ||
			    lx_syscall3(SYS_poll, &p, 1, 5000) != 1 ||
			    lx_syscall3(SYS_read, fd, in, 2000) != 1000 ||
			    memcmp(in, out + i * 1000, 1000))
				goto out;
		}
	}
	ret = 0;
out:
	close_fd(fd);
	return ret;
}

static void echo_from_lx(const char *addr, int type, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, addr, port);
	struct host_echo h = { socket(ss.ss_family, type, 0), type };
	pthread_t t;

	if (!CHECK(h.fd >= 0 && !bind(h.fd, (void *)&ss, sl) &&
		   (type == SOCK_DGRAM || !listen(h.fd, 4)),
		   "host listen on %s", addr))
		return;
	start_thread(&t, host_echo_server, &h);
	CHECK(lx_echo_client(addr, port, type) == 0, "%s echo from lx to %s",
	      type == SOCK_STREAM ? "TCP" : "UDP", addr);
	shutdown(h.fd, SHUT_RDWR);
	join_thread(t);
	close(h.fd);
}

static void test_echo_lx_to_host(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(links); i++) {
		echo_from_lx(links[i].host4, SOCK_STREAM, 8000 + i);
		echo_from_lx(links[i].host6, SOCK_STREAM, 8100 + i);
		echo_from_lx(links[i].host4, SOCK_DGRAM, 8200 + i);
		echo_from_lx(links[i].host6, SOCK_DGRAM, 8300 + i);
	}
}

/* A forked lx process talks TCP to the host: its frames, its interrupts. */
static void test_child(void)
{
	long st = -1;
	pid_t pid;
	int hst;
	struct sockaddr_storage ss;
	socklen_t sl = make_addr(&ss, "10.20.0.1", 8500);
	struct host_echo h = { socket(AF_INET, SOCK_STREAM, 0), SOCK_STREAM };
	pthread_t t;

	if (!CHECK(!bind(h.fd, (void *)&ss, sl) && !listen(h.fd, 4), "listen"))
		return;
	start_thread(&t, host_echo_server, &h);
	pid = lx_fork();
	if (pid == 0) {
		long r = lx_echo_client("10.20.0.1", 8500, SOCK_STREAM);

		lx_syscall1(SYS_exit_group, r ? 1 : 0);
		_exit(99);
	}
	CHECK(pid > 0, "lx_fork %d", pid);
	if (pid > 0) {
		waitpid(pid, &hst, 0);
		CHECK(lx_syscall4(SYS_wait4, -1, &st, 0, NULL) > 0 &&
		      WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %#lx", st);
	}
	shutdown(h.fd, SHUT_RDWR);
	join_thread(t);
	close(h.fd);
}

static void test_offloads_untouched(void)
{
	char now[4096] = { 0 };
	int fd;

	if (!offloads_before[0]) {
		tap_skip("ethtool is not installed");
		return;
	}
	CHECK_EQ(host_sh("ethtool -k lxveth0 > /tmp/lx-offl2-%d", getpid()), 0);
	{
		char path[64];

		snprintf(path, sizeof(path), "/tmp/lx-offl2-%d", getpid());
		fd = open(path, O_RDONLY);
		CHECK(fd >= 0 && read(fd, now, sizeof(now) - 1) > 0, "read");
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	CHECK(!strcmp(now, offloads_before), "the veth's offloads changed");
}

/* CPU seconds of this process, all its threads */
static double process_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/*
 * The tap's interface deleted under lx: every read of the tap fails and
 * poll() says so at once; its receive thread says so once and looks
 * again every 10 ms, not in a loop that takes a CPU (the whole process
 * must use less than 0.3 s of CPU in 1 s; it idles far below), and lx
 * halts as before.
 */
static void test_tap_gone(void)
{
	double c0, used;

	if (!CHECK_EQ(host_sh("ip link del lxtap0"), 0))
		return;
	host_msleep(200);
	c0 = process_cpu();
	host_msleep(1000);
	used = process_cpu() - c0;
	tap_diag("%.3f s of CPU in 1 s with the tap gone", used);
	CHECK(used < 0.3, "%.3f s of CPU in 1 s with the tap gone", used);
}

int main(void)
{
	host_side();
	tap_run_forked("without capabilities: EPERM naming the interface",
		       test_no_permission);
	tap_run("bad backends: clear errors", test_bad);
	tap_run("a tap and an AF_PACKET interface declared", test_add);
	boot_kernel();
	tap_run("links, addresses, routes, neighbours, MTU, sysctl via netlink",
		test_config);
	tap_run("the host pings lx (IPv4, IPv6, tap and AF_PACKET)",
		test_host_pings);
	tap_run("lx pings the host (IPv4, IPv6, tap and AF_PACKET)",
		test_lx_pings);
	tap_run("TCP and UDP echo, host to lx", test_echo_host_to_lx);
	tap_run("TCP and UDP echo, lx to host", test_echo_lx_to_host);
	tap_run("bursts of datagrams of 1 to 9000 bytes arrive whole",
		test_bursts);
	tap_run("a forked lx process does TCP", test_child);
	tap_run("the veth's offload settings are left as found",
		test_offloads_untouched);
	tap_run("the tap deleted under lx: no busy loop", test_tap_gone);
	halt_kernel();
	return tap_done();
}
