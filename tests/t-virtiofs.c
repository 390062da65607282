// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-fs: host directories shared with lx through Linux's virtio-fs
 * driver and lx's FUSE server.  Every operation the server serves is done
 * inside lx and checked against the host directory; 10,000 files each way
 * with RLIMIT_NOFILE at 1024; permissions and ownership of callers inside;
 * symlinks made inside never lead the server out of the share; cache
 * modes, read-only shares, single-file shares, several tags, a forked
 * process.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <lx/lx.h>

#include "../host/home.h"

#include "tap.h"
#include "util.h"

#define NFILES 10000

static char top[64], share[96], strict[96], ro[96], single[96], hp[256];
/* a share on tmpfs (/dev/shm), if the machine has one there */
static char memdir[64];

/* The host path of a file in the fast share. */
static const char *host(const char *name)
{
	snprintf(hp, sizeof(hp), "%s/%s", share, name);
	return hp;
}

static long lx_open(const char *path, int flags, int mode)
{
	return lx_syscall4(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
}

static long lx_put(const char *path, const char *text)
{
	long fd = lx_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), n;

	if (fd < 0)
		return fd;
	n = write_all(fd, text, strlen(text));
	close_fd(fd);
	return n < 0 ? n : 0;
}

static int host_get(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

static void setup(void)
{
	struct rlimit rl = { 1024, 1024 };
	char *t = strdup("/tmp/lx-vfs-XXXXXX");
	struct statfs sf;

	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(top, sizeof(top), "%s", t);
	free(t);
	snprintf(share, sizeof(share), "%s/share", top);
	snprintf(strict, sizeof(strict), "%s/strict", top);
	snprintf(ro, sizeof(ro), "%s/ro", top);
	snprintf(single, sizeof(single), "%s/single.txt", top);
	if (host_sh("mkdir -p %s %s %s && echo ro-data > %s/r.txt && "
	       "echo single > %s && echo root-only > %s/secret && "
	       "chmod 600 %s/secret && mkdir %s/sgid && chown 0:1234 %s/sgid && "
	       "chmod 2775 %s/sgid", share, strict, ro, ro, single, share,
	       share, share, share, share)) {
		host_sh("rm -rf %s", top);
		tap_bail("cannot make the shares under %s", top);
	}
	t = strdup("/dev/shm/lx-vfs-XXXXXX");
	if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC &&
	    mkdtemp(t))
		snprintf(memdir, sizeof(memdir), "%s", t);
	free(t);
	/* the server works with the limit containers get */
	if (setrlimit(RLIMIT_NOFILE, &rl))
		tap_bail("setrlimit: %s", strerror(errno));
}

static void test_bad(void)
{
	char err[256];
	long ret;

	ret = lx_device_add("fs:tag=x,dir=/nonexistent/lx", err, sizeof(err));
	CHECK(ret == -ENOENT && strstr(err, "/nonexistent/lx"), "%ld '%s'",
	      ret, err);
	ret = lx_device_add("fs:dir=/tmp", err, sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "tag"), "%ld '%s'", ret, err);
	ret = lx_device_add("fs:tag=0123456789012345678901234567890123456,dir=/tmp",
			    err, sizeof(err));
	CHECK_EQ(ret, -EINVAL);
	ret = lx_device_add("fs:tag=x,dir=/tmp,cache=sometimes", err,
			    sizeof(err));
	CHECK(ret == -EINVAL && strstr(err, "cache"), "%ld '%s'", ret, err);
}

static void add_shares(void)
{
	CHECK_OK(add_device("fs:tag=share,dir=%s", share));
	CHECK_OK(add_device("fs:tag=strict,dir=%s,cache=strict", strict));
	CHECK_OK(add_device("fs:tag=ro,dir=%s,ro", ro));
	CHECK_OK(add_device("fs:tag=single,dir=%s", single));
	if (memdir[0])
		CHECK_OK(add_device("fs:tag=mem,dir=%s", memdir));
}

static void test_mount(void)
{
	lx_syscall2(SYS_mkdir, "/mnt", 0755);
	CHECK_OK(lx_syscall5(SYS_mount, "share", "/mnt", "virtiofs", 0, 0));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/strict", 0755));
	CHECK_OK(lx_syscall5(SYS_mount, "strict", "/strict", "virtiofs", 0, 0));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/ro", 0755));
	CHECK_OK(lx_syscall5(SYS_mount, "ro", "/ro", "virtiofs", 0, 0));
	if (memdir[0]) {
		CHECK_OK(lx_syscall2(SYS_mkdir, "/memshare", 0755));
		CHECK_OK(lx_syscall5(SYS_mount, "mem", "/memshare", "virtiofs",
				     0, 0));
	}
	/* Linux's answer for a tag no device has */
	CHECK_EQ(lx_syscall5(SYS_mount, "nosuchtag", "/ro", "virtiofs", 0, 0),
		 -EINVAL);
}

/* stat in lx and on the host agree on what both can see */
static void same_stat(const char *lxpath, const char *hostpath)
{
	struct stat a, b;

	if (!CHECK_OK(lx_syscall4(SYS_newfstatat, AT_FDCWD, lxpath, &a,
				  AT_SYMLINK_NOFOLLOW)) ||
	    !CHECK(lstat(hostpath, &b) == 0, "lstat %s", hostpath))
		return;
	CHECK(a.st_mode == b.st_mode && a.st_size == b.st_size &&
	      a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
	      a.st_nlink == b.st_nlink && a.st_mtime == b.st_mtime,
	      "%s: mode %o/%o size %ld/%ld uid %d/%d nlink %ld/%ld", lxpath,
	      a.st_mode, b.st_mode, (long)a.st_size, (long)b.st_size,
	      a.st_uid, b.st_uid, (long)a.st_nlink, (long)b.st_nlink);
}

