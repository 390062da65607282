// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on host files, driven by Linux's own virtio_blk and ext4:
 * an image made by mke2fs -d reads back byte for byte; files, directories
 * and xattrs written inside survive halt, the image checks clean with
 * fsck.ext4 -n and the host reads them back (debugfs); read-only disks;
 * discard and write-zeroes reach the host file; many requests in flight at
 * once (served side by side) and fsync after them; a forked lx process does
 * its own disk I/O and can make the disk its root; bad specs and a corrupt
 * image give clear errors.  The host's page cache: a writable disk goes
 * around it (O_DIRECT), one declared "buffered" and a read-only one
 * through it, and requests the host cannot take direct (1 KiB blocks on
 * a host disk of 4 KiB sectors, a loop device) through it too.  An
 * append's new size reaches the disk: by a sync with a journal, by
 * fdatasync without one.  Writeback starts by itself at 1% of memory
 * dirty.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lx/lx.h>

#include "tap.h"
#include "util.h"

#define BIG_LEN (3 << 20)	/* spans many requests and segments */
#define SCRATCH_LEN (16 << 20)

static char dir[64], img[96], img_ro[96], scratch[96], corrupt[96];
static char buffered[96], small[96], nojournal[96], loopdev[64];

static int host_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static long lx_open(const char *path, int flags)
{
	return lx_syscall4(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0644);
}

/* Read a whole lx file into buf (len bytes expected); returns bytes read. */
static long lx_slurp(const char *path, void *buf, size_t len)
{
	long fd = lx_open(path, O_RDONLY), n;

	if (fd < 0)
		return fd;
	n = read_all(fd, buf, len);
	close_fd(fd);
	return n;
}

static long lx_spit(const char *path, const void *buf, size_t len)
{
	long fd = lx_open(path, O_WRONLY | O_CREAT | O_TRUNC), n;

	if (fd < 0)
		return fd;
	n = write_all(fd, buf, len);
	if (n >= 0)
		n = lx_syscall1(SYS_fsync, fd);
	close_fd(fd);
	return n;
}

/* lx drops its page cache (needs /proc) */
static void lx_drop_caches(void)
{
	long dfd = lx_open("/proc/sys/vm/drop_caches", O_WRONLY);

	CHECK_EQ(lx_syscall3(SYS_write, dfd, "3", 1), 1);
	close_fd(dfd);
}

