// SPDX-License-Identifier: GPL-2.0
/*
 * virtio.c - the virtio-mmio (version 2) transport of lx's devices.
 *
 * Register accesses come from the kernel's virtio_mmio driver as calls,
 * on the host thread that holds the CPU, in any process of the container.
 * Queues are split rings in kernel RAM; each queue has a host thread in
 * the home process that sleeps on the queue's kick word.  See virtio.h.
 *
 * What a register call changes is in the shared region (struct lx_vregs);
 * what the home's threads act on (the rings as host pointers, ops, priv)
 * is in its own memory (struct lx_vdev, struct lx_vq), filled from the
 * registers by the home after checking them.  A program process can
 * rewrite the registers behind the driver's back at any time: the home
 * loads each register once where it uses it, and a bad value breaks the
 * queue, never the home.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <sched.h>
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

/* home-private (host .bss; a forked process has its own copy) */
static struct lx_vdev devs_mem[LX_VDEV_MAX];
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

	struct lx_vregs *regs;
	unsigned int q;

	if (nr_devs == LX_VDEV_MAX || nvq > LX_VQ_MAX ||
	    config_len > sizeof(regs->config))
		return NULL;
	regs = lx_shared_alloc(sizeof(*regs));
	if (!regs)
		return NULL;
	dev = &devs_mem[nr_devs];
	memset(dev, 0, sizeof(*dev));
	dev->regs = regs;
	for (q = 0; q < LX_VQ_MAX; q++)
		dev->vq[q].regs = &regs->vq[q];
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

/* The driver gave the device something it cannot use: it needs a reset. */
static void vdev_broken(struct lx_vdev *dev, struct lx_vq *vq, const char *why)
{
	vq->broken = true;
	fprintf(stderr,
		"lx: %s: queue %ld: %s: the queue stops until a reset\n",
		dev->name, (long)(vq - dev->vq), why);
	__atomic_fetch_or(&dev->regs->status, VIRTIO_CONFIG_S_NEEDS_RESET,
			  __ATOMIC_SEQ_CST);
}

/*
 * The queue's rings as host pointers, on a home thread of the queue, for
 * ready_gen gen.  The registers are read once each (a program process may
 * be changing them) and what is kept is the copy, checked: a power-of-two
 * size up to LX_VQ_SIZE, aligned rings lying wholly in kernel RAM.
 */
static void vq_map(struct lx_vdev *dev, struct lx_vq *vq, uint32_t gen)
{
	struct lx_vq_regs *r = vq->regs;
	uint32_t n = __atomic_load_n(&r->num, __ATOMIC_RELAXED);
	uint64_t d = __atomic_load_n(&r->desc_pa, __ATOMIC_RELAXED);
	uint64_t a = __atomic_load_n(&r->avail_pa, __ATOMIC_RELAXED);
	uint64_t u = __atomic_load_n(&r->used_pa, __ATOMIC_RELAXED);
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	vq->gen = gen;
	vq->num = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	if (!n || n > LX_VQ_SIZE || (n & (n - 1))) {
		vdev_broken(dev, vq, "bad queue size");
		return;
	}
	/* the split ring's alignments (virtio 1.1, 2.6) */
	if (d % 16 || a % 2 || u % 4) {
		vdev_broken(dev, vq, "misaligned ring");
		return;
	}
	/* each ring with its event-index word at the end */
	desc = lx_guest_ptr(d, 16ULL * n);
	avail = lx_guest_ptr(a, 6 + 2ULL * n);
	used = lx_guest_ptr(u, 6 + 8ULL * n);
	if (!desc || !avail || !used) {
		vdev_broken(dev, vq, "ring outside kernel RAM");
		return;
	}
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->num = n;
	vq->broken = false;
}

/* Stop a queue and wait until its thread is off the rings. */
static void vq_stop(struct lx_vq_regs *r)
{
	uint32_t b;

	__atomic_store_n(&r->ready, 0, __ATOMIC_SEQ_CST);
	while ((b = __atomic_load_n(&r->busy, __ATOMIC_SEQ_CST)))
		futex_wait(&r->busy, b);
}

/*
 * On the queue's home thread, when it starts on the rings (once a kick,
 * not once a request): a queue set ready since the last time is mapped
 * here, by the home, from the registers as they are now.  Until the next
 * entry the thread goes on with the rings it mapped; the driver sets a
 * queue ready again only after stopping it, which ends the thread's work.
 */
