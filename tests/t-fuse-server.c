// SPDX-License-Identifier: GPL-2.0
/*
 * fuse-unit.c - the FUSE server (host/fuse_server.c) alone: requests built
 * in memory, cut into iovecs at random points, served on a directory under
 * /tmp, and the replies checked against the same operations done natively.
 * Runs as root (the server switches fsuid/fsgid and opens by handle).
 *
 * Build: gcc -std=gnu11 -O2 -g -Wall -Wextra -Iinclude -o /tmp/fuse-unit \
 *		tests/fuse-unit.c host/fuse_server.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <lx/fuse_server.h>

/* ---- a small TAP harness ---- */

static int t_n, t_failed, t_cur_failed;

#define CHECK(c)							\
	({								\
		bool _ok = !!(c);					\
		if (!_ok) {						\
			t_cur_failed = 1;				\
			printf("# %s:%d: failed: %s\n", __FILE__,	\
			       __LINE__, #c);				\
		}							\
		_ok;							\
	})

#define CHECK_EQ(a, b)							\
	({								\
		long _a = (long)(a), _b = (long)(b);			\
		if (_a != _b) {						\
			t_cur_failed = 1;				\
			printf("# %s:%d: failed: %s == %s: got %ld, "	\
			       "want %ld\n", __FILE__, __LINE__, #a, #b,\
			       _a, _b);					\
		}							\
		_a == _b;						\
	})

static void run(const char *name, void (*fn)(void))
{
	t_cur_failed = 0;
	fn();
	t_n++;
	if (t_cur_failed)
		t_failed++;
	printf("%sok %d - %s\n", t_cur_failed ? "not " : "", t_n, name);
	fflush(stdout);
}

/* ---- requests ---- */

static char tdir[64];			/* the share */
static struct lx_fuse_server *srv;	/* serving tdir */
static uint32_t t_uid, t_gid;		/* the caller in requests */
static uint64_t t_unique = 1;
static __thread unsigned int t_seed = 1;

static unsigned int rnd(void)
{
	t_seed = t_seed * 1103515245 + 12345;
	return (t_seed >> 16) & 0x7fff;
}

/* Cut buf into at most max iovecs of random sizes. */
static int chop(void *buf, size_t len, struct iovec *iov, int max)
{
	size_t off = 0, lim = len / 16 + 8;
	int n = 0;

	while (off < len && n < max - 1) {
		size_t c = 1 + rnd() % lim;

		if (c > len - off)
			c = len - off;
		iov[n].iov_base = (char *)buf + off;
		iov[n].iov_len = c;
		off += c;
		n++;
	}
	if (off < len) {
		iov[n].iov_base = (char *)buf + off;
		iov[n].iov_len = len - off;
		n++;
	}
	return n;
}

struct arg {
	const void *p;
	size_t len;
};

/*
 * One request to s: the header, then the args, cut at random points; the
 * reply's data (up to cap bytes) into data, its length into *len.  Returns
 * the reply's error (0 or -errno), NOREPLY if there was no reply, or
 * REFUSED(ret) if handle() refused the request with ret = -errno.
 */
#define NOREPLY		1
#define REFUSED(e)	(-100000 + (e))

static int callx(struct lx_fuse_server *s, uint32_t op, uint64_t nodeid,
		 const struct arg *args, int nargs, void *data, size_t cap,
		 size_t *len)
{
	struct iovec iv[512], ov[512];
	struct fuse_out_header oh;
	struct fuse_in_header h;
	size_t inlen = sizeof(h), off;
	char *ib, *ob;
	long ret;
	int i, ni, no, err;

	for (i = 0; i < nargs; i++)
		inlen += args[i].len;
	memset(&h, 0, sizeof(h));
	h.len = inlen;
	h.opcode = op;
	h.unique = __atomic_fetch_add(&t_unique, 1, __ATOMIC_RELAXED);
	h.nodeid = nodeid;
	h.uid = t_uid;
	h.gid = t_gid;
	h.pid = getpid();
	ib = malloc(inlen);
	ob = malloc(sizeof(oh) + cap);
	memcpy(ib, &h, sizeof(h));
	for (off = sizeof(h), i = 0; i < nargs; i++) {
		if (args[i].len)
			memcpy(ib + off, args[i].p, args[i].len);
		off += args[i].len;
	}
	memset(ob, 0xa5, sizeof(oh) + cap);
	ni = chop(ib, inlen, iv, 512);
	no = chop(ob, sizeof(oh) + cap, ov, 512);
	ret = lx_fuse_server_handle(s, iv, ni, ov, no);
	if (len)
		*len = 0;
	if (ret < 0) {
		err = REFUSED(ret);
	} else if (ret == 0) {
		err = NOREPLY;
	} else {
		memcpy(&oh, ob, sizeof(oh));
		if (!CHECK(oh.len == ret && oh.unique == h.unique &&
			   (size_t)ret <= sizeof(oh) + cap) ||
		    !CHECK(oh.error <= 0 && (oh.error == 0 || ret == 16))) {
			err = -EPROTO;
		} else {
			err = oh.error;
			if (data)
				memcpy(data, ob + sizeof(oh), ret - sizeof(oh));
			if (len)
				*len = ret - sizeof(oh);
		}
	}
	free(ib);
	free(ob);
	return err;
}

static int call(uint32_t op, uint64_t nodeid, const void *a1, size_t l1,
		const void *a2, size_t l2, void *data, size_t cap)
{
	struct arg a[2] = { { a1, l1 }, { a2, l2 } };

	return callx(srv, op, nodeid, a, 2, data, cap, NULL);
}

static int do_init(struct lx_fuse_server *s, struct fuse_init_out *o)
{
	struct fuse_init_in in;
	struct arg a = { &in, sizeof(in) };
	struct fuse_init_out tmp;

	memset(&in, 0, sizeof(in));
	in.major = 7;
	in.minor = 38;
	in.max_readahead = 131072;
	in.flags = 0xffffffffU & ~FUSE_INIT_EXT;
	return callx(s, FUSE_INIT, 0, &a, 1, o ? o : &tmp, sizeof(tmp), NULL);
}

static int lookup(uint64_t parent, const char *name, struct fuse_entry_out *e)
{
	return call(FUSE_LOOKUP, parent, name, strlen(name) + 1, NULL, 0, e,
		    sizeof(*e));
}

static int forget(uint64_t nodeid, uint64_t n)
{
	struct fuse_forget_in fi = { .nlookup = n };

	return call(FUSE_FORGET, nodeid, &fi, sizeof(fi), NULL, 0, NULL, 0);
}

static int getattr(uint64_t nodeid, struct fuse_attr *a)
{
	struct fuse_getattr_in gi;
	struct fuse_attr_out o;
	int err;

	memset(&gi, 0, sizeof(gi));
	err = call(FUSE_GETATTR, nodeid, &gi, sizeof(gi), NULL, 0, &o,
		   sizeof(o));
	if (!err && a)
		*a = o.attr;
	return err;
}

static int do_mkdir(uint64_t parent, const char *name, uint32_t mode,
		    uint32_t umask, struct fuse_entry_out *e)
{
	struct fuse_mkdir_in mi = { .mode = mode, .umask = umask };

	return call(FUSE_MKDIR, parent, &mi, sizeof(mi), name, strlen(name) + 1,
		    e, sizeof(*e));
}

static int do_mknod(uint64_t parent, const char *name, uint32_t mode,
		    uint32_t rdev, uint32_t umask, struct fuse_entry_out *e)
{
	struct fuse_mknod_in mi = { .mode = mode, .rdev = rdev, .umask = umask };

	return call(FUSE_MKNOD, parent, &mi, sizeof(mi), name, strlen(name) + 1,
		    e, sizeof(*e));
}

static int do_symlink(uint64_t parent, const char *name, const char *target,
		      struct fuse_entry_out *e)
{
	return call(FUSE_SYMLINK, parent, name, strlen(name) + 1, target,
		    strlen(target) + 1, e, sizeof(*e));
}

static int do_create(uint64_t parent, const char *name, uint32_t flags,
		     uint32_t mode, struct fuse_entry_out *e, uint64_t *fh)
{
	struct fuse_create_in ci = { .flags = flags, .mode = S_IFREG | mode };
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	int err;

	*fh = 0;
	err = call(FUSE_CREATE, parent, &ci, sizeof(ci), name, strlen(name) + 1,
		   &out, sizeof(out));
	if (!err) {
		if (e)
			*e = out.e;
		*fh = out.o.fh;
	}
	return err;
}

static int do_open(uint32_t op, uint64_t nodeid, uint32_t flags,
		   uint32_t open_flags, uint64_t *fh)
{
	struct fuse_open_in oi = { .flags = flags, .open_flags = open_flags };
	struct fuse_open_out oo;
	int err;

	*fh = 0;
	err = call(op, nodeid, &oi, sizeof(oi), NULL, 0, &oo, sizeof(oo));
	if (!err)
		*fh = oo.fh;
	return err;
}

static int do_release(uint32_t op, uint64_t nodeid, uint64_t fh)
{
	struct fuse_release_in ri = { .fh = fh };

	return call(op, nodeid, &ri, sizeof(ri), NULL, 0, NULL, 0);
}

/* READ: the data into buf; bytes read or -errno */
static long do_read(uint64_t nodeid, uint64_t fh, uint64_t off, uint32_t size,
		    void *buf)
{
	struct fuse_read_in ri = { .fh = fh, .offset = off, .size = size };
	struct arg a = { &ri, sizeof(ri) };
	size_t len;
	int err;

	err = callx(srv, FUSE_READ, nodeid, &a, 1, buf, size, &len);
	return err ? err : (long)len;
}

static long do_write(uint64_t nodeid, uint64_t fh, uint64_t off,
		     const void *data, uint32_t size, uint32_t wflags)
{
	struct fuse_write_in wi = { .fh = fh, .offset = off, .size = size,
				    .write_flags = wflags };
	struct fuse_write_out wo;
	int err;

	err = call(FUSE_WRITE, nodeid, &wi, sizeof(wi), data, size, &wo,
		   sizeof(wo));
	return err ? err : (long)wo.size;
}

static int do_setattr(uint64_t nodeid, struct fuse_setattr_in *sa,
		      struct fuse_attr *a)
{
	struct fuse_attr_out o;
	int err;

	err = call(FUSE_SETATTR, nodeid, sa, sizeof(*sa), NULL, 0, &o,
		   sizeof(o));
	if (!err && a)
		*a = o.attr;
	return err;
}

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tdir, rel);
}

static bool attr_matches(const struct fuse_attr *a, const struct stat *st)
{
	return a->ino == st->st_ino && a->mode == st->st_mode &&
	       a->nlink == st->st_nlink && a->uid == st->st_uid &&
	       a->gid == st->st_gid && a->size == (uint64_t)st->st_size &&
	       a->mtime == (uint64_t)st->st_mtim.tv_sec &&
	       a->mtimensec == (uint32_t)st->st_mtim.tv_nsec &&
	       a->blocks == (uint64_t)st->st_blocks;
}

/* stat of tdir/rel, lstat-style */
static int nstat(const char *rel, struct stat *st)
{
	char p[PATH_MAX];

	path_of(p, sizeof(p), rel);
	return lstat(p, st) ? -errno : 0;
}