static void test_files(void)
{
	struct timespec ts[2] = { { 1000000000, 5 }, { 1100000000, 7 } };
	char buf[256];
	long fd;

	CHECK_OK(lx_put("/mnt/a.txt", "hello from lx\n"));
	CHECK_EQ(host_get(host("a.txt"), buf, sizeof(buf)), 14);
	CHECK(!strcmp(buf, "hello from lx\n"), "host reads '%s'", buf);
	same_stat("/mnt/a.txt", host("a.txt"));
	/* pwrite, pread, ftruncate, fsync */
	fd = lx_open("/mnt/a.txt", O_RDWR, 0);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "LX", 2, 11), 2);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 4, 10), 4);
	CHECK(!memcmp(buf, " LX\n", 4), "pread");
	CHECK_OK(lx_syscall2(SYS_ftruncate, fd, 5));
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	close_fd(fd);
	CHECK_EQ(host_get(host("a.txt"), buf, sizeof(buf)), 5);
	/* attributes */
	CHECK_OK(lx_syscall2(SYS_chmod, "/mnt/a.txt", 0640));
	CHECK_OK(lx_syscall3(SYS_chown, "/mnt/a.txt", 1000, 1001));
	CHECK_OK(lx_syscall4(SYS_utimensat, AT_FDCWD, "/mnt/a.txt", ts, 0));
	same_stat("/mnt/a.txt", host("a.txt"));
	/* directories, links, nodes */
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/d", 0750));
	CHECK_OK(lx_put("/mnt/d/f", "f"));
	CHECK_EQ(lx_syscall1(SYS_rmdir, "/mnt/d"), -ENOTEMPTY);
	CHECK_OK(lx_syscall2(SYS_link, "/mnt/d/f", "/mnt/d/g"));
	same_stat("/mnt/d/g", host("d/g"));
	CHECK_OK(lx_syscall2(SYS_symlink, "d/f", "/mnt/sl"));
	CHECK_EQ(lx_syscall3(SYS_readlink, "/mnt/sl", buf, sizeof(buf)), 3);
	CHECK_EQ(readlink(host("sl"), buf, sizeof(buf)), 3);
	CHECK_OK(lx_syscall3(SYS_mknod, "/mnt/fifo", S_IFIFO | 0600, 0));
	same_stat("/mnt/fifo", host("fifo"));
	/* renames */
	CHECK_OK(lx_syscall2(SYS_rename, "/mnt/d/g", "/mnt/g"));
	CHECK(access(host("g"), F_OK) == 0 && access(host("d/g"), F_OK),
	      "rename seen on the host");
	CHECK_EQ(lx_syscall5(SYS_renameat2, AT_FDCWD, "/mnt/g", AT_FDCWD,
			     "/mnt/a.txt", RENAME_NOREPLACE), -EEXIST);
	CHECK_OK(lx_syscall5(SYS_renameat2, AT_FDCWD, "/mnt/g", AT_FDCWD,
			     "/mnt/a.txt", RENAME_EXCHANGE));
	CHECK_EQ(host_get(host("a.txt"), buf, sizeof(buf)), 1); /* was g = f */
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/g"));
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/d/f"));
	CHECK_OK(lx_syscall1(SYS_rmdir, "/mnt/d"));
	CHECK(access(host("d"), F_OK) && errno == ENOENT, "rmdir on the host");
}

static void test_rename_over_open(void)
{
	char buf[16] = { 0 };
	long fd;

	CHECK_OK(lx_put("/mnt/old", "old contents"));
	CHECK_OK(lx_put("/mnt/new", "new"));
	fd = lx_open("/mnt/old", O_RDONLY, 0);
	CHECK_OK(fd);
	CHECK_OK(lx_syscall2(SYS_rename, "/mnt/new", "/mnt/old"));
	/* the open file is the replaced one, still readable */
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 12);
	close_fd(fd);
	CHECK_EQ(host_get(host("old"), buf, sizeof(buf)), 3);
	lx_syscall1(SYS_unlink, "/mnt/old");
}

static void test_statfs_xattr_locks(void)
{
	struct statfs a, b;
	char buf[128];
	long fd, n;

	CHECK_OK(lx_syscall2(SYS_statfs, "/mnt", &a));
	CHECK(statfs(share, &b) == 0, "host statfs");
	CHECK(a.f_bsize == b.f_bsize && a.f_blocks == b.f_blocks &&
	      a.f_files == b.f_files, "statfs differs");
	CHECK_OK(lx_put("/mnt/x", "x"));
	CHECK_OK(lx_syscall5(SYS_setxattr, "/mnt/x", "user.one", "1", 1, 0));
	CHECK_OK(lx_syscall5(SYS_setxattr, "/mnt/x", "user.two", "22", 2, 0));
	CHECK_EQ(getxattr(host("x"), "user.two", buf, sizeof(buf)), 2);
	n = lx_syscall3(SYS_listxattr, "/mnt/x", buf, sizeof(buf));
	CHECK_EQ(n, listxattr(host("x"), buf + 64, 64));
	CHECK_OK(lx_syscall2(SYS_removexattr, "/mnt/x", "user.one"));
	CHECK_EQ(lx_syscall4(SYS_getxattr, "/mnt/x", "user.one", buf, 8),
		 -ENODATA);
	/* fallocate, holes, copy_file_range */
	fd = lx_open("/mnt/x", O_RDWR, 0);
	CHECK_OK(lx_syscall4(SYS_fallocate, fd, 0, 0, 1 << 20));
	CHECK_OK(lx_syscall4(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE |
			     FALLOC_FL_KEEP_SIZE, 0, 1 << 20));
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_HOLE), 0);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "data", 4, 512 << 10), 4);
	CHECK_OK(lx_syscall1(SYS_fsync, fd));
	n = lx_syscall3(SYS_lseek, fd, 0, SEEK_DATA);
	CHECK(n > 0 && n <= 512 << 10, "SEEK_DATA %ld", n);
	{
		long out = lx_open("/mnt/y", O_RDWR | O_CREAT, 0644);
		loff_t off_in = 512 << 10, off_out = 0;

		CHECK_EQ(lx_syscall6(SYS_copy_file_range, fd, (long)&off_in,
				     out, (long)&off_out, 4, 0), 4);
		close_fd(out);
		CHECK_EQ(host_get(host("y"), buf, sizeof(buf)), 4);
		CHECK(!strcmp(buf, "data"), "copied '%s'", buf);
	}
	close_fd(fd);
}

static long reap(pid_t pid)
{
	long st = -1;
	int hst;

	waitpid(pid, &hst, 0);
	lx_syscall4(SYS_wait4, -1, &st, 0, NULL);
	return st;
}

