// SPDX-License-Identifier: GPL-2.0
/* Tests file system calls and x86-64 struct layouts in lx. */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/magic.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>

#include "../host/home.h"
#include "util.h"

#ifndef SA_RESTORER
#define SA_RESTORER	0x04000000
#endif
#ifndef SA_UNSUPPORTED
#define SA_UNSUPPORTED	0x00000400
#endif

/* struct linux_dirent64 of the kernel (not in the uapi headers) */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define NAME_OFF	offsetof(struct linux_dirent64, d_name)

/* d fits in the left bytes and holds a terminated name */
static bool dirent_ok(const struct linux_dirent64 *d, long left)
{
	return left >= (long)NAME_OFF + 2 &&
	       d->d_reclen >= NAME_OFF + 2 && !(d->d_reclen % 8) &&
	       d->d_reclen <= left &&
	       strnlen(d->d_name, d->d_reclen - NAME_OFF) <
	       d->d_reclen - NAME_OFF;
}

/* struct sigaction as the x86-64 kernel's rt_sigaction takes it */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

static unsigned char buf[4 * 4096], buf2[4 * 4096];

/* Create (or truncate) path and write len pattern bytes; returns the fd. */
static long create_file(const char *path, size_t len, unsigned int seed)
{
	long fd, ret;

	if (len > sizeof(buf))
		return -EINVAL;
	fd = lx_syscall4(SYS_openat, AT_FDCWD, path,
			 O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fd;
	fill_pattern(buf, len, seed);
	ret = write_all(fd, buf, len);
	if (ret != (long)len) {
		close_fd(fd);
		return ret < 0 ? ret : -EIO;
	}
	return fd;
}

static void test_mkdir_tmp(void)
{
	struct stat st;

	CHECK_EQ(make_tmp(), 0);
	CHECK_EQ(lx_syscall2(SYS_mkdir, "/tmp", 0755), -EEXIST);
	if (CHECK_EQ(lx_syscall2(SYS_stat, "/tmp", &st), 0))
		CHECK(S_ISDIR(st.st_mode), "st_mode %#o", st.st_mode);
}

static void test_read_write_lseek(void)
{
	long fd, len = sizeof(buf);

	fd = create_file("/tmp/rw", len, 1);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), len);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	memset(buf2, 0, sizeof(buf2));
	CHECK_EQ(read_all(fd, buf2, len), len);
	CHECK_EQ(check_pattern(buf2, len, 1), -1);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf2, 1), 0);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, -100, SEEK_END), len - 100);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf2, 200), 100);
	CHECK(!memcmp(buf2, buf + len - 100, 100), "last 100 bytes differ");
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, -1, SEEK_SET), -EINVAL);
	CHECK_EQ(close_fd(fd), 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf2, 1), -EBADF);
	CHECK_EQ(lx_syscall4(SYS_openat, AT_FDCWD, "/tmp/rw",
			     O_CREAT | O_EXCL | O_RDWR, 0644), -EEXIST);
	CHECK_EQ(lx_syscall3(SYS_openat, AT_FDCWD, "/tmp/none", O_RDONLY),
		 -ENOENT);
}

static void test_pread_pwrite(void)
{
	static const char zero[100];
	long fd;

	fd = create_file("/tmp/prw", 0, 0);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "abcd", 4, 10000), 4);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 0);
	memset(buf2, 0xa5, 16);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf2, 16, 9996), 8);
	CHECK(!memcmp(buf2, "\0\0\0\0abcd", 8), "got %02x %02x %02x %02x %.4s",
	      buf2[0], buf2[1], buf2[2], buf2[3], buf2 + 4);
	memset(buf2, 0xa5, 100);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf2, 100, 0), 100);
	CHECK(!memcmp(buf2, zero, 100), "the hole does not read as zeros");
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf2, 100, 20000), 0);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf2, 1, -1), -EINVAL);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 0);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_END), 10004);
	close_fd(fd);
}