static int nwrite_file(const char *rel, const void *data, size_t len,
		       mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (len && write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	fchmod(fd, mode);
	close(fd);
	return 0;
}

/* ---- cases ---- */

static void t_init(void)
{
	struct lx_fuse_opts o = { .dir = tdir };
	struct fuse_init_out io;
	struct lx_fuse_server *s;
	struct fuse_attr a;
	char err[256];
	uint32_t want;

	/* a server refuses requests before INIT */
	if (!CHECK_EQ(lx_fuse_server_create(&o, &s, err, sizeof(err)), 0))
		return;
	{
		struct fuse_getattr_in gi;
		struct arg arg = { &gi, sizeof(gi) };
		struct fuse_attr_out ao;

		memset(&gi, 0, sizeof(gi));
		CHECK_EQ(callx(s, FUSE_GETATTR, 1, &arg, 1, &ao, sizeof(ao),
			       NULL), -EIO);
	}
	lx_fuse_server_destroy(s);

	if (!CHECK_EQ(do_init(srv, &io), 0))
		return;
	CHECK_EQ(io.major, 7);
	CHECK_EQ(io.minor, 36);
	want = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
	       FUSE_POSIX_LOCKS | FUSE_HANDLE_KILLPRIV_V2 | FUSE_MAX_PAGES |
	       FUSE_BIG_WRITES | FUSE_ATOMIC_O_TRUNC | FUSE_PARALLEL_DIROPS |
	       FUSE_CACHE_SYMLINKS;
	CHECK_EQ(io.flags & want, want);
	CHECK_EQ(io.flags & (FUSE_DONT_MASK | FUSE_WRITEBACK_CACHE |
			     FUSE_POSIX_ACL), 0);
	CHECK_EQ(io.max_write, 1 << 20);
	CHECK_EQ(io.max_pages, 256);
	CHECK_EQ(io.max_readahead, 131072);
	CHECK_EQ(getattr(1, &a), 0);

	/* an older kernel: minor 31 is echoed, flags it lacks are not set */
	{
		struct fuse_init_in in;
		struct arg arg = { &in, 16 };	/* pre-7.36 size */

		memset(&in, 0, sizeof(in));
		in.major = 7;
		in.minor = 31;
		in.flags = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS;
		CHECK_EQ(callx(srv, FUSE_INIT, 0, &arg, 1, &io, sizeof(io),
			       NULL), 0);
		CHECK_EQ(io.minor, 31);
		CHECK_EQ(io.flags, FUSE_ASYNC_READ | FUSE_POSIX_LOCKS);
		in.major = 6;
		CHECK_EQ(callx(srv, FUSE_INIT, 0, &arg, 1, &io, sizeof(io),
			       NULL), -EPROTO);
	}
	CHECK_EQ(do_init(srv, &io), 0);
}

static void t_malformed(void)
{
	struct fuse_in_header h;
	struct fuse_out_header oh;
	struct fuse_entry_out e;
	struct iovec iv[2], ov;
	char buf[256];
	static const char *const bad[] = { ".", "..", "a/b", "/", "" };
	size_t i;

	memset(&h, 0, sizeof(h));
	h.len = sizeof(h);
	h.opcode = FUSE_GETATTR;
	h.nodeid = 1;
	h.unique = 77;
	ov.iov_base = &oh;
	ov.iov_len = sizeof(oh);
	/* shorter than a header */
	iv[0].iov_base = &h;
	iv[0].iov_len = sizeof(h) - 1;
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, &ov, 1), -EINVAL);
	/* a header saying more than there is */
	iv[0].iov_len = sizeof(h);
	h.len = sizeof(h) + 8;
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, &ov, 1), -EINVAL);
	h.len = 12;
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, &ov, 1), -EINVAL);
	/* no room for a reply header */
	h.len = sizeof(h);
	ov.iov_len = sizeof(oh) - 1;
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, &ov, 1), -EINVAL);
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, NULL, 0), -EINVAL);
	/* no room for the reply's data: an error reply */
	ov.iov_len = sizeof(oh);
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 1, &ov, 1), 16);
	CHECK_EQ(oh.error, -EINVAL);
	CHECK_EQ(oh.unique, 77);
	/* extra bytes after the request are ignored */
	iv[1].iov_base = buf;
	iv[1].iov_len = sizeof(buf);
	ov.iov_base = buf;
	ov.iov_len = sizeof(buf);
	CHECK_EQ(lx_fuse_server_handle(srv, iv, 2, &ov, 1),
		 16 + sizeof(struct fuse_attr_out));
	/* unknown and unimplemented opcodes */
	CHECK_EQ(call(1000, 1, NULL, 0, NULL, 0, buf, sizeof(buf)), -ENOSYS);
	CHECK_EQ(call(FUSE_BMAP, 1, buf, 16, NULL, 0, buf, sizeof(buf)),
		 -ENOSYS);
	CHECK_EQ(call(FUSE_IOCTL, 1, buf, 32, NULL, 0, buf, sizeof(buf)),
		 -ENOSYS);
	/* names: one component, NUL-terminated inside the request */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(lookup(1, bad[i], &e), -EINVAL);
	CHECK_EQ(call(FUSE_LOOKUP, 1, "abc", 3, NULL, 0, &e, sizeof(e)),
		 -EINVAL);
	memset(buf, 'x', sizeof(buf));
	buf[255] = 0;
	CHECK_EQ(lookup(1, buf, &e), 0);	/* 255 chars: ENOENT, cached */
	CHECK_EQ(e.nodeid, 0);
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(call(FUSE_LOOKUP, 1, buf, sizeof(buf), "", 1, &e, sizeof(e)),
		 -ENAMETOOLONG);
	/* short arguments */
	CHECK_EQ(call(FUSE_OPEN, 1, buf, 4, NULL, 0, buf, sizeof(buf)),
		 -EINVAL);
	CHECK_EQ(call(FUSE_WRITE, 1, buf, 8, NULL, 0, buf, sizeof(buf)),
		 -EINVAL);
	/* node ids and file handles never given out */
	CHECK_EQ(getattr(123456789, NULL), -ESTALE);
	CHECK_EQ(do_release(FUSE_RELEASE, 1, 987654321), -EBADF);
	CHECK_EQ(do_read(1, 987654321, 0, 10, buf), -EBADF);
	/* requests without a reply */
	CHECK_EQ(forget(123456789, 1), NOREPLY);
	{
		struct fuse_interrupt_in ii = { .unique = 5 };

		CHECK_EQ(call(FUSE_INTERRUPT, 0, &ii, sizeof(ii), NULL, 0,
			      NULL, 0), NOREPLY);
	}
}

static void t_lookup(void)
{
	struct fuse_entry_out e, e2, e3;
	struct fuse_attr a;
	struct stat st;
	char p[PATH_MAX];

	CHECK_EQ(nwrite_file("f1", "hello", 5, 0644), 0);
	path_of(p, sizeof(p), "d1");
	CHECK_EQ(mkdir(p, 0750), 0);
	CHECK_EQ(nwrite_file("d1/f2", "x", 1, 0600), 0);

	CHECK_EQ(getattr(1, &a), 0);
	CHECK_EQ(stat(tdir, &st), 0);
	CHECK(attr_matches(&a, &st));

	if (!CHECK_EQ(lookup(1, "f1", &e), 0))
		return;
	CHECK(e.nodeid > 1);
	CHECK_EQ(e.entry_valid, 86400);
	CHECK_EQ(e.attr_valid, 86400);
	CHECK_EQ(nstat("f1", &st), 0);
	CHECK(attr_matches(&e.attr, &st));
	CHECK_EQ(getattr(e.nodeid, &a), 0);
	CHECK(attr_matches(&a, &st));
	/* the same inode twice: the same node id */
	CHECK_EQ(lookup(1, "f1", &e2), 0);
	CHECK_EQ(e2.nodeid, e.nodeid);

	CHECK_EQ(lookup(1, "d1", &e2), 0);
	CHECK_EQ(nstat("d1", &st), 0);
	CHECK(attr_matches(&e2.attr, &st));
	CHECK_EQ(lookup(e2.nodeid, "f2", &e3), 0);
	CHECK_EQ(nstat("d1/f2", &st), 0);
	CHECK(attr_matches(&e3.attr, &st));
	/* a file is no directory */
	CHECK_EQ(lookup(e.nodeid, "x", &e3), -ENOTDIR);
	/* fast mode: negative entries are cached */
	CHECK_EQ(lookup(1, "nosuch", &e3), 0);
	CHECK_EQ(e3.nodeid, 0);
	CHECK_EQ(e3.entry_valid, 86400);

	/* forget: the node lives until every lookup is forgotten */
	CHECK_EQ(lookup(1, "f1", &e2), 0);	/* 3 lookups now */
	CHECK_EQ(forget(e.nodeid, 2), NOREPLY);
	CHECK_EQ(getattr(e.nodeid, NULL), 0);
	{
		struct {
			struct fuse_batch_forget_in b;
			struct fuse_forget_one one[2];
		} bf = { { .count = 2 }, { { e.nodeid, 1 }, { 424242, 1 } } };

		CHECK_EQ(call(FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL, 0,
			      NULL, 0), NOREPLY);
	}
	CHECK_EQ(getattr(e.nodeid, NULL), -ESTALE);
	CHECK_EQ(lookup(1, "f1", &e2), 0);
	CHECK(e2.nodeid != e.nodeid);	/* node ids are never reused */
	CHECK_EQ(forget(e2.nodeid, 1), NOREPLY);
	/* the root is never forgotten */
	CHECK_EQ(forget(1, 100), NOREPLY);
	CHECK_EQ(getattr(1, NULL), 0);
}

static void t_make(void)
{
	struct fuse_entry_out e, e2;
	char buf[PATH_MAX];
	struct stat st;

	if (!CHECK_EQ(do_mkdir(1, "m", 0777, 022, &e), 0))
		return;
	CHECK_EQ(nstat("m", &st), 0);
	CHECK_EQ(st.st_mode, S_IFDIR | 0755);
	CHECK(attr_matches(&e.attr, &st));
	CHECK_EQ(do_mkdir(1, "m", 0777, 022, &e2), -EEXIST);
	CHECK_EQ(do_mkdir(1, "m2", 01777, 0, &e2), 0);
	CHECK_EQ(nstat("m2", &st), 0);
	CHECK_EQ(st.st_mode, S_IFDIR | 01777);

	CHECK_EQ(do_mknod(e.nodeid, "fifo", S_IFIFO | 0666, 0, 027, &e2), 0);
	CHECK_EQ(nstat("m/fifo", &st), 0);
	CHECK_EQ(st.st_mode, S_IFIFO | 0640);
	CHECK(attr_matches(&e2.attr, &st));
	CHECK_EQ(do_mknod(e.nodeid, "reg", S_IFREG | 0644, 0, 0, &e2), 0);
	CHECK_EQ(nstat("m/reg", &st), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(do_mknod(e.nodeid, "sock", S_IFSOCK | 0600, 0, 0, &e2), 0);
	CHECK_EQ(nstat("m/sock", &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	/* a whiteout is allowed, other devices are not */
	CHECK_EQ(do_mknod(e.nodeid, "wh", S_IFCHR | 0600, 0, 0, &e2), 0);
	CHECK_EQ(nstat("m/wh", &st), 0);
	CHECK(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	CHECK_EQ(e2.attr.rdev, 0);
	CHECK_EQ(do_mknod(e.nodeid, "null", S_IFCHR | 0666, (1 << 8) | 3, 0,
			  &e2), -EPERM);
	CHECK_EQ(do_mknod(e.nodeid, "blk", S_IFBLK | 0666, (8 << 8), 0, &e2),
		 -EPERM);
	CHECK_EQ(nstat("m/null", &st), -ENOENT);

	if (!CHECK_EQ(do_symlink(e.nodeid, "ln", "some/where/../x", &e2), 0))
		return;
	CHECK_EQ(nstat("m/ln", &st), 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK(attr_matches(&e2.attr, &st));
	CHECK_EQ(call(FUSE_READLINK, e2.nodeid, NULL, 0, NULL, 0, buf,
		      sizeof(buf)), 0);
	{
		size_t len;
		struct arg none = { NULL, 0 };

		CHECK_EQ(callx(srv, FUSE_READLINK, e2.nodeid, &none, 0, buf,
			       sizeof(buf), &len), 0);
		CHECK(len == 15 && !memcmp(buf, "some/where/../x", 15));
		CHECK_EQ(callx(srv, FUSE_READLINK, e.nodeid, &none, 0, buf,
			       sizeof(buf), &len), -EINVAL);
	}
	CHECK_EQ(do_symlink(e.nodeid, "ln2", "", &e2), -EINVAL);
}

static void t_io(void)
{
	static char data[1 << 20], back[1 << 20];
	struct fuse_entry_out e, e2;
	uint64_t fh, fh2;
	char p[PATH_MAX];
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(rnd() ^ (i >> 7));
	if (!CHECK_EQ(do_create(1, "io", O_RDWR | O_CREAT, 0666 & ~022, &e,
				&fh), 0))
		return;
	CHECK_EQ(nstat("io", &st), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK(attr_matches(&e.attr, &st));
	/* an existing file, O_EXCL */
	CHECK_EQ(do_create(1, "io", O_RDWR | O_CREAT | O_EXCL, 0644, &e2,
			   &fh2), -EEXIST);
	/* a write of max_write bytes, cut into many iovecs */
	CHECK_EQ(do_write(e.nodeid, fh, 0, data, sizeof(data), 0),
		 sizeof(data));
	CHECK_EQ(do_write(e.nodeid, fh, 4096, "abc", 3, 0), 3);
	memcpy(data + 4096, "abc", 3);
	/* the host file has it */
	path_of(p, sizeof(p), "io");
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && read(fd, back, sizeof(back)) == sizeof(back) &&
	      !memcmp(back, data, sizeof(data)));
	close(fd);
	/* and READ gives it back */
	memset(back, 0, sizeof(back));
	CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(back), back), sizeof(back));
	CHECK(!memcmp(back, data, sizeof(data)));
	CHECK_EQ(do_read(e.nodeid, fh, 1000, 100, back), 100);
	CHECK(!memcmp(back, data + 1000, 100));
	/* at and past the end */
	CHECK_EQ(do_read(e.nodeid, fh, sizeof(data) - 10, 100, back), 10);
	CHECK_EQ(do_read(e.nodeid, fh, sizeof(data) + 10, 100, back), 0);
	/* a READ of more than max_pages gets max_pages */
	{
		char *big = malloc(2 << 20);

		CHECK_EQ(do_read(e.nodeid, fh, 0, 2 << 20, big), 1 << 20);
		free(big);
	}
	/* a write saying more data than the request holds */
	{
		struct fuse_write_in wi = { .fh = fh, .size = 100 };
		struct fuse_write_out wo;

		CHECK_EQ(call(FUSE_WRITE, e.nodeid, &wi, sizeof(wi), "abc", 3,
			      &wo, sizeof(wo)), -EINVAL);
	}
	/* fsync, flush */
	{
		struct fuse_fsync_in fi = { .fh = fh };
		struct fuse_flush_in fl = { .fh = fh };

		CHECK_EQ(call(FUSE_FSYNC, e.nodeid, &fi, sizeof(fi), NULL, 0,
			      NULL, 0), 0);
		fi.fsync_flags = FUSE_FSYNC_FDATASYNC;
		CHECK_EQ(call(FUSE_FSYNC, e.nodeid, &fi, sizeof(fi), NULL, 0,
			      NULL, 0), 0);
		CHECK_EQ(call(FUSE_FLUSH, e.nodeid, &fl, sizeof(fl), NULL, 0,
			      NULL, 0), 0);
	}
	/* GETATTR through the handle */
	{
		struct fuse_getattr_in gi = { .getattr_flags = FUSE_GETATTR_FH,
					      .fh = fh };
		struct fuse_attr_out ao;

		CHECK_EQ(call(FUSE_GETATTR, e.nodeid, &gi, sizeof(gi), NULL, 0,
			      &ao, sizeof(ao)), 0);
		CHECK_EQ(stat(p, &st), 0);
		CHECK(attr_matches(&ao.attr, &st));
	}
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), -EBADF);
	CHECK_EQ(do_read(e.nodeid, fh, 0, 10, back), -EBADF);

	/* OPEN: read-only handles do not write; O_TRUNC; O_APPEND */
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0);
	CHECK_EQ(do_write(e.nodeid, fh, 0, "zz", 2, 0), -EBADF);
	CHECK_EQ(do_read(e.nodeid, fh, 0, 3, back), 3);
	CHECK(!memcmp(back, data, 3));
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_WRONLY | O_TRUNC, 0, &fh), 0);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(do_read(e.nodeid, fh, 0, 3, back), -EBADF);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_WRONLY | O_APPEND, 0, &fh), 0);
	CHECK_EQ(do_write(e.nodeid, fh, 0, "12", 2, 0), 2);
	CHECK_EQ(do_write(e.nodeid, fh, 0, "34", 2, 0), 2);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_size, 4);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	/* directories and links are not OPENed */
	CHECK_EQ(do_open(FUSE_OPEN, 1, O_RDONLY, 0, &fh), -EISDIR);
	CHECK_EQ(do_open(FUSE_OPENDIR, e.nodeid, O_RDONLY, 0, &fh), -ENOTDIR);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_ACCMODE, 0, &fh), -EINVAL);
}