/* POSIX locks between two lx processes; a forked process does its I/O. */
static void test_locks_and_child(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 10 };
	long fd, st;
	pid_t pid;
	int go[2];

	CHECK_OK(lx_put("/mnt/lock", "0123456789"));
	fd = lx_open("/mnt/lock", O_RDWR, 0);
	CHECK_OK(lx_syscall3(SYS_fcntl, fd, F_SETLK, &fl));
	must(lx_syscall2(SYS_pipe2, go, 0));
	pid = lx_fork();
	if (pid == 0) {
		struct flock t = fl;
		long cfd = lx_open("/mnt/lock", O_RDWR, 0);
		char c;

		CHILD_CHECK(lx_syscall3(SYS_fcntl, cfd, F_SETLK, &t) == -EAGAIN);
		t.l_type = F_WRLCK;
		CHILD_CHECK(lx_syscall3(SYS_fcntl, cfd, F_GETLK, &t) == 0 &&
			    t.l_type == F_WRLCK);
		CHILD_CHECK(lx_put("/mnt/from-child", "child") == 0);
		/* once the parent unlocks, the lock is ours */
		CHILD_CHECK(lx_syscall3(SYS_read, go[0], &c, 1) == 1);
		t.l_type = F_WRLCK;
		CHILD_CHECK(lx_syscall3(SYS_fcntl, cfd, F_SETLK, &t) == 0);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	host_msleep(100);
	fl.l_type = F_UNLCK;
	CHECK_OK(lx_syscall3(SYS_fcntl, fd, F_SETLK, &fl));
	CHECK_EQ(lx_syscall3(SYS_write, go[1], "g", 1), 1);
	st = reap(pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %#lx", st);
	CHECK(access(host("from-child"), F_OK) == 0, "child's file");
	close_fd(fd);
	close_fd(go[0]);
	close_fd(go[1]);
}

/* A caller inside lx that is not root, and ownership of new files. */
static void test_permissions(void)
{
	struct stat st;
	long s;
	pid_t pid;

	pid = lx_fork();
	if (pid == 0) {
		CHILD_CHECK(lx_syscall3(SYS_setresgid, 1000, 1000, 1000) == 0);
		CHILD_CHECK(lx_syscall2(SYS_setgroups, 0, 0) == 0);
		CHILD_CHECK(lx_syscall3(SYS_setresuid, 1000, 1000, 1000) == 0);
		CHILD_CHECK(lx_open("/mnt/secret", O_RDONLY, 0) == -EACCES);
		CHILD_CHECK(lx_put("/mnt/secret", "x") == -EACCES);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	s = reap(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child %#lx", s);

	/* root inside as uid 1000 (fsuid): the host file is 1000's */
	CHECK_OK(lx_syscall2(SYS_chmod, "/mnt", 0777));
	pid = lx_fork();
	if (pid == 0) {
		lx_syscall1(SYS_umask, 027);
		CHILD_CHECK(lx_syscall3(SYS_setresgid, 2000, 2000, 2000) == 0);
		CHILD_CHECK(lx_syscall3(SYS_setresuid, 1000, 1000, 1000) == 0);
		CHILD_CHECK(lx_put("/mnt/mine", "mine") == 0);
		CHILD_CHECK(lx_syscall2(SYS_mkdir, "/mnt/mydir", 0777) == 0);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	s = reap(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child %#lx", s);
	CHECK(stat(host("mine"), &st) == 0 && st.st_uid == 1000 &&
	      st.st_gid == 2000 && (st.st_mode & 0777) == 0640,
	      "mine: %d:%d %o", st.st_uid, st.st_gid, st.st_mode & 0777);
	CHECK(stat(host("mydir"), &st) == 0 && (st.st_mode & 0777) == 0750,
	      "mydir %o", st.st_mode & 0777);
	/* a setgid directory hands its group down */
	CHECK_OK(lx_put("/mnt/sgid/f", "f"));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/sgid/sub", 0755));
	CHECK(stat(host("sgid/f"), &st) == 0 && st.st_gid == 1234, "gid %d",
	      st.st_gid);
	CHECK(stat(host("sgid/sub"), &st) == 0 && st.st_gid == 1234 &&
	      (st.st_mode & S_ISGID), "sub gid %d mode %o", st.st_gid,
	      st.st_mode);
	/* a write by another user clears set-user-ID */
	CHECK_OK(lx_put("/mnt/suid", "s"));
	CHECK_OK(lx_syscall2(SYS_chmod, "/mnt/suid", 04777));
	pid = lx_fork();
	if (pid == 0) {
		long fd;

		CHILD_CHECK(lx_syscall3(SYS_setresuid, 1000, 1000, 1000) == 0);
		fd = lx_open("/mnt/suid", O_WRONLY, 0);
		CHILD_CHECK(lx_syscall3(SYS_write, fd, "w", 1) == 1);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	s = reap(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child %#lx", s);
	CHECK(stat(host("suid"), &st) == 0 && !(st.st_mode & S_ISUID),
	      "suid mode %o", st.st_mode);
}

/*
 * open(O_CREAT) of names lx has not looked up yet (made on the host after
 * the mount) in both cache modes: lx's kernel sends an exclusive CREATE
 * first, then falls back to a lookup (kernel/patches/0014).  A new name is
 * made and its creator gets the fd even with mode 0; an existing file is
 * opened as it is, with an open's permission checks.  Runs after
 * test_permissions, which made /mnt 0777.
 */
static void create_uncached(const char *lxdir, const char *hostdir)
{
	char p[128], buf[32] = { 0 };
	struct stat st;
	long fd, s;
	pid_t pid;

	CHECK_EQ(host_sh("cd %s && echo old > pre && echo old > excl && "
			 "echo root > locked && chmod 600 locked && chmod 777 .",
			 hostdir), 0);
	snprintf(p, sizeof(p), "%s/pre", lxdir);
	fd = lx_open(p, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0, "open(O_CREAT) of an existing file: %ld", fd);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf) - 1), 4);
	CHECK(!strcmp(buf, "old\n"), "read '%s'", buf);
	close_fd(fd);
	snprintf(hp, sizeof(hp), "%s/pre", hostdir);
	CHECK(stat(hp, &st) == 0 && (st.st_mode & 0777) == 0644,
	      "pre: mode %o", st.st_mode & 0777);
	snprintf(p, sizeof(p), "%s/excl", lxdir);
	CHECK_EQ(lx_open(p, O_RDWR | O_CREAT | O_EXCL, 0600), -EEXIST);
	pid = lx_fork();
	if (pid == 0) {
		char q[128];

		lx_syscall1(SYS_umask, 0);
		CHILD_CHECK(lx_syscall3(SYS_setresuid, 1000, 1000, 1000) == 0);
		snprintf(q, sizeof(q), "%s/locked", lxdir);
		CHILD_CHECK(lx_open(q, O_WRONLY | O_CREAT, 0666) == -EACCES);
		/* the creator of a mode-0 file may still use its fd */
		snprintf(q, sizeof(q), "%s/mode0", lxdir);
		fd = lx_open(q, O_RDWR | O_CREAT, 0);
		CHILD_CHECK(fd >= 0);
		CHILD_CHECK(lx_syscall3(SYS_write, fd, "m", 1) == 1);
		lx_syscall1(SYS_exit_group, child_fail);
		_exit(99);
	}
	s = reap(pid);
	CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0, "child %#lx", s);
	snprintf(hp, sizeof(hp), "%s/locked", hostdir);
	CHECK(host_get(hp, buf, sizeof(buf)) == 5 && !strcmp(buf, "root\n"),
	      "locked: '%s'", buf);
	snprintf(hp, sizeof(hp), "%s/mode0", hostdir);
	CHECK(stat(hp, &st) == 0 && st.st_uid == 1000 &&
	      (st.st_mode & 0777) == 0 && st.st_size == 1,
	      "mode0: uid %d mode %o size %ld", st.st_uid, st.st_mode & 0777,
	      (long)st.st_size);
}

static void test_create_uncached(void)
{
	create_uncached("/mnt", share);
	create_uncached("/strict", strict);
}

/*
 * close() drops the POSIX locks its process set through the file, though
 * another fd of that open file stays: lx's server opens files with
 * FOPEN_NOFLUSH, and the kernel still flushes a file that set a lock
 * (kernel/patches/0013).  The server's locks are OFD locks on the host.
 */
static void test_close_drops_locks(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 4 };
	struct flock t;
	long fd, fd2;
	int hfd;

	CHECK_OK(lx_put("/mnt/closelock", "lock"));
	fd = lx_open("/mnt/closelock", O_RDWR, 0);
	CHECK_OK(lx_syscall3(SYS_fcntl, fd, F_SETLK, &fl));
	fd2 = lx_syscall1(SYS_dup, fd);
	CHECK(fd2 >= 0, "dup: %ld", fd2);
	hfd = open(host("closelock"), O_RDWR);
	CHECK(hfd >= 0, "host open: %s", strerror(errno));
	t = fl;
	CHECK(fcntl(hfd, F_OFD_GETLK, &t) == 0 && t.l_type == F_WRLCK,
	      "the host sees no lock: %d", t.l_type);
	close_fd(fd);
	t = fl;
	CHECK(fcntl(hfd, F_OFD_GETLK, &t) == 0 && t.l_type == F_UNLCK,
	      "the lock outlived close(): %d", t.l_type);
	close(hfd);
	close_fd(fd2);
}

/*
 * This process's fds (the server's among them) on files whose path starts
 * with dir; only on deleted ones if deleted.
 */
static int fds_in(const char *dir, bool deleted)
{
	char path[300], target[512];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	ssize_t len;

	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		n += !strncmp(target, dir, strlen(dir)) &&
		     (!deleted || strstr(target, " (deleted)"));
	}
	if (d)
		closedir(d);
	return n;
}

/* Wait up to a second for the server to hold no unlinked file in dir. */
static int forgotten(const char *dir)
{
	int left = 0, tries;

	for (tries = 0; tries < 100; tries++) {
		left = fds_in(dir, true);
		if (!left)
			break;
		host_msleep(10);
	}
	return left;
}

/*
 * FORGETs go on the virtio-fs hiprio queue, which lx's device serves
 * lazily (its thread is woken by the request queue's before that sleeps,
 * or by the notify when that one sleeps already): the inodes of files
 * made and unlinked in lx are still forgotten by the server soon after,
 * which closes the O_PATH fd a lookup made it keep for each (files made
 * on the host, so that lx looks them up).  Fewer files than a batch:
 * only the request queue's kick before it sleeps serves them.  Then a
 * FORGET that comes once the request queue sleeps (the last close of an
 * unlinked file); test_umount() has one just before an unmount, which
 * waits for the FORGETs in flight before it sends DESTROY.
 */
static void test_forgets(void)
{
	char name[64], dir[128];
	struct stat st;
	long fd;
	int left, i;

	CHECK_EQ(host_sh("mkdir %s/forget && cd %s/forget && seq 0 39 | "
			 "sed s/^/f/ | xargs touch", share, share), 0);
	snprintf(dir, sizeof(dir), "%s/forget/", share);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/mnt/forget/f%d", i);
		CHECK_OK(lx_syscall2(SYS_stat, name, &st));
	}
	CHECK(fds_in(dir, false) == 40, "looked up: %d fds", fds_in(dir, false));
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/mnt/forget/f%d", i);
		CHECK_OK(lx_syscall3(SYS_unlinkat, AT_FDCWD, name, 0));
	}
	left = forgotten(dir);
	CHECK(!left, "a second on, the server holds %d unlinked files", left);

	CHECK_EQ(host_sh("echo x > %s/open-unlinked", strict), 0);
	fd = lx_open("/strict/open-unlinked", O_RDONLY, 0);
	CHECK_OK(lx_syscall3(SYS_unlinkat, AT_FDCWD, "/strict/open-unlinked",
			     0));
	host_msleep(50);	/* the request queue's thread sleeps */
	close_fd(fd);
	snprintf(dir, sizeof(dir), "%s/open-unlinked", strict);
	left = forgotten(dir);
	CHECK(!left, "the last close's FORGET was not served");
}

