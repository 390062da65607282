/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio.h - lx's virtio-mmio device model, shared by the devices in host/.
 *
 * Three layers (DESIGN.md decision 4):
 *   transport  virtio.c: the virtio-mmio version 2 register file, split
 *              virtqueues with event-index suppression, kicks, interrupts;
 *   device     virtio-blk.c, virtio-net.c, virtio-console.c, virtio-fs.c:
 *              what a request means;
 *   backend    a host file, a directory, a tap or AF_PACKET socket.
 *
 * The kernel's driver reaches the registers by function calls
 * (arch_lx_mmio_read/write -> lx_mmio_read/write), from whatever host
 * thread holds the CPU, in any process of the container.  So everything
 * a register access touches lives in the shared kernel region, and a queue
 * notify is only a futex wake of the queue's own host thread in the home
 * process: device I/O never runs while the CPU is held.
 */
#ifndef _LX_HOST_VIRTIO_H
#define _LX_HOST_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/uio.h>

#include "home.h"

#define LX_MMIO_BASE 0x100000000000UL /* = arch/lx's asm/io.h */
#define LX_MMIO_SLOT 0x1000UL	      /* register window of one device */
#define LX_VDEV_MAX 32
#define LX_VQ_MAX 4
#define LX_VQ_SIZE 256
#define LX_VREQ_IOV 320		/* buffers in one chain (direct + indirect) */
#define LX_FIRST_IRQ 4		/* below: the timer and reserved ones */
#define LX_VQ_SPIN_NS 30000	/* a queue thread's spin before it sleeps */
#define LX_VQ_LAZY_BATCH 64	/* requests a busy device's lazy queue takes */
#define LX_VQ_LAZY_NS 1000000	/* or what waited in it this long */

struct lx_vdev;

/*
 * Each device is in two halves (DESIGN.md decisions 5 and 8):
 *
 *   struct lx_vregs  the register file the driver sees: written by
 *                    register calls from any process of the container,
 *                    and kicks; in the shared region.  A program process
 *                    runs kernel code and can write all of it at any
 *                    time, so the home process reads it only as input:
 *                    single scalar loads, checked where used, and never
 *                    a pointer.
 *   struct lx_vdev   what the home process acts on: ops, priv, the rings
 *                    as host pointers, the device threads.  In the home
 *                    process's private memory; a forked process has a
 *                    copy it uses only for the constant fields (id, IRQ,
 *                    slot, the pointer to the registers).
 *
 * The rings are mapped by the home, not by the process that set the queue
 * ready: a QUEUE_READY write bumps ready_gen, and the queue's home thread,
 * on its next entry, reads the addresses once, checks them against kernel
 * RAM and keeps the host pointers in its lx_vq.
 */

/* A queue's registers (shared). */
struct lx_vq_regs {
	uint32_t num;
	uint32_t ready;
	uint64_t desc_pa, avail_pa, used_pa;
	/* bumped by each QUEUE_READY 0 -> 1: the home maps the rings anew */
	uint32_t ready_gen;
	/* bumped by each notify; the queue's thread waits on it */
	uint32_t kick;
	/* 1 while that thread sleeps: only then does a notify wake it */
	uint32_t sleeping;
	/* 1 while the queue's thread works on the rings (reset waits) */
	uint32_t busy;
};

/* A device's registers (shared). */
struct lx_vregs {
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status;
	uint32_t int_status;
	uint32_t config_gen;
	struct lx_vq_regs vq[LX_VQ_MAX];
	uint8_t config[256];
};

/* A split virtqueue, the device side (home-private). */
struct lx_vq {
	struct lx_vq_regs *regs;
	/* the rings as mapped for ready_gen == gen: checked, host pointers */
	uint32_t gen;
	uint32_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used; /* used idx at the last interrupt */
	bool broken;

	pthread_t thread;
	bool has_thread;
};

/*
 * One request: a descriptor chain as I/O vectors.  10 KiB: a queue thread
 * keeps its own on its stack; in TLS every thread of the process (kernel
 * threads and program threads too) would carry and first-touch it.
 */
struct lx_vreq {
	uint16_t head;
	int nrd, nwr;		/* buffers the device reads, then writes */
	size_t rd_len, wr_len;
	struct iovec rd[LX_VREQ_IOV];
	struct iovec wr[LX_VREQ_IOV];
};

struct lx_vdev_ops {
	/* Called on the queue's own thread when the queue was kicked or
	 * the thread was woken; processes what is available. */
	void (*queue_work)(struct lx_vdev *dev, struct lx_vq *vq);
	/* Halt: end the device's own threads and close its backend. */
	void (*destroy)(struct lx_vdev *dev);
	/*
	 * Queues whose thread is the device's own (not queue_work on a
	 * kick): the device starts that thread in its start().
	 */
	uint32_t own_queues;
	/*
	 * Queues whose requests may wait (virtio-fs's FORGETs): a notify
	 * wakes their thread only when no other queue thread of the device
	 * is awake; those kick them before they sleep, or after a round of
	 * their own work once LX_VQ_LAZY_BATCH requests wait or
	 * LX_VQ_LAZY_NS passed since the last such kick.  Their thread
	 * sleeps as soon as it is done, without a spin.  Each such other
	 * queue needs a thread of its own (not in own_queues).
	 */
	uint32_t lazy_queues;
	/* Start the device's threads (after boot structures exist). */
	int (*start)(struct lx_vdev *dev);
};

