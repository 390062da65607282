/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netconf.h - configure lx's network through the kernel's own rtnetlink,
 * the way ip(8) would inside the container.  Every call is made through
 * lx_syscall() by the calling thread, so the settings land in the network
 * namespace of the caller's lx task.  Returns 0 or -errno (the kernel's
 * answer: -EEXIST for an address that is there already, -ENODEV for an
 * unknown interface, -EINVAL for a malformed address or prefix).
 */
#ifndef _LX_NETCONF_H
#define _LX_NETCONF_H

#ifdef __cplusplus
extern "C" {
#endif

/* Bring ifname ("eth0", "lo") up (up = 1) or down; set its MTU if mtu > 0. */
int lx_net_link_set(const char *ifname, int up, int mtu);

/* Add an IPv4 or IPv6 address with its prefix: "10.0.0.2/24", "fd00::2/64". */
int lx_net_addr_add(const char *ifname, const char *cidr);

/*
 * Add a route to dst ("default", "10.1.0.0/16", "fd00:1::/64", a host
 * "169.254.1.1") via gateway gw, out of ifname (either may be NULL; gw
 * NULL makes a link-scope route).  With onlink set, the gateway need not be
 * in a subnet of the interface (RTNH_F_ONLINK).
 */
int lx_net_route_add(const char *dst, const char *gw, const char *ifname,
		     int onlink);

/* A permanent neighbour entry: ip ("10.0.0.1" or v6) is at mac on ifname. */
int lx_net_neigh_add(const char *ifname, const char *ip, const char *mac);

/*
 * Write a sysctl of lx, name in dotted form ("net.ipv4.ip_forward"), value
 * as text.  Needs proc mounted at /proc in lx.
 */
int lx_sysctl_set(const char *name, const char *value);

#ifdef __cplusplus
}
#endif

#endif /* _LX_NETCONF_H */