/*
 * The round trips of a create+unlink loop in the fast mode: one CREATE and
 * one RELEASE (sent in the background: kernel/patches/0017) per file made,
 * no LOOKUP before the CREATE (0014), no FLUSH at close (0013), one UNLINK
 * per file removed, and no GETATTR of the directory although each of
 * those changed it (0016).  Its attributes are still fresh where they
 * changed: stat() asks.
 */
static void test_round_trips(void)
{
	static const uint32_t ops[] = { FUSE_LOOKUP, FUSE_GETATTR, FUSE_CREATE,
					FUSE_FLUSH, FUSE_RELEASE, FUSE_UNLINK };
	static const long want[] = { 0, 0, 20, 0, 20, 20 };
	long before[6], d;
	char name[64];
	unsigned int i;
	long fd;

	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/rt", 0755));
	CHECK_OK(lx_put("/mnt/rt/first", "x"));
	/* its RELEASE is in the background: served before this UNLINK */
	CHECK_OK(lx_syscall3(SYS_unlinkat, AT_FDCWD, "/mnt/rt/first", 0));
	for (i = 0; i < 6; i++)
		before[i] = lx_fs_served("share", ops[i]);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/mnt/rt/f%u", i);
		fd = lx_open(name, O_WRONLY | O_CREAT, 0644);
		CHECK(fd >= 0, "create %s: %ld", name, fd);
		close_fd(fd);
	}
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/mnt/rt/f%u", i);
		CHECK_OK(lx_syscall3(SYS_unlinkat, AT_FDCWD, name, 0));
	}
	for (i = 0; i < 6; i++) {
		d = lx_fs_served("share", ops[i]) - before[i];
		CHECK(d == want[i], "opcode %u: %ld requests, not %ld", ops[i],
		      d, want[i]);
	}
	same_stat("/mnt/rt", host("rt"));
	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/rt/sub", 0755));
	same_stat("/mnt/rt", host("rt"));
	CHECK_OK(lx_syscall1(SYS_rmdir, "/mnt/rt/sub"));
	same_stat("/mnt/rt", host("rt"));
	CHECK_EQ(lx_fs_served("nosuchtag", FUSE_LOOKUP), -ENODEV);
}

/*
 * A file made in lx costs the server no fd of its own until a request
 * needs its inode: it is reached again through its file handle.
 */