static int count_fds(void);

/*
 * A CREATE enters the new inode by its file handle, without an O_PATH fd
 * of its own: the node is the same one a LOOKUP finds, and reopened by
 * handle for the requests that need it.
 */
static void t_create_node(void)
{
	struct fuse_entry_out e, l;
	struct fuse_attr a;
	uint64_t fh;
	char buf[8];
	int fds0;

	fds0 = count_fds();
	if (!CHECK_EQ(do_create(1, "cnode", O_RDWR, 0640, &e, &fh), 0))
		return;
	CHECK_EQ(do_write(e.nodeid, fh, 0, "cn", 2, 0), 2);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	CHECK_EQ(count_fds(), fds0);
	CHECK_EQ(lookup(1, "cnode", &l), 0);
	CHECK_EQ(l.nodeid, e.nodeid);
	CHECK_EQ(getattr(e.nodeid, &a), 0);
	CHECK_EQ(a.ino, e.attr.ino);
	CHECK_EQ(a.size, 2);
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 2);
		CHECK(!memcmp(buf, "cn", 2));
		do_release(FUSE_RELEASE, e.nodeid, fh);
	}
	forget(e.nodeid, 2);
	CHECK_EQ(count_fds(), fds0);
}

static void t_setattr(void)
{
	struct fuse_setattr_in sa;
	struct fuse_entry_out e;
	struct fuse_attr a;
	struct stat st;
	uint64_t fh;

	CHECK_EQ(nwrite_file("sa", "0123456789", 10, 0644), 0);
	if (!CHECK_EQ(lookup(1, "sa", &e), 0))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_MODE;
	sa.mode = S_IFREG | 0604;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK_EQ(st.st_mode, S_IFREG | 0604);
	CHECK(attr_matches(&a, &st));

	sa.valid = FATTR_UID | FATTR_GID;
	sa.uid = 1000;
	sa.gid = 1001;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 1001);
	CHECK(attr_matches(&a, &st));
	sa.valid = FATTR_GID;
	sa.gid = 0;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 0);

	sa.valid = FATTR_SIZE;
	sa.size = 3;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK_EQ(st.st_size, 3);
	CHECK(attr_matches(&a, &st));
	sa.size = 1 << 20;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(a.size, 1 << 20);

	sa.valid = FATTR_ATIME | FATTR_MTIME;
	sa.atime = 1000000000;
	sa.atimensec = 5;
	sa.mtime = 1200000000;
	sa.mtimensec = 999999999;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK(st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 5);
	CHECK(st.st_mtim.tv_sec == 1200000000 &&
	      st.st_mtim.tv_nsec == 999999999);
	CHECK(attr_matches(&a, &st));
	sa.valid = FATTR_MTIME | FATTR_MTIME_NOW;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK(st.st_atim.tv_sec == 1000000000);	/* untouched */
	CHECK(st.st_mtim.tv_sec > 1600000000);
	sa.valid = FATTR_ATIME;
	sa.atimensec = 1000000000;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), -EINVAL);

	/* through an open file (FATTR_FH) */
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), 0);
	sa.valid = FATTR_FH | FATTR_SIZE | FATTR_MODE;
	sa.fh = fh;
	sa.size = 7;
	sa.mode = 0640;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sa", &st), 0);
	CHECK(st.st_size == 7 && st.st_mode == (S_IFREG | 0640));
	sa.fh = 424242;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), -EBADF);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);

	/* a directory: no size; a mode */
	sa.valid = FATTR_SIZE;
	CHECK_EQ(do_setattr(1, &sa, &a), -EISDIR);
	CHECK_EQ(do_mkdir(1, "sad", 0700, 0, &e), 0);
	sa.valid = FATTR_MODE;
	sa.mode = 02755;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(nstat("sad", &st), 0);
	CHECK_EQ(st.st_mode, S_IFDIR | 02755);
	/* a FIFO is never opened, its mode still changes (Linux >= 6.6) */
	CHECK_EQ(do_mknod(1, "safifo", S_IFIFO | 0600, 0, 0, &e), 0);
	sa.mode = 0666;
	{
		int err = do_setattr(e.nodeid, &sa, &a);

		if (err == -EOPNOTSUPP)	/* no fchmodat2() on this host */
			CHECK_EQ(syscall(452, AT_FDCWD, "/", 0755, 0), -1);
		else if (CHECK_EQ(err, 0))
			CHECK_EQ(a.mode, S_IFIFO | 0666);
	}
}

static void t_names(void)
{
	struct fuse_entry_out e, e2, d;
	struct fuse_rename2_in r2;
	struct fuse_rename_in r1;
	struct fuse_link_in li;
	struct stat st, st2;
	char p[PATH_MAX];

	CHECK_EQ(do_mkdir(1, "n", 0755, 0, &d), 0);
	CHECK_EQ(nwrite_file("n/a", "A", 1, 0644), 0);
	CHECK_EQ(nwrite_file("n/b", "B", 1, 0644), 0);
	CHECK_EQ(lookup(d.nodeid, "a", &e), 0);

	/* LINK: the same inode, the same node id */
	li.oldnodeid = e.nodeid;
	CHECK_EQ(call(FUSE_LINK, d.nodeid, &li, sizeof(li), "a2", 3, &e2,
		      sizeof(e2)), 0);
	CHECK_EQ(e2.nodeid, e.nodeid);
	CHECK_EQ(e2.attr.nlink, 2);
	CHECK_EQ(nstat("n/a2", &st), 0);
	CHECK_EQ(st.st_nlink, 2);
	li.oldnodeid = d.nodeid;
	CHECK_EQ(call(FUSE_LINK, 1, &li, sizeof(li), "dl", 3, &e2,
		      sizeof(e2)), -EPERM);

	/* RENAME, RENAME2 NOREPLACE / EXCHANGE / WHITEOUT */
	r1.newdir = 1;
	CHECK_EQ(call(FUSE_RENAME, d.nodeid, &r1, sizeof(r1), "a2\0a3", 6,
		      NULL, 0), 0);
	CHECK_EQ(nstat("a3", &st), 0);
	CHECK_EQ(nstat("n/a2", &st), -ENOENT);
	memset(&r2, 0, sizeof(r2));
	r2.newdir = d.nodeid;
	r2.flags = RENAME_NOREPLACE;
	CHECK_EQ(call(FUSE_RENAME2, d.nodeid, &r2, sizeof(r2), "a\0b", 4,
		      NULL, 0), -EEXIST);
	r2.flags = RENAME_EXCHANGE;
	CHECK_EQ(nstat("n/a", &st), 0);
	CHECK_EQ(nstat("n/b", &st2), 0);
	CHECK_EQ(call(FUSE_RENAME2, d.nodeid, &r2, sizeof(r2), "a\0b", 4,
		      NULL, 0), 0);
	{
		struct stat x, y;

		CHECK_EQ(nstat("n/a", &x), 0);
		CHECK_EQ(nstat("n/b", &y), 0);
		CHECK(x.st_ino == st2.st_ino && y.st_ino == st.st_ino);
	}
	r2.flags = RENAME_WHITEOUT;
	CHECK_EQ(call(FUSE_RENAME2, d.nodeid, &r2, sizeof(r2), "a\0c", 4,
		      NULL, 0), 0);
	CHECK_EQ(nstat("n/a", &st), 0);
	CHECK(S_ISCHR(st.st_mode) && st.st_rdev == 0);
	r2.flags = 1 << 5;
	CHECK_EQ(call(FUSE_RENAME2, d.nodeid, &r2, sizeof(r2), "c\0e", 4,
		      NULL, 0), -EINVAL);
	CHECK_EQ(call(FUSE_RENAME, d.nodeid, &r1, sizeof(r1), "c\0..", 5,
		      NULL, 0), -EINVAL);
	/* the node follows its inode */
	CHECK_EQ(lookup(d.nodeid, "b", &e2), 0);
	CHECK_EQ(e2.nodeid, e.nodeid);

	/* UNLINK, RMDIR */
	CHECK_EQ(call(FUSE_UNLINK, d.nodeid, "b", 2, NULL, 0, NULL, 0), 0);
	CHECK_EQ(nstat("n/b", &st), -ENOENT);
	CHECK_EQ(call(FUSE_UNLINK, d.nodeid, "b", 2, NULL, 0, NULL, 0),
		 -ENOENT);
	CHECK_EQ(getattr(e.nodeid, NULL), 0);	/* a3 still links it */
	CHECK_EQ(call(FUSE_RMDIR, 1, "n", 2, NULL, 0, NULL, 0), -ENOTEMPTY);
	CHECK_EQ(call(FUSE_UNLINK, 1, "n", 2, NULL, 0, NULL, 0), -EISDIR);
	CHECK_EQ(call(FUSE_UNLINK, d.nodeid, "a", 2, NULL, 0, NULL, 0), 0);
	CHECK_EQ(call(FUSE_UNLINK, d.nodeid, "c", 2, NULL, 0, NULL, 0), 0);
	CHECK_EQ(call(FUSE_RMDIR, 1, "n", 2, NULL, 0, NULL, 0), 0);
	path_of(p, sizeof(p), "n");
	CHECK_EQ(access(p, F_OK), -1);
	CHECK_EQ(call(FUSE_RMDIR, 1, "..", 3, NULL, 0, NULL, 0), -EINVAL);
	CHECK_EQ(call(FUSE_UNLINK, 1, "a/../x", 7, NULL, 0, NULL, 0), -EINVAL);
}

static void free_names(char **names, uint64_t *ids, int n);

/* All names in a directory through READDIR(PLUS) of size bytes each. */
static int read_dir(uint64_t nodeid, bool plus, uint32_t size, char ***names,
		    uint64_t **ids)
{
	struct fuse_read_in ri;
	int n = 0, err, cap = 16;
	char *buf = malloc(size);
	uint64_t fh = 0, off = 0;
	bool opened;

	*names = malloc(cap * sizeof(char *));
	*ids = malloc(cap * sizeof(uint64_t));
	err = do_open(FUSE_OPENDIR, nodeid, O_RDONLY, 0, &fh);
	opened = !err;
	while (!err) {
		struct arg a = { &ri, sizeof(ri) };
		size_t len, pos = 0;

		memset(&ri, 0, sizeof(ri));
		ri.fh = fh;
		ri.offset = off;
		ri.size = size;
		err = callx(srv, plus ? FUSE_READDIRPLUS : FUSE_READDIR, nodeid,
			    &a, 1, buf, size, &len);
		if (err || !len)
			break;
		while (pos < len) {
			struct fuse_dirent *de;
			uint64_t id = 0;

			if (plus) {
				struct fuse_direntplus *dp = (void *)(buf + pos);

				de = &dp->dirent;
				id = dp->entry_out.nodeid;
				pos += FUSE_DIRENTPLUS_SIZE(dp);
			} else {
				de = (void *)(buf + pos);
				pos += FUSE_DIRENT_SIZE(de);
			}
			if (n == cap) {
				cap *= 2;
				*names = realloc(*names, cap * sizeof(char *));
				*ids = realloc(*ids, cap * sizeof(uint64_t));
			}
			(*names)[n] = strndup(de->name, de->namelen);
			(*ids)[n] = id;
			n++;
			off = de->off;
		}
	}
	if (opened)
		CHECK_EQ(do_release(FUSE_RELEASEDIR, nodeid, fh), 0);
	free(buf);
	if (err)
		free_names(*names, *ids, n);
	return err ? err : n;
}