static int count_fds(void)
{
	char path[64];
	int n = 0, i;

	for (i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static void test_bad_specs(void)
{
	static const struct {
		const char *spec;
		long err;
		const char *says;
	} cases[] = {
		{ "blk:file=/nonexistent/lx.img", -ENOENT, "/nonexistent/lx.img" },
		{ "blk:", -EINVAL, "file=PATH" },
		{ "blk:file=/tmp,ro", -EINVAL, "/tmp: not a file" },
		{ "blk:file=/dev/null,bogus", -EINVAL, "bogus" },
		{ "disk:file=/dev/null", -EINVAL, "disk" },
		{ "net:tap=lx-nonexistent0", -ENODEV, "lx-nonexistent0" },
		{ "console:fd=987", -EBADF, "987" },
	};
	char err[256];
	int before = count_fds();
	unsigned int i;
	long ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ret = lx_device_add(cases[i].spec, err, sizeof(err));
		CHECK(ret == cases[i].err && strstr(err, cases[i].says),
		      "%s: %ld '%s'", cases[i].spec, ret, err);
	}
	CHECK_EQ(count_fds(), before);
}

static unsigned char big[BIG_LEN], buf[BIG_LEN];

/* The image: a tree made on the host and put in with mke2fs -d. */
static void make_images(void)
{
	char *tmpl = strdup("/tmp/lx-blk-XXXXXX"), *d = mkdtemp(tmpl);

	if (!d)
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%s", d);
	free(tmpl);
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	snprintf(img_ro, sizeof(img_ro), "%s/ro.img", dir);
	snprintf(scratch, sizeof(scratch), "%s/scratch.img", dir);
	snprintf(corrupt, sizeof(corrupt), "%s/corrupt.img", dir);
	snprintf(buffered, sizeof(buffered), "%s/buffered.img", dir);
	snprintf(small, sizeof(small), "%s/small.img", dir);
	snprintf(nojournal, sizeof(nojournal), "%s/nojournal.img", dir);
	fill_pattern(big, BIG_LEN, 7);
	if (host_sh("mkdir -p %s/tree/sub && echo hello > %s/tree/hello.txt && "
	       "ln -s hello.txt %s/tree/link", dir, dir, dir) ||
	    host_write(strcat(strcpy((char *)buf, dir), "/tree/sub/big.bin"),
		       big, BIG_LEN) ||
	    host_sh("mke2fs -q -F -t ext4 -d %s/tree %s 64M >/dev/null", dir, img) ||
	    host_sh("cp %s %s", img, img_ro) ||
	    host_sh("truncate -s %d %s", SCRATCH_LEN, scratch) ||
	    host_sh("head -c 8M /dev/urandom > %s", corrupt) ||
	    host_sh("truncate -s %d %s", SCRATCH_LEN, buffered) ||
	    host_sh("truncate -s 32M %s && "
		    "mke2fs -q -F -t ext4 -b 1024 -d %s/tree %s 24M >/dev/null",
		    small, dir, small) ||
	    host_sh("mke2fs -q -F -t ext4 -O ^has_journal -d %s/tree %s 16M "
		    ">/dev/null", dir, nojournal)) {
		host_sh("rm -rf %s", dir);
		tap_bail("cannot make the test images in %s", dir);
	}
}

/*
 * small.img behind a loop device of 4 KiB sectors: the host takes direct
 * I/O on it only 4 KiB aligned, and its ext4 (the first 24 MiB) has 1
 * KiB blocks.  Where this host has no loop devices, loopdev stays empty.
 */
static void make_loop(void)
{
	char path[128];
	FILE *f;

	if (host_sh("losetup -f --show --sector-size 4096 %s > %s/loop",
		    small, dir))
		return;
	snprintf(path, sizeof(path), "%s/loop", dir);
	f = fopen(path, "r");
	if (f && fgets(loopdev, sizeof(loopdev), f))
		loopdev[strcspn(loopdev, "\n")] = 0;
	else
		loopdev[0] = 0;
	if (f)
		fclose(f);
}

/* the loop device goes when lx closes it (or at once if it never had it) */
static void loop_autoclear(void)
{
	static int done;

	if (loopdev[0] && !done)
		host_sh("losetup -d %s", loopdev);
	done = 1;
}

static void cleanup(void)
{
	loop_autoclear();
	host_sh("rm -rf %s", dir);
}

static void add_disks(void)
{
	CHECK_OK(add_device("blk:file=%s", img));
	CHECK_OK(add_device("blk:file=%s,ro", img_ro));
	CHECK_OK(add_device("blk:file=%s", scratch));
	CHECK_OK(add_device("blk:file=%s", corrupt));
	CHECK_OK(add_device("blk:file=%s,buffered", buffered));	/* vde */
	if (loopdev[0])
		CHECK_OK(add_device("blk:file=%s", loopdev));	/* vdf */
	else
		tap_diag("no loop device on this host: no vdf");
	loop_autoclear();
}

static void test_mount(void)
{
	lx_syscall2(SYS_mkdir, "/dev", 0755);
	CHECK_OK(lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt", 0755));
	CHECK_OK(lx_syscall5(SYS_mount, "/dev/vda", "/mnt", "ext4", 0, 0));
}

static void test_read_back(void)
{
	char link[32] = { 0 };

	CHECK_EQ(lx_slurp("/mnt/hello.txt", buf, 6), 6);
	CHECK(!memcmp(buf, "hello\n", 6), "hello.txt");
	CHECK_EQ(lx_syscall4(SYS_readlinkat, AT_FDCWD, "/mnt/link", link,
			     sizeof(link)), 9);
	CHECK(!strcmp(link, "hello.txt"), "link -> %s", link);
	memset(buf, 0, BIG_LEN);
	CHECK_EQ(lx_slurp("/mnt/sub/big.bin", buf, BIG_LEN), BIG_LEN);
	CHECK(!memcmp(buf, big, BIG_LEN), "big.bin differs");
}

static void test_write(void)
{
	long fd;

	fill_pattern(big, BIG_LEN, 11);
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/new", 0755));
	CHECK_OK(lx_spit("/mnt/new/big.bin", big, BIG_LEN));
	CHECK_OK(lx_spit("/mnt/new/small.txt", "written in lx\n", 14));
	CHECK_OK(lx_syscall5(SYS_setxattr, "/mnt/new/small.txt", "user.lx",
			     "value-1", 7, 0));
	memset(buf, 0, 16);
	CHECK_EQ(lx_syscall4(SYS_getxattr, "/mnt/new/small.txt", "user.lx",
			     buf, 16), 7);
	CHECK(!memcmp(buf, "value-1", 7), "xattr read back");
	CHECK_OK(lx_syscall2(SYS_rename, "/mnt/hello.txt", "/mnt/new/hello.txt"));
	/*
	 * An append inside the file's allocated last block moves the size
	 * on disk at once (writeback, which allocates nothing, leaves it):
	 * the host reads "more" after a sync.
	 */
	fd = lx_open("/mnt/new/hello.txt", O_WRONLY | O_APPEND);
	if (CHECK_OK(fd)) {
		CHECK_EQ(lx_syscall3(SYS_write, fd, "more\n", 5), 5);
		close_fd(fd);
	}
	/* read back through a cold cache: drop it (needs /proc) */
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	CHECK_OK(lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0));
	CHECK_OK(lx_syscall0(SYS_sync));
	lx_drop_caches();
	memset(buf, 0, BIG_LEN);
	CHECK_EQ(lx_slurp("/mnt/new/big.bin", buf, BIG_LEN), BIG_LEN);
	CHECK(!memcmp(buf, big, BIG_LEN), "big.bin after drop_caches");
}

/* a counter of lx's /proc/vmstat, or -1 */
static long lx_vmstat(const char *name)
{
	static char vm[1 << 13];
	size_t len = strlen(name);
	long n = lx_slurp("/proc/vmstat", vm, sizeof(vm) - 1);
	char *p;

	if (n <= 0)
		return -1;
	vm[n] = 0;
	for (p = vm; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return atol(p + len + 1);
	return -1;
}

/*
 * lx starts background writeback at 1% of memory dirty (host/host.c,
 * LX_DEFAULT_ARGS), not Linux's 10%: of 4 MiB written to a file in a 64
 * MiB lx, with no sync, all but the last ~1% of memory goes to the disk
 * at once (at 10% it would sit in the page cache until it is 30 s old;
 * the wait here ends after at most 20 s).
 */
static void test_early_writeback(void)
{
	long before, written = 0, fd;
	int i;

	if (lx_syscall2(SYS_access, "/proc/sys", F_OK)) {
		lx_syscall2(SYS_mkdir, "/proc", 0555);
		CHECK_OK(lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0));
	}
	CHECK_EQ(lx_slurp("/proc/sys/vm/dirty_background_ratio", buf, 8), 2);
	CHECK(!memcmp(buf, "1\n", 2), "dirty_background_ratio %.2s, not 1",
	      buf);
	CHECK_OK(lx_syscall0(SYS_sync));
	before = lx_vmstat("nr_written");
	if (!CHECK(before >= 0, "no nr_written in /proc/vmstat"))
		return;
	fill_pattern(big, BIG_LEN, 5);
	fd = lx_open("/mnt/early.bin", O_WRONLY | O_CREAT | O_EXCL);
	if (!CHECK_OK(fd))
		return;
	for (i = 0; i < 4; i++)
		CHECK_EQ(write_all(fd, big, 1 << 20), 1 << 20);
	close_fd(fd);
	for (i = 0; i < 2000; i++) {
		written = lx_vmstat("nr_written") - before;
		if (written >= (3 << 20) / 4096)
			break;
		usleep(10000);
	}
	CHECK(written >= (3 << 20) / 4096, "%ld pages written back after 20 s "
	      "without a sync, want >= 768 of the 1024", written);
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/early.bin"));
}

/*
 * ext4 without a journal: fdatasync() after an append writes the inode
 * with its new size (ext4_fsync_nojournal() writes it for
 * I_DIRTY_DATASYNC, which a write that grows the file sets).  A child
 * boots a kernel of its own on such an image, appends 64 KiB to a file
 * mke2fs -d made, fdatasyncs and exits with nothing synced after that:
 * the host finds the new size in the image.
 */
static void nojournal_child(void)
{
	long fd;

	if (!CHECK_OK(add_device("blk:file=%s", nojournal)) ||
	    !CHECK_EQ(lx_start_kernel(UTIL_CMDLINE), 0))
		return;
	lx_syscall2(SYS_mkdir, "/dev", 0755);
	CHECK_OK(lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt", 0755));
	if (!CHECK_OK(lx_syscall5(SYS_mount, "/dev/vda", "/mnt", "ext4", 0, 0)))
		return;
	fd = lx_open("/mnt/hello.txt", O_WRONLY | O_APPEND);
	if (!CHECK_OK(fd))
		return;
	memset(buf, 'a', 1 << 16);
	CHECK_EQ(write_all(fd, buf, 1 << 16), 1 << 16);
	CHECK_OK(lx_syscall1(SYS_fdatasync, fd));
	/* no close, no sync, no halt: what fdatasync wrote is all there is */
}

/* the size the host reads in the image after nojournal_child */
static void nojournal_size(void)
{
	char cmd[256], out[64] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "debugfs -R 'stat /hello.txt' %s 2>/dev/null"
		 " | sed -n 's/.*Size: \\([0-9]*\\).*/\\1/p'", nojournal);
	f = popen(cmd, "r");
	if (!CHECK(f != NULL, "popen: %s", strerror(errno)))
		return;
	if (!fgets(out, sizeof(out), f))
		out[0] = 0;
	pclose(f);
	CHECK_EQ(atol(out), 6 + (1 << 16));
}

/*
 * ext4's metadata checksums (crc32c) are the CPU's crc32 instruction's
 * where it has one (kernel/arch/lx/kernel/crc32c.c): fsck.ext4 checks
 * what it wrote at the end.
 */
static void test_crc32c(void)
{
	static char crypto[1 << 15];
	long n = lx_slurp("/proc/crypto", crypto, sizeof(crypto) - 1);

	if (!CHECK(n > 0, "read /proc/crypto: %ld", n))
		return;
	crypto[n] = 0;
	if (host_sh("grep -qw sse4_2 /proc/cpuinfo")) {
		tap_skip("the host CPU has no SSE4.2: ext4 uses crc32c-generic");
		return;
	}
	CHECK(strstr(crypto, "crc32c-lx") != NULL, "no crc32c-lx in "
	      "/proc/crypto: %.300s", crypto);
}

static void test_read_only(void)
{
	long fd, ro = 0;

	CHECK_OK(lx_syscall2(SYS_mkdir, "/ro", 0755));
	fd = lx_open("/dev/vdb", O_RDONLY);
	CHECK_OK(fd);
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, BLKROGET, &ro));
	CHECK_EQ(ro, 1);
	close_fd(fd);
	/* Linux opens it, and refuses the write */
	fd = lx_open("/dev/vdb", O_WRONLY);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, buf, 512), -EPERM);
	close_fd(fd);
	CHECK_OK(lx_syscall5(SYS_mount, "/dev/vdb", "/ro", "ext4", MS_RDONLY,
			     "noload"));
	CHECK_EQ(lx_slurp("/ro/hello.txt", buf, 6), 6);
	CHECK_EQ(lx_open("/ro/x", O_WRONLY | O_CREAT), -EROFS);
	CHECK_OK(lx_syscall2(SYS_umount2, "/ro", 0));
}

