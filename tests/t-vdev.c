// SPDX-License-Identifier: GPL-2.0
/*
 * A program that corrupts lx's kernel cannot steer the home process's
 * device threads.  A program process runs kernel code, so it can write
 * all of kernel RAM and the shared region: the devices' registers and
 * rings.  This test plays that program - from an lx_fork()ed child, and
 * directly from the home's own threads, bypassing the driver - against
 * spare virtio-blk disks nothing uses after boot:
 *
 *   - every word of a device's shared state overwritten with pointers to
 *     a decoy outside kernel RAM: the home calls nothing and writes
 *     nothing there;
 *   - rings set outside kernel RAM, misaligned, of a bad size;
 *   - descriptor chains that loop, run off the table, point outside
 *     kernel RAM, nest indirect tables, or add up to more than 4 GiB.
 *
 * Each time the home process stays up, the queue stops with a message and
 * DEVICE_NEEDS_RESET, no request completes, and the disk lx runs on goes
 * on working.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>

#include "../host/virtio.h"
#include "tap.h"
#include "util.h"

#define NR_SPARES 4
#define DISK_LEN (4 << 20)
#define DECOY_LEN (64 << 10)

static char dir[64], log_path[96];
static int saved_stderr = -1;
static uint64_t ram_size;
static uint64_t *decoy;		/* shared with children, outside kernel RAM */

/* Device i's register window, as the kernel's driver reaches it. */
static unsigned long reg(unsigned int i, unsigned int off)
{
	return LX_MMIO_BASE + i * LX_MMIO_SLOT + off;
}

static void wr(unsigned int i, unsigned int off, uint32_t v)
{
	lx_mmio_write(reg(i, off), 4, v);
}

static uint32_t rd(unsigned int i, unsigned int off)
{
	return lx_mmio_read(reg(i, off), 4);
}

/* How often the home said something about device i ("lx: blkN: "). */
static int said(unsigned int i)
{
	char pat[32], *buf, *p;
	int fd, n = 0;
	ssize_t len;

	snprintf(pat, sizeof(pat), "lx: blk%u: ", i);
	buf = calloc(1, 1 << 20);
	fd = open(log_path, O_RDONLY);
	len = fd >= 0 ? read(fd, buf, (1 << 20) - 1) : -1;
	if (fd >= 0)
		close(fd);
	for (p = buf; len > 0 && (p = strstr(p, pat)); p++)
		n++;
	free(buf);
	return n;
}

/* Wait up to 2 s for the home to say more than before about device i. */
static bool wait_said(unsigned int i, int before)
{
	struct timespec ts = { 0, 2000000 };
	int k;

	for (k = 0; k < 1000; k++) {
		if (said(i) > before)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void make_disks(void)
{
	char path[128], err[256];
	int i, fd;

	CHECK(mkdtemp(strcpy(dir, "/tmp/lx-vdev-XXXXXX")) != NULL, "mkdtemp");
	snprintf(log_path, sizeof(log_path), "%s/stderr", dir);
	/* the home's messages go to stderr: keep them to count them */
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	CHECK(fd >= 0, "%s", log_path);
	saved_stderr = dup(2);
	dup2(fd, 2);
	close(fd);
	setvbuf(stderr, NULL, _IONBF, 0);
	for (i = 0; i <= NR_SPARES; i++) {
		snprintf(path, sizeof(path), "%s/disk%d", dir, i);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(fd >= 0 && ftruncate(fd, DISK_LEN) == 0, "%s", path);
		close(fd);
		snprintf(path, sizeof(path), "blk:file=%s/disk%d", dir, i);
		CHECK_OK(lx_device_add(path, err, sizeof(err)));
	}
	decoy = mmap(NULL, DECOY_LEN, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(decoy != MAP_FAILED, "mmap");
	/* pointers to itself: whatever the home follows lands here again */
	for (i = 0; i < DECOY_LEN / 8; i++)
		decoy[i] = (uint64_t)(uintptr_t)decoy;
}

static bool decoy_intact(void)
{
	int i;

	for (i = 0; i < DECOY_LEN / 8; i++)
		if (decoy[i] != (uint64_t)(uintptr_t)decoy)
			return false;
	return true;
}

/* The size of kernel RAM, found the way the home checks addresses. */
static void find_ram(void)
{
	uint64_t lo = 0, hi = 1ULL << 40;
	unsigned int i;

	CHECK(lx_guest_ptr(0, 1) != NULL, "kernel RAM");
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (lx_guest_ptr(mid, 1))
			lo = mid;
		else
			hi = mid;
	}
	ram_size = hi;
	/* room for an indirect table of buffers adding up to 4 GiB */
	CHECK(ram_size >= (32 << 20) && ram_size <= (1ULL << 32),
	      "RAM %#llx", (unsigned long long)ram_size);
	lx_syscall2(SYS_mkdir, "/dev", 0755);
	CHECK_OK(lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0));
	for (i = 0; i <= NR_SPARES; i++) {
		CHECK_EQ(rd(i, VIRTIO_MMIO_DEVICE_ID), 2);	/* block */
		CHECK(rd(i, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK,
		      "disk %d driven", i);
	}
}

/* Device 0, the disk lx goes on using: to the host file and back. */
static void main_disk_works(void)
{
	static char out[65536], in[65536];
	static unsigned int seed = 1;
	char path[128];
	long fd;
	int hfd;

	fill_pattern(out, sizeof(out), seed++);
	fd = lx_syscall4(SYS_openat, AT_FDCWD, "/dev/vda", O_RDWR | O_CLOEXEC,
			 0);
	if (!CHECK(fd >= 0, "open /dev/vda: %ld", fd))
		return;
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, (long)out, sizeof(out), 8192),
		 sizeof(out));
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	snprintf(path, sizeof(path), "%s/disk0", dir);
	hfd = open(path, O_RDONLY);
	CHECK(hfd >= 0 && pread(hfd, in, sizeof(in), 8192) == sizeof(in) &&
	      !memcmp(in, out, sizeof(in)), "the host file has it");
	if (hfd >= 0)
		close(hfd);
	/* drop the kernel's cached copy: the read goes to the device */
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, BLKFLSBUF, 0));
	memset(in, 0, sizeof(in));
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, (long)in, sizeof(in), 8192),
		 sizeof(in));
	CHECK(!memcmp(in, out, sizeof(in)), "vda reads back");
	close_fd(fd);
}