static void free_names(char **names, uint64_t *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(ids);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in tdir/rel, read natively, sorted; count returned. */
static int native_names(const char *rel, char ***out)
{
	char p[PATH_MAX];
	struct dirent *de;
	int n = 0, cap = 16;
	DIR *d;

	path_of(p, sizeof(p), rel);
	d = opendir(p);
	if (!d)
		return -errno;
	*out = malloc(cap * sizeof(char *));
	while ((de = readdir(d))) {
		if (n == cap) {
			cap *= 2;
			*out = realloc(*out, cap * sizeof(char *));
		}
		(*out)[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(*out, n, sizeof(char *), cmpstr);
	return n;
}

static void t_readdir(void)
{
	struct fuse_entry_out d, e;
	char **names, **nat = NULL, name[64];
	uint64_t *ids;
	int i, n, nn, plus;

	CHECK_EQ(do_mkdir(1, "rd", 0755, 0, &d), 0);
	for (i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "rd/entry-%03d-%.*s", i, i % 40,
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		CHECK_EQ(nwrite_file(name, NULL, 0, 0644), 0);
	}
	nn = native_names("rd", &nat);
	CHECK_EQ(nn, 152);
	for (plus = 0; plus < 2; plus++) {
		/* a page, and small buffers that need many requests */
		uint32_t sizes[] = { 4096, 300 };
		int k;

		for (k = 0; k < 2; k++) {
			n = read_dir(d.nodeid, plus, sizes[k], &names, &ids);
			if (!CHECK_EQ(n, nn)) {
				if (n > 0)
					free_names(names, ids, n);
				continue;
			}
			for (i = 0; i < n && plus; i++) {
				if (!strcmp(names[i], ".") ||
				    !strcmp(names[i], "..")) {
					CHECK_EQ(ids[i], 0);
					continue;
				}
				/* the node ids are those LOOKUP gives */
				CHECK_EQ(lookup(d.nodeid, names[i], &e), 0);
				CHECK_EQ(ids[i], e.nodeid);
				forget(e.nodeid, 2);
			}
			qsort(names, n, sizeof(char *), cmpstr);
			for (i = 0; i < n; i++)
				CHECK(!strcmp(names[i], nat[i]));
			free_names(names, ids, n);
		}
	}
	free_names(nat, NULL, nn);
	/* a too small buffer gets nothing, not a cut entry */
	{
		struct fuse_read_in ri;
		char buf[64];
		uint64_t fh = 0;
		size_t len;
		struct arg a = { &ri, sizeof(ri) };

		CHECK_EQ(do_open(FUSE_OPENDIR, d.nodeid, O_RDONLY, 0, &fh), 0);
		memset(&ri, 0, sizeof(ri));
		ri.fh = fh;
		ri.size = 20;
		CHECK_EQ(callx(srv, FUSE_READDIR, d.nodeid, &a, 1, buf, 20,
			       &len), 0);
		CHECK_EQ(len, 0);
		CHECK_EQ(call(FUSE_READDIR, d.nodeid, &ri, 8, NULL, 0, buf,
			      sizeof(buf)), -EINVAL);
		{
			struct fuse_fsync_in fi = { .fh = fh };

			CHECK_EQ(call(FUSE_FSYNCDIR, d.nodeid, &fi, sizeof(fi),
				      NULL, 0, NULL, 0), 0);
		}
		CHECK_EQ(do_release(FUSE_RELEASEDIR, d.nodeid, fh), 0);
	}
}

static void t_statfs(void)
{
	struct fuse_statfs_out so;
	struct statfs sf;

	CHECK_EQ(call(FUSE_STATFS, 1, NULL, 0, NULL, 0, &so, sizeof(so)), 0);
	CHECK_EQ(statfs(tdir, &sf), 0);
	CHECK_EQ(so.st.blocks, sf.f_blocks);
	CHECK_EQ(so.st.bsize, sf.f_bsize);
	CHECK_EQ(so.st.namelen, sf.f_namelen);
	CHECK_EQ(so.st.files, sf.f_files);
	CHECK_EQ(so.st.frsize, sf.f_frsize);
	CHECK_EQ(call(FUSE_SYNCFS, 1, "\0\0\0\0\0\0\0", 8, NULL, 0, NULL, 0),
		 0);
}

static void t_xattr(void)
{
	struct fuse_setxattr_in si;
	struct fuse_getxattr_in gi;
	struct fuse_getxattr_out go;
	struct fuse_entry_out e;
	char buf[256], p[PATH_MAX], name_val[64];
	struct arg a[3];
	size_t len;

	CHECK_EQ(nwrite_file("xa", NULL, 0, 0644), 0);
	CHECK_EQ(lookup(1, "xa", &e), 0);
	memset(&si, 0, sizeof(si));
	si.size = 5;
	a[0].p = &si;
	a[0].len = 8;		/* the compat size, no FUSE_SETXATTR_EXT */
	a[1].p = "user.lx";
	a[1].len = 8;
	a[2].p = "value";
	a[2].len = 5;
	if (!CHECK_EQ(callx(srv, FUSE_SETXATTR, e.nodeid, a, 3, NULL, 0, NULL),
		      0))
		return;
	path_of(p, sizeof(p), "xa");
	CHECK_EQ(getxattr(p, "user.lx", buf, sizeof(buf)), 5);
	CHECK(!memcmp(buf, "value", 5));
	si.flags = XATTR_CREATE;
	CHECK_EQ(callx(srv, FUSE_SETXATTR, e.nodeid, a, 3, NULL, 0, NULL),
		 -EEXIST);
	/* a value longer than the request */
	si.flags = 0;
	si.size = 50;
	CHECK_EQ(callx(srv, FUSE_SETXATTR, e.nodeid, a, 3, NULL, 0, NULL),
		 -EINVAL);
	si.size = 5;
	a[1].p = "system.posix_acl_access";
	a[1].len = 24;
	CHECK_EQ(callx(srv, FUSE_SETXATTR, e.nodeid, a, 3, NULL, 0, NULL),
		 -EOPNOTSUPP);
	CHECK_EQ(setxattr(p, "user.other", "12", 2, 0), 0);

	/* GETXATTR: size query, then the value; too small a size */
	memset(&gi, 0, sizeof(gi));
	CHECK_EQ(call(FUSE_GETXATTR, e.nodeid, &gi, sizeof(gi), "user.lx", 8,
		      &go, sizeof(go)), 0);
	CHECK_EQ(go.size, 5);
	gi.size = sizeof(buf);
	a[0].p = &gi;
	a[0].len = sizeof(gi);
	a[1].p = "user.lx";
	a[1].len = 8;
	CHECK_EQ(callx(srv, FUSE_GETXATTR, e.nodeid, a, 2, buf, sizeof(buf),
		       &len), 0);
	CHECK(len == 5 && !memcmp(buf, "value", 5));
	gi.size = 2;
	CHECK_EQ(callx(srv, FUSE_GETXATTR, e.nodeid, a, 2, buf, sizeof(buf),
		       &len), -ERANGE);
	gi.size = sizeof(buf);
	a[1].p = "user.none";
	a[1].len = 10;
	CHECK_EQ(callx(srv, FUSE_GETXATTR, e.nodeid, a, 2, buf, sizeof(buf),
		       &len), -ENODATA);

	/* LISTXATTR against listxattr(2) */
	gi.size = 0;
	CHECK_EQ(call(FUSE_LISTXATTR, e.nodeid, &gi, sizeof(gi), NULL, 0, &go,
		      sizeof(go)), 0);
	CHECK_EQ(go.size, llistxattr(p, NULL, 0));
	gi.size = sizeof(buf);
	CHECK_EQ(callx(srv, FUSE_LISTXATTR, e.nodeid, a, 1, buf, sizeof(buf),
		       &len), 0);
	CHECK_EQ(llistxattr(p, name_val, sizeof(name_val)), (long)len);
	CHECK(!memcmp(buf, name_val, len));

	/* REMOVEXATTR */
	CHECK_EQ(call(FUSE_REMOVEXATTR, e.nodeid, "user.lx", 8, NULL, 0, NULL,
		      0), 0);
	CHECK_EQ(getxattr(p, "user.lx", buf, sizeof(buf)), -1);
	CHECK_EQ(call(FUSE_REMOVEXATTR, e.nodeid, "user.lx", 8, NULL, 0, NULL,
		      0), -ENODATA);
	/* on a directory too */
	memset(&si, 0, sizeof(si));
	si.size = 1;
	a[0].p = &si;
	a[0].len = 8;
	a[1].p = "user.d";
	a[1].len = 7;
	a[2].p = "1";
	a[2].len = 1;
	CHECK_EQ(callx(srv, FUSE_SETXATTR, 1, a, 3, NULL, 0, NULL), 0);
	CHECK_EQ(getxattr(tdir, "user.d", buf, sizeof(buf)), 1);
	CHECK_EQ(call(FUSE_REMOVEXATTR, 1, "user.d", 7, NULL, 0, NULL, 0), 0);
}

/* The caller is uid/gid 1000 for these, root again after. */
static void as_user(uint32_t uid, uint32_t gid)
{
	t_uid = uid;
	t_gid = gid;
}

static void t_creds(void)
{
	struct fuse_entry_out e, d, sg, x;
	struct fuse_access_in ai;
	uint64_t fh;
	struct stat st;
	char p[PATH_MAX];

	CHECK_EQ(nwrite_file("secret", "s3cr3t", 6, 0600), 0);
	CHECK_EQ(lookup(1, "secret", &e), 0);
	CHECK_EQ(do_mkdir(1, "pub", 0777, 0, &d), 0);

	/* a non-root caller cannot open a 0600 root file */
	as_user(1000, 1000);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), -EACCES);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_WRONLY, 0, &fh), -EACCES);
	ai.mask = R_OK;
	ai.padding = 0;
	CHECK_EQ(call(FUSE_ACCESS, e.nodeid, &ai, sizeof(ai), NULL, 0, NULL,
		      0), -EACCES);
	ai.mask = F_OK;
	CHECK_EQ(call(FUSE_ACCESS, e.nodeid, &ai, sizeof(ai), NULL, 0, NULL,
		      0), 0);
	{
		struct fuse_setattr_in sa;

		memset(&sa, 0, sizeof(sa));
		sa.valid = FATTR_MODE;
		sa.mode = 0666;
		CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), -EPERM);
		sa.valid = FATTR_SIZE;
		CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), -EACCES);
		sa.valid = FATTR_UID;
		sa.uid = 1000;
		CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), -EPERM);
	}
	/* nor remove a name in a root 0755 directory */
	CHECK_EQ(call(FUSE_UNLINK, 1, "secret", 7, NULL, 0, NULL, 0), -EACCES);
	CHECK_EQ(do_mkdir(1, "nope", 0755, 0, &x), -EACCES);
	/* nor link into one */
	{
		struct fuse_link_in li = { .oldnodeid = e.nodeid };

		CHECK_EQ(call(FUSE_LINK, 1, &li, sizeof(li), "sl", 3, &x,
			      sizeof(x)), -EACCES);
	}
	/* what it makes is its own */
	CHECK_EQ(do_create(d.nodeid, "mine", O_WRONLY, 0640, &x, &fh), 0);
	CHECK_EQ(nstat("pub/mine", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 1000);
	CHECK_EQ(x.attr.uid, 1000);
	CHECK_EQ(do_release(FUSE_RELEASE, x.nodeid, fh), 0);
	CHECK_EQ(do_mkdir(d.nodeid, "mdir", 0750, 0, &x), 0);
	CHECK_EQ(nstat("pub/mdir", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 1000);
	CHECK_EQ(do_symlink(d.nodeid, "mln", "x", &x), 0);
	CHECK_EQ(nstat("pub/mln", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 1000);
	CHECK_EQ(do_mknod(d.nodeid, "mfifo", S_IFIFO | 0600, 0, 0, &x), 0);
	CHECK_EQ(nstat("pub/mfifo", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 1000);
	as_user(0, 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);

	/* a setgid directory gives its group, and S_ISGID to directories */
	CHECK_EQ(do_mkdir(1, "sgid", 0777, 0, &sg), 0);
	path_of(p, sizeof(p), "sgid");
	CHECK_EQ(chown(p, 0, 50), 0);
	CHECK_EQ(chmod(p, 02777), 0);
	as_user(1000, 1000);
	CHECK_EQ(do_create(sg.nodeid, "f", O_RDWR, 0644, &x, &fh), 0);
	CHECK_EQ(do_release(FUSE_RELEASE, x.nodeid, fh), 0);
	CHECK_EQ(nstat("sgid/f", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 50);
	CHECK_EQ(do_mkdir(sg.nodeid, "sub", 0755, 0, &x), 0);
	CHECK_EQ(nstat("sgid/sub", &st), 0);
	CHECK(st.st_uid == 1000 && st.st_gid == 50);
	CHECK_EQ(st.st_mode, S_IFDIR | 02755);
	CHECK_EQ(x.attr.mode, S_IFDIR | 02755);
	/* umask from the request */
	{
		struct fuse_create_in ci = { .flags = O_RDWR,
					     .mode = S_IFREG | 0666,
					     .umask = 027 };
		struct {
			struct fuse_entry_out e;
			struct fuse_open_out o;
		} out;

		CHECK_EQ(call(FUSE_CREATE, sg.nodeid, &ci, sizeof(ci), "um", 3,
			      &out, sizeof(out)), 0);
		CHECK_EQ(nstat("sgid/um", &st), 0);
		CHECK_EQ(st.st_mode, S_IFREG | 0640);
		CHECK_EQ(do_release(FUSE_RELEASE, out.e.nodeid, out.o.fh), 0);
	}
	as_user(0, 0);
}

static void t_killpriv(void)
{
	struct fuse_setattr_in sa;
	struct fuse_entry_out e;
	struct fuse_open_in oi;
	struct fuse_open_out oo;
	char p[PATH_MAX];
	struct stat st;
	uint64_t fh;

	CHECK_EQ(nwrite_file("suid", "#!/bin/sh\n", 10, 0755), 0);
	path_of(p, sizeof(p), "suid");
	CHECK_EQ(chown(p, 1000, 1000), 0);
	CHECK_EQ(chmod(p, 06775), 0);
	CHECK_EQ(lookup(1, "suid", &e), 0);
	as_user(1000, 1000);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), 0);
	/* a plain write as the server keeps the bits ... */
	CHECK_EQ(do_write(e.nodeid, fh, 0, "#", 1, 0), 1);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 06775);
	/* ... FUSE_WRITE_KILL_SUIDGID drops them */
	CHECK_EQ(do_write(e.nodeid, fh, 0, "#", 1, FUSE_WRITE_KILL_SUIDGID),
		 1);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0775);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	/* S_ISGID without group exec is a mandatory lock mark: kept */
	CHECK_EQ(chmod(p, 06745), 0);
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_SIZE | FATTR_KILL_SUIDGID;
	sa.size = 2;
	CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), 0);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 02745);
	CHECK_EQ(st.st_size, 2);
	/* OPEN with O_TRUNC and FUSE_OPEN_KILL_SUIDGID */
	CHECK_EQ(chmod(p, 04755), 0);
	memset(&oi, 0, sizeof(oi));
	oi.flags = O_WRONLY | O_TRUNC;
	oi.open_flags = FUSE_OPEN_KILL_SUIDGID;
	CHECK_EQ(call(FUSE_OPEN, e.nodeid, &oi, sizeof(oi), NULL, 0, &oo,
		      sizeof(oo)), 0);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0755);
	CHECK_EQ(st.st_size, 0);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, oo.fh), 0);
	as_user(0, 0);
}