bool lx_vq_enter(struct lx_vdev *dev, struct lx_vq *vq)
{
	uint32_t gen;

	__atomic_store_n(&vq->regs->busy, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vq->regs->ready, __ATOMIC_SEQ_CST)) {
		/* ready is set after ready_gen: this gen or a later one */
		gen = __atomic_load_n(&vq->regs->ready_gen, __ATOMIC_ACQUIRE);
		if (gen != vq->gen)
			vq_map(dev, vq, gen);
	}
	if (lx_vq_live(dev, vq))
		return true;
	lx_vq_leave(vq);
	return false;
}

void lx_vq_leave(struct lx_vq *vq)
{
	__atomic_store_n(&vq->regs->busy, 0, __ATOMIC_SEQ_CST);
	futex_wake(&vq->regs->busy);
}

bool lx_vq_live(struct lx_vdev *dev, struct lx_vq *vq)
{
	return __atomic_load_n(&vq->regs->ready, __ATOMIC_SEQ_CST) &&
	       (__atomic_load_n(&dev->regs->status, __ATOMIC_ACQUIRE) &
		VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !vq->broken && vq->num;
}

/*
 * A reset, in the process that wrote the status: the registers only.  The
 * home's half of each queue starts again when the driver sets the queue
 * ready (a new ready_gen).
 */
static void vdev_reset(struct lx_vdev *dev)
{
	struct lx_vregs *regs = dev->regs;
	unsigned int i;

	for (i = 0; i < dev->nvq; i++)
		vq_stop(&regs->vq[i]);
	for (i = 0; i < dev->nvq; i++) {
		struct lx_vq_regs *r = &regs->vq[i];

		r->num = 0;
		r->desc_pa = r->avail_pa = r->used_pa = 0;
	}
	regs->driver_features = 0;
	regs->dev_feat_sel = regs->drv_feat_sel = regs->queue_sel = 0;
	__atomic_store_n(&regs->int_status, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&regs->status, 0, __ATOMIC_SEQ_CST);
}

static struct lx_vdev *mmio_dev(unsigned long addr, unsigned int *off)
{
	unsigned long i = (addr - LX_MMIO_BASE) / LX_MMIO_SLOT;

	if (addr < LX_MMIO_BASE || i >= nr_devs)
		return NULL;
	*off = addr & (LX_MMIO_SLOT - 1);
	return devs[i];
}

static struct lx_vq_regs *sel_vq(struct lx_vdev *dev)
{
	uint32_t sel = dev->regs->queue_sel;

	return sel < dev->nvq ? &dev->regs->vq[sel] : NULL;
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
	struct lx_vq_regs *vq;
	struct lx_vregs *regs;
	struct lx_vdev *dev;
	unsigned int off;

	dev = mmio_dev(addr, &off);
	if (!dev)
		return ~0ULL;
	regs = dev->regs;
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_len)
			memcpy(&v, regs->config + off, size);
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
		v = regs->dev_feat_sel;
		if (v > 1)
			return 0;
		return (uint32_t)(dev->features >> (32 * v));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? LX_VQ_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&regs->int_status, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:
		return __atomic_load_n(&regs->status, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&regs->config_gen, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions */
	default:
		return 0;
	}
}

/*
 * A notify.  The queue's thread is most often in its spin, and a wake-up
 * of a shared futex word costs a system call and a page-table walk: wake
 * it only if it sleeps.  The bump and the look at sleeping, and that
 * thread's store to sleeping and its futex_wait()'s look at kick, are
 * each ordered (a locked add, a sequentially consistent store): one of
 * the two sides sees the other's write.
 */
static void kick(struct lx_vq_regs *r)
{
	__atomic_fetch_add(&r->kick, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&r->sleeping, __ATOMIC_SEQ_CST))
		futex_wake(&r->kick);
}

/* Whether queue q of dev is lazy (lx_vdev_ops.lazy_queues). */
static bool lazy_queue(const struct lx_vdev *dev, unsigned int q)
{
	return dev->ops->lazy_queues & 1U << q;
}

/*
 * A notify of a lazy queue: while another queue thread of the device is
 * awake (spinning or working), it kicks this queue before it sleeps
 * (lx_vq_wait()), so a sleeping thread of this one is left asleep.  The
 * bump and the look at the others' sleeping words here, and their store
 * to sleeping and look at this queue's ring there, are each ordered: an
 * awake thread seen here sees the request there.
 */
static void notify_lazy(struct lx_vdev *dev, struct lx_vq_regs *r)
{
	unsigned int q;

	__atomic_fetch_add(&r->kick, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&r->sleeping, __ATOMIC_SEQ_CST))
		return;
	for (q = 0; q < dev->nvq; q++)
		if (!lazy_queue(dev, q) && !(dev->ops->own_queues & 1U << q) &&
		    !__atomic_load_n(&dev->regs->vq[q].sleeping,
				     __ATOMIC_SEQ_CST))
			return;
	futex_wake(&r->kick);
}

