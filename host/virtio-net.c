// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net.c - network interfaces of lx on a tap device or on an
 * AF_PACKET socket bound to an existing interface (a veth).
 *
 * Both backends carry the virtio-net header, so checksum and segmentation
 * offloads pass through in both directions without a copy: frames go
 * straight between the kernel's buffers and the backend with readv and
 * writev.  Transmit runs on the queue's thread; receive has a thread of
 * its own that polls the backend and fills as many receive buffers as a
 * frame needs (mergeable receive buffers).  Both batch: one interrupt for
 * everything done in one pass, and event-index suppression on both sides.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* <net/if.h> and <linux/if.h> do not mix */
unsigned int if_nametoindex(const char *ifname);

#include "virtio.h"

#define RX_QUEUE 0
#define TX_QUEUE 1
#define HDR_LEN sizeof(struct virtio_net_hdr_mrg_rxbuf) /* 12 */
#define PKT_HDR_LEN sizeof(struct virtio_net_hdr)	   /* 10: AF_PACKET */
#define MAX_FRAME (65535 + 14 + 4)
#define RX_BUFS 64		/* receive buffers one frame may take */
#define RX_BATCH 8		/* frames per interrupt on a busy queue */
/*
 * Looks at an empty backend before sleeping in poll(), ~10-15 us: a frame
 * that comes meanwhile wakes no one, so its sender does not pay for a
 * wake-up across CPUs (an IPI, in a VM a trip to the hypervisor).  Each
 * look yields the CPU, as lx_vq_wait()'s spin does.
 */
#define RX_SPINS 16

enum backend { TAP, PACKET };

struct net {
	enum backend backend;
	int fd;
	int stop_fd;		/* eventfd: wakes the receive thread at halt */
	pthread_t rx_thread;
	bool rx_started;
	struct lx_vdev *dev;
	uint64_t offloads;	/* driver features the tap was told of */
	char ifname[IFNAMSIZ];
};

static void tap_offloads(struct net *n, uint64_t f);

/*
 * A chain's vectors as the backend wants them: AF_PACKET's header is the
 * 10-byte one, without num_buffers, so those two bytes are cut out.
 */
static int backend_iov(struct net *n, const struct iovec *in, int nin,
		       struct iovec *out, int max)
{
	size_t off = 0;
	int i, k = 0;

	if (n->backend == TAP) {
		memcpy(out, in, nin * sizeof(*in));
		return nin;
	}
	/* the header may be split over vectors: walk bytes 0..12 */
	for (i = 0; i < nin && k < max; i++) {
		char *b = in[i].iov_base;
		size_t l = in[i].iov_len, s = off, e = off + l;

		if (s < PKT_HDR_LEN) {
			size_t c = (e < PKT_HDR_LEN ? e : PKT_HDR_LEN) - s;

			out[k].iov_base = b;
			out[k++].iov_len = c;
			b += c;
			l -= c;
			s += c;
		}
		if (l && s < HDR_LEN) {
			size_t c = (e < HDR_LEN ? e : HDR_LEN) - s;

			b += c;
			l -= c;
		}
		if (l && k < max) {
			out[k].iov_base = b;
			out[k++].iov_len = l;
		}
		off = e;
	}
	return k;
}

static void net_tx_work(struct lx_vdev *dev, struct lx_vq *vq)
{
	struct lx_vreq req;
	struct iovec iov[LX_VREQ_IOV + 2];
	struct net *n = dev->priv;
	int cnt;

	while (lx_vq_pop(dev, vq, &req) > 0) {
		cnt = backend_iov(n, req.rd, req.nrd, iov, LX_VREQ_IOV + 2);
		while (req.rd_len > HDR_LEN && writev(n->fd, iov, cnt) < 0) {
			struct pollfd p = { .fd = n->fd, .events = POLLOUT };

			if (errno == EAGAIN || errno == ENOBUFS) {
				/* the backend is full: wait, bounded */
				poll(&p, 1, 10);
				if (!lx_vq_live(dev, vq) ||
				    __atomic_load_n(&lx_devices_stopping,
						    __ATOMIC_ACQUIRE))
					break;
				continue;
			}
			if (errno != EINTR)
				break;	/* a dropped frame, as on a wire */
		}
		lx_vq_push(vq, req.head, 0);
	}
	lx_vq_signal(dev, vq);
}