static void test_ftruncate(void)
{
	struct stat st;
	long fd, i;

	fd = create_file("/tmp/trunc", 1000, 2);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall2(SYS_ftruncate, fd, 100), 0);
	if (CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		CHECK_EQ(st.st_size, 100);
	CHECK_EQ(lx_syscall2(SYS_ftruncate, fd, 5000), 0);
	if (CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		CHECK_EQ(st.st_size, 5000);
	memset(buf2, 0xa5, 5000);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf2, sizeof(buf2), 0), 5000);
	CHECK_EQ(check_pattern(buf2, 100, 2), -1);
	for (i = 100; i < 5000 && !buf2[i]; i++)
		;
	CHECK(i == 5000, "byte %ld is %#x after extending", i, buf2[i]);
	CHECK_EQ(lx_syscall2(SYS_ftruncate, fd, -1), -EINVAL);
	close_fd(fd);
}

static void test_fstat_fields(void)
{
	struct stat st;
	int64_t before, after, mtime;
	long fd;

	before = host_ns(CLOCK_REALTIME);
	fd = create_file("/tmp/st", 12345, 3);
	after = host_ns(CLOCK_REALTIME);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall2(SYS_fchmod, fd, 0640), 0);
	CHECK_EQ(lx_syscall2(SYS_link, "/tmp/st", "/tmp/st-link"), 0);
	memset(&st, 0xa5, sizeof(st));
	if (!CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		goto out;
	CHECK_EQ(st.st_size, 12345);
	CHECK(S_ISREG(st.st_mode), "st_mode %#o", st.st_mode);
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_nlink, 2);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_gid, 0);
	CHECK_EQ(st.st_rdev, 0);
	CHECK(st.st_ino != 0, "st_ino is 0");
	CHECK(st.st_blksize >= 512 && !(st.st_blksize & (st.st_blksize - 1)),
	      "st_blksize %ld", (long)st.st_blksize);
	/* lx's clock follows the host's (see t-clock); allow a second */
	mtime = ts_ns(&st.st_mtim);
	CHECK(mtime >= before - 1000000000 && mtime <= after + 1000000000,
	      "st_mtim %lld not within host time [%lld, %lld]",
	      (long long)mtime, (long long)before, (long long)after);
	CHECK(st.st_mtim.tv_nsec >= 0 && st.st_mtim.tv_nsec < 1000000000,
	      "st_mtim.tv_nsec %ld", (long)st.st_mtim.tv_nsec);
	CHECK_EQ(lx_syscall1(SYS_unlink, "/tmp/st-link"), 0);
	if (CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		CHECK_EQ(st.st_nlink, 1);
out:
	close_fd(fd);
	CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), -EBADF);
}

/* A field of struct stat: x86-64 and host offsets, size, wanted value. */
struct stat_field {
	const char *name;
	size_t off, host_off, size;
	uint64_t want;
};

#define F(name, off, field, want) \
	{ name, off, offsetof(struct stat, field), \
	  sizeof(((struct stat *)0)->field), want }

/* Check raw, a struct stat from the kernel, against statx's x. */
static void check_stat_fields(const unsigned char *raw,
			      const struct statx *x, uint64_t size)
{
	const size_t unused = offsetof(struct stat, __glibc_reserved);
	const struct stat_field f[] = {
		F("st_dev", 0, st_dev, makedev(x->stx_dev_major,
					      x->stx_dev_minor)),
		F("st_ino", 8, st_ino, x->stx_ino),
		F("st_nlink", 16, st_nlink, 1),
		F("st_mode", 24, st_mode, S_IFREG | 0600),
		F("st_uid", 28, st_uid, 0),
		F("st_gid", 32, st_gid, 0),
		F("__pad0", 36, __pad0, 0),
		F("st_rdev", 40, st_rdev, 0),
		F("st_size", 48, st_size, size),
		F("st_blksize", 56, st_blksize, x->stx_blksize),
		F("st_blocks", 64, st_blocks, x->stx_blocks),
		F("st_atime", 72, st_atim.tv_sec, x->stx_atime.tv_sec),
		F("st_atime_nsec", 80, st_atim.tv_nsec, x->stx_atime.tv_nsec),
		F("st_mtime", 88, st_mtim.tv_sec, x->stx_mtime.tv_sec),
		F("st_mtime_nsec", 96, st_mtim.tv_nsec, x->stx_mtime.tv_nsec),
		F("st_ctime", 104, st_ctim.tv_sec, x->stx_ctime.tv_sec),
		F("st_ctime_nsec", 112, st_ctim.tv_nsec, x->stx_ctime.tv_nsec),
		{ "__unused[0]", 120, unused, 8, 0 },
		{ "__unused[1]", 128, unused + 8, 8, 0 },
		{ "__unused[2]", 136, unused + 16, 8, 0 },
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f); i++) {
		v = 0;
		memcpy(&v, raw + f[i].off, f[i].size);
		CHECK(f[i].off == f[i].host_off, "%s at %zu, host has %zu",
		      f[i].name, f[i].off, f[i].host_off);
		CHECK(v == f[i].want, "%s at offset %zu is %#llx, want %#llx",
		      f[i].name, f[i].off, (unsigned long long)v,
		      (unsigned long long)f[i].want);
	}
}