static void test_discard(void)
{
	uint64_t range[2] = { 1 << 20, 4 << 20 };
	struct stat st;
	long fd, i;
	int hfd;

	fd = lx_open("/dev/vdc", O_RDWR);
	CHECK_OK(fd);
	fill_pattern(big, BIG_LEN, 3);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, big, BIG_LEN, 0), BIG_LEN);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	hfd = open(scratch, O_RDONLY);
	CHECK(pread(hfd, buf, BIG_LEN, 0) == BIG_LEN &&
	      !memcmp(buf, big, BIG_LEN), "the host file holds what lx wrote");
	fstat(hfd, &st);
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, BLKDISCARD, range));
	CHECK(pread(hfd, buf, 2 << 20, 1 << 20) == 2 << 20,
	      "read the discarded range");
	for (i = 0; i < (2 << 20) && !buf[i]; i++)
		;
	CHECK(i == 2 << 20, "discarded bytes are zero on the host (%ld)", i);
	{
		struct stat st2;

		fstat(hfd, &st2);
		CHECK(st2.st_blocks < st.st_blocks, "blocks %ld -> %ld",
		      (long)st.st_blocks, (long)st2.st_blocks);
	}
	/* write-zeroes over the first MiB */
	range[0] = 0;
	range[1] = 1 << 20;
	CHECK_OK(lx_syscall3(SYS_ioctl, fd, BLKZEROOUT, range));
	CHECK(pread(hfd, buf, 1 << 20, 0) == 1 << 20, "read zeroed range");
	for (i = 0; i < (1 << 20) && !buf[i]; i++)
		;
	CHECK(i == 1 << 20, "zeroed bytes are zero on the host (%ld)", i);
	close(hfd);
	close_fd(fd);
}