/*
 * Receive buffers popped and not yet used: the next frame's.  Those a
 * frame leaves over stay for the next one; the pass gives back the rest.
 */
struct rx_batch {
	int nbufs;
	uint16_t head[RX_BUFS];
	uint32_t len[RX_BUFS];		/* room in each */
	uint16_t niov[RX_BUFS];		/* its vectors in iov[] */
	int iovs;
	struct iovec iov[RX_BUFS * 4];
	size_t room;
	struct lx_vreq req;
};

/* Gather buffers for one frame of up to need bytes; false if too few. */
static bool rx_gather(struct lx_vdev *dev, struct lx_vq *vq,
		      struct rx_batch *b, size_t need)
{
	while (b->room < need && b->nbufs < RX_BUFS) {
		int i, k = b->nbufs;

		if (lx_vq_pop(dev, vq, &b->req) <= 0)
			break;
		b->head[k] = b->req.head;
		b->len[k] = b->req.wr_len;
		for (i = 0; i < b->req.nwr && b->iovs < RX_BUFS * 4; i++)
			b->iov[b->iovs++] = b->req.wr[i];
		b->niov[k] = i;
		b->room += b->req.wr_len;
		b->nbufs++;
	}
	return b->room >= need;
}

/* The first used buffers took a frame: drop them from the batch. */
static void rx_consume(struct rx_batch *b, int used)
{
	int i, v = 0;

	for (i = 0; i < used; i++) {
		v += b->niov[i];
		b->room -= b->len[i];
	}
	b->nbufs -= used;
	b->iovs -= v;
	memmove(b->head, b->head + used, b->nbufs * sizeof(b->head[0]));
	memmove(b->len, b->len + used, b->nbufs * sizeof(b->len[0]));
	memmove(b->niov, b->niov + used, b->nbufs * sizeof(b->niov[0]));
	memmove(b->iov, b->iov + v, b->iovs * sizeof(b->iov[0]));
}

static void rx_giveback(struct lx_vq *vq, struct rx_batch *b)
{
	while (b->nbufs) {
		lx_vq_unpop(vq);
		b->nbufs--;
	}
	b->iovs = 0;
	b->room = 0;
}

/*
 * The size of the next frame in the driver's terms, for AF_PACKET (a peek
 * at its length): 0 if there is none, need if it cannot be known.  So a
 * small frame takes one buffer, not the 40-odd a frame as big as the
 * offloads allow would, and an empty socket costs no gathering.
 */
static ssize_t rx_next_size(struct net *n, size_t need)
{
	struct virtio_net_hdr h;
	ssize_t len;

	if (n->backend != PACKET)
		return need;
	do
		len = recv(n->fd, &h, sizeof(h),
			   MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (len < 0 && errno == EINTR);
	if (len < 0)
		return errno == EAGAIN ? 0 : need; /* readv says what failed */
	len += HDR_LEN - PKT_HDR_LEN;
	return (size_t)len < need ? len : (ssize_t)need;
}

/*
 * Move frames from the backend into the kernel until the backend is empty
 * (1), the driver has no buffers left (0) or the backend fails (-errno).
 */
static int rx_pass(struct net *n, struct lx_vq *vq, struct rx_batch *b,
		   size_t need)
{
	struct iovec iov[RX_BUFS * 4 + 2];
	uint32_t took[RX_BUFS];
	unsigned int frames = 0;
	ssize_t got, want;
	int used, cnt, i;
	uint16_t nbuf;

	for (;;) {
		want = rx_next_size(n, need);
		if (!want) {
			rx_giveback(vq, b);
			return 1;
		}
		if (!rx_gather(n->dev, vq, b, want)) {
			rx_giveback(vq, b);
			return 0;
		}
		cnt = backend_iov(n, b->iov, b->iovs, iov, RX_BUFS * 4 + 2);
		got = readv(n->fd, iov, cnt);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rx_giveback(vq, b);
			return errno == EAGAIN ? 1 : -errno;
		}
		if (n->backend == PACKET)
			got += HDR_LEN - PKT_HDR_LEN;
		if ((size_t)got <= HDR_LEN)
			continue;	/* nothing a driver could use */
		/* the frame filled the first buffers: those are used */
		for (used = 0; got > 0 && used < b->nbufs; used++) {
			took[used] = (size_t)got < b->len[used] ? got : b->len[used];
			got -= took[used];
		}
		nbuf = used;
		lx_iov_copy_to(b->iov, b->iovs,
			       offsetof(struct virtio_net_hdr_mrg_rxbuf,
					num_buffers),
			       &nbuf, sizeof(nbuf));
		for (i = 0; i < used; i++)
			lx_vq_push(vq, b->head[i], took[i]);
		rx_consume(b, used);
		/* a steady stream never empties the backend: let the driver
		 * take (and refill) what is there every few frames */
		if (++frames % RX_BATCH == 0)
			lx_vq_signal(n->dev, vq);
	}
}