/* A device, the home's half: see above. */
struct lx_vdev {
	uint32_t device_id;
	uint32_t nvq;
	uint64_t features;	/* offered */
	int irq;
	unsigned long base;
	const struct lx_vdev_ops *ops;
	void *priv;		/* the device's host-side state */
	char name[32];		/* "blk0", "net1": for messages */
	char cmdline[64];	/* what the device adds to the command line */
	uint32_t config_len;
	struct lx_vregs *regs;	/* shared */
	struct lx_vq vq[LX_VQ_MAX];
	uint64_t lazy_kicked;	/* when kick_lazy() last kicked (virtio.c) */
};

/* The register window, for the host ops table (any thread, CPU held). */
unsigned long long lx_mmio_read(unsigned long addr, int size);
void lx_mmio_write(unsigned long addr, int size, unsigned long long val);


/*
 * Register a device: its registers in the shared region, a slot, an IRQ.
 * Before boot.
 */
struct lx_vdev *lx_vdev_create(uint32_t device_id, uint32_t nvq,
			       uint64_t features, uint32_t config_len,
			       const struct lx_vdev_ops *ops, const char *name);
/* Start the device threads; append their command line ("virtio_mmio..."). */
int lx_vdevs_start(char *cmdline, size_t len);
/* Stop every device thread and free the devices (after halt). */
void lx_vdevs_destroy(void);

/*
 * The queue's thread: take the next request.  1 with req filled, 0 if the
 * queue is empty (event-index: the driver is asked for a kick on the next
 * one, and the queue rechecked), -EIO if the driver handed a bad chain (the
 * queue is then broken and left alone).
 */
int lx_vq_pop(struct lx_vdev *dev, struct lx_vq *vq, struct lx_vreq *req);
/* Give the last popped request back, unused. */
void lx_vq_unpop(struct lx_vq *vq);
/* Put a finished request on the used ring (len bytes written). */
void lx_vq_push(struct lx_vq *vq, uint16_t head, uint32_t len);
/* Interrupt the driver if it asked for it since the last one. */
void lx_vq_signal(struct lx_vdev *dev, struct lx_vq *vq);
/* Wait for a kick (returns at once if one came since *seen). */
void lx_vq_wait(struct lx_vdev *dev, struct lx_vq *vq, uint32_t *seen);
/* Whether the queue is usable now. */
bool lx_vq_live(struct lx_vdev *dev, struct lx_vq *vq);
/*
 * Mark the queue's thread busy/idle with the rings (reset waits for idle).
 * lx_vq_enter() maps the rings if the driver set the queue ready since
 * the last time; false if the queue is not usable.
 */
bool lx_vq_enter(struct lx_vdev *dev, struct lx_vq *vq);
void lx_vq_leave(struct lx_vq *vq);

/* Raise the configuration-change interrupt. */
void lx_vdev_config_changed(struct lx_vdev *dev);

/* Copy helpers over a request's vectors. */
size_t lx_iov_copy_from(const struct iovec *iov, int n, size_t off, void *buf,
			size_t len);
size_t lx_iov_copy_to(const struct iovec *iov, int n, size_t off,
		      const void *buf, size_t len);

/* The devices: parse "key=value,..." options, register the device. */
int lx_blk_add(const char *opts, char *err, size_t errlen);
int lx_console_add(const char *opts, char *err, size_t errlen);
int lx_net_add(const char *opts, char *err, size_t errlen);
int lx_fs_add(const char *opts, char *err, size_t errlen);
/* read() and write() of virtio-fs files through the host file (host_ops.h) */
struct lx_fuse_ref;
long lx_fs_fuse_read(const struct lx_fuse_ref *ref, void *iov, int cnt,
		     long long pos);
long lx_fs_fuse_write(const struct lx_fuse_ref *ref, const void *iov, int cnt,
		      long long pos);
void lx_fs_fuse_closed(const struct lx_fuse_ref *ref, int all);
void lx_fs_files_forget(void);

/* The virtio-console's host fd (the boot console writes there), or -1. */
int lx_console_fd(void);
void lx_console_forget(void);

/* Options "key=value,key,..." of a device spec. */
struct lx_opt {
	const char *key;
	const char *val;	/* NULL for a bare flag */
};
#define LX_OPTS_MAX 16
int lx_opts_parse(const char *s, char *buf, size_t buflen,
		  struct lx_opt *opts, int max);

/* The shared registers of device i (in declaration order), or NULL: tests. */
struct lx_vregs *lx_vdev_regs(unsigned int i);

/* Host fds behind devices: closed in forked processes and at halt. */
int lx_device_fd_add(int fd);
/* ... and no longer (the device's set-up failed after the add). */
void lx_device_fd_remove(int fd);
void lx_device_fds_close(void);

/* Set by lx_halt() while the devices are stopped. */
extern int lx_devices_stopping;

#endif /* _LX_HOST_VIRTIO_H */