static int lk(uint32_t op, uint64_t nodeid, uint64_t fh, uint64_t owner,
	      uint32_t type, uint64_t start, uint64_t end,
	      struct fuse_lk_out *out)
{
	struct fuse_lk_in li;
	struct fuse_lk_out tmp;

	memset(&li, 0, sizeof(li));
	li.fh = fh;
	li.owner = owner;
	li.lk.type = type;
	li.lk.start = start;
	li.lk.end = end;
	return call(op, nodeid, &li, sizeof(li), NULL, 0, out ? out : &tmp,
		    sizeof(tmp));
}

static void t_locks(void)
{
	const uint64_t END = INT64_MAX;
	struct fuse_entry_out e;
	struct fuse_lk_out lo;
	uint64_t fh1, fh2;
	char p[PATH_MAX];
	int fd;

	CHECK_EQ(nwrite_file("lk", "0123456789", 10, 0666), 0);
	CHECK_EQ(lookup(1, "lk", &e), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh1), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh2), 0);
	CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh1, 11, F_WRLCK, 0, 4, NULL), 0);
	CHECK_EQ(lk(FUSE_GETLK, e.nodeid, fh2, 22, F_WRLCK, 0, END, &lo), 0);
	CHECK(lo.lk.type == F_WRLCK && lo.lk.start == 0 && lo.lk.end == 4);
	CHECK_EQ(lk(FUSE_GETLK, e.nodeid, fh2, 22, F_RDLCK, 5, END, &lo), 0);
	CHECK_EQ(lo.lk.type, F_UNLCK);
	CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh2, 22, F_RDLCK, 2, 2, NULL),
		 -EAGAIN);
	/* SETLKW does not wait */
	CHECK_EQ(lk(FUSE_SETLKW, e.nodeid, fh2, 22, F_WRLCK, 0, END, NULL),
		 -EAGAIN);
	CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh2, 22, F_RDLCK, 5, END, NULL), 0);
	/* a host process sees them */
	path_of(p, sizeof(p), "lk");
	fd = open(p, O_RDWR);
	{
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		CHECK_EQ(fcntl(fd, F_OFD_GETLK, &fl), 0);
		CHECK(fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 5);
	}
	/* close by another owner keeps them, by the owner drops them */
	{
		struct fuse_flush_in fl = { .fh = fh1, .lock_owner = 99 };

		CHECK_EQ(call(FUSE_FLUSH, e.nodeid, &fl, sizeof(fl), NULL, 0,
			      NULL, 0), 0);
		CHECK_EQ(lk(FUSE_GETLK, e.nodeid, fh2, 22, F_WRLCK, 0, 4, &lo),
			 0);
		CHECK_EQ(lo.lk.type, F_WRLCK);
		fl.lock_owner = 11;
		CHECK_EQ(call(FUSE_FLUSH, e.nodeid, &fl, sizeof(fl), NULL, 0,
			      NULL, 0), 0);
		CHECK_EQ(lk(FUSE_GETLK, e.nodeid, fh2, 22, F_WRLCK, 0, 4, &lo),
			 0);
		CHECK_EQ(lo.lk.type, F_UNLCK);
	}
	CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh1, 11, 7, 0, 4, NULL), -EINVAL);
	CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh1, 11, F_RDLCK, 9, 4, NULL),
		 -EINVAL);
	/* flock() style */
	{
		struct fuse_lk_in li;

		memset(&li, 0, sizeof(li));
		li.fh = fh1;
		li.lk.type = F_WRLCK;
		li.lk_flags = FUSE_LK_FLOCK;
		CHECK_EQ(call(FUSE_SETLK, e.nodeid, &li, sizeof(li), NULL, 0,
			      NULL, 0), 0);
		li.fh = fh2;
		CHECK_EQ(call(FUSE_SETLKW, e.nodeid, &li, sizeof(li), NULL, 0,
			      NULL, 0), -EAGAIN);
	}
	/* RELEASE drops the rest */
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh2), 0);
	{
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		CHECK_EQ(fcntl(fd, F_OFD_GETLK, &fl), 0);
		CHECK_EQ(fl.l_type, F_UNLCK);
	}
	close(fd);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh1), 0);
}

static void t_ranges(void)
{
	struct fuse_copy_file_range_in ci;
	struct fuse_fallocate_in fa;
	struct fuse_lseek_in li;
	struct fuse_lseek_out lo;
	struct fuse_write_out wo;
	struct fuse_entry_out e, e2;
	uint64_t fh, fh2;
	static char buf[65536], back[65536];
	char p[PATH_MAX];
	struct stat st;

	memset(buf, 'q', sizeof(buf));
	CHECK_EQ(do_create(1, "sparse", O_RDWR, 0644, &e, &fh), 0);
	CHECK_EQ(do_write(e.nodeid, fh, 1 << 20, buf, sizeof(buf), 0),
		 sizeof(buf));
	memset(&fa, 0, sizeof(fa));
	fa.fh = fh;
	fa.offset = 0;
	fa.length = 4 << 20;
	fa.mode = FALLOC_FL_KEEP_SIZE;
	CHECK_EQ(call(FUSE_FALLOCATE, e.nodeid, &fa, sizeof(fa), NULL, 0, NULL,
		      0), 0);
	path_of(p, sizeof(p), "sparse");
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(st.st_size, (1 << 20) + sizeof(buf));
	CHECK(st.st_blocks >= (4 << 20) / 512);
	fa.mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
	fa.length = 1 << 20;
	CHECK_EQ(call(FUSE_FALLOCATE, e.nodeid, &fa, sizeof(fa), NULL, 0, NULL,
		      0), 0);
	memset(&li, 0, sizeof(li));
	li.fh = fh;
	li.whence = SEEK_DATA;
	CHECK_EQ(call(FUSE_LSEEK, e.nodeid, &li, sizeof(li), NULL, 0, &lo,
		      sizeof(lo)), 0);
	CHECK_EQ(lo.offset, 1 << 20);
	li.offset = 1 << 20;
	li.whence = SEEK_HOLE;
	CHECK_EQ(call(FUSE_LSEEK, e.nodeid, &li, sizeof(li), NULL, 0, &lo,
		      sizeof(lo)), 0);
	CHECK_EQ(lo.offset, (1 << 20) + sizeof(buf));
	li.whence = SEEK_END;
	CHECK_EQ(call(FUSE_LSEEK, e.nodeid, &li, sizeof(li), NULL, 0, &lo,
		      sizeof(lo)), -EINVAL);
	li.whence = SEEK_DATA;
	li.offset = 8 << 20;
	CHECK_EQ(call(FUSE_LSEEK, e.nodeid, &li, sizeof(li), NULL, 0, &lo,
		      sizeof(lo)), -ENXIO);

	CHECK_EQ(do_create(1, "copy", O_RDWR, 0644, &e2, &fh2), 0);
	memset(&ci, 0, sizeof(ci));
	ci.fh_in = fh;
	ci.off_in = 1 << 20;
	ci.nodeid_out = e2.nodeid;
	ci.fh_out = fh2;
	ci.off_out = 10;
	ci.len = sizeof(buf);
	CHECK_EQ(call(FUSE_COPY_FILE_RANGE, e.nodeid, &ci, sizeof(ci), NULL, 0,
		      &wo, sizeof(wo)), 0);
	CHECK_EQ(wo.size, sizeof(buf));
	CHECK_EQ(do_read(e2.nodeid, fh2, 10, sizeof(back), back), sizeof(back));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	ci.flags = 1;
	CHECK_EQ(call(FUSE_COPY_FILE_RANGE, e.nodeid, &ci, sizeof(ci), NULL, 0,
		      &wo, sizeof(wo)), -EINVAL);
	CHECK_EQ(do_release(FUSE_RELEASE, e2.nodeid, fh2), 0);
	CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
}

/* Symlinks are never followed by the server, wherever they point. */
static void t_symlinks(void)
{
	struct fuse_entry_out e, e2, d;
	struct stat shadow, st, before;
	struct fuse_setattr_in sa;
	uint64_t fh;
	char buf[64];

	if (stat("/etc/shadow", &before))
		memset(&before, 0, sizeof(before));
	CHECK_EQ(do_symlink(1, "evil", "/etc/shadow", &e), 0);
	CHECK(S_ISLNK(e.attr.mode));
	CHECK_EQ(lookup(1, "evil", &e2), 0);
	CHECK_EQ(e2.nodeid, e.nodeid);
	CHECK(S_ISLNK(e2.attr.mode));
	CHECK(e2.attr.ino != (uint64_t)before.st_ino);
	CHECK(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh) < 0);
	CHECK(do_open(FUSE_OPEN, e.nodeid, O_RDWR | O_TRUNC, 0, &fh) < 0);
	CHECK(do_open(FUSE_OPENDIR, e.nodeid, O_RDONLY, 0, &fh) < 0);
	CHECK(do_read(e.nodeid, 0, 0, 10, buf) < 0);
	/* CREATE on the name opens nothing behind it */
	CHECK(do_create(1, "evil", O_RDWR | O_TRUNC, 0666, &e2, &fh) < 0);
	/* attribute changes stay on the link */
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_MODE;
	sa.mode = 0666;
	CHECK(do_setattr(e.nodeid, &sa, NULL) < 0);
	sa.valid = FATTR_SIZE;
	CHECK(do_setattr(e.nodeid, &sa, NULL) < 0);
	sa.valid = FATTR_UID | FATTR_GID;
	sa.uid = 1000;
	sa.gid = 1000;
	CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), 0);	/* lchown */
	CHECK_EQ(nstat("evil", &st), 0);
	CHECK(S_ISLNK(st.st_mode) && st.st_uid == 1000);
	sa.valid = FATTR_MTIME;
	sa.mtime = 12345;
	CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), 0);	/* lutimes */
	CHECK_EQ(nstat("evil", &st), 0);
	CHECK_EQ(st.st_mtim.tv_sec, 12345);
	{
		struct fuse_setxattr_in si = { .size = 1 };
		struct arg a[3] = { { &si, 8 }, { "user.x", 7 }, { "1", 1 } };

		CHECK(callx(srv, FUSE_SETXATTR, e.nodeid, a, 3, NULL, 0,
			    NULL) < 0);
	}
	/* a directory link: nothing is found below it */
	CHECK_EQ(do_symlink(1, "up", "../../../../..", &d), 0);
	CHECK_EQ(lookup(d.nodeid, "etc", &e2), -ENOTDIR);
	CHECK_EQ(do_mkdir(d.nodeid, "x", 0755, 0, &e2), -ENOTDIR);
	CHECK_EQ(do_create(d.nodeid, "x", O_RDWR, 0644, &e2, &fh), -ENOTDIR);
	CHECK_EQ(do_symlink(1, "etc", "/etc", &d), 0);
	CHECK_EQ(lookup(d.nodeid, "shadow", &e2), -ENOTDIR);
	CHECK_EQ(do_open(FUSE_OPENDIR, d.nodeid, O_RDONLY, 0, &fh), -ENOTDIR);
	/* /etc/shadow is as it was */
	if (!stat("/etc/shadow", &shadow)) {
		CHECK(shadow.st_mode == before.st_mode &&
		      shadow.st_uid == before.st_uid &&
		      shadow.st_size == before.st_size &&
		      shadow.st_mtim.tv_sec == before.st_mtim.tv_sec);
	}
}

static struct lx_fuse_server *new_server(const char *dir, int ro, int strict,
					 unsigned int max_fds)
{
	struct lx_fuse_opts o = { .dir = dir, .readonly = ro,
				  .strict_cache = strict, .max_fds = max_fds };
	struct lx_fuse_server *s = NULL;
	char err[256];

	if (!CHECK_EQ(lx_fuse_server_create(&o, &s, err, sizeof(err)), 0))
		return NULL;
	if (!CHECK_EQ(do_init(s, NULL), 0)) {
		lx_fuse_server_destroy(s);
		return NULL;
	}
	return s;
}