/* lx's sysfs file path as a number, or -errno */
static long lx_sysfs_num(const char *path)
{
	char num[32];
	long n = lx_slurp(path, num, sizeof(num) - 1);

	if (n < 0)
		return n;
	num[n] = 0;
	return strtol(num, NULL, 10);
}

#define SIDE_OFF (2 << 20)
#define SIDE_LEN (12 << 20)

/*
 * Many requests in the queue at once, which the device serves on more
 * than one host thread: the writeback of 12 MiB of a raw disk, then an
 * fsync, after which the host file must hold all of it (a flush covers
 * every write completed before it); then a cold read of what the host
 * wrote there, in 4 MiB of readahead (the disk reports a 2 MiB optimal
 * I/O size).
 */
static void test_side_by_side(void)
{
	static unsigned char wbuf[SIDE_LEN], rbuf[SIDE_LEN];
	long fd;
	int hfd;

	lx_syscall2(SYS_mkdir, "/sys", 0555);
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	lx_syscall5(SYS_mount, "sysfs", "/sys", "sysfs", 0, 0);
	lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0);
	CHECK_EQ(lx_sysfs_num("/sys/block/vdc/queue/optimal_io_size"), 2 << 20);
	CHECK_EQ(lx_sysfs_num("/sys/block/vdc/queue/read_ahead_kb"), 4096);

	fd = lx_open("/dev/vdc", O_RDWR);
	CHECK_OK(fd);
	fill_pattern(wbuf, SIDE_LEN, 11);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, wbuf, SIDE_LEN, SIDE_OFF),
		 SIDE_LEN);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	hfd = open(scratch, O_RDWR);
	CHECK(pread(hfd, rbuf, SIDE_LEN, SIDE_OFF) == SIDE_LEN &&
	      !memcmp(rbuf, wbuf, SIDE_LEN),
	      "after fsync the host file holds all lx wrote");

	/* the host changes the disk; lx reads it cold */
	fill_pattern(wbuf, SIDE_LEN, 12);
	CHECK(pwrite(hfd, wbuf, SIDE_LEN, SIDE_OFF) == SIDE_LEN,
	      "host write");
	close(hfd);
	close_fd(fd);
	lx_drop_caches();
	fd = lx_open("/dev/vdc", O_RDONLY);
	CHECK_OK(fd);
	memset(rbuf, 0, SIDE_LEN);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, rbuf, SIDE_LEN, SIDE_OFF),
		 SIDE_LEN);
	CHECK(!memcmp(rbuf, wbuf, SIDE_LEN), "lx reads the host's bytes back");
	close_fd(fd);
}