/*
 * Check the x86-64 struct stat layout: each field the kernel writes is where
 * x86-64 (and the host's header) has it, with the value statx gives; the
 * padding is zeroed, so all 144 bytes were written, and nothing after them.
 */
static void test_stat_layout(void)
{
	unsigned char raw[144 + 32];
	struct statx x;
	size_t i;
	long fd;

	CHECK_EQ(sizeof(struct stat), 144);
	fd = create_file("/tmp/layout", 4321, 4);
	if (!CHECK_OK(fd))
		return;
	CHECK_EQ(lx_syscall2(SYS_fchmod, fd, 0600), 0);
	memset(&x, 0, sizeof(x));
	memset(raw, 0xa5, sizeof(raw));
	if (CHECK_EQ(lx_syscall5(SYS_statx, fd, "", AT_EMPTY_PATH,
				 STATX_BASIC_STATS, &x), 0) &&
	    CHECK_EQ(lx_syscall2(SYS_fstat, fd, raw), 0))
		check_stat_fields(raw, &x, 4321);
	for (i = 144; i < sizeof(raw); i++)
		if (!CHECK(raw[i] == 0xa5, "byte %zu past struct stat is %#x",
			   i, raw[i]))
			break;
	close_fd(fd);
}

static void test_statx(void)
{
	const unsigned int want = STATX_TYPE | STATX_MODE | STATX_NLINK |
				  STATX_SIZE | STATX_INO;
	struct statx stx, stx2;
	struct stat st;
	long fd;

	fd = create_file("/tmp/statx", 777, 5);
	if (!CHECK_OK(fd))
		return;
	memset(&stx, 0xa5, sizeof(stx));
	if (!CHECK_EQ(lx_syscall5(SYS_statx, AT_FDCWD, "/tmp/statx", 0,
				  STATX_BASIC_STATS, &stx), 0) ||
	    !CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		goto out;
	CHECK((stx.stx_mask & want) == want, "stx_mask %#x", stx.stx_mask);
	CHECK_EQ(stx.stx_size, 777);
	CHECK_EQ(stx.stx_mode, st.st_mode);
	CHECK_EQ(stx.stx_nlink, st.st_nlink);
	CHECK_EQ(stx.stx_ino, st.st_ino);
	CHECK_EQ(stx.stx_uid, st.st_uid);
	CHECK_EQ(stx.stx_mtime.tv_sec, st.st_mtim.tv_sec);
	CHECK_EQ(stx.stx_mtime.tv_nsec, st.st_mtim.tv_nsec);
	/* the same through the fd */
	memset(&stx2, 0, sizeof(stx2));
	if (CHECK_EQ(lx_syscall5(SYS_statx, fd, "", AT_EMPTY_PATH,
				 STATX_BASIC_STATS, &stx2), 0)) {
		CHECK_EQ(stx2.stx_ino, stx.stx_ino);
		CHECK_EQ(stx2.stx_size, 777);
	}
	CHECK_EQ(lx_syscall5(SYS_statx, AT_FDCWD, "/tmp/none", 0,
			     STATX_BASIC_STATS, &stx), -ENOENT);
out:
	close_fd(fd);
}

static void test_rename_unlink(void)
{
	long fd;

	fd = create_file("/tmp/a", 300, 6);
	if (!CHECK_OK(fd))
		return;
	close_fd(fd);
	CHECK_EQ(lx_syscall2(SYS_rename, "/tmp/a", "/tmp/b"), 0);
	CHECK_EQ(lx_syscall3(SYS_openat, AT_FDCWD, "/tmp/a", O_RDONLY),
		 -ENOENT);
	fd = lx_syscall3(SYS_openat, AT_FDCWD, "/tmp/b", O_RDONLY);
	if (CHECK_OK(fd)) {
		memset(buf2, 0, 300);
		CHECK_EQ(read_all(fd, buf2, sizeof(buf2)), 300);
		CHECK_EQ(check_pattern(buf2, 300, 6), -1);
		close_fd(fd);
	}
	CHECK_EQ(lx_syscall1(SYS_unlink, "/tmp/b"), 0);
	CHECK_EQ(lx_syscall3(SYS_openat, AT_FDCWD, "/tmp/b", O_RDONLY),
		 -ENOENT);
	CHECK_EQ(lx_syscall1(SYS_unlink, "/tmp/b"), -ENOENT);
	CHECK_EQ(lx_syscall2(SYS_rename, "/tmp/b", "/tmp/c"), -ENOENT);
	CHECK_EQ(lx_syscall1(SYS_unlink, "/tmp"), -EISDIR);
}

#define DBUF_LEN	128

static void test_getdents64(void)
{
	static const char *const names[] = {
		".", "..", "alpha", "beta", "a-somewhat-longer-file-name", "sub"
	};
	const int n = ARRAY_SIZE(names);
	int seen[ARRAY_SIZE(names)] = { 0 };
	struct linux_dirent64 *d;
	uint64_t alpha_ino = 0;
	unsigned char dbuf[DBUF_LEN + 32];	/* slack for a bad d_reclen */
	long fd, ret, pos;
	struct stat st;
	int i, calls = 0;

	if (!CHECK_EQ(lx_syscall2(SYS_mkdir, "/tmp/dir", 0755), 0) ||
	    !CHECK_EQ(lx_syscall2(SYS_mkdir, "/tmp/dir/sub", 0755), 0))
		return;
	for (i = 2; i < 5; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/tmp/dir/%s", names[i]);
		fd = create_file(path, 10, 0);
		if (CHECK_OK(fd))
			close_fd(fd);
	}
	if (CHECK_EQ(lx_syscall2(SYS_stat, "/tmp/dir/alpha", &st), 0))
		alpha_ino = st.st_ino;
	fd = lx_syscall3(SYS_openat, AT_FDCWD, "/tmp/dir",
			 O_RDONLY | O_DIRECTORY);
	if (!CHECK_OK(fd))
		return;
	/* a small buffer, so that it takes several calls */
	for (;;) {
		ret = lx_syscall3(SYS_getdents64, fd, dbuf, DBUF_LEN);
		if (ret <= 0)
			break;
		calls++;
		for (pos = 0; pos < ret; pos += d->d_reclen) {
			d = (struct linux_dirent64 *)(dbuf + pos);
			if (!CHECK(dirent_ok(d, ret - pos),
				   "bad d_reclen %u at %ld of %ld",
				   d->d_reclen, pos, ret))
				goto out;
			for (i = 0; i < n; i++)
				if (!strcmp(d->d_name, names[i]))
					break;
			if (!CHECK(i < n, "unexpected entry \"%.64s\"",
				   d->d_name))
				continue;
			seen[i]++;
			CHECK(d->d_type == (i >= 2 && i < 5 ? DT_REG : DT_DIR),
			      "\"%s\" has d_type %u", d->d_name, d->d_type);
			if (i == 2)
				CHECK_EQ(d->d_ino, alpha_ino);
		}
	}
	CHECK_EQ(ret, 0);
	CHECK(calls > 1, "%d getdents64 calls with a %d-byte buffer", calls,
	      DBUF_LEN);
	for (i = 0; i < n; i++)
		CHECK(seen[i] == 1, "\"%s\" seen %d times", names[i], seen[i]);
	CHECK_EQ(lx_syscall3(SYS_getdents64, fd, dbuf, 8), 0);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	CHECK_EQ(lx_syscall3(SYS_getdents64, fd, dbuf, 8), -EINVAL);
out:
	close_fd(fd);
	CHECK_EQ(lx_syscall1(SYS_rmdir, "/tmp/dir"), -ENOTEMPTY);
}

static void test_symlink_readlink(void)
{
	static const char target[] = "/tmp/link-target";
	const long tlen = sizeof(target) - 1;
	char lbuf[64];
	struct stat st;
	long fd;

	CHECK_EQ(lx_syscall2(SYS_symlink, target, "/tmp/link"), 0);
	memset(lbuf, 'x', sizeof(lbuf));
	CHECK_EQ(lx_syscall3(SYS_readlink, "/tmp/link", lbuf, sizeof(lbuf)),
		 tlen);
	CHECK(!memcmp(lbuf, target, tlen) && lbuf[tlen] == 'x',
	      "readlink gave \"%.64s\"", lbuf);
	CHECK_EQ(lx_syscall3(SYS_readlink, "/tmp/link", lbuf, 4), 4);
	if (CHECK_EQ(lx_syscall2(SYS_lstat, "/tmp/link", &st), 0)) {
		CHECK(S_ISLNK(st.st_mode), "st_mode %#o", st.st_mode);
		CHECK_EQ(st.st_size, tlen);
	}
	/* dangling until the target exists */
	CHECK_EQ(lx_syscall2(SYS_stat, "/tmp/link", &st), -ENOENT);
	fd = create_file(target, 42, 7);
	if (CHECK_OK(fd))
		close_fd(fd);
	if (CHECK_EQ(lx_syscall2(SYS_stat, "/tmp/link", &st), 0)) {
		CHECK(S_ISREG(st.st_mode), "st_mode %#o", st.st_mode);
		CHECK_EQ(st.st_size, 42);
	}
	CHECK_EQ(lx_syscall3(SYS_readlink, target, lbuf, sizeof(lbuf)),
		 -EINVAL);
	CHECK_EQ(lx_syscall2(SYS_symlink, target, "/tmp/link"), -EEXIST);
}

static void test_statfs(void)
{
	struct statfs sfs;
	long bs;

	memset(&sfs, 0xa5, sizeof(sfs));
	if (!CHECK_EQ(lx_syscall2(SYS_statfs, "/tmp", &sfs), 0))
		return;
	bs = sfs.f_bsize;
	CHECK(sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC,
	      "f_type %#lx is neither ramfs nor tmpfs", (long)sfs.f_type);
	CHECK(bs >= 512 && bs <= 65536 && !(bs & (bs - 1)), "f_bsize %ld", bs);
	CHECK_EQ(sfs.f_namelen, 255);
	CHECK(sfs.f_bfree <= sfs.f_blocks && sfs.f_bavail <= sfs.f_bfree,
	      "f_blocks %lu f_bfree %lu f_bavail %lu",
	      (unsigned long)sfs.f_blocks, (unsigned long)sfs.f_bfree,
	      (unsigned long)sfs.f_bavail);
	/* tmpfs defaults to half of RAM; ramfs says 0 */
	CHECK((unsigned long)sfs.f_blocks * bs <= (64UL << 20),
	      "%lu blocks of %ld bytes with mem=64M",
	      (unsigned long)sfs.f_blocks, bs);
}

static void test_sysinfo(void)
{
	unsigned long total, free;
	struct sysinfo si, host;

	memset(&si, 0xa5, sizeof(si));
	if (!CHECK_EQ(lx_syscall1(SYS_sysinfo, &si), 0))
		return;
	CHECK(si.mem_unit >= 1, "mem_unit %u", si.mem_unit);
	total = si.totalram * si.mem_unit;
	free = si.freeram * si.mem_unit;
	CHECK(total > (16UL << 20) && total <= (64UL << 20),
	      "totalram %lu bytes with mem=64M", total);
	CHECK(free > 0 && free <= total, "freeram %lu of %lu", free, total);
	CHECK(si.procs >= 1 && si.procs < 10000, "procs %u", si.procs);
	/* lx's clocks are the host's: so is the uptime */
	CHECK(sysinfo(&host) == 0, "host sysinfo");
	CHECK(si.uptime >= host.uptime - 2 && si.uptime <= host.uptime + 2,
	      "uptime %ld, host's %ld", si.uptime, host.uptime);
}

/* epoll_event is packed (12 bytes) on x86-64: check the stride too */
static void test_epoll_event(void)
{
	static const uint64_t data[2] = {
		0x1122334455667788ULL, 0x99aabbccddeeff00ULL
	};
	struct epoll_event ev, evs[3];
	int p[2][2], seen = 0;
	long epfd, ret, i, j;

	CHECK_EQ(sizeof(struct epoll_event), 12);
	CHECK_EQ(offsetof(struct epoll_event, data), 4);
	epfd = lx_syscall1(SYS_epoll_create1, EPOLL_CLOEXEC);
	if (!CHECK_OK(epfd))
		return;
	for (i = 0; i < 2; i++) {
		must(lx_syscall2(SYS_pipe2, p[i], O_CLOEXEC));
		CHECK_EQ(lx_syscall3(SYS_write, p[i][1], "x", 1), 1);
		ev.events = EPOLLIN;
		ev.data.u64 = data[i];
		CHECK_EQ(lx_syscall4(SYS_epoll_ctl, epfd, EPOLL_CTL_ADD,
				     p[i][0], &ev), 0);
	}
	memset(evs, 0xa5, sizeof(evs));
	ret = lx_syscall4(SYS_epoll_wait, epfd, evs, 3, 5000);
	CHECK_EQ(ret, 2);
	for (i = 0; i < ret && i < 2; i++) {
		CHECK_EQ(evs[i].events, EPOLLIN);
		for (j = 0; j < 2; j++)
			if (evs[i].data.u64 == data[j])
				seen |= 1 << j;
	}
	CHECK(seen == 3, "epoll data %#llx %#llx",
	      (unsigned long long)evs[0].data.u64,
	      (unsigned long long)evs[1].data.u64);
	CHECK(evs[2].events == 0xa5a5a5a5, "third event overwritten");
	for (i = 0; i < 2; i++) {
		close_fd(p[i][0]);
		close_fd(p[i][1]);
	}
	close_fd(epfd);
}

static void dummy_handler(int sig)
{
	(void)sig;
}

static void dummy_restorer(void)
{
}

static void test_rt_sigaction(void)
{
	struct ksigaction act, old, cur;

	act.handler = (void *)dummy_handler;
	act.flags = SA_SIGINFO | SA_RESTART | SA_RESTORER | SA_UNSUPPORTED;
	act.restorer = (void *)dummy_restorer;
	act.mask = SIGBIT(SIGUSR2) | SIGBIT(SIGINT) | SIGBIT(SIGKILL) |
		   SIGBIT(SIGSTOP);
	memset(&old, 0xa5, sizeof(old));
	if (!CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGUSR1, &act, &old,
				  KSIGSET_SIZE), 0))
		return;
	CHECK_EQ(old.handler, SIG_DFL);
	CHECK_EQ(old.flags, 0);
	CHECK_EQ(old.mask, 0);
	memset(&cur, 0xa5, sizeof(cur));
	if (CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGUSR1, NULL, &cur,
				 KSIGSET_SIZE), 0)) {
		CHECK_EQ(cur.handler, dummy_handler);
		/* unknown flag bits are cleared */
		CHECK_EQ(cur.flags, SA_SIGINFO | SA_RESTART | SA_RESTORER);
		CHECK_EQ(cur.restorer, dummy_restorer);
		/* SIGKILL and SIGSTOP cannot be blocked */
		CHECK_EQ(cur.mask, SIGBIT(SIGUSR2) | SIGBIT(SIGINT));
	}
	CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 4),
		 -EINVAL);
	CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGKILL, &act, NULL,
			     KSIGSET_SIZE), -EINVAL);
	memset(&act, 0, sizeof(act));
	CHECK_EQ(lx_syscall4(SYS_rt_sigaction, SIGUSR1, &act, NULL,
			     KSIGSET_SIZE), 0);
}