static void write_status(struct lx_vdev *dev, uint32_t val)
{
	struct lx_vregs *regs = dev->regs;
	uint64_t need = 1ULL << VIRTIO_F_VERSION_1;

	if (!val) {
		vdev_reset(dev);
		return;
	}
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(regs->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((regs->driver_features & ~dev->features) ||
	     (regs->driver_features & need) != need))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* refused */
	__atomic_store_n(&regs->status, val, __ATOMIC_RELEASE);
	if (val & VIRTIO_CONFIG_S_DRIVER_OK) {
		unsigned int i;

		/* queue threads may have slept through the set-up: wake them */
		for (i = 0; i < dev->nvq; i++)
			kick(&regs->vq[i]);
	}
}

/*
 * Setting a queue ready maps nothing here (this may be any process): the
 * queue's home thread maps the rings on its next entry, seeing a new
 * ready_gen.  A driver sets up the rings, sets the queue ready, then
 * DRIVER_OK (which kicks every queue), so the thread looks soon enough;
 * a bad address is reported then and breaks the queue.
 */
static void write_ready(struct lx_vq_regs *r, uint32_t val)
{
	if (!val) {
		vq_stop(r);
		return;
	}
	if (__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST))
		return;
	__atomic_fetch_add(&r->ready_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&r->ready, 1, __ATOMIC_SEQ_CST);
	/* the home thread maps the rings now: a bad one is reported early */
	kick(r);
}

void lx_mmio_write(unsigned long addr, int size, unsigned long long val)
{
	struct lx_vq_regs *vq;
	struct lx_vregs *regs;
	struct lx_vdev *dev;
	unsigned int off;

	dev = mmio_dev(addr, &off);
	if (!dev)
		return;
	regs = dev->regs;
	if (off >= VIRTIO_MMIO_CONFIG) {
		off -= VIRTIO_MMIO_CONFIG;
		if (off + size <= dev->config_len)
			memcpy(regs->config + off, &val, size);
		return;
	}
	if (size != 4)
		return;
	vq = sel_vq(dev);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		regs->dev_feat_sel = val;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (regs->drv_feat_sel < 2)
			set_half(&regs->driver_features, regs->drv_feat_sel,
				 val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		regs->drv_feat_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		regs->queue_sel = val;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (vq && !vq->ready)
			vq->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (vq)
			write_ready(vq, val);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (val >= dev->nvq)
			break;
		if (lazy_queue(dev, val))
			notify_lazy(dev, &regs->vq[val]);
		else
			kick(&regs->vq[val]);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&regs->int_status, ~(uint32_t)val,
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

/*
 * One descriptor (the home's copy) into the request's vectors: the buffer
 * lies in kernel RAM, and each direction's total fits the 32 bits a used
 * length has (devices count a chain's bytes in 32 bits).
 */
static int add_buf(struct lx_vreq *req, const struct vring_desc *d)
{
	void *p = lx_guest_ptr(d->addr, d->len);

	if (!p)
		return -EIO;
	if (d->flags & VRING_DESC_F_WRITE) {
		if (req->nwr == LX_VREQ_IOV ||
		    req->wr_len + d->len > UINT32_MAX)
			return -EIO;
		req->wr[req->nwr].iov_base = p;
		req->wr[req->nwr++].iov_len = d->len;
		req->wr_len += d->len;
	} else {
		/* readable buffers come first in a chain */
		if (req->nwr || req->nrd == LX_VREQ_IOV ||
		    req->rd_len + d->len > UINT32_MAX)
			return -EIO;
		req->rd[req->nrd].iov_base = p;
		req->rd[req->nrd++].iov_len = d->len;
		req->rd_len += d->len;
	}
	return 0;
}

/*
 * Walk a chain in a table of n descriptors (the ring's or an indirect
 * one).  Bounded: an index is checked against n before use, a chain
 * visits at most n descriptors (a loop ends there), an indirect table may
 * not hold another, and add_buf() refuses more than LX_VREQ_IOV buffers.
 */
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
	vdev_broken(dev, vq, "bad descriptor chain");
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
	if (__atomic_load_n(&dev->regs->driver_features, __ATOMIC_RELAXED) &
	    1ULL << VIRTIO_RING_F_EVENT_IDX) {
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
	__atomic_fetch_or(&dev->regs->int_status, VIRTIO_MMIO_INT_VRING,
			  __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE))
		lx_trigger_irq(dev->irq);
}

void lx_vdev_config_changed(struct lx_vdev *dev)
{
	__atomic_fetch_add(&dev->regs->config_gen, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&dev->regs->int_status, VIRTIO_MMIO_INT_CONFIG,
			  __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&dev->regs->status, __ATOMIC_ACQUIRE) &
	    VIRTIO_CONFIG_S_DRIVER_OK)
		lx_trigger_irq(dev->irq);
}

