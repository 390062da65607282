// SPDX-License-Identifier: GPL-2.0
/*
 * virtio.c - the virtio-mmio (version 2) transport of lx's devices.
 *
 * Register accesses come from the kernel's virtio_mmio driver as calls,
 * on the host thread that holds the CPU, in any process of the container.
 * Queues are split rings in kernel RAM; each queue has a host thread in
 * the home process that sleeps on the queue's kick word.  See virtio.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lx/host_ops.h>
#include "virtio.h"

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define LX_VENDOR_ID 0x00786c00	     /* "\0lx\0" */

static struct lx_vdev *devs[LX_VDEV_MAX];
static unsigned int nr_devs;
int lx_devices_stopping;

static void futex_wait(uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, 1 << 30, NULL, NULL, 0);
}

static inline void full_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Event-index words past the end of the rings. */
static uint16_t *avail_event(struct lx_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

static uint16_t *used_event(struct lx_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

struct lx_vdev *lx_vdev_create(uint32_t device_id, uint32_t nvq,
			       uint64_t features, uint32_t config_len,
			       const struct lx_vdev_ops *ops, const char *name)
{
	struct lx_vdev *dev;

	if (nr_devs == LX_VDEV_MAX || nvq > LX_VQ_MAX ||
	    config_len > sizeof(dev->config))
		return NULL;
	dev = lx_shared_alloc(sizeof(*dev));
	if (!dev)
		return NULL;
	dev->device_id = device_id;
	dev->nvq = nvq;
	dev->features = features | 1ULL << VIRTIO_F_VERSION_1 |
			1ULL << VIRTIO_RING_F_EVENT_IDX |
			1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	dev->config_len = config_len;
	dev->ops = ops;
	dev->irq = LX_FIRST_IRQ + nr_devs;
	dev->base = LX_MMIO_BASE + nr_devs * LX_MMIO_SLOT;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	devs[nr_devs++] = dev;
	return dev;
}

/* The queue's rings as host pointers, checked against kernel RAM. */
static int vq_map(struct lx_vq *vq)
{
	uint32_t n = vq->num;

	if (!n || n > LX_VQ_SIZE || (n & (n - 1)))
		return -EINVAL;
	vq->desc = lx_guest_ptr(vq->desc_pa, 16ULL * n);
	vq->avail = lx_guest_ptr(vq->avail_pa, 6 + 2ULL * n);
	vq->used = lx_guest_ptr(vq->used_pa, 6 + 8ULL * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EFAULT;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->broken = false;
	return 0;
}

/* Stop a queue and wait until its thread is off the rings. */
static void vq_stop(struct lx_vq *vq)
{
	uint32_t b;

	__atomic_store_n(&vq->ready, 0, __ATOMIC_SEQ_CST);
	while ((b = __atomic_load_n(&vq->busy, __ATOMIC_SEQ_CST)))
		futex_wait(&vq->busy, b);
}

bool lx_vq_enter(struct lx_vdev *dev, struct lx_vq *vq)
{
	__atomic_store_n(&vq->busy, 1, __ATOMIC_SEQ_CST);
	if (lx_vq_live(dev, vq))
		return true;
	lx_vq_leave(vq);
	return false;
}

void lx_vq_leave(struct lx_vq *vq)
{
	__atomic_store_n(&vq->busy, 0, __ATOMIC_SEQ_CST);
	futex_wake(&vq->busy);
}

bool lx_vq_live(struct lx_vdev *dev, struct lx_vq *vq)
{
	return __atomic_load_n(&vq->ready, __ATOMIC_SEQ_CST) &&
	       (__atomic_load_n(&dev->status, __ATOMIC_ACQUIRE) &
		VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !vq->broken;
}

static void vdev_reset(struct lx_vdev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nvq; i++)
		vq_stop(&dev->vq[i]);
	if (dev->ops->reset)
		dev->ops->reset(dev);
	for (i = 0; i < dev->nvq; i++) {
		struct lx_vq *vq = &dev->vq[i];

		vq->num = 0;
		vq->desc_pa = vq->avail_pa = vq->used_pa = 0;
	}
	dev->driver_features = 0;
	dev->dev_feat_sel = dev->drv_feat_sel = dev->queue_sel = 0;
	__atomic_store_n(&dev->int_status, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&dev->status, 0, __ATOMIC_SEQ_CST);
}

static struct lx_vdev *mmio_dev(unsigned long addr, unsigned int *off)
{
	unsigned long i = (addr - LX_MMIO_BASE) / LX_MMIO_SLOT;

	if (addr < LX_MMIO_BASE || i >= nr_devs)
		return NULL;
	*off = addr & (LX_MMIO_SLOT - 1);
	return devs[i];
}

static struct lx_vq *sel_vq(struct lx_vdev *dev)
{
	return dev->queue_sel < dev->nvq ? &dev->vq[dev->queue_sel] : NULL;
}

static void set_half(uint64_t *v, int high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*v = (*v & ~0xffffffffULL) | val;
}

unsigned long long lx_mmio_read(unsigned long addr, int size)
{
	unsigned long long v = 0;
	struct lx_vdev *dev;
	struct lx_vq *vq;
	unsigned int off;

	dev = mmio_dev(addr, &off);
	if (!dev)
		return ~0ULL;
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_len)
			memcpy(&v, dev->config + off, size);
		return v;
	}
	if (size != 4)
		return ~0ULL;
	vq = sel_vq(dev);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return LX_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (dev->dev_feat_sel > 1)
			return 0;
		return (uint32_t)(dev->features >> (32 * dev->dev_feat_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? LX_VQ_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&dev->int_status, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&dev->config_gen, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	default:
		return 0;
	}
}

static void write_status(struct lx_vdev *dev, uint32_t val)
{
	uint64_t need = 1ULL << VIRTIO_F_VERSION_1;

	if (!val) {
		vdev_reset(dev);
		return;
	}
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((dev->driver_features & ~dev->features) ||
	     (dev->driver_features & need) != need))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* refused */
	__atomic_store_n(&dev->status, val, __ATOMIC_RELEASE);
	if (val & VIRTIO_CONFIG_S_DRIVER_OK) {
		unsigned int i;

		/* queue threads may have slept through the set-up: wake them */
		for (i = 0; i < dev->nvq; i++) {
			__atomic_fetch_add(&dev->vq[i].kick, 1, __ATOMIC_SEQ_CST);
			futex_wake(&dev->vq[i].kick);
		}
	}
}

static void write_ready(struct lx_vdev *dev, struct lx_vq *vq, uint32_t val)
{
	if (!val) {
		vq_stop(vq);
		return;
	}
	if (vq->ready)
		return;
	if (vq_map(vq)) {
		fprintf(stderr, "lx: %s: queue %u: bad ring addresses\n",
			dev->name, dev->queue_sel);
		return;
	}
	__atomic_store_n(&vq->ready, 1, __ATOMIC_SEQ_CST);
}

void lx_mmio_write(unsigned long addr, int size, unsigned long long val)
{
	struct lx_vdev *dev;
	struct lx_vq *vq;
	unsigned int off;

	dev = mmio_dev(addr, &off);
	if (!dev)
		return;
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_len) {
			memcpy(dev->config + off, &val, size);
			if (dev->ops->config_write)
				dev->ops->config_write(dev, off);
		}
		return;
	}
	if (size != 4)
		return;
	vq = sel_vq(dev);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->dev_feat_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (dev->drv_feat_sel < 2)
			set_half(&dev->driver_features, dev->drv_feat_sel, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->drv_feat_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (vq && !vq->ready)
			vq->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (vq)
			write_ready(dev, vq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val < dev->nvq) {
			vq = &dev->vq[val];
			__atomic_fetch_add(&vq->kick, 1, __ATOMIC_SEQ_CST);
			futex_wake(&vq->kick);
		}
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&dev->int_status, ~(uint32_t)val,
				   __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(dev, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		if (vq && !vq->ready)
			set_half(&vq->desc_pa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH,
				 val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		if (vq && !vq->ready)
			set_half(&vq->avail_pa,
				 off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (vq && !vq->ready)
			set_half(&vq->used_pa, off == VIRTIO_MMIO_QUEUE_USED_HIGH,
				 val);
		break;
	default:
		break;
	}
}

/* One descriptor into the request's vectors. */
static int add_buf(struct lx_vreq *req, const struct vring_desc *d)
{
	void *p = lx_guest_ptr(d->addr, d->len);

	if (!p)
		return -EIO;
	if (d->flags & VRING_DESC_F_WRITE) {
		if (req->nwr == LX_VREQ_IOV)
			return -EIO;
		req->wr[req->nwr].iov_base = p;
		req->wr[req->nwr++].iov_len = d->len;
		req->wr_len += d->len;
	} else {
		/* readable buffers come first in a chain */
		if (req->nwr || req->nrd == LX_VREQ_IOV)
			return -EIO;
		req->rd[req->nrd].iov_base = p;
		req->rd[req->nrd++].iov_len = d->len;
		req->rd_len += d->len;
	}
	return 0;
}

/* Walk a chain in a table of n descriptors (the ring's or an indirect one). */
static int walk(struct lx_vreq *req, const struct vring_desc *table,
		uint32_t n, uint16_t i, bool indirect_ok)
{
	struct vring_desc d;
	uint32_t count = 0;

	for (;;) {
		if (i >= n || ++count > n)
			return -EIO;
		/* one read of each descriptor: the driver may change it */
		memcpy(&d, &table[i], sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			const struct vring_desc *t;

			if (!indirect_ok || (d.flags & VRING_DESC_F_NEXT) ||
			    !d.len || d.len % sizeof(d))
				return -EIO;
			t = lx_guest_ptr(d.addr, d.len);
			if (!t)
				return -EIO;
			return walk(req, t, d.len / sizeof(d), 0, false);
		}
		if (add_buf(req, &d))
			return -EIO;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int lx_vq_pop(struct lx_vdev *dev, struct lx_vq *vq, struct lx_vreq *req)
{
	uint16_t avail_idx, head;

	if (!lx_vq_live(dev, vq))
		return 0;
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail) {
		/* empty: ask for a kick on the next request, then look again */
		__atomic_store_n(avail_event(vq), vq->last_avail,
				 __ATOMIC_RELAXED);
		full_fence();
		avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
		if (avail_idx == vq->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
		goto bad;
	head = __atomic_load_n(&vq->avail->ring[vq->last_avail & (vq->num - 1)],
			       __ATOMIC_RELAXED);
	req->head = head;
	req->nrd = req->nwr = 0;
	req->rd_len = req->wr_len = 0;
	if (walk(req, vq->desc, vq->num, head, true))
		goto bad;
	vq->last_avail++;
	return 1;
bad:
	fprintf(stderr, "lx: %s: the driver gave a bad descriptor chain\n",
		dev->name);
	vq->broken = true;
	return -EIO;
}

void lx_vq_unpop(struct lx_vq *vq)
{
	vq->last_avail--;
}

void lx_vq_push(struct lx_vq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->num - 1)];

	e->id = head;
	e->len = len;
	__atomic_store_n(&vq->used->idx, ++vq->used_idx, __ATOMIC_RELEASE);
}

void lx_vq_signal(struct lx_vdev *dev, struct lx_vq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;

	if (old == now)
		return;
	full_fence();
	if (dev->driver_features & 1ULL << VIRTIO_RING_F_EVENT_IDX) {
		event = __atomic_load_n(used_event(vq),
					__ATOMIC_RELAXED);
		vq->signalled_used = now;
		if (!vring_need_event(event, now, old))
			return;
	} else {
		vq->signalled_used = now;
		if (__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
		    VRING_AVAIL_F_NO_INTERRUPT)
			return;
	}
	__atomic_fetch_or(&dev->int_status, VIRTIO_MMIO_INT_VRING,
			  __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE))
		lx_trigger_irq(dev->irq);
}

void lx_vdev_config_changed(struct lx_vdev *dev)
{
	__atomic_fetch_add(&dev->config_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&dev->int_status, VIRTIO_MMIO_INT_CONFIG,
			  __ATOMIC_SEQ_CST);
	if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		lx_trigger_irq(dev->irq);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Wait for a kick.  The next request of a busy driver often follows within
 * microseconds, while waking a sleeping host thread costs tens of them
 * here: spin a little first (LX_VQ_SPIN_NS, well under 50 us), then sleep.
 */
void lx_vq_wait(struct lx_vdev *dev, struct lx_vq *vq, uint32_t *seen)
{
	uint64_t end = 0;
	uint32_t k;
	int i;

	(void)dev;
	while ((k = __atomic_load_n(&vq->kick, __ATOMIC_ACQUIRE)) == *seen &&
	       !__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE)) {
		if (!end)
			end = mono_ns() + LX_VQ_SPIN_NS;
		if (end != 1 && mono_ns() < end) {
			for (i = 0; i < 64; i++)
				__builtin_ia32_pause();
			continue;
		}
		end = 1;
		futex_wait(&vq->kick, k);
	}
	*seen = k;
}

/* Copy between buf and the bytes of iov from off on; to_iov says which way. */
static size_t iov_copy(const struct iovec *iov, int n, size_t off, void *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0, c;
	char *v;
	int i;

	for (i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		c = iov[i].iov_len - off;
		if (c > len - done)
			c = len - done;
		v = (char *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(v, (char *)buf + done, c);
		else
			memcpy((char *)buf + done, v, c);
		done += c;
		off = 0;
	}
	return done;
}

size_t lx_iov_copy_from(const struct iovec *iov, int n, size_t off, void *buf,
			size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t lx_iov_copy_to(const struct iovec *iov, int n, size_t off,
		      const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (void *)buf, len, true);
}

struct queue_thread {
	struct lx_vdev *dev;
	struct lx_vq *vq;
};

static struct queue_thread queue_threads[LX_VDEV_MAX * LX_VQ_MAX];

/* A queue's host thread: sleep on the kick word, work, repeat. */
static void *queue_main(void *arg)
{
	struct queue_thread *qt = arg;
	struct lx_vdev *dev = qt->dev;
	struct lx_vq *vq = qt->vq;
	uint32_t seen = 0;

	for (;;) {
		lx_vq_wait(dev, vq, &seen);
		if (__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE))
			break;
		if (lx_vq_enter(dev, vq)) {
			dev->ops->queue_work(dev, vq);
			lx_vq_leave(vq);
		}
	}
	return NULL;
}

int lx_vdevs_start(char *cmdline, size_t len)
{
	size_t used = strlen(cmdline);
	unsigned int i, q;
	int ret, n;

	lx_devices_stopping = 0;
	for (i = 0; i < nr_devs; i++) {
		struct lx_vdev *dev = devs[i];

		n = snprintf(cmdline + used, len - used,
			     " virtio_mmio.device=4K@0x%lx:%d %s", dev->base,
			     dev->irq, dev->cmdline);
		if (n < 0 || (size_t)n >= len - used)
			return -E2BIG;
		used += n;
		for (q = 0; q < dev->nvq; q++) {
			struct queue_thread *qt = &queue_threads[i * LX_VQ_MAX + q];

			if (dev->ops->own_queues & 1U << q || !dev->ops->queue_work)
				continue;
			qt->dev = dev;
			qt->vq = &dev->vq[q];
			ret = lx_home_thread(&dev->vq[q].thread, queue_main, qt);
			if (ret)
				return ret;
			dev->vq[q].has_thread = true;
		}
		if (dev->ops->start) {
			ret = dev->ops->start(dev);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void lx_vdevs_destroy(void)
{
	unsigned int i, q;

	__atomic_store_n(&lx_devices_stopping, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < nr_devs; i++) {
		struct lx_vdev *dev = devs[i];

		for (q = 0; q < dev->nvq; q++) {
			struct lx_vq *vq = &dev->vq[q];

			__atomic_fetch_add(&vq->kick, 1, __ATOMIC_SEQ_CST);
			futex_wake(&vq->kick);
			if (vq->has_thread)
				pthread_join(vq->thread, NULL);
			vq->has_thread = false;
		}
		if (dev->ops->destroy)
			dev->ops->destroy(dev);
	}
	nr_devs = 0;
}