static void test_created_no_fd(void)
{
	char name[64], dir[128];
	struct stat st;
	int i, bad = 0;
	long fd;

	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/nofd", 0755));
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "/mnt/nofd/f%d", i);
		fd = lx_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHECK(fd >= 0, "create %s: %ld", name, fd);
		close_fd(fd);
	}
	/* the RELEASEs (in the background) are served before this LOOKUP */
	CHECK_EQ(lx_syscall2(SYS_stat, "/mnt/nofd-none", &st), -ENOENT);
	snprintf(dir, sizeof(dir), "%s/nofd/", share);
	CHECK(fds_in(dir, false) == 0, "the server holds %d fds",
	      fds_in(dir, false));
	/* a SETATTR on each: the inode reopened by its handle */
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "/mnt/nofd/f%d", i);
		CHECK_OK(lx_syscall2(SYS_chmod, name, 0640));
		snprintf(name, sizeof(name), "nofd/f%d", i);
		bad += stat(host(name), &st) || (st.st_mode & 0777) != 0640;
	}
	CHECK_EQ(bad, 0);
	same_stat("/mnt/nofd/f7", host("nofd/f7"));
}

static void test_symlink_escape(void)
{
	char buf[64];

	/* made inside, and made on the host: both resolve inside lx */
	CHECK_OK(lx_syscall2(SYS_symlink, "/etc/shadow", "/mnt/evil"));
	CHECK(symlink("../../../../../../etc", host("esc")) == 0, "symlink");
	CHECK_EQ(lx_open("/mnt/evil", O_RDONLY, 0), -ENOENT);
	CHECK_EQ(lx_open("/mnt/esc/shadow", O_RDONLY, 0), -ENOENT);
	CHECK_EQ(lx_syscall3(SYS_readlink, "/mnt/evil", buf, sizeof(buf)), 11);
	/* writing through it creates nothing outside */
	CHECK(lx_put("/mnt/esc/lx-escape-test", "x") < 0, "escape write");
	CHECK(access("/etc/lx-escape-test", F_OK) && errno == ENOENT,
	      "a file appeared in the host's /etc");
}

static void test_many_files(void)
{
	char name[64];
	long fd, n, total = 0, i, bad = 0;
	char d[8192];
	DIR *dir;
	struct dirent *de;

	CHECK_OK(lx_syscall2(SYS_mkdir, "/mnt/many", 0755));
	for (i = 0; i < NFILES && !bad; i++) {
		snprintf(name, sizeof(name), "/mnt/many/f%ld", i);
		fd = lx_open(name, O_WRONLY | O_CREAT, 0644);
		bad = fd < 0;
		close_fd(fd);
	}
	CHECK(!bad, "made %ld files", i);
	dir = opendir(host("many"));
	n = 0;
	while (dir && (de = readdir(dir)))
		n += de->d_name[0] == 'f';
	if (dir)
		closedir(dir);
	CHECK_EQ(n, NFILES);
	/* and the other way round: made on the host, listed and read in lx */
	CHECK_EQ(host_sh("mkdir %s/hostmany && cd %s/hostmany && seq 1 %d | "
		    "xargs touch", share, share, NFILES), 0);
	fd = lx_open("/mnt/hostmany", O_RDONLY | O_DIRECTORY, 0);
	while ((n = lx_syscall3(SYS_getdents64, fd, d, sizeof(d))) > 0) {
		long off = 0;

		while (off < n) {
			total += d[off + 19] != '.';
			off += *(unsigned short *)(d + off + 16);
		}
	}
	close_fd(fd);
	CHECK_EQ(total, NFILES);
	for (i = 1, bad = 0; i <= NFILES; i++) {
		struct stat st;

		snprintf(name, sizeof(name), "/mnt/hostmany/%ld", i);
		bad += lx_syscall2(SYS_stat, name, &st) != 0;
	}
	CHECK_EQ(bad, 0);
}

static void test_cache_modes(void)
{
	struct stat st;
	char buf[32] = { 0 };
	int fd;

	CHECK_OK(lx_put("/strict/c", "one"));
	CHECK_OK(lx_syscall2(SYS_stat, "/strict/c", &st));
	/* changed on the host: the strict share sees it */
	fd = open(strcat(strcpy(hp, strict), "/c"), O_WRONLY | O_TRUNC);
	CHECK_EQ(write(fd, "changed!", 8), 8);
	close(fd);
	CHECK_OK(lx_syscall2(SYS_stat, "/strict/c", &st));
	CHECK_EQ(st.st_size, 8);
	fd = lx_open("/strict/c", O_RDONLY, 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 8);
	close_fd(fd);
	CHECK(!strcmp(buf, "changed!"), "read '%s'", buf);
	/* a file made on the host appears */
	CHECK_EQ(host_sh("echo new > %s/appeared", strict), 0);
	CHECK_OK(lx_syscall2(SYS_stat, "/strict/appeared", &st));
}

static void test_ro_single(void)
{
	char buf[16] = { 0 };
	long fd;

	/*
	 * A single-file share is a directory holding only that file, which
	 * is bind-mounted where it belongs (as an engine's file volume).
	 */
	CHECK_OK(lx_syscall2(SYS_mkdir, "/.single", 0700));
	CHECK_OK(lx_syscall5(SYS_mount, "single", "/.single", "virtiofs", 0, 0));
	fd = lx_open("/single", O_CREAT | O_WRONLY, 0644);
	close_fd(fd);
	CHECK_OK(lx_syscall5(SYS_mount, "/.single/single.txt", "/single", NULL,
			     MS_BIND, 0));

	fd = lx_open("/ro/r.txt", O_RDONLY, 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 8);
	close_fd(fd);
	CHECK_EQ(lx_open("/ro/r.txt", O_WRONLY, 0), -EROFS);
	CHECK_EQ(lx_put("/ro/new", "x"), -EROFS);
	CHECK_EQ(lx_syscall1(SYS_unlink, "/ro/r.txt"), -EROFS);
	memset(buf, 0, sizeof(buf));
	fd = lx_open("/single", O_RDONLY, 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, buf, sizeof(buf)), 7);
	close_fd(fd);
	CHECK(!strcmp(buf, "single\n"), "single '%s'", buf);
	CHECK_OK(lx_put("/single", "rewritten\n"));
	CHECK_EQ(host_get(single, buf, sizeof(buf)), 10);
	/* nothing else of the file's host directory is there */
	CHECK_EQ(lx_syscall2(SYS_access, "/.single/share", F_OK), -ENOENT);
	CHECK_EQ(lx_put("/.single/other", "x") < 0, 1);
}

/*
 * DESIGN.md decision 2: the host fd behind an lx file maps the host file;
 * stores and write() through lx see each other.
 */