/*
 * User memory right below lx's RAM (where the host may put a program's
 * stack or heap) is the program's, up to the last byte, and lx's RAM is as
 * unmapped memory is natively.  A name at the very end of the page:
 * getname() reads up to 4064 bytes, but only the name is the caller's; a
 * name that runs into the RAM is a fault.  read() into a long buffer there
 * with less left of the file reads it; more is a short read; write() of a
 * buffer that runs into the RAM writes what is before it.  In an
 * lx_fork() child, whose one thread can take the page below RAM even when
 * it was a stack of one of lx's host threads here.  The child's exit
 * status is the number of the check that failed.
 */
static int below_ram(char *page)
{
	char *name = page + 4096 - 5, *tail = page + 4096 - 123;
	static char data[300];
	struct stat st;
	long fd;

	munmap(page, 4096);
	if (mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != page)
		return 1;
	memcpy(name, "/tmp", 5);
	if (lx_syscall2(SYS_stat, name, &st) || !S_ISDIR(st.st_mode))
		return 2;
	/* strnlen_user() bounds mount's strings the same way */
	if (lx_syscall5(SYS_mount, "none", "/tmp", name, 0, NULL) != -ENODEV)
		return 3;
	memset(name + 1, 'x', 4);
	if (lx_syscall2(SYS_stat, name + 1, &st) != -EFAULT)
		return 4;
	memset(data, 'd', sizeof(data));
	fd = lx_syscall4(SYS_openat, AT_FDCWD, "/tmp/below-ram",
			 O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || lx_syscall3(SYS_write, fd, data, 300) != 300)
		return 5;
	/* 100 bytes left, a 1 MiB buffer 123 bytes below the RAM */
	if (lx_syscall4(SYS_pread64, fd, tail, 1 << 20, 200) != 100 ||
	    memcmp(tail, data, 100))
		return 6;
	/* 300 bytes left: the 123 before the RAM */
	if (lx_syscall4(SYS_pread64, fd, tail, 1 << 20, 0) != 123)
		return 7;
	/* a write of what runs into the RAM: the 123 bytes before it */
	memset(tail, 'w', 123);
	if (lx_syscall4(SYS_pwrite64, fd, tail, 1 << 20, 0) != 123 ||
	    lx_syscall4(SYS_pread64, fd, data, 300, 0) != 300 ||
	    data[122] != 'w' || data[123] != 'd')
		return 8;
	/* a buffer that starts in the RAM is a fault */
	if (lx_syscall4(SYS_pread64, fd, page + 4096, 10, 0) != -EFAULT)
		return 9;
	lx_syscall1(SYS_close, fd);
	lx_syscall1(SYS_unlink, "/tmp/below-ram");
	return 0;
}