static void *net_rx_main(void *arg)
{
	struct net *n = arg;
	struct lx_vdev *dev = n->dev;
	struct lx_vq *vq = &dev->vq[RX_QUEUE];
	struct rx_batch *b = calloc(1, sizeof(*b));
	struct pollfd p[2] = { { .fd = n->fd, .events = POLLIN },
			       { .fd = n->stop_fd, .events = POLLIN } };
	uint32_t seen = 0;
	uint64_t features;
	uint16_t mtu;
	size_t need;
	bool failing = false;	/* said so once */
	int empty;

	if (!b)
		return NULL;
	while (!__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE)) {
		if (!lx_vq_enter(dev, vq)) {
			lx_vq_wait(dev, vq, &seen);
			continue;
		}
		/* registers a program could change: each read once */
		features = __atomic_load_n(&dev->regs->driver_features,
					   __ATOMIC_RELAXED);
		mtu = __atomic_load_n((uint16_t *)(dev->regs->config + 10),
				      __ATOMIC_RELAXED);
		if (n->backend == TAP && n->offloads != features) {
			n->offloads = features;
			tap_offloads(n, n->offloads);
		}
		/* a frame may be as big as the offloads the driver took allow */
		need = features & (1ULL << VIRTIO_NET_F_GUEST_TSO4 |
				   1ULL << VIRTIO_NET_F_GUEST_TSO6) ?
			       HDR_LEN + MAX_FRAME :
			       HDR_LEN + 14 + 4 + mtu;
		empty = rx_pass(n, vq, b, need);
		lx_vq_signal(dev, vq);
		lx_vq_leave(vq);
		if (empty == 1) {
			int i, ready = 0;

			for (i = 0; i < RX_SPINS && !ready; i++)
				if (!(ready = poll(p, 2, 0) > 0))
					sched_yield();
			if (!ready)
				poll(p, 2, -1);
		} else if (empty < 0) {
			/*
			 * a tap whose interface went away fails every read and
			 * polls ready: not a busy loop, a look every 10 ms
			 */
			if (!failing)
				fprintf(stderr, "lx: %s: %s: read: %s\n",
					dev->name, n->ifname, strerror(-empty));
			failing = true;
			poll(&p[1], 1, 10);
		} else {
			lx_vq_wait(dev, vq, &seen); /* no buffers: wait for some */
		}
		if (empty >= 0)
			failing = false;
	}
	free(b);
	return NULL;
}