/* pages of the host file's [off, off + len) in the host's page cache */
static long host_cached(const char *path, long off, long len)
{
	unsigned char vec[1024];
	long n = 0, i;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || len / 4096 > (long)sizeof(vec))
		return -1;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	if (mincore(p, len, vec))
		n = -1;
	for (i = 0; n >= 0 && i < len / 4096; i++)
		n += vec[i] & 1;
	munmap(p, len);
	return n;
}

/* the host drops its page cache of path */
static void host_uncache(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
}

/*
 * 2 MiB written and read through lx's disk dev: the host file holds them,
 * and how many of its pages the host caches.
 */
static long through_disk(const char *dev, const char *host_file)
{
	static unsigned char wbuf[2 << 20], rbuf[2 << 20];
	const long off = 8 << 20;
	long fd, cached;
	int hfd;

	host_uncache(host_file);
	fill_pattern(wbuf, sizeof(wbuf), 21);
	fd = lx_open(dev, O_RDWR);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, wbuf, sizeof(wbuf), off),
		 (long)sizeof(wbuf));
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	close_fd(fd);
	lx_drop_caches();
	fd = lx_open(dev, O_RDONLY);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, rbuf, sizeof(rbuf), off),
		 (long)sizeof(rbuf));
	CHECK(!memcmp(rbuf, wbuf, sizeof(rbuf)), "%s reads back", dev);
	close_fd(fd);
	cached = host_cached(host_file, off, sizeof(wbuf));
	hfd = open(host_file, O_RDONLY);
	CHECK(hfd >= 0 && pread(hfd, rbuf, sizeof(rbuf), off) ==
	      (long)sizeof(rbuf) && !memcmp(rbuf, wbuf, sizeof(rbuf)),
	      "%s holds what lx wrote", host_file);
	if (hfd >= 0)
		close(hfd);
	return cached;
}