/* The queue stopped, said so, asks for a reset; the home and vda go on. */
static void check_failed_closed(unsigned int i, int before, const char *what)
{
	CHECK(wait_said(i, before), "%s: the home said nothing of blk%u", what,
	      i);
	CHECK(rd(i, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
	      "%s: blk%u does not ask for a reset", what, i);
	CHECK(decoy_intact(), "%s: the home wrote outside kernel RAM", what);
}

/*
 * The hostile child's end (exit_group through lx, so lx reaps it), and
 * the parent's: reap it, then device i must have failed closed.
 */
static void child_done(void)
{
	lx_syscall1(SYS_exit_group, 0);
	_exit(99);
}

static void reap_and_check(pid_t pid, unsigned int i, int before,
			   const char *what)
{
	int st;

	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	waitpid(pid, &st, 0);
	lx_syscall4(SYS_wait4, -1, NULL, 0, NULL);
	check_failed_closed(i, before, what);
}


/*
 * A forked program process overwrites all of a spare disk's shared state
 * with pointers to the decoy, then makes its queue look live and kicks it.
 */
static void test_scribble(void)
{
	const unsigned int i = 1;
	struct lx_vregs *regs = lx_vdev_regs(i);
	int before = said(i);
	pid_t pid;

	if (!CHECK(regs != NULL, "blk%u's registers", i))
		return;
	pid = lx_fork();
	if (pid == 0) {
		uint64_t *w = (uint64_t *)regs;
		size_t k;

		for (k = 0; k < sizeof(*regs) / 8; k++)
			__atomic_store_n(&w[k], (uint64_t)(uintptr_t)decoy,
					 __ATOMIC_RELAXED);
		for (k = 0; k < LX_VQ_MAX; k++)
			regs->vq[k].ready = 1;
		__atomic_store_n(&regs->status, VIRTIO_CONFIG_S_DRIVER_OK,
				 __ATOMIC_SEQ_CST);
		wr(i, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		child_done();
	}
	reap_and_check(pid, i, before, "scribble");
	main_disk_works();
}

/* The rings of device i's queue 0, as the driver set them up. */
struct rings {
	uint32_t num;
	uint64_t desc_pa;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static bool get_rings(unsigned int i, struct rings *r)
{
	struct lx_vq_regs *q = &lx_vdev_regs(i)->vq[0];

	r->num = q->num;
	r->desc_pa = q->desc_pa;
	r->desc = lx_guest_ptr(q->desc_pa, 16ULL * r->num);
	r->avail = lx_guest_ptr(q->avail_pa, 6 + 2ULL * r->num);
	r->used = lx_guest_ptr(q->used_pa, 6 + 8ULL * r->num);
	return r->num >= 128 && r->desc && r->avail && r->used;
}

/*
 * The device's "needs reset" from an earlier case goes, so that each case
 * must set it again (a driver would reset the device; the test keeps its
 * set-up and clears the bit in the registers themselves).
 */
static void clear_needs_reset(unsigned int i)
{
	__atomic_fetch_and(&lx_vdev_regs(i)->status,
			   ~(uint32_t)VIRTIO_CONFIG_S_NEEDS_RESET,
			   __ATOMIC_SEQ_CST);
}

/* Stop queue 0, empty its rings and set it ready again, as a driver would. */
static void rearm(unsigned int i, struct rings *r)
{
	clear_needs_reset(i);
	wr(i, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(i, VIRTIO_MMIO_QUEUE_READY, 0);
	r->avail->idx = 0;
	r->used->idx = 0;
	memset(r->desc, 0, 16ULL * r->num);
	wr(i, VIRTIO_MMIO_QUEUE_READY, 1);
	/* the home maps the rings on the kick that comes with ready */
	usleep(20000);
}

/* Post the chain at descriptor 0 and kick. */
static void post(unsigned int i, struct rings *r)
{
	r->avail->ring[0] = 0;
	__atomic_store_n(&r->avail->idx, 1, __ATOMIC_RELEASE);
	wr(i, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

enum chain { LOOP, NEXT_OFF, OUT_OF_RAM, WRAPS, IND_NESTED, IND_OUT,
	     IND_NEXT, TOO_LONG, NR_CHAINS };

static const char *const chain_names[] = {
	"a chain that loops", "a next index past the table",
	"a buffer past the end of RAM", "a buffer whose end wraps around",
	"an indirect table holding another", "an indirect table outside RAM",
	"an indirect descriptor with NEXT", "buffers adding up to > 4 GiB",
};

/* Make chain c at descriptor 0; an indirect table goes at entry 64 on. */
static void make_chain(struct rings *r, enum chain c)
{
	struct vring_desc *d = r->desc, *t = r->desc + 64;
	uint64_t buf = r->desc_pa, tab = r->desc_pa + 64 * 16;
	uint16_t f = VRING_DESC_F_NEXT, w = VRING_DESC_F_WRITE;
	uint32_t k, nbufs = (1ULL << 32) / ram_size + 2;

	switch (c) {
	case LOOP:
		set_desc(&d[0], buf, 16, f, 1);
		set_desc(&d[1], buf, 1, f | w, 2);
		set_desc(&d[2], buf, 1, f | w, 1);
		break;
	case NEXT_OFF:
		set_desc(&d[0], buf, 16, f, r->num + 5);
		break;
	case OUT_OF_RAM:
		set_desc(&d[0], buf, 16, f, 1);
		set_desc(&d[1], ram_size - 8, 16, w, 0);
		break;
	case WRAPS:
		set_desc(&d[0], buf, 16, f, 1);
		set_desc(&d[1], ~0ULL - 7, 16, w, 0);
		break;
	case IND_NESTED:
		set_desc(&d[0], tab, 32, VRING_DESC_F_INDIRECT, 0);
		set_desc(&t[0], buf, 16, f, 1);
		set_desc(&t[1], tab, 32, VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_OUT:
		set_desc(&d[0], ram_size - 16, 32, VRING_DESC_F_INDIRECT, 0);
		break;
	case IND_NEXT:
		set_desc(&d[0], tab, 32, VRING_DESC_F_INDIRECT | f, 1);
		set_desc(&t[0], buf, 16, f, 1);
		set_desc(&t[1], buf, 1, w, 0);
		set_desc(&d[1], buf, 1, w, 0);
		break;
	case TOO_LONG:
		/* a header, then writable buffers of all of RAM each */
		set_desc(&d[0], tab, (nbufs + 1) * 16, VRING_DESC_F_INDIRECT,
			 0);
		set_desc(&t[0], buf, 16, f, 1);
		for (k = 1; k <= nbufs; k++)
			set_desc(&t[k], 0, ram_size, f | w, k + 1);
		t[nbufs].flags = w;
		break;
	default:
		break;
	}
}

static void test_chains(void)
{
	const unsigned int i = 2;
	struct rings r;
	int c, before;

	if (!CHECK(get_rings(i, &r), "blk%u's rings", i))
		return;
	for (c = 0; c < NR_CHAINS; c++) {
		before = said(i);
		rearm(i, &r);
		make_chain(&r, c);
		post(i, &r);
		check_failed_closed(i, before, chain_names[c]);
		CHECK(__atomic_load_n(&r.used->idx, __ATOMIC_ACQUIRE) == 0,
		      "%s: a request completed", chain_names[c]);
	}
	main_disk_works();
}

/*
 * Rings the driver sets ready with bad registers: through the register
 * calls (from a forked process), and by writing the shared registers
 * directly after the queue was set ready (bypassing the checks of the
 * register calls), then setting it ready again.
 */
static void test_bad_rings(void)
{
	const unsigned int i = 3;
	struct lx_vq_regs *q = &lx_vdev_regs(i)->vq[0];
	const struct {
		const char *what;
		uint32_t num;
		uint64_t desc, avail, used;
		bool direct;
	} cases[] = {
		{ "a size that is no power of two", 3, 0, 0, 0, false },
		{ "a size above the maximum", 512, 0, 0, 0, false },
		{ "a misaligned descriptor table", 0, 8, 0, 0, false },
		{ "a used ring past the end of RAM", 0, 0, 0, ~0ULL, false },
		{ "a descriptor table far outside RAM", 0, 1ULL << 62, 0, 0, false },
		{ "a size of 64 Ki written directly", 65536, 0, 0, 0, true },
		{ "a host pointer as the avail ring, written directly", 0, 0,
		  ~0ULL - 1, 0, true },
	};
	uint32_t num = q->num;
	uint64_t desc = q->desc_pa, avail = q->avail_pa, used = q->used_pa;
	unsigned int k;
	int before;
	pid_t pid;

	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		uint32_t n = cases[k].num ? cases[k].num : num;
		uint64_t d = desc + cases[k].desc;
		uint64_t a = cases[k].avail == ~0ULL - 1 ?
				     (uint64_t)(uintptr_t)decoy : avail;
		uint64_t u = cases[k].used == ~0ULL ? ram_size - 64 : used;

		before = said(i);
		clear_needs_reset(i);
		pid = lx_fork();
		if (pid == 0) {
			wr(i, VIRTIO_MMIO_QUEUE_SEL, 0);
			wr(i, VIRTIO_MMIO_QUEUE_READY, 0);
			if (!cases[k].direct) {
				wr(i, VIRTIO_MMIO_QUEUE_NUM, n);
				wr(i, VIRTIO_MMIO_QUEUE_DESC_LOW, d);
				wr(i, VIRTIO_MMIO_QUEUE_DESC_HIGH, d >> 32);
				wr(i, VIRTIO_MMIO_QUEUE_AVAIL_LOW, a);
				wr(i, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, a >> 32);
				wr(i, VIRTIO_MMIO_QUEUE_USED_LOW, u);
				wr(i, VIRTIO_MMIO_QUEUE_USED_HIGH, u >> 32);
				wr(i, VIRTIO_MMIO_QUEUE_READY, 1);
			} else {
				/* set ready as it was, then change it */
				wr(i, VIRTIO_MMIO_QUEUE_READY, 1);
				q->num = n;
				q->desc_pa = d;
				q->avail_pa = a;
				q->used_pa = u;
				wr(i, VIRTIO_MMIO_QUEUE_READY, 0);
				wr(i, VIRTIO_MMIO_QUEUE_READY, 1);
			}
			wr(i, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
			child_done();
		}
		reap_and_check(pid, i, before, cases[k].what);
		/* put the driver's registers back for the next case */
		wr(i, VIRTIO_MMIO_QUEUE_READY, 0);
		q->num = num;
		q->desc_pa = desc;
		q->avail_pa = avail;
		q->used_pa = used;
	}
	main_disk_works();
}

static void test_log(void)
{
	char buf[4096], *l;
	ssize_t n;
	int fd = open(log_path, O_RDONLY);

	/* what the home said, for whoever reads the test's output */
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		for (l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			if (!strncmp(l, "lx: ", 4))
				printf("# %s\n", l);
	}
	CHECK(said(1) && said(2) && said(3), "messages");
	CHECK_EQ(said(4), 0);	/* the untouched spare: nothing */
}

int main(void)
{
	tap_run("a disk and four spares declared; stderr kept", make_disks);
	if (tap.failed)
		tap_bail("no disks");
	boot_kernel();
	tap_run("kernel RAM found; every disk driven; devtmpfs", find_ram);
	if (tap.failed)
		tap_bail("no RAM or disks");
	tap_run("the disk lx runs on works", main_disk_works);
	tap_run("a forked process overwrites a device's shared state with pointers: nothing is called or written outside RAM",
		test_scribble);
	tap_run("bad descriptor chains stop the queue, nothing completes",
		test_chains);
	tap_run("rings outside RAM, misaligned or of a bad size, set by register calls or by hand, stop the queue",
		test_bad_rings);
	tap_run("the home said why, of each broken disk only", test_log);
	halt_kernel();
	if (saved_stderr >= 0)
		dup2(saved_stderr, 2);
	host_sh("rm -rf %s", dir);
	return tap_done();
}