static void test_host_fd_mapping(void)
{
	char buf[8] = { 0 };
	long fd, hfd;
	char *m;

	CHECK_OK(lx_put("/strict/map", "abcdef"));
	fd = lx_open("/strict/map", O_RDWR, 0);
	CHECK_OK(fd);
	hfd = lx_fs_host_fd(fd, O_RDWR);
	if (!CHECK(hfd >= 0, "lx_fs_host_fd: %ld", hfd))
		return;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, hfd, 0);
	if (!CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	CHECK(!memcmp(m, "abcdef", 6), "mapped '%.6s'", m);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "XY", 2, 0), 2);
	CHECK(!memcmp(m, "XYcdef", 6), "after write(): '%.6s'", m);
	m[2] = 'Z';
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 6, 0), 6);
	CHECK(!memcmp(buf, "XYZdef", 6), "read() after the store: '%s'", buf);
	munmap(m, 4096);
	close(hfd);
	close_fd(fd);
	/* not more access than the lx fd has; not a virtio-fs file */
	fd = lx_open("/strict/map", O_RDONLY, 0);
	CHECK_EQ(lx_fs_host_fd(fd, O_RDWR), -EACCES);
	close_fd(fd);
	CHECK_EQ(lx_fs_host_fd(0, O_RDONLY), -EBADF);
	fd = lx_open("/", O_RDONLY, 0);
	CHECK_EQ(lx_fs_host_fd(fd, O_RDONLY), -EINVAL);
	close_fd(fd);
}

/* This process has a host fd of the fast share's file name (writing). */
static bool host_fd_of(const char *name, int writing)
{
	char link[300], target[512], want[300], info[128];
	struct dirent *d;
	bool found = false;
	DIR *dir;
	FILE *f;
	ssize_t n;

	snprintf(want, sizeof(want), "%s", host(name));
	dir = opendir("/proc/self/fd");
	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strncmp(target, want, strlen(want)) ||
		    (target[strlen(want)] && target[strlen(want)] != ' '))
			continue;
		if (!writing) {
			found = true;
			break;
		}
		snprintf(link, sizeof(link), "/proc/self/fdinfo/%s",
			 d->d_name);
		f = fopen(link, "r");
		while (f && fgets(info, sizeof(info), f))
			if (!strncmp(info, "flags:", 6) &&
			    (strtol(info + 6, NULL, 8) & O_ACCMODE) != O_RDONLY)
				found = true;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return found;
}

/*
 * The same, after lx had time to finish the close: this thread is lx's
 * init, a kernel thread to fput(), whose last close of a file runs from a
 * workqueue a tick later.
 */
static bool host_fd_soon(const char *name, int writing)
{
	int i;

	for (i = 0; i < 100 && host_fd_of(name, writing); i++)
		host_msleep(10);
	return host_fd_of(name, writing);
}

/*
 * A read of a file the host has in memory goes to the host file, no FUSE
 * READ: with RWF_NOWAIT on the disk's file system, and on tmpfs, which
 * has no RWF_NOWAIT and needs none (nothing there waits for a disk).
 */
static void reads_served_by_host(const char *lxdir, const char *hostdir,
				 const char *tag)
{
	const size_t len = 1 << 20;
	unsigned char *want = malloc(len), *buf = malloc(len);
	char p[128];
	long fd, before, bad = 0;
	size_t off;
	int hfd;

	if (!CHECK(want && buf, "malloc"))
		goto out;
	fill_pattern(want, len, 3);
	snprintf(p, sizeof(p), "%s/inmem", hostdir);
	hfd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!CHECK(hfd >= 0 && write(hfd, want, len) == (ssize_t)len,
		   "%s: %s", p, strerror(errno)))
		goto out;
	close(hfd);
	snprintf(p, sizeof(p), "%s/inmem", lxdir);
	fd = lx_open(p, O_RDONLY, 0);
	if (!CHECK(fd >= 0, "%s: %ld", p, fd))
		goto out;
	before = lx_fs_served(tag, FUSE_READ);
	for (off = 0; off < len; off += 65536)
		bad += lx_syscall4(SYS_pread64, fd, buf + off, 65536, off) !=
		       65536;
	CHECK_EQ(bad, 0);
	CHECK(!memcmp(buf, want, len), "%s: the bytes read differ", p);
	CHECK_EQ(lx_fs_served(tag, FUSE_READ) - before, 0);
	close_fd(fd);
out:
	free(want);
	free(buf);
}

/* Whether the host's file system under dir has RWF_NOWAIT reads. */
static bool host_nowait(const char *dir)
{
	char p[128], c = 0;
	struct iovec v = { &c, 1 };
	int fd, ok;

	snprintf(p, sizeof(p), "%s/nowait-probe", dir);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	ok = preadv2(fd, &v, 1, 0, RWF_NOWAIT) == 1;
	close(fd);
	unlink(p);
	return ok;
}

static void test_reads_in_memory(void)
{
	if (host_nowait(share))
		reads_served_by_host("/mnt", share, "share");
	else
		printf("# %s has no RWF_NOWAIT reads: its part is skipped\n",
		       share);
	if (!memdir[0]) {
		tap_skip("/dev/shm is not a tmpfs here");
		return;
	}
	reads_served_by_host("/memshare", memdir, "mem");
}

/*
 * read() of a virtio-fs file comes from the host file (arch/lx fuseref.c):
 * any size and offset, readv, at and across the end; a change the host
 * makes is seen at once even in the fast share, where lx's page cache
 * holds the old bytes; and with the host's page cache dropped, the FUSE
 * way gives the same bytes.
 */