/* Tell the tap what the driver takes: offloads of frames it receives. */
static void tap_offloads(struct net *n, uint64_t f)
{
	unsigned int off = 0;

	if (f & 1ULL << VIRTIO_NET_F_GUEST_CSUM) {
		off |= TUN_F_CSUM;
		if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO4)
			off |= TUN_F_TSO4;
		if (f & 1ULL << VIRTIO_NET_F_GUEST_TSO6)
			off |= TUN_F_TSO6;
	}
	if (ioctl(n->fd, TUNSETOFFLOAD, off) < 0)
		fprintf(stderr, "lx: %s: tap %s: TUNSETOFFLOAD: %s\n",
			n->dev->name, n->ifname, strerror(errno));
}

static void *net_rx_thread(void *arg)
{
	struct net *n = arg;

	net_rx_main(n);
	return NULL;
}

static int net_start(struct lx_vdev *dev)
{
	struct net *n = dev->priv;
	char name[48];
	int ret;

	/* its receive thread: "lx-net0-rx"; the queues' are "lx-net0-q0"... */
	snprintf(name, sizeof(name), "lx-%s-rx", dev->name);
	ret = lx_home_thread(&n->rx_thread, name, net_rx_thread, n);
	if (ret)
		return ret;
	n->rx_started = true;
	return 0;
}

static void net_destroy(struct lx_vdev *dev)
{
	struct net *n = dev->priv;
	uint64_t one = 1;

	if (n->rx_started) {
		if (write(n->stop_fd, &one, sizeof(one)) < 0)
			return; /* cannot happen with an eventfd; keep it */
		pthread_join(n->rx_thread, NULL);
	}
	free(n);
	dev->priv = NULL;
}

static const struct lx_vdev_ops net_ops = {
	.queue_work = net_tx_work,
	.own_queues = 1U << RX_QUEUE,
	.start = net_start,
	.destroy = net_destroy,
};

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &end) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = b[i];
	}
	/* a unicast address */
	return mac[0] & 1 ? -EINVAL : 0;
}