static void t_readonly(void)
{
	struct lx_fuse_server *keep = srv;
	struct fuse_entry_out e, x;
	struct fuse_setattr_in sa;
	struct fuse_access_in ai = { .mask = W_OK };
	uint64_t fh;
	char buf[16];
	int fd;

	CHECK_EQ(nwrite_file("rofile", "ro", 2, 0666), 0);
	srv = new_server(tdir, 1, 0, 0);
	if (!srv) {
		srv = keep;
		return;
	}
	CHECK_EQ(lookup(1, "rofile", &e), 0);
	CHECK_EQ(do_mkdir(1, "x", 0755, 0, &x), -EROFS);
	CHECK_EQ(do_mknod(1, "x", S_IFIFO | 0644, 0, 0, &x), -EROFS);
	CHECK_EQ(do_symlink(1, "x", "y", &x), -EROFS);
	CHECK_EQ(do_create(1, "x", O_RDWR, 0644, &x, &fh), -EROFS);
	CHECK_EQ(call(FUSE_UNLINK, 1, "rofile", 7, NULL, 0, NULL, 0), -EROFS);
	CHECK_EQ(call(FUSE_RMDIR, 1, "d1", 3, NULL, 0, NULL, 0), -EROFS);
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_MODE;
	CHECK_EQ(do_setattr(e.nodeid, &sa, NULL), -EROFS);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), -EROFS);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY | O_TRUNC, 0, &fh),
		 -EROFS);
	CHECK_EQ(call(FUSE_ACCESS, e.nodeid, &ai, sizeof(ai), NULL, 0, NULL,
		      0), -EROFS);
	CHECK_EQ(call(FUSE_REMOVEXATTR, e.nodeid, "user.x", 7, NULL, 0, NULL,
		      0), -EROFS);
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(e.nodeid, fh, 0, 2, buf), 2);
		CHECK_EQ(do_write(e.nodeid, fh, 0, "x", 1, 0), -EROFS);
		CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDWR),
			 -EROFS);
		fd = lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDONLY);
		CHECK(fd >= 0);
		if (fd >= 0)
			close(fd);
		CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	}
	lx_fuse_server_destroy(srv);
	srv = keep;
}

/* The names of directory nodeid are exactly ".", ".." and name. */
static void check_single_root(uint64_t nodeid, const char *name,
			      uint64_t file)
{
	/* a page; then buffers for one entry per request */
	static const uint32_t sizes[2][2] = { { 4096, 32 }, { 4096, 160 } };
	char **names;
	uint64_t *ids;
	int plus, k, n;

	for (plus = 0; plus < 2; plus++) {
		for (k = 0; k < 2; k++) {
			n = read_dir(nodeid, plus, sizes[plus][k], &names,
				     &ids);
			if (!CHECK_EQ(n, 3)) {
				if (n > 0)
					free_names(names, ids, n);
				continue;
			}
			CHECK(!strcmp(names[0], "."));
			CHECK(!strcmp(names[1], ".."));
			CHECK(!strcmp(names[2], name));
			CHECK_EQ(ids[0], 0);
			CHECK_EQ(ids[1], 0);
			/* READDIRPLUS gives the node LOOKUP gives */
			CHECK_EQ(ids[2], plus ? file : 0);
			free_names(names, ids, n);
		}
	}
}

/*
 * A single-file share: the root is a synthetic read-only directory that
 * holds the file under its name, and nothing of the file's host directory.
 */
static void t_single_file(void)
{
	struct lx_fuse_server *keep = srv;
	struct fuse_entry_out e, x;
	struct fuse_setattr_in sa;
	struct fuse_getxattr_in gi;
	struct fuse_getxattr_out go;
	struct fuse_statfs_out so;
	struct fuse_access_in ai;
	struct fuse_attr a;
	struct statfs sf;
	struct arg args[3];
	char p[PATH_MAX], q[PATH_MAX], buf[16];
	struct stat st, st2;
	uint64_t fh;
	int fd;

	path_of(p, sizeof(p), "sf");
	CHECK_EQ(mkdir(p, 0755), 0);
	CHECK_EQ(nwrite_file("sf/app.ini", "only me", 7, 0644), 0);
	CHECK_EQ(nwrite_file("sf/secret", "hidden", 6, 0600), 0);
	path_of(p, sizeof(p), "sf/sub");
	CHECK_EQ(mkdir(p, 0755), 0);
	path_of(p, sizeof(p), "sf/app.ini");
	srv = new_server(p, 0, 1, 0);
	if (!srv) {
		srv = keep;
		return;
	}
	/* the root: a directory of root's, mode 0555, with the file's times */
	CHECK_EQ(getattr(1, &a), 0);
	CHECK_EQ(stat(p, &st), 0);
	CHECK_EQ(a.mode, S_IFDIR | 0555);
	CHECK_EQ(a.nlink, 2);
	CHECK_EQ(a.uid, 0);
	CHECK_EQ(a.gid, 0);
	CHECK(a.ino != st.st_ino);
	CHECK_EQ(a.mtime, st.st_mtim.tv_sec);
	CHECK_EQ(a.mtimensec, st.st_mtim.tv_nsec);
	CHECK_EQ(a.ctime, st.st_ctim.tv_sec);

	/* holding the file under its base name, and nothing else */
	if (!CHECK_EQ(lookup(1, "app.ini", &e), 0))
		goto out;
	CHECK(e.nodeid != 1);
	CHECK(attr_matches(&e.attr, &st));
	CHECK_EQ(getattr(e.nodeid, &a), 0);
	CHECK(attr_matches(&a, &st));
	CHECK_EQ(lookup(1, "secret", &x), -ENOENT);
	CHECK_EQ(lookup(1, "sub", &x), -ENOENT);
	CHECK_EQ(lookup(1, "x", &x), -ENOENT);
	CHECK_EQ(lookup(1, "..", &x), -EINVAL);
	CHECK_EQ(lookup(e.nodeid, "secret", &x), -ENOTDIR);
	CHECK_EQ(do_open(FUSE_OPENDIR, e.nodeid, O_RDONLY, 0, &fh), -ENOTDIR);
	check_single_root(1, "app.ini", e.nodeid);
	/* the file stays the same node, forgotten or not */
	CHECK_EQ(forget(e.nodeid, 1000), NOREPLY);
	CHECK_EQ(lookup(1, "app.ini", &x), 0);
	CHECK_EQ(x.nodeid, e.nodeid);

	/* the root is opened, synced, stat'ed, released; checked, statfs'ed */
	if (CHECK_EQ(do_open(FUSE_OPENDIR, 1, O_RDONLY, 0, &fh), 0)) {
		struct fuse_fsync_in fi = { .fh = fh };
		struct fuse_getattr_in ga = { .getattr_flags = FUSE_GETATTR_FH,
					      .fh = fh };
		struct fuse_attr_out ao;

		CHECK_EQ(call(FUSE_FSYNCDIR, 1, &fi, sizeof(fi), NULL, 0, NULL,
			      0), 0);
		CHECK_EQ(call(FUSE_GETATTR, 1, &ga, sizeof(ga), NULL, 0, &ao,
			      sizeof(ao)), 0);
		CHECK_EQ(ao.attr.mode, S_IFDIR | 0555);
		CHECK_EQ(do_read(1, fh, 0, sizeof(buf), buf), -EISDIR);
		CHECK_EQ(lx_fuse_server_host_fd(srv, 1, fh, O_RDONLY), -EBADF);
		CHECK_EQ(do_release(FUSE_RELEASEDIR, 1, fh), 0);
	}
	CHECK_EQ(call(FUSE_STATFS, 1, NULL, 0, NULL, 0, &so, sizeof(so)), 0);
	CHECK_EQ(statfs(p, &sf), 0);
	CHECK_EQ(so.st.bsize, sf.f_bsize);
	CHECK_EQ(so.st.namelen, sf.f_namelen);
	CHECK_EQ(call(FUSE_SYNCFS, 1, NULL, 0, NULL, 0, NULL, 0), 0);
	ai.mask = R_OK | X_OK;
	ai.padding = 0;
	CHECK_EQ(call(FUSE_ACCESS, 1, &ai, sizeof(ai), NULL, 0, NULL, 0), 0);
	as_user(1000, 1000);
	CHECK_EQ(call(FUSE_ACCESS, 1, &ai, sizeof(ai), NULL, 0, NULL, 0), 0);
	ai.mask = W_OK;
	CHECK_EQ(call(FUSE_ACCESS, 1, &ai, sizeof(ai), NULL, 0, NULL, 0),
		 -EACCES);
	as_user(0, 0);
	CHECK_EQ(do_open(FUSE_OPEN, 1, O_RDONLY, 0, &fh), -EISDIR);
	CHECK_EQ(call(FUSE_READLINK, 1, NULL, 0, NULL, 0, buf, sizeof(buf)),
		 -EINVAL);
	memset(&gi, 0, sizeof(gi));
	CHECK_EQ(call(FUSE_GETXATTR, 1, &gi, sizeof(gi), "user.x", 7, &go,
		      sizeof(go)), -ENODATA);
	CHECK_EQ(call(FUSE_LISTXATTR, 1, &gi, sizeof(gi), NULL, 0, &go,
		      sizeof(go)), 0);
	CHECK_EQ(go.size, 0);

	/* nothing is made, removed or renamed in it, nor is it changed */
	CHECK_EQ(do_mkdir(1, "x", 0755, 0, &x), -EPERM);
	CHECK_EQ(do_mknod(1, "x", S_IFREG | 0644, 0, 0, &x), -EPERM);
	CHECK_EQ(do_symlink(1, "x", "secret", &x), -EPERM);
	CHECK_EQ(do_create(1, "x", O_RDWR, 0644, &x, &fh), -EPERM);
	CHECK_EQ(do_create(1, "secret", O_RDWR, 0644, &x, &fh), -EPERM);
	{
		struct fuse_link_in li = { .oldnodeid = e.nodeid };
		struct fuse_rename_in ri = { .newdir = 1 };
		struct fuse_rename2_in r2 = { .newdir = 1,
					      .flags = RENAME_NOREPLACE };

		CHECK_EQ(call(FUSE_LINK, 1, &li, sizeof(li), "x", 2, &x,
			      sizeof(x)), -EPERM);
		li.oldnodeid = 1;
		CHECK_EQ(call(FUSE_LINK, e.nodeid, &li, sizeof(li), "x", 2, &x,
			      sizeof(x)), -EPERM);
		CHECK_EQ(call(FUSE_RENAME, 1, &ri, sizeof(ri), "app.ini\0x", 10,
			      NULL, 0), -EPERM);
		CHECK_EQ(call(FUSE_RENAME2, 1, &r2, sizeof(r2),
			      "app.ini\0secret", 15, NULL, 0), -EPERM);
		ri.newdir = e.nodeid;
		CHECK_EQ(call(FUSE_RENAME, 1, &ri, sizeof(ri), "app.ini\0x", 10,
			      NULL, 0), -EPERM);
	}
	CHECK_EQ(call(FUSE_UNLINK, 1, "app.ini", 8, NULL, 0, NULL, 0), -EPERM);
	CHECK_EQ(call(FUSE_UNLINK, 1, "secret", 7, NULL, 0, NULL, 0), -EPERM);
	CHECK_EQ(call(FUSE_RMDIR, 1, "sub", 4, NULL, 0, NULL, 0), -EPERM);
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_MODE;
	sa.mode = 0777;
	CHECK_EQ(do_setattr(1, &sa, NULL), -EPERM);
	{
		struct fuse_setxattr_in si = { .size = 1 };

		args[0] = (struct arg){ &si, 8 };
		args[1] = (struct arg){ "user.x", 7 };
		args[2] = (struct arg){ "1", 1 };
		CHECK_EQ(callx(srv, FUSE_SETXATTR, 1, args, 3, NULL, 0, NULL),
			 -EPERM);
	}
	CHECK_EQ(call(FUSE_REMOVEXATTR, 1, "user.x", 7, NULL, 0, NULL, 0),
		 -EPERM);
	CHECK_EQ(nstat("sf/x", &st2), -ENOENT);
	CHECK_EQ(nstat("sf/secret", &st2), 0);
	CHECK_EQ(nstat("sf/sub", &st2), 0);
	CHECK_EQ(nstat("sf/app.ini", &st2), 0);

	/* the file: I/O, attributes, xattrs, locks, host_fd reach the host */
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), 0)) {
		struct fuse_lk_out lo;

		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 7);
		CHECK(!memcmp(buf, "only me", 7));
		CHECK_EQ(do_write(e.nodeid, fh, 5, "us", 2, 0), 2);
		CHECK_EQ(lk(FUSE_SETLK, e.nodeid, fh, 1, F_WRLCK, 0, 3, NULL),
			 0);
		CHECK_EQ(lk(FUSE_GETLK, e.nodeid, fh, 1, F_WRLCK, 0, 3, &lo),
			 0);
		fd = lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDWR);
		if (CHECK(fd >= 0)) {
			CHECK_EQ(fstat(fd, &st2), 0);
			CHECK(st2.st_ino == st.st_ino &&
			      st2.st_dev == st.st_dev);
			CHECK_EQ(pwrite(fd, "!", 1, 7), 1);
			close(fd);
		}
		CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	}
	memset(buf, 0, sizeof(buf));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	CHECK(!memcmp(buf, "only us!", 8));
	memset(&sa, 0, sizeof(sa));
	sa.valid = FATTR_MODE | FATTR_SIZE;
	sa.mode = 0600;
	sa.size = 7;
	CHECK_EQ(do_setattr(e.nodeid, &sa, &a), 0);
	CHECK_EQ(stat(p, &st2), 0);
	CHECK_EQ(st2.st_mode, S_IFREG | 0600);
	CHECK_EQ(st2.st_size, 7);
	CHECK(attr_matches(&a, &st2));
	{
		struct fuse_setxattr_in si = { .size = 2 };

		args[0] = (struct arg){ &si, 8 };
		args[1] = (struct arg){ "user.lx", 8 };
		args[2] = (struct arg){ "ok", 2 };
		CHECK_EQ(callx(srv, FUSE_SETXATTR, e.nodeid, args, 3, NULL, 0,
			       NULL), 0);
		CHECK_EQ(getxattr(p, "user.lx", buf, sizeof(buf)), 2);
		CHECK_EQ(call(FUSE_REMOVEXATTR, e.nodeid, "user.lx", 8, NULL, 0,
			      NULL, 0), 0);
	}

	/*
	 * Renamed on the host and replaced: the node is still the file it
	 * was (found by handle, not by name in its directory), and the root
	 * still shows it under the name it had.
	 */
	path_of(q, sizeof(q), "sf/moved.ini");
	CHECK_EQ(rename(p, q), 0);
	CHECK_EQ(nwrite_file("sf/app.ini", "impostor", 8, 0644), 0);
	CHECK_EQ(lookup(1, "app.ini", &x), 0);
	CHECK_EQ(x.nodeid, e.nodeid);
	CHECK_EQ(stat(q, &st2), 0);
	CHECK(attr_matches(&x.attr, &st2));
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 7);
		CHECK(!memcmp(buf, "only us", 7));
		CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
	}
	CHECK_EQ(rename(q, p), 0);

	/* DESTROY and INIT again: the same layout, the same node */
	CHECK_EQ(call(FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL, 0), 0);
	CHECK_EQ(do_init(srv, NULL), 0);
	CHECK_EQ(getattr(1, &a), 0);
	CHECK_EQ(a.mode, S_IFDIR | 0555);
	CHECK_EQ(lookup(1, "app.ini", &x), 0);
	CHECK_EQ(x.nodeid, e.nodeid);
	check_single_root(1, "app.ini", e.nodeid);