static void test_host_reads(void)
{
	static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 65537,
					1 << 20, 3 << 20 };
	const size_t len = (3 << 20) + 123;
	const size_t offs[] = { 0, 1, 4095, (1 << 20) + 3, len - 10 };
	unsigned char *want = malloc(len), *buf = malloc(len + 4096);
	struct iovec iov[3];
	size_t i, j, n;
	long fd, r;
	int hfd;

	if (!CHECK(want && buf, "malloc"))
		goto out;
	fill_pattern(want, len, 7);
	hfd = open(host("big"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!CHECK(hfd >= 0 && write(hfd, want, len) == (ssize_t)len,
		   "host file: %s", strerror(errno)))
		goto out;
	fd = lx_open("/mnt/big", O_RDONLY, 0);
	CHECK_OK(fd);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			n = sizes[i] < len - offs[j] ? sizes[i] : len - offs[j];
			r = lx_syscall4(SYS_pread64, fd, buf, sizes[i], offs[j]);
			CHECK(r == (long)n && !memcmp(buf, want + offs[j], n),
			      "pread %zu at %zu: %ld", sizes[i], offs[j], r);
		}
	/* readv from the file position, segments of odd sizes */
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 12345, SEEK_SET), 12345);
	iov[0] = (struct iovec){ buf, 7 };
	iov[1] = (struct iovec){ buf + 7, 5000 };
	iov[2] = (struct iovec){ buf + 5007, 70000 };
	CHECK_EQ(lx_syscall3(SYS_readv, fd, iov, 3), 75007);
	CHECK(!memcmp(buf, want + 12345, 75007), "readv bytes");
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 12345 + 75007);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 10, len), 0);
	/* empty segments first: no end of file for them */
	{
		struct iovec z[10] = { { 0 } };

		z[9] = (struct iovec){ buf, 100 };
		CHECK_EQ(lx_syscall4(SYS_preadv, fd, z, 10, 4096), 100);
		CHECK(!memcmp(buf, want + 4096, 100), "preadv after empties");
	}
	/* read() to the end, 1 MiB at a time */
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	for (n = 0; (r = lx_syscall3(SYS_read, fd, buf + n, 1 << 20)) > 0;)
		n += r;
	CHECK(n == len && !memcmp(buf, want, len), "read all: %zu, then %ld",
	      n, r);
	/* the bytes came from a host fd of the file, this process's own */
	CHECK(host_fd_of("big", 0), "no host fd of the file read");
	/* changed on the host: seen at once, though lx cached the old */
	CHECK_EQ(pwrite(hfd, "CHANGED", 7, 100), 7);
	memcpy(want + 100, "CHANGED", 7);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 4096, 0), 4096);
	CHECK(!memcmp(buf, want, 4096), "host's change: '%.7s'", buf + 100);
	/* not in the host's page cache: the FUSE way, the same bytes */
	CHECK_OK(fsync(hfd));
	CHECK_OK(posix_fadvise(hfd, 0, 0, POSIX_FADV_DONTNEED));
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, len, 0), (long)len);
	CHECK(!memcmp(buf, want, len), "bytes after the host dropped them");
	/*
	 * A long buffer right below lx's RAM, as the host may place a
	 * program's heap: the bytes left of the file, or those before the
	 * RAM (a short read), in the host's cache or not (the FUSE way).
	 * In a child, whose one thread can take the page below RAM.
	 */
	for (i = 0; i < 2; i++) {
		unsigned char *page = lx_guest_ptr(0, 1);
		unsigned char *tail;
		pid_t pid;
		long s;

		page -= 4096;
		tail = page + 4096 - 200;
		if (i)
			CHECK_OK(posix_fadvise(hfd, 0, 0, POSIX_FADV_DONTNEED));
		pid = lx_fork();
		if (pid == 0) {
			munmap(page, 4096);
			CHILD_CHECK(mmap(page, 4096, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS |
					 MAP_FIXED_NOREPLACE, -1, 0) == page);
			CHILD_CHECK(lx_syscall4(SYS_pread64, fd, tail, 1 << 20,
						len - 123) == 123);
			CHILD_CHECK(!memcmp(tail, want + len - 123, 123));
			CHILD_CHECK(lx_syscall4(SYS_pread64, fd, tail, 1 << 20,
						len - 300) == 200);
			CHILD_CHECK(!memcmp(tail, want + len - 300, 200));
			lx_syscall1(SYS_exit_group, child_fail);
			_exit(99);
		}
		s = reap(pid);
		CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0,
		      "a buffer below lx's RAM (host cache %s): child %#lx",
		      i ? "dropped" : "kept", s);
	}
	close_fd(fd);
	close(hfd);
	unlink(host("big"));
out:
	free(want);
	free(buf);
}

/*
 * write() of a virtio-fs file goes through the host file: sizes and
 * offsets, writev, O_APPEND, a write that extends the file (the size lx
 * reports follows), a write-only open; what lx had cached of the range is
 * dropped (sendfile reads through lx's page cache); the host sees every
 * byte.
 */
static void test_host_writes(void)
{
	const size_t len = (2 << 20) + 77;
	unsigned char *want = malloc(len), *buf = malloc(len);
	struct iovec iov[3];
	struct stat st;
	int p[2];
	size_t n;
	long fd, r;

	if (!CHECK(want && buf, "malloc"))
		goto out;
	fill_pattern(want, len, 9);
	fd = lx_open("/mnt/w", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK_OK(fd);
	/* in pieces of odd sizes, then one big one */
	CHECK_EQ(lx_syscall3(SYS_write, fd, want, 1), 1);
	CHECK_EQ(lx_syscall3(SYS_write, fd, want + 1, 4096), 4096);
	iov[0] = (struct iovec){ want + 4097, 3 };
	iov[1] = (struct iovec){ want + 4100, 70000 };
	iov[2] = (struct iovec){ want + 74100, 5 };
	CHECK_EQ(lx_syscall3(SYS_writev, fd, iov, 3), 70008);
	n = 74105;
	CHECK_EQ(write_all(fd, want + n, len - n), (long)(len - n));
	CHECK_OK(lx_syscall2(SYS_fstat, fd, &st));
	CHECK_EQ(st.st_size, (long)len);
	CHECK(host_fd_of("w", 1), "no host write fd of the file written");
	close_fd(fd);
	CHECK_EQ(host_get(host("w"), (char *)buf, 1), 0);
	fd = open(host("w"), O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, len) == (ssize_t)len &&
	      !memcmp(buf, want, len), "the host's bytes");
	close(fd);
	/* cached in lx, then overwritten in the middle: lx sees the new */
	fd = lx_open("/mnt/w", O_RDWR, 0);
	must(lx_syscall2(SYS_pipe2, p, 0));
	CHECK_EQ(lx_syscall4(SYS_sendfile, p[1], fd, NULL, 4096), 4096);
	CHECK_EQ(lx_syscall3(SYS_read, p[0], buf, 4096), 4096);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "OVERWRITTEN", 11, 1000), 11);
	memcpy(want + 1000, "OVERWRITTEN", 11);
	r = 0;
	CHECK_EQ(lx_syscall4(SYS_sendfile, p[1], fd, &r, 4096), 4096);
	CHECK_EQ(lx_syscall3(SYS_read, p[0], buf, 4096), 4096);
	CHECK(!memcmp(buf, want, 4096), "page cache after the write: '%.11s'",
	      buf + 1000);
	close_fd(p[0]);
	close_fd(p[1]);
	close_fd(fd);
	/* O_APPEND: at the end, and the end moves */
	fd = lx_open("/mnt/w", O_WRONLY | O_APPEND, 0);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "tail", 4), 4);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "TAIL", 4), 4);
	close_fd(fd);
	CHECK_OK(lx_syscall2(SYS_stat, "/mnt/w", &st));
	CHECK_EQ(st.st_size, (long)len + 8);
	fd = open(host("w"), O_RDONLY);
	CHECK(pread(fd, buf, 8, len) == 8 && !memcmp(buf, "tailTAIL", 8),
	      "appended '%.8s'", buf);
	CHECK(pread(fd, buf, len, 0) == (ssize_t)len &&
	      !memcmp(buf, want, len), "the host's bytes after all writes");
	close(fd);
	/* the host appends meanwhile: lx's O_APPEND goes after it */
	CHECK_EQ(host_sh("printf HOST >> %s", host("w")), 0);
	fd = lx_open("/mnt/w", O_WRONLY | O_APPEND, 0);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "lx", 2), 2);
	close_fd(fd);
	fd = open(host("w"), O_RDONLY);
	CHECK(pread(fd, buf, 6, len + 8) == 6 && !memcmp(buf, "HOSTlx", 6),
	      "after the host's append: '%.6s'", buf);
	close(fd);
	/* lx closed it: this process holds no host fd that writes it */
	CHECK(!host_fd_soon("w", 1), "a write fd of the closed file is open");
	/* a write past the end leaves a hole that reads as zeros */
	fd = lx_open("/mnt/w", O_WRONLY, 0);
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, "X", 1, len + 100000), 1);
	close_fd(fd);
	CHECK_OK(lx_syscall2(SYS_stat, "/mnt/w", &st));
	CHECK_EQ(st.st_size, (long)len + 100001);
	fd = lx_open("/mnt/w", O_RDONLY, 0);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 10, len + 99995), 6);
	CHECK(!memcmp(buf, "\0\0\0\0\0X", 6), "the hole");
	close_fd(fd);
	/* read, unlinked while open, closed: no host fd keeps it */
	fd = lx_open("/mnt/w", O_RDONLY, 0);
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, buf, 10, 0), 10);
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/w"));
	close_fd(fd);
	CHECK(!host_fd_soon("w", 0), "a host fd keeps the unlinked file");