static void test_below_ram(void)
{
	char *ram = lx_guest_ptr(0, 1);
	int status = -1;
	long lx_pid;
	pid_t pid;

	pid = lx_fork();
	if (pid == 0) {
		lx_syscall1(SYS_exit_group, below_ram(ram - 4096));
		_exit(99);
	}
	if (!CHECK(pid > 0, "lx_fork: %d", pid))
		return;
	waitpid(pid, NULL, 0);
	lx_pid = lx_syscall4(SYS_wait4, -1, &status, 0, NULL);
	CHECK(lx_pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "check %d in the child failed (status %#x)",
	      WEXITSTATUS(status), status);
}

int main(void)
{
	boot_kernel();
	tap_run("mkdir /tmp (it may exist)", test_mkdir_tmp);
	tap_run("openat, write, lseek, read", test_read_write_lseek);
	tap_run("pread64/pwrite64 at offsets, holes read as zeros",
		test_pread_pwrite);
	tap_run("ftruncate shrinks and extends with zeros", test_ftruncate);
	tap_run("fstat: size, mode, nlink, owner, mtime", test_fstat_fields);
	tap_run("struct stat is 144 bytes, fields at x86-64 offsets",
		test_stat_layout);
	tap_run("statx agrees with fstat", test_statx);
	tap_run("rename and unlink", test_rename_unlink);
	tap_run("mkdir and getdents64 list the entries made",
		test_getdents64);
	tap_run("symlink, readlink, lstat", test_symlink_readlink);
	tap_run("statfs of /tmp is sane", test_statfs);
	tap_run("sysinfo is sane for mem=64M", test_sysinfo);
	tap_run("epoll_event is packed, epoll_wait fills data",
		test_epoll_event);
	tap_run("rt_sigaction set and read back field by field",
		test_rt_sigaction);
	tap_run("user memory right below lx's RAM: names, read(), write(); "
		"the RAM is a fault", test_below_ram);
	halt_kernel();
	return tap_done();
}
