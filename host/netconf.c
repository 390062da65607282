// SPDX-License-Identifier: GPL-2.0
/*
 * netconf.c - rtnetlink requests to lx's kernel (see <lx/netconf.h>).
 * Messages are built with libmnl and sent through lx_syscall().
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <lx/lx.h>
#include <lx/netconf.h>

/* Send one request on a fresh lx netlink socket and take its ack. */
static int nl_request(struct nlmsghdr *nlh)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	long fd, n;
	int ret;

	fd = lx_syscall3(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			 NETLINK_ROUTE);
	if (fd < 0)
		return fd;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	n = lx_syscall6(SYS_sendto, fd, (long)nlh, nlh->nlmsg_len, 0, (long)&sa,
			sizeof(sa));
	if (n < 0) {
		ret = n;
		goto out;
	}
	n = lx_syscall6(SYS_recvfrom, fd, (long)buf, sizeof(buf), 0, 0, 0);
	if (n < 0) {
		ret = n;
		goto out;
	}
	ret = mnl_cb_run(buf, n, 1, 0, NULL, NULL);
	ret = ret < 0 ? -errno : 0;
out:
	lx_syscall1(SYS_close, fd);
	return ret;
}

static int if_index(const char *ifname)
{
	struct ifreq ifr = { 0 };
	long fd, ret;

	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -ENODEV;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	fd = lx_syscall3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	ret = lx_syscall3(SYS_ioctl, fd, SIOCGIFINDEX, &ifr);
	lx_syscall1(SYS_close, fd);
	return ret < 0 ? ret : ifr.ifr_ifindex;
}

/* "addr[/prefix]": family, bytes and prefix (full length if none). */
static int parse_addr(const char *s, unsigned char *bytes, int *family,
		      int *prefix)
{
	char tmp[INET6_ADDRSTRLEN + 8], *slash, *end;
	int max;

	if (!s || strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, tmp, bytes) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, bytes) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	*prefix = max;
	if (slash) {
		long p = strtol(slash, &end, 10);

		if (!*slash || *end || p < 0 || p > max)
			return -EINVAL;
		*prefix = p;
	}
	return 0;
}

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int lx_net_link_set(const char *ifname, int up, int mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	int idx = if_index(ifname);

	if (idx < 0)
		return idx;
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nlh);
}

int lx_net_addr_add(const char *ifname, const char *cidr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned char a[16];
	struct ifaddrmsg *ifa;
	int idx = if_index(ifname), family, prefix;

	if (idx < 0)
		return idx;
	if (parse_addr(cidr, a, &family, &prefix))
		return -EINVAL;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = idx;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(family), a);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(family), a);
	if (family == AF_INET6) {
		/* no duplicate address detection: the address works at once */
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_request(nlh);
}

int lx_net_route_add(const char *dst, const char *gw, const char *ifname,
		     int onlink)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned char d[16] = { 0 }, g[16];
	int family = 0, prefix = 0, gfamily, gprefix, idx = 0;
	struct rtmsg *rtm;

	if (!dst)
		return -EINVAL;
	if (ifname) {
		idx = if_index(ifname);
		if (idx < 0)
			return idx;
	}
	if (gw && parse_addr(gw, g, &gfamily, &gprefix))
		return -EINVAL;
	if (!strcmp(dst, "default")) {
		if (!gw)
			return -EINVAL;	/* which family? */
		family = gfamily;
	} else if (parse_addr(dst, d, &family, &prefix)) {
		return -EINVAL;
	}
	if (gw && gfamily != family)
		return -EINVAL;
	if (!gw && !idx)
		return -EINVAL;
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	if (prefix)
		mnl_attr_put(nlh, RTA_DST, addr_len(family), d);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(family), g);
	if (idx)
		mnl_attr_put_u32(nlh, RTA_OIF, idx);
	return nl_request(nlh);
}

int lx_net_neigh_add(const char *ifname, const char *ip, const char *mac)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned char a[16], m[6];
	unsigned int b[6];
	int idx = if_index(ifname), family, prefix, i;
	struct ndmsg *ndm;
	char end;

	if (idx < 0)
		return idx;
	if (parse_addr(ip, a, &family, &prefix) ||
	    prefix != addr_len(family) * 8 || !mac ||
	    sscanf(mac, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		m[i] = b[i];
	}
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = idx;
	ndm->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, addr_len(family), a);
	mnl_attr_put(nlh, NDA_LLADDR, 6, m);
	return nl_request(nlh);
}

int lx_sysctl_set(const char *name, const char *value)
{
	char path[256];
	size_t i, len;
	long fd, n;

	if (!name || !value || !*name || strstr(name, "..") ||
	    strlen(name) + sizeof("/proc/sys/") > sizeof(path))
		return -EINVAL;
	len = snprintf(path, sizeof(path), "/proc/sys/%s", name);
	for (i = sizeof("/proc/sys/") - 1; i < len; i++) {
		if (path[i] == '.')
			path[i] = '/';
		else if (path[i] == '/')
			return -EINVAL;
	}
	fd = lx_syscall4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	n = lx_syscall3(SYS_write, fd, value, strlen(value));
	lx_syscall1(SYS_close, fd);
	return n < 0 ? n : 0;
}