/*
 * From the thread of another queue of the device: kick the lazy queues
 * that have at least min requests waiting, or any that waited since the
 * last such kick LX_VQ_LAZY_NS ago (notify_lazy()).  Their ring state is
 * their own thread's: read once, a stale look costs at most a kick too
 * many.
 */
static void kick_lazy(struct lx_vdev *dev, uint16_t min)
{
	unsigned int q;
	uint64_t now;

	for (q = 0; q < dev->nvq; q++) {
		struct lx_vq *vq = &dev->vq[q];
		struct vring_avail *avail;
		uint16_t waiting;

		if (!lazy_queue(dev, q))
			continue;
		avail = __atomic_load_n(&vq->avail, __ATOMIC_ACQUIRE);
		if (!avail || !__atomic_load_n(&vq->regs->ready,
					       __ATOMIC_ACQUIRE))
			continue;
		/* sequentially consistent: after the caller's sleeping store */
		waiting = __atomic_load_n(&avail->idx, __ATOMIC_SEQ_CST) -
			  __atomic_load_n(&vq->last_avail, __ATOMIC_RELAXED);
		if (!waiting)
			continue;
		now = lx_mono_ns();
		if (waiting >= min || now - __atomic_load_n(&dev->lazy_kicked,
					__ATOMIC_RELAXED) > LX_VQ_LAZY_NS) {
			__atomic_store_n(&dev->lazy_kicked, now,
					 __ATOMIC_RELAXED);
			kick(vq->regs);
		}
	}
}

bool lx_spin_while(const uint32_t *word, uint32_t val, uint64_t ns)
{
	uint64_t end;

	if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val)
		return true;
	end = lx_mono_ns() + ns;
	do {
		sched_yield();
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != val)
			return true;
	} while (lx_mono_ns() < end);
	return false;
}

/* Whether vq's device has lazy queues other than vq. */
static bool lazy_siblings(const struct lx_vdev *dev, const struct lx_vq *vq)
{
	return dev->ops->lazy_queues & ~(1U << (vq - dev->vq));
}

/*
 * Wait for a kick.  The next request of a busy driver often follows within
 * microseconds: spin a little first (LX_VQ_SPIN_NS, well under 50 us; a
 * task the device just completed a request for, a program's thread or the
 * peer of a network round trip, often waits for this CPU), then sleep;
 * after a wake-up that brought no kick, sleep again at once.  A lazy
 * queue's thread sleeps at once: its spin would only take a CPU from the
 * threads that make and serve the other queues' requests.  Before it
 * sleeps, the thread says so (only then does a notify wake it) and kicks
 * its device's lazy queues that have requests waiting.  lx_vdevs_stop()
 * kicks every queue.
 */
void lx_vq_wait(struct lx_vdev *dev, struct lx_vq *vq, uint32_t *seen)
{
	uint32_t *word = &vq->regs->kick, k;

	if (!lazy_queue(dev, vq - dev->vq))
		lx_spin_while(word, *seen, LX_VQ_SPIN_NS);
	while ((k = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == *seen &&
	       !__atomic_load_n(&lx_devices_stopping, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&vq->regs->sleeping, 1, __ATOMIC_SEQ_CST);
		if (lazy_siblings(dev, vq))
			kick_lazy(dev, 1);
		futex_wait(word, k);
		__atomic_store_n(&vq->regs->sleeping, 0, __ATOMIC_RELAXED);
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
		/* a busy device's lazy queues are served a batch at a time */
		if (lazy_siblings(dev, vq))
			kick_lazy(dev, LX_VQ_LAZY_BATCH);
	}
	return NULL;
}

int lx_vdevs_start(char *cmdline, size_t len)
{
	size_t used = strlen(cmdline);
	unsigned int i, q;
	char name[48];
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
			snprintf(name, sizeof(name), "lx-%s-q%u", dev->name, q);
			ret = lx_home_thread(&dev->vq[q].thread, name,
					     queue_main, qt);
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

			kick(vq->regs);
			if (vq->has_thread)
				pthread_join(vq->thread, NULL);
			vq->has_thread = false;
		}
		if (dev->ops->destroy)
			dev->ops->destroy(dev);
	}
	nr_devs = 0;
}

struct lx_vregs *lx_vdev_regs(unsigned int i)
{
	return i < nr_devs ? devs[i]->regs : NULL;
}