out:
	lx_fuse_server_destroy(srv);

	/* read-only, fast mode: -EROFS, and a cached negative entry */
	srv = new_server(p, 1, 0, 0);
	if (srv) {
		CHECK_EQ(lookup(1, "secret", &x), 0);
		CHECK_EQ(x.nodeid, 0);
		CHECK(x.entry_valid > 0);
		CHECK_EQ(lookup(1, "app.ini", &e), 0);
		CHECK(e.nodeid > 1);
		CHECK(e.entry_valid > 0);
		CHECK_EQ(do_mkdir(1, "x", 0755, 0, &x), -EROFS);
		CHECK_EQ(do_create(1, "x", O_RDWR, 0644, &x, &fh), -EROFS);
		CHECK_EQ(call(FUSE_UNLINK, 1, "app.ini", 8, NULL, 0, NULL, 0),
			 -EROFS);
		CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), -EROFS);
		if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh),
			     0)) {
			CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 7);
			CHECK(!memcmp(buf, "only us", 7));
			CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
		}
		check_single_root(1, "app.ini", e.nodeid);
		lx_fuse_server_destroy(srv);
	}
	srv = keep;
	CHECK_EQ(nwrite_file("single", "only me", 7, 0644), 0);
	/* strict mode: no caching anywhere */
	srv = new_server(tdir, 0, 1, 0);
	if (srv) {
		CHECK_EQ(lookup(1, "single", &e), 0);
		CHECK_EQ(e.entry_valid, 0);
		CHECK_EQ(e.attr_valid, 0);
		CHECK_EQ(lookup(1, "nosuch", &e), -ENOENT);
		{
			struct fuse_open_in oi = { .flags = O_RDONLY };
			struct fuse_open_out oo;

			CHECK_EQ(call(FUSE_OPEN, e.nodeid, &oi, sizeof(oi),
				      NULL, 0, &oo, sizeof(oo)), 0);
			CHECK_EQ(oo.open_flags & FOPEN_KEEP_CACHE, 0);
			do_release(FUSE_RELEASE, e.nodeid, oo.fh);
		}
		lx_fuse_server_destroy(srv);
	}
	srv = keep;
	/* what cannot be shared */
	{
		struct lx_fuse_opts o = { .dir = "/nonexistent/lx" };
		struct lx_fuse_server *s = NULL;
		char err[256];

		CHECK_EQ(lx_fuse_server_create(&o, &s, err, sizeof(err)),
			 -ENOENT);
		CHECK(strstr(err, "/nonexistent/lx") != NULL);
		o.dir = "/dev/null";
		CHECK_EQ(lx_fuse_server_create(&o, &s, err, sizeof(err)),
			 -EINVAL);
		CHECK(strstr(err, "/dev/null") != NULL);
	}
}

static void t_host_fd(void)
{
	struct fuse_entry_out e, d = { 0 };
	uint64_t fh, fhro, fhwo;
	struct stat st, st2;
	char *m;
	int fd;

	CHECK_EQ(nwrite_file("mapme", "mapped data", 11, 0644), 0);
	CHECK_EQ(lookup(1, "mapme", &e), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fhro), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_WRONLY, 0, &fhwo), 0);
	fd = lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDWR | O_CLOEXEC);
	if (CHECK(fd >= 0)) {
		CHECK_EQ(fstat(fd, &st), 0);
		CHECK_EQ(nstat("mapme", &st2), 0);
		CHECK(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
		CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
		CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (CHECK(m != MAP_FAILED)) {
			CHECK(!memcmp(m, "mapped data", 11));
			m[0] = 'M';
			munmap(m, 4096);
		}
		close(fd);
		{
			char buf[4];

			CHECK_EQ(do_read(e.nodeid, fh, 0, 1, buf), 1);
			CHECK_EQ(buf[0], 'M');
		}
	}
	fd = lx_fuse_server_host_fd(srv, e.nodeid, fhro, O_RDONLY);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fhro, O_RDWR), -EACCES);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fhwo, O_RDONLY),
		 -EACCES);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid + 1000, fh, O_RDONLY),
		 -EBADF);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, 987654, O_RDONLY),
		 -EBADF);
	/* write-only fds: of handles that may write (lx writes through) */
	fd = lx_fuse_server_host_fd(srv, e.nodeid, fh, O_WRONLY);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
		close(fd);
	}
	fd = lx_fuse_server_host_fd(srv, e.nodeid, fhwo, O_WRONLY);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fhro, O_WRONLY),
		 -EACCES);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fh, O_ACCMODE),
		 -EINVAL);
	CHECK_EQ(lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDONLY | O_TRUNC),
		 -EINVAL);
	CHECK_EQ(do_open(FUSE_OPENDIR, 1, O_RDONLY, 0, &d.nodeid), 0);
	CHECK_EQ(lx_fuse_server_host_fd(srv, 1, d.nodeid, O_RDONLY), -EBADF);
	do_release(FUSE_RELEASEDIR, 1, d.nodeid);
	do_release(FUSE_RELEASE, e.nodeid, fh);
	do_release(FUSE_RELEASE, e.nodeid, fhro);
	do_release(FUSE_RELEASE, e.nodeid, fhwo);
}

static int count_fds(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

#define MANY 10000

/* 10,000 files looked up with nofile at 1024: O_PATH fds are bounded. */
static void t_many(void)
{
	struct rlimit old, rl;
	struct fuse_entry_out e, d;
	uint64_t *ids, fh;
	char name[64], buf[64];
	char **names;
	uint64_t *rids;
	int i, n, fds0, bad = 0;

	getrlimit(RLIMIT_NOFILE, &old);
	rl = old;
	rl.rlim_cur = 1024;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ(do_mkdir(1, "many", 0755, 0, &d), 0);
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "many/f%05d", i);
		if (nwrite_file(name, name, strlen(name), 0644))
			bad++;
	}
	CHECK_EQ(bad, 0);
	fds0 = count_fds();
	ids = calloc(MANY, sizeof(*ids));
	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		if (lookup(d.nodeid, name, &e) || !e.nodeid) {
			bad++;
			continue;
		}
		ids[i] = e.nodeid;
	}
	CHECK_EQ(bad, 0);
	/* at most the bound (512) and a few more held */
	CHECK(count_fds() - fds0 <= 512 + 8);
	printf("# %d lookups: %d fds held by the server\n", MANY,
	       count_fds() - fds0);
	/* early ones lost their fd: they come back by handle */
	for (i = 0; i < MANY; i += 997) {
		struct fuse_attr a;

		snprintf(name, sizeof(name), "f%05d", i);
		if (!CHECK_EQ(getattr(ids[i], &a), 0))
			break;
		CHECK_EQ(lookup(d.nodeid, name, &e), 0);
		CHECK_EQ(e.nodeid, ids[i]);
		CHECK_EQ(a.ino, e.attr.ino);
		if (CHECK_EQ(do_open(FUSE_OPEN, ids[i], O_RDONLY, 0, &fh), 0)) {
			snprintf(name, sizeof(name), "many/f%05d", i);
			CHECK_EQ(do_read(ids[i], fh, 0, sizeof(buf), buf),
				 (long)strlen(name));
			CHECK(!memcmp(buf, name, strlen(name)));
			do_release(FUSE_RELEASE, ids[i], fh);
		}
		forget(ids[i], 1);
	}
	/* READDIRPLUS over all of them finds the same nodes */
	n = read_dir(d.nodeid, true, 65536, &names, &rids);
	CHECK_EQ(n, MANY + 2);
	for (i = 0, bad = 0; i < n; i++) {
		int k;

		if (names[i][0] != 'f')
			continue;
		k = atoi(names[i] + 1);
		if (k < 0 || k >= MANY || rids[i] != ids[k])
			bad++;
	}
	CHECK_EQ(bad, 0);
	if (n > 0)
		free_names(names, rids, n);
	CHECK(count_fds() - fds0 <= 512 + 8);
	/* a file deleted on the host while its fd was dropped */
	for (i = MANY - 600; i < MANY; i++)	/* push f00000 out */
		getattr(ids[i], NULL);
	{
		char p[PATH_MAX];

		path_of(p, sizeof(p), "many/f00000");
		CHECK_EQ(unlink(p), 0);
	}
	CHECK_EQ(getattr(ids[0], NULL), -ESTALE);
	CHECK_EQ(nwrite_file("many/f00000", "new", 3, 0644), 0);
	CHECK_EQ(lookup(d.nodeid, "f00000", &e), 0);
	CHECK(e.nodeid != ids[0]);
	CHECK_EQ(e.attr.size, 3);
	forget(e.nodeid, 1);
	/* forget them all (two lookups each): the fds go */
	for (i = 0; i < MANY; i++)
		forget(ids[i], 2);
	CHECK(count_fds() - fds0 <= 2);
	free(ids);
	setrlimit(RLIMIT_NOFILE, &old);
}

#define NTHREADS	4
#define PER_THREAD	200

static void *worker(void *arg)
{
	long k = (long)arg;
	struct fuse_entry_out d, e;
	char name[32], buf[300], back[300];
	uint64_t fh, kept[PER_THREAD];
	int i, j, nkept = 0;

	t_seed = k + 1;
	snprintf(name, sizeof(name), "c%ld", k);
	if (!CHECK_EQ(do_mkdir(1, name, 0755, 0, &d), 0))
		return NULL;
	for (i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (!CHECK_EQ(do_create(d.nodeid, name, O_RDWR, 0644, &e, &fh),
			      0))
			break;
		for (j = 0; j < (int)sizeof(buf); j++)
			buf[j] = (char)(k * 31 + i + j);
		CHECK_EQ(do_write(e.nodeid, fh, 0, buf, sizeof(buf), 0),
			 sizeof(buf));
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(back), back),
			 sizeof(back));
		CHECK(!memcmp(buf, back, sizeof(buf)));
		CHECK_EQ(do_release(FUSE_RELEASE, e.nodeid, fh), 0);
		if (nkept) {	/* an older one, likely without an fd now */
			uint64_t id = kept[rnd() % nkept];

			CHECK_EQ(getattr(id, NULL), 0);
			if (CHECK_EQ(do_open(FUSE_OPEN, id, O_RDONLY, 0, &fh),
				     0)) {
				CHECK_EQ(do_read(id, fh, 0, 10, back), 10);
				do_release(FUSE_RELEASE, id, fh);
			}
		}
		if (i % 3 == 0) {
			CHECK_EQ(call(FUSE_UNLINK, d.nodeid, name,
				      strlen(name) + 1, NULL, 0, NULL, 0), 0);
			forget(e.nodeid, 1);
		} else {
			kept[nkept++] = e.nodeid;
		}
	}
	{
		char **names;
		uint64_t *ids;
		int n = read_dir(d.nodeid, true, 4096, &names, &ids);

		CHECK_EQ(n, nkept + 2);
		if (n > 0)
			free_names(names, ids, n);
	}
	return NULL;
}