static int tap_open(struct net *n, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int hdr = HDR_LEN, e;

	n->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (n->fd < 0) {
		e = errno;
		snprintf(err, errlen, "net: tap=%s: /dev/net/tun: %s", n->ifname,
			 strerror(e));
		return -e;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(n->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		e = errno;
		snprintf(err, errlen, "net: tap=%s: %s%s", n->ifname,
			 strerror(e),
			 e == EINVAL ? " (not a tap device?)" :
			 e == EBUSY ? " (in use by another process)" : "");
		return -e;
	}
	return 0;
}

static int packet_open(struct net *n, int ifindex, char *err, size_t errlen)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifindex };
	int one = 1, buf = 4 << 20, e;

	/* protocol 0 until bound: no frame of another interface slips in */
	n->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		e = errno;
		snprintf(err, errlen, "net: packet=%s: %s", n->ifname,
			 strerror(e));
		return -e;
	}
	if (setsockopt(n->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
		e = errno;
		snprintf(err, errlen,
			 "net: packet=%s: the host refuses PACKET_VNET_HDR: %s",
			 n->ifname, strerror(e));
		return -e;
	}
	if (bind(n->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		e = errno;
		snprintf(err, errlen, "net: packet=%s: bind: %s", n->ifname,
			 strerror(e));
		return -e;
	}
	/* optional: frames the host sends there are not ours; speed */
	setsockopt(n->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(n->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(n->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(n->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(n->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return 0;
}

int lx_net_add(const char *spec, char *err, size_t errlen)
{
	struct virtio_net_config cfg = { .status = VIRTIO_NET_S_LINK_UP,
					 .max_virtqueue_pairs = 1 };
	struct lx_opt opts[LX_OPTS_MAX];
	const char *ifname = NULL, *mac = NULL;
	struct ifreq ifr = { 0 };
	static int nr_nets;
	char buf[4096], name[16];
	struct lx_vdev *dev;
	struct net *n;
	uint64_t features;
	int i, cnt, ifindex, sock, ret, mtu = 0;
	enum backend be = TAP;

	cnt = lx_opts_parse(spec, buf, sizeof(buf), opts, LX_OPTS_MAX);
	if (cnt < 0) {
		snprintf(err, errlen, "net:%s: too long", spec);
		return cnt;
	}
	for (i = 0; i < cnt; i++) {
		const char *k = opts[i].key, *v = opts[i].val;

		if (!v) {
			snprintf(err, errlen, "net: option '%s' needs a value", k);
			return -EINVAL;
		} else if (!strcmp(k, "tap") || !strcmp(k, "packet")) {
			if (ifname) {
				snprintf(err, errlen,
					 "net: give one of tap= or packet=");
				return -EINVAL;
			}
			ifname = v;
			be = !strcmp(k, "tap") ? TAP : PACKET;
		} else if (!strcmp(k, "mac")) {
			mac = v;
		} else if (!strcmp(k, "mtu")) {
			char *end;

			mtu = strtol(v, &end, 10);
			if (*end || mtu < 68 || mtu > 65535) {
				snprintf(err, errlen,
					 "net: mtu=%s: not between 68 and 65535", v);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen,
				 "net: unknown option '%s' (tap=, packet=, mac=, mtu=)",
				 k);
			return -EINVAL;
		}
	}
	if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
		snprintf(err, errlen, "net: give tap=NAME or packet=IFNAME");
		return -EINVAL;
	}
	if (mac && parse_mac(mac, cfg.mac)) {
		snprintf(err, errlen, "net: mac=%s: not a unicast MAC address",
			 mac);
		return -EINVAL;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "net: %s=%s: no such interface",
			 be == TAP ? "tap" : "packet", ifname);
		return -ENODEV;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->backend = be;
	n->fd = n->stop_fd = -1;
	n->offloads = ~0ULL;
	snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
	ret = be == TAP ? tap_open(n, err, errlen) :
			  packet_open(n, ifindex, err, errlen);
	if (ret)
		goto fail;
	/* the interface's MTU and (for AF_PACKET) address, unless given */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (!mtu)
		mtu = sock >= 0 && !ioctl(sock, SIOCGIFMTU, &ifr) ? ifr.ifr_mtu :
								    1500;
	if (!mac && be == PACKET && sock >= 0 &&
	    !ioctl(sock, SIOCGIFHWADDR, &ifr))
		memcpy(cfg.mac, ifr.ifr_hwaddr.sa_data, 6);
	if (sock >= 0)
		close(sock);
	if (!mac && be == TAP) {
		/* locally administered, from the host's entropy */
		if (getentropy(cfg.mac, 6))
			memset(cfg.mac, 0x5a, 6);
		cfg.mac[0] = (cfg.mac[0] & 0xfc) | 0x02;
	}
	cfg.mtu = mtu;
	n->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->stop_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "net: %s: eventfd: %s", ifname,
			 strerror(-ret));
		goto fail;
	}
	features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
		   1ULL << VIRTIO_NET_F_MTU | 1ULL << VIRTIO_NET_F_MRG_RXBUF |
		   1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_HOST_TSO4 |
		   1ULL << VIRTIO_NET_F_HOST_TSO6 |
		   1ULL << VIRTIO_NET_F_GUEST_CSUM |
		   1ULL << VIRTIO_NET_F_GUEST_TSO4 |
		   1ULL << VIRTIO_NET_F_GUEST_TSO6;
	snprintf(name, sizeof(name), "net%d", nr_nets);
	dev = lx_vdev_create(VIRTIO_ID_NET, 2, features, sizeof(cfg), &net_ops,
			     name);
	if (!dev) {
		snprintf(err, errlen, "net: %s: too many devices", ifname);
		ret = -ENOSPC;
		goto fail;
	}
	if (lx_device_fd_add(n->fd)) {
		snprintf(err, errlen, "net: %s: too many devices", ifname);
		ret = -EMFILE;
		goto fail;
	}
	lx_device_fd_add(n->stop_fd); /* the registry has room for 4 each */
	memcpy(dev->regs->config, &cfg, sizeof(cfg));
	dev->priv = n;
	n->dev = dev;
	nr_nets++;
	return 0;
fail:
	if (n->fd >= 0)
		close(n->fd);
	if (n->stop_fd >= 0)
		close(n->stop_fd);
	free(n);
	return ret;
}