/*
 * A writable disk goes around the host's page cache (O_DIRECT), one
 * declared "buffered" through it.
 */
static void test_host_cache(void)
{
	long direct = through_disk("/dev/vdc", scratch);
	long cached = through_disk("/dev/vde", buffered);
	struct statx sx = { 0 };
	struct statfs sfs = { 0 };

	tap_diag("host pages cached of 512: %ld direct, %ld buffered",
		 direct, cached);
	/* direct by default where the host file system says it takes it */
	if (statx(AT_FDCWD, scratch, 0, STATX_DIOALIGN, &sx) ||
	    !(sx.stx_mask & STATX_DIOALIGN) || !sx.stx_dio_offset_align ||
	    statfs(scratch, &sfs) || sfs.f_type == 0x9123683e)
		tap_diag("the file system of %s takes no direct I/O by "
			 "default: not checked", scratch);
	else
		CHECK_EQ(direct, 0);
	CHECK(cached >= 256, "%ld of 512 pages cached through 'buffered'",
	      cached);
}

/*
 * O_DIRECT from a program's buffer (host memory, which lx cannot pin for
 * I/O: served through lx's page cache, kernel/patches/0010): on the disk
 * itself and on its ext4, aligned I/O works and is on the host file when
 * write() returns; misaligned I/O is refused as Linux refuses it.
 */
static void test_odirect(void)
{
	static unsigned char a[65536] __attribute__((aligned(4096)));
	static unsigned char r[65536] __attribute__((aligned(4096)));
	const long off = 12 << 20;
	long fd;
	int hfd;

	fill_pattern(a, sizeof(a), 41);
	fd = lx_open("/dev/vdc", O_RDWR | O_DIRECT);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, sizeof(a), off),
		 (long)sizeof(a));
	hfd = open(scratch, O_RDONLY);
	CHECK(hfd >= 0 && pread(hfd, r, sizeof(r), off) == (long)sizeof(r) &&
	      !memcmp(r, a, sizeof(r)),
	      "the host file has what an O_DIRECT write wrote (no fsync)");
	if (hfd >= 0)
		close(hfd);
	memset(r, 0, sizeof(r));
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, r, sizeof(r), off),
		 (long)sizeof(r));
	CHECK(!memcmp(r, a, sizeof(r)), "O_DIRECT read back");
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, 4096, off + 100), -EINVAL);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, a + 3, 4096, off), -EINVAL);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, a, 100, off), -EINVAL);
	close_fd(fd);

	fd = lx_open("/mnt/direct.bin", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, a, sizeof(a)), (long)sizeof(a));
	CHECK_EQ(lx_syscall3(SYS_write, fd, a + 1, 4096), -EINVAL);
	memset(r, 0, sizeof(r));
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, r, sizeof(r), 0),
		 (long)sizeof(r));
	CHECK(!memcmp(r, a, sizeof(r)), "ext4 O_DIRECT read back");
	close_fd(fd);
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/direct.bin"));

	/* a FIFO on ext4 in packet mode (O_DIRECT by F_SETFL) is no file */
	CHECK_OK(lx_syscall3(SYS_mknod, "/mnt/fifo", S_IFIFO | 0600, 0));
	fd = lx_open("/mnt/fifo", O_RDWR);
	CHECK_OK(fd);
	CHECK_OK(lx_syscall3(SYS_fcntl, fd, F_SETFL, O_DIRECT));
	CHECK_EQ(lx_syscall3(SYS_write, fd, a + 1, 100), 100);
	CHECK_EQ(lx_syscall3(SYS_write, fd, a + 2, 50), 50);
	CHECK_EQ(lx_syscall3(SYS_read, fd, r, 4096), 100);
	close_fd(fd);
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/fifo"));
}

/*
 * Past the file system on vdf, while it is mounted (so the disk's blocks
 * are 1 KiB in lx): 1 KiB written (the host takes it through its page
 * cache), then the page around it read (4 KiB: direct on the host); 1
 * KiB written (through the host's cache) and then the whole page around
 * it (direct), then read back.
 */