out:
	free(want);
	free(buf);
}

/*
 * O_DIRECT from a program's buffer (which lx cannot pin for I/O: through
 * lx's page cache, kernel/patches/0010): on the host when write()
 * returns, read back; FUSE takes any alignment, as natively.
 */
static void test_odirect(void)
{
	static unsigned char a[65536] __attribute__((aligned(4096)));
	unsigned char r[5000];
	long fd;
	int hfd;

	fill_pattern(a, sizeof(a), 43);
	fd = lx_open("/mnt/direct", O_RDWR | O_CREAT | O_TRUNC | O_DIRECT,
		     0644);
	CHECK_OK(fd);
	CHECK_EQ(lx_syscall3(SYS_write, fd, a, sizeof(a)), (long)sizeof(a));
	CHECK_EQ(lx_syscall4(SYS_pwrite64, fd, a + 3, 1000, 7), 1000);
	memmove(a + 7, a + 3, 1000);
	hfd = open(host("direct"), O_RDONLY);
	CHECK(hfd >= 0 && pread(hfd, r, sizeof(r), 0) == (long)sizeof(r) &&
	      !memcmp(r, a, sizeof(r)), "the host's bytes");
	if (hfd >= 0)
		close(hfd);
	memset(r, 0, sizeof(r));
	CHECK_EQ(lx_syscall4(SYS_pread64, fd, r + 1, 4000, 5), 4000);
	CHECK(!memcmp(r + 1, a + 5, 4000), "read back, unaligned");
	close_fd(fd);
	CHECK_OK(lx_syscall1(SYS_unlink, "/mnt/direct"));
}

/* Lines of lx's kernel log that say something went wrong. */
static int kernel_log_errors(void)
{
	static char log[1 << 17];
	long n = lx_syscall3(SYS_syslog, 3 /* READ_ALL */, log,
			     sizeof(log) - 1);
	char *line, *save;
	int bad = 0;

	if (n < 0)
		return -1;
	log[n] = 0;
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "Busy inodes") || strstr(line, "BUG:") ||
		    strstr(line, "WARNING:")) {
			printf("# kernel: %s\n", line);
			bad++;
		}
	}
	return bad;
}

static void test_umount(void)
{
	char name[64];
	long fd;
	int i;

	/* a FORGET sent while the request queue sleeps, then the unmount */
	CHECK_OK(lx_put("/mnt/last", "x"));
	fd = lx_open("/mnt/last", O_RDONLY, 0);
	CHECK_OK(lx_syscall3(SYS_unlinkat, AT_FDCWD, "/mnt/last", 0));
	host_msleep(50);
	close_fd(fd);
	/* RELEASEs (background requests) in flight at the unmount */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/strict/rel%d", i % 20);
		fd = lx_open(name, O_RDWR | O_CREAT, 0644);
		CHECK(fd >= 0, "%s: %ld", name, fd);
		close_fd(fd);
	}
	CHECK_OK(lx_syscall2(SYS_umount2, "/strict", 0));
	CHECK_OK(lx_syscall2(SYS_umount2, "/mnt", 0));
	CHECK_OK(lx_syscall2(SYS_umount2, "/ro", 0));
	CHECK_OK(lx_syscall2(SYS_umount2, "/single", 0));
	CHECK_OK(lx_syscall2(SYS_umount2, "/.single", 0));
	if (memdir[0])
		CHECK_OK(lx_syscall2(SYS_umount2, "/memshare", 0));
	CHECK_EQ(kernel_log_errors(), 0);
}

int main(void)
{
	setup();
	tap_run("bad shares: clear errors", test_bad);
	tap_run("four shares: fast, strict, read-only, a single file",
		add_shares);
	boot_kernel();
	tap_run("mount -t virtiofs by tag", test_mount);
	if (tap.failed) {
		host_sh("rm -rf %s %s", top, memdir);
		tap_bail("no share mounted");
	}
	tap_run("files, attributes, directories, links, nodes, renames",
		test_files);
	tap_run("rename over an open file", test_rename_over_open);
	tap_run("statfs, xattrs, fallocate, holes, copy_file_range",
		test_statfs_xattr_locks);
	tap_run("POSIX locks between lx processes; a forked process's I/O",
		test_locks_and_child);
	tap_run("a non-root caller, ownership, umask, setgid dirs, suid cleared",
		test_permissions);
	tap_run("open(O_CREAT) of names lx has not looked up: new ones made, "
		"existing ones opened as they are", test_create_uncached);
	tap_run("close() drops the POSIX locks of its process",
		test_close_drops_locks);
	tap_run("the inodes of unlinked files are forgotten (lazy FORGETs)",
		test_forgets);
	tap_run("create+unlink: a CREATE and an UNLINK a file, RELEASE in the "
		"background, no LOOKUP, FLUSH or GETATTR", test_round_trips);
	tap_run("a file made in lx holds no server fd until needed",
		test_created_no_fd);
	tap_run("symlinks made inside never lead out of the share",
		test_symlink_escape);
	tap_run("10,000 files each way with nofile=1024", test_many_files);
	tap_run("strict cache mode sees changes made on the host",
		test_cache_modes);
	tap_run("read-only share; single-file share", test_ro_single);
	tap_run("the host fd behind an lx file maps it, coherent with write()",
		test_host_fd_mapping);
	tap_run("read() from the host file: sizes, offsets, readv, the end, "
		"host changes, an uncached file", test_host_reads);
	tap_run("write() through the host file: sizes, writev, O_APPEND, "
		"holes, lx's cache dropped", test_host_writes);
	tap_run("O_DIRECT from a program's buffer", test_odirect);
	tap_run("reads of files the host has in memory (disk, tmpfs) are "
		"no FUSE READs", test_reads_in_memory);
	tap_run("umount", test_umount);
	halt_kernel();
	host_sh("rm -rf %s %s", top, memdir);
	return tap_done();
}