/* Several threads at once, with few fds: eviction under contention. */
static void t_threads(void)
{
	struct lx_fuse_server *keep = srv;
	pthread_t th[NTHREADS];
	long k;

	srv = new_server(tdir, 0, 0, 16);
	if (!srv) {
		srv = keep;
		return;
	}
	for (k = 0; k < NTHREADS; k++)
		pthread_create(&th[k], NULL, worker, (void *)k);
	for (k = 0; k < NTHREADS; k++)
		pthread_join(th[k], NULL);
	lx_fuse_server_destroy(srv);
	srv = keep;
}

static void t_destroy(void)
{
	struct fuse_entry_out e;
	uint64_t fh = 0;
	int fds;

	CHECK_EQ(lookup(1, "f1", &e), 0);
	CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0);
	fds = count_fds();
	CHECK_EQ(call(FUSE_DESTROY, 0, NULL, 0, NULL, 0, NULL, 0), 0);
	CHECK(count_fds() < fds - 1);	/* the node's and the file's */
	CHECK_EQ(getattr(1, NULL), -EIO);
	CHECK_EQ(do_init(srv, NULL), 0);
	CHECK_EQ(getattr(1, NULL), 0);
	CHECK_EQ(getattr(e.nodeid, NULL), -ESTALE);
	CHECK_EQ(do_read(e.nodeid, fh, 0, 1, &e), -EBADF);
	CHECK_EQ(lookup(1, "f1", &e), 0);
}

static bool private_mounts;	/* the test has a mount namespace of its own */

/* A tmpfs mounted inside the share: handles work across mounts. */
static void t_submount(void)
{
	struct lx_fuse_server *keep = srv;
	struct fuse_entry_out m, e;
	uint64_t ids[64], fh;
	char p[PATH_MAX], name[32], buf[32];
	int i, fds0;

	if (!CHECK(private_mounts))
		return;
	path_of(p, sizeof(p), "tm");
	CHECK_EQ(mkdir(p, 0755), 0);
	if (!CHECK_EQ(mount("lx-fuse-unit", p, "tmpfs", 0, "mode=0700"), 0))
		return;
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "tm/t%02d", i);
		CHECK_EQ(nwrite_file(name, name, strlen(name), 0644), 0);
	}
	fds0 = count_fds();
	srv = new_server(tdir, 0, 0, 8);
	if (!srv)
		goto out;
	fds0++;				/* the server's root */
	/* a caller that cannot search the mount's root enters it first */
	as_user(1000, 1000);
	CHECK_EQ(lookup(1, "tm", &m), 0);
	CHECK_EQ(lookup(m.nodeid, "t00", &e), -EACCES);
	as_user(0, 0);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "t%02d", i);
		ids[i] = 0;
		if (CHECK_EQ(lookup(m.nodeid, name, &e), 0))
			ids[i] = e.nodeid;
	}
	/* 8 O_PATH fds, the tmpfs mount's fd and a few more */
	CHECK(count_fds() - fds0 <= 8 + 1 + 2);
	for (i = 0; i < 64; i += 7) {
		snprintf(name, sizeof(name), "tm/t%02d", i);
		if (CHECK_EQ(do_open(FUSE_OPEN, ids[i], O_RDONLY, 0, &fh), 0)) {
			CHECK_EQ(do_read(ids[i], fh, 0, sizeof(buf), buf),
				 (long)strlen(name));
			CHECK(!memcmp(buf, name, strlen(name)));
			do_release(FUSE_RELEASE, ids[i], fh);
		}
	}
	lx_fuse_server_destroy(srv);
out:
	srv = keep;
	CHECK_EQ(umount2(p, MNT_DETACH), 0);
}

/*
 * Without CAP_DAC_READ_SEARCH (a server not run as root) handles do not
 * open: the server sees it when it first meets the mount and keeps every
 * inode's fd, the ones CREATE makes too, whatever max_fds says.
 */
static void t_nocap(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct lx_fuse_server *keep = srv;
	struct fuse_entry_out e[6], l;
	char p[PATH_MAX], name[16], buf[8];
	uint64_t fh;
	int i, st;
	pid_t pid;

	path_of(p, sizeof(p), "nocap");
	CHECK_EQ(mkdir(p, 0755), 0);
	pid = fork();
	if (pid == 0) {
		t_failed = 0;
		if (syscall(SYS_capget, &h, d))
			_exit(100);
		d[0].effective &= ~(1U << CAP_DAC_READ_SEARCH);
		d[0].permitted &= ~(1U << CAP_DAC_READ_SEARCH);
		if (syscall(SYS_capset, &h, d))
			_exit(101);
		srv = new_server(p, 0, 0, 2);
		if (!srv)
			_exit(102);
		for (i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			CHECK_EQ(do_create(1, name, O_RDWR, 0644, &e[i], &fh), 0);
			CHECK_EQ(do_write(e[i].nodeid, fh, 0, name, 2, 0), 2);
			CHECK_EQ(do_release(FUSE_RELEASE, e[i].nodeid, fh), 0);
		}
		for (i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			CHECK_EQ(lookup(1, name, &l), 0);
			CHECK_EQ(l.nodeid, e[i].nodeid);
			if (CHECK_EQ(do_open(FUSE_OPEN, e[i].nodeid, O_RDONLY, 0,
					     &fh), 0)) {
				CHECK_EQ(do_read(e[i].nodeid, fh, 0, sizeof(buf),
						 buf), 2);
				CHECK(!memcmp(buf, name, 2));
				do_release(FUSE_RELEASE, e[i].nodeid, fh);
			}
		}
		lx_fuse_server_destroy(srv);
		_exit(t_failed ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0);
	srv = keep;
}

/* ramfs gives no file handles: fds are kept, files reopened by name. */
static void t_nohandles(void)
{
	struct lx_fuse_server *keep = srv;
	struct fuse_entry_out a, d, e;
	struct fuse_attr st_a;
	struct fuse_rename_in ri;
	char p[PATH_MAX], buf[16];
	uint64_t fh;
	int fd;

	if (!CHECK(private_mounts))
		return;
	path_of(p, sizeof(p), "rf");
	CHECK_EQ(mkdir(p, 0755), 0);
	if (!CHECK_EQ(mount("lx-fuse-unit", p, "ramfs", 0, NULL), 0))
		return;
	CHECK_EQ(nwrite_file("rf/a", "aaa", 3, 0644), 0);
	path_of(p, sizeof(p), "rf/d");
	CHECK_EQ(mkdir(p, 0755), 0);
	path_of(p, sizeof(p), "rf");
	{
		union {
			struct file_handle h;
			char b[sizeof(struct file_handle) + 128];
		} fb;
		int mid;

		fb.h.handle_bytes = 128;
		CHECK_EQ(name_to_handle_at(AT_FDCWD, p, &fb.h, &mid, 0), -1);
	}
	srv = new_server(p, 0, 0, 4);
	if (!srv)
		goto out;
	CHECK_EQ(lookup(1, "a", &a), 0);
	CHECK_EQ(lookup(1, "d", &d), 0);
	if (CHECK_EQ(do_open(FUSE_OPEN, a.nodeid, O_RDWR, 0, &fh), 0)) {
		CHECK_EQ(do_read(a.nodeid, fh, 0, sizeof(buf), buf), 3);
		CHECK_EQ(lx_fuse_server_host_fd(srv, a.nodeid, fh, O_RDWR) >= 0,
			 1);
		do_release(FUSE_RELEASE, a.nodeid, fh);
	}
	/* renamed through FUSE: found under its new name */
	ri.newdir = d.nodeid;
	CHECK_EQ(call(FUSE_RENAME, 1, &ri, sizeof(ri), "a\0b", 4, NULL, 0), 0);
	if (CHECK_EQ(do_open(FUSE_OPEN, a.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(a.nodeid, fh, 0, sizeof(buf), buf), 3);
		CHECK(!memcmp(buf, "aaa", 3));
		do_release(FUSE_RELEASE, a.nodeid, fh);
	}
	/* exchanged: both follow */
	CHECK_EQ(nwrite_file("rf/c", "ccc", 3, 0644), 0);
	CHECK_EQ(lookup(1, "c", &e), 0);
	{
		struct fuse_rename2_in r2 = { .newdir = d.nodeid,
					      .flags = RENAME_EXCHANGE };

		CHECK_EQ(call(FUSE_RENAME2, 1, &r2, sizeof(r2), "c\0b", 4, NULL,
			      0), 0);
	}
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 3);
		CHECK(!memcmp(buf, "ccc", 3));
		do_release(FUSE_RELEASE, e.nodeid, fh);
	}
	if (CHECK_EQ(do_open(FUSE_OPEN, a.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(a.nodeid, fh, 0, sizeof(buf), buf), 3);
		CHECK(!memcmp(buf, "aaa", 3));
		do_release(FUSE_RELEASE, a.nodeid, fh);
	}
	/* replaced behind the server's back: not the same file */
	CHECK_EQ(unlink(strcat(strcpy(p, tdir), "/rf/c")), 0);
	CHECK_EQ(nwrite_file("rf/c", "new", 3, 0644), 0);
	CHECK_EQ(do_open(FUSE_OPEN, a.nodeid, O_RDONLY, 0, &fh), -ESTALE);
	/* the fds of handle-less inodes stay; the server still works */
	CHECK_EQ(do_create(d.nodeid, "n", O_RDWR, 0644, &e, &fh), 0);
	CHECK_EQ(do_write(e.nodeid, fh, 0, "nn", 2, 0), 2);
	do_release(FUSE_RELEASE, e.nodeid, fh);
	/* without handles a created node keeps an O_PATH fd: usable */
	if (CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDONLY, 0, &fh), 0)) {
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 2);
		do_release(FUSE_RELEASE, e.nodeid, fh);
	}
	lx_fuse_server_destroy(srv);

	/* a single handle-less file is reopened by the path given */
	path_of(p, sizeof(p), "rf/d/n");
	srv = new_server(p, 0, 0, 0);
	if (srv && CHECK_EQ(lookup(1, "n", &e), 0) &&
	    CHECK_EQ(do_open(FUSE_OPEN, e.nodeid, O_RDWR, 0, &fh), 0)) {
		CHECK_EQ(lookup(1, "b", &a), 0);	/* fast: negative */
		CHECK_EQ(a.nodeid, 0);
		CHECK_EQ(do_read(e.nodeid, fh, 0, sizeof(buf), buf), 2);
		CHECK_EQ(do_write(e.nodeid, fh, 2, "N", 1, 0), 1);
		fd = lx_fuse_server_host_fd(srv, e.nodeid, fh, O_RDONLY);
		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 3);
			CHECK(!memcmp(buf, "nnN", 3));
			close(fd);
		}
		do_release(FUSE_RELEASE, e.nodeid, fh);
		CHECK_EQ(getattr(1, &st_a), 0);
		CHECK_EQ(st_a.mode, S_IFDIR | 0555);
	}
	lx_fuse_server_destroy(srv);
out:
	srv = keep;
	path_of(p, sizeof(p), "rf");
	CHECK_EQ(umount2(p, MNT_DETACH), 0);
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	struct lx_fuse_opts o = { 0 };
	char err[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("Bail out! fuse-unit runs as root (setfsuid, "
		       "open_by_handle_at)\n");
		return 1;
	}
	umask(022);
	/* mounts made by the tests stay in a namespace of their own */
	private_mounts = !unshare(CLONE_NEWNS) &&
			 !mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL);
	strcpy(tdir, "/tmp/fuse-unit.XXXXXX");
	if (!mkdtemp(tdir) || chmod(tdir, 0755)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	o.dir = tdir;
	if (lx_fuse_server_create(&o, &srv, err, sizeof(err))) {
		printf("Bail out! %s\n", err);
		nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	run("INIT negotiates 7.36 and the wanted flags", t_init);
	run("malformed requests and bad names are refused", t_malformed);
	run("LOOKUP, GETATTR, FORGET, BATCH_FORGET", t_lookup);
	run("MKDIR, MKNOD, SYMLINK, READLINK with umask", t_make);
	run("CREATE, OPEN, READ, WRITE, FSYNC, FLUSH, RELEASE", t_io);
	run("CREATE enters the new node by handle, without an fd",
	    t_create_node);
	run("SETATTR: mode, owner, size, times, through fh", t_setattr);
	run("LINK, RENAME, RENAME2, UNLINK, RMDIR", t_names);
	run("OPENDIR, READDIR, READDIRPLUS, FSYNCDIR, RELEASEDIR", t_readdir);
	run("STATFS, SYNCFS", t_statfs);
	run("SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR", t_xattr);
	run("caller credentials: permissions, ownership, setgid", t_creds);
	run("suid/sgid killed on request (HANDLE_KILLPRIV_V2)", t_killpriv);
	run("GETLK, SETLK, SETLKW as OFD locks", t_locks);
	run("FALLOCATE, LSEEK, COPY_FILE_RANGE", t_ranges);
	run("symlinks are never followed", t_symlinks);
	run("read-only share", t_readonly);
	run("single-file share, strict mode, bad shares", t_single_file);
	run("host_fd", t_host_fd);
	run("10,000 files with nofile 1024", t_many);
	run("concurrent requests with 16 fds", t_threads);
	run("a tmpfs mounted inside the share", t_submount);
	run("a file system without file handles (ramfs)", t_nohandles);
	run("a server without CAP_DAC_READ_SEARCH", t_nocap);
	run("DESTROY and a new INIT", t_destroy);
	lx_fuse_server_destroy(srv);
	nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", t_n);
	if (t_failed)
		printf("# %d of %d failed\n", t_failed, t_n);
	return t_failed ? 1 : 0;
}