static void unaligned_raw(void)
{
	static unsigned char a[4096], b2[4096];
	const long tail = 28 << 20;	/* past the file system */
	long fd = lx_open("/dev/vdf", O_RDWR);

	CHECK_OK(fd);
	memset(a, 0x11, 4096);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, 4096, tail), 4096);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	lx_drop_caches();
	memset(a, 0x22, 1024);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, 1024, tail + 1024), 1024);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	lx_drop_caches();
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, b2, 4096, tail), 4096);
	CHECK(b2[0] == 0x11 && b2[1024] == 0x22 && b2[2047] == 0x22 &&
	      b2[2048] == 0x11, "the page read back: %02x %02x %02x %02x",
	      b2[0], b2[1024], b2[2047], b2[2048]);
	memset(a, 0x44, 1024);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, 1024, tail + 5120), 1024);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	memset(a, 0x33, 4096);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a, 4096, tail + 4096), 4096);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	lx_drop_caches();
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, b2, 1024, tail + 5120), 1024);
	CHECK(b2[0] == 0x33 && b2[1023] == 0x33,
	      "1 KiB of the page written whole read back: %02x", b2[0]);
	close_fd(fd);
}

/*
 * ext4 of 1 KiB blocks on a host disk that takes direct I/O only 4 KiB
 * aligned (a loop device of 4 KiB sectors): the rest goes through the
 * host's page cache, and lx sees one consistent disk.
 */
static void test_unaligned(void)
{
	if (!loopdev[0]) {
		tap_diag("skipped: no loop device on this host");
		return;
	}
	fill_pattern(big, BIG_LEN, 7);	/* what mke2fs -d put in */
	lx_syscall2(SYS_mkdir, "/small", 0755);
	if (!CHECK_OK(lx_syscall5(SYS_mount, "/dev/vdf", "/small", "ext4", 0,
				  0)))
		return;
	CHECK_EQ(lx_slurp("/small/sub/big.bin", buf, BIG_LEN), BIG_LEN);
	CHECK(!memcmp(buf, big, BIG_LEN), "big.bin reads back");
	fill_pattern(buf, BIG_LEN, 31);
	CHECK_OK(lx_spit("/small/new.bin", buf, BIG_LEN));
	CHECK_OK(lx_spit("/small/note.txt", "1 KiB blocks\n", 13));
	unaligned_raw();
	CHECK_OK(lx_syscall2(SYS_umount2, "/small", 0));
	CHECK_OK(lx_syscall5(SYS_mount, "/dev/vdf", "/small", "ext4", 0, 0));
	memset(buf, 0, BIG_LEN);
	CHECK_EQ(lx_slurp("/small/new.bin", buf, BIG_LEN), BIG_LEN);
	fill_pattern(big, BIG_LEN, 31);
	CHECK(!memcmp(buf, big, BIG_LEN), "new.bin reads back");
	CHECK_OK(lx_syscall2(SYS_umount2, "/small", 0));
}

static void test_corrupt(void)
{
	long ret;

	CHECK_OK(lx_syscall2(SYS_mkdir, "/bad", 0755));
	ret = lx_syscall5(SYS_mount, "/dev/vdd", "/bad", "ext4", 0, 0);
	CHECK(ret == -EINVAL || ret == -EUCLEAN, "mount of garbage: %ld", ret);
	/* the kernel goes on */
	CHECK_EQ(lx_slurp("/mnt/new/small.txt", buf, 14), 14);
}

/*
 * A forked lx process does its own disk I/O (its requests are completed
 * by the home process's device thread) and, in a mount namespace of its
 * own, makes the disk its root as switch_root does.
 */
static void test_child(void)
{
	long lx_pid = 0, st = -1;
	pid_t pid;
	int hst;

	pid = lx_fork();
	if (pid == 0) {
		static unsigned char cbuf[BIG_LEN];

		CHILD_CHECK(lx_spit("/mnt/new/child.txt", "from the child\n",
				    15) == 0);
		CHILD_CHECK(lx_slurp("/mnt/new/big.bin", cbuf, BIG_LEN) ==
			    BIG_LEN);
		CHILD_CHECK(lx_syscall1(SYS_unshare, CLONE_NEWNS) == 0);
		CHILD_CHECK(lx_syscall5(SYS_mount, NULL, "/", NULL,
					MS_REC | MS_PRIVATE, NULL) == 0);
		CHILD_CHECK(lx_syscall1(SYS_chdir, "/mnt") == 0);
		CHILD_CHECK(lx_syscall5(SYS_mount, ".", "/", NULL, MS_MOVE,
					NULL) == 0);
		CHILD_CHECK(lx_syscall1(SYS_chroot, ".") == 0);
		CHILD_CHECK(lx_syscall1(SYS_chdir, "/") == 0);
		CHILD_CHECK(lx_slurp("/new/child.txt", cbuf, 15) == 15);
		CHILD_CHECK(lx_syscall2(SYS_access, "/sub/big.bin", R_OK) == 0);
		CHILD_CHECK(lx_syscall2(SYS_access, "/lost+found", F_OK) == 0);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	waitpid(pid, &hst, 0);
	lx_pid = lx_syscall4(SYS_wait4, -1, &st, 0, NULL);
	CHECK(lx_pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "child status %#lx", st);
	CHECK_EQ(lx_slurp("/mnt/new/child.txt", buf, 15), 15);
	CHECK(!memcmp(buf, "from the child\n", 15), "child's file");
}

static void test_umount(void)
{
	CHECK_OK(lx_syscall2(SYS_umount2, "/mnt", 0));
}

static void test_fsck(void)
{
	CHECK_EQ(host_sh("fsck.ext4 -n -f %s >/dev/null 2>&1", img), 0);
	if (!loopdev[0])
		return;
	CHECK_EQ(host_sh("fsck.ext4 -n -f %s >/dev/null 2>&1", small), 0);
	CHECK_EQ(host_sh("debugfs -R 'cat /note.txt' %s 2>/dev/null | "
			 "grep -q '1 KiB blocks'", small), 0);
}

static void test_host_reads(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/out.bin", dir);
	CHECK_EQ(host_sh("debugfs -R 'dump /new/big.bin %s' %s >/dev/null 2>&1",
		    path, img), 0);
	fd = open(path, O_RDONLY);
	fill_pattern(big, BIG_LEN, 11);
	CHECK(fd >= 0 && read(fd, buf, BIG_LEN) == BIG_LEN &&
	      !memcmp(buf, big, BIG_LEN), "the host reads big.bin back");
	if (fd >= 0)
		close(fd);
	CHECK_EQ(host_sh("debugfs -R 'ea_get /new/small.txt user.lx' %s 2>/dev/null"
		    " | grep -q value-1", img), 0);
	CHECK_EQ(host_sh("debugfs -R 'cat /new/hello.txt' %s 2>/dev/null"
		    " | tr '\\n' ' ' | grep -qx 'hello more '", img), 0);
}

int main(void)
{
	int failed;

	make_images();
	make_loop();
	tap_run_forked("ext4 without a journal: an append, fdatasync and an "
		       "exit with nothing else synced", nojournal_child);
	tap_run("the host reads the size fdatasync wrote", nojournal_size);
	tap_run("bad device specs: clear errors, no fd left open",
		test_bad_specs);
	tap_run("six disks declared", add_disks);
	failed = tap.failed;
	boot_kernel();
	tap_run("devtmpfs has vda; ext4 made by mke2fs -d mounts", test_mount);
	if (tap.failed > failed) {
		cleanup();
		tap_bail("no disk");
	}
	tap_run("mke2fs -d files read back byte for byte", test_read_back);
	tap_run("write, mkdir, xattr, rename; read back after drop_caches",
		test_write);
	tap_run("writeback starts by itself at 1% of memory dirty",
		test_early_writeback);
	tap_run("ext4's checksums from the CPU's crc32 instruction",
		test_crc32c);
	tap_run("a read-only disk", test_read_only);
	tap_run("discard and write-zeroes reach the host file", test_discard);
	tap_run("many requests side by side: fsync covers them, cold read with 4 MiB readahead",
		test_side_by_side);
	tap_run("O_DIRECT from a program's buffer: the disk and ext4",
		test_odirect);
	tap_run("a writable disk goes around the host's page cache, "
		"a 'buffered' one through it", test_host_cache);
	tap_run("1 KiB blocks on a host disk of 4 KiB sectors: the unaligned "
		"requests through the host's page cache", test_unaligned);
	tap_run("a corrupt image does not mount, the kernel goes on",
		test_corrupt);
	tap_run("a forked process: disk I/O and the disk as its root",
		test_child);
	tap_run("umount", test_umount);
	halt_kernel();
	tap_run("fsck.ext4 -n: the image is clean", test_fsck);
	tap_run("the host reads the files, xattr and rename back",
		test_host_reads);
	cleanup();
	return tap_done();
}
