// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_server.c - lx's own FUSE server: a host directory (or one host file)
 * served to the kernel's virtio-fs driver, the role virtiofsd plays for a
 * VM (DESIGN.md decisions 4 and 8).  Written from the FUSE protocol
 * (<linux/fuse.h>), protocol 7.36.
 *
 * Inodes.  Each node id names one host inode, kept as an O_PATH fd and, if
 * the file system gives them, a file handle.  Node ids are never reused
 * (a counter), and a host inode looked up again gets the node id it has
 * (a (st_dev, st_ino) index).  Host fds are finite (nofile may be 1024):
 * the table holds at most max_fds O_PATH fds; beyond that the least
 * recently used inodes that are neither open nor in use by a request lose
 * their fd and are reopened with open_by_handle_at() when used again.  A
 * file CREATE makes is entered by its handle alone (its O_PATH fd would be
 * one more open and fstat for a node often never used again): it gets an
 * fd when a request needs one.  Inodes of a file system without file
 * handles keep their fd, as all do on a mount whose handles do not open
 * (a server without CAP_DAC_READ_SEARCH, a file system that gives handles
 * it cannot open: each mount is tried once, when first met).
 *
 * A single-file share.  Linux's virtio-fs driver wants a directory as the
 * root, so when the share is a regular file the root (node 1) is a
 * synthetic, read-only directory with no host inode behind it (its fd is
 * -1): ".", ".." and the file under its own base name are all it holds.
 * The file is a node of its own, opened when the server is made and kept
 * for good (never on the LRU list, never freed by FORGET), reached only
 * through its name in the root (LOOKUP, READDIRPLUS); its host directory
 * is never opened, and the file is reopened by handle, or by the path
 * given if it has none.  Making, removing or renaming names in the root
 * gives -EPERM.
 *
 * Paths.  A request names at most one path component below a node; it is
 * resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), O_NOFOLLOW,
 * or an *at() call on the parent's O_PATH fd, so no symlink is ever
 * followed by the server, wherever it points.  A file is opened for I/O
 * with open_by_handle_at() (or openat(".") for a directory), never through
 * /proc/self/fd: /proc may be absent in the home process's sandbox, and a
 * magic link is exactly what RESOLVE_NO_MAGICLINKS forbids.  Handle-less
 * regular files are reopened by parent and name, checked to be the same
 * inode.
 *
 * Credentials.  The server runs as root.  Every operation whose outcome
 * depends on who asks runs with the caller's fsuid/fsgid (from
 * fuse_in_header; per thread, restored afterwards), so the host kernel
 * checks permissions and gives new files their owner, setgid directories
 * their group, as it would for the caller.  Supplementary groups are the
 * server thread's own: FUSE 7.36 does not send the caller's, lx checks
 * them itself (default_permissions).  Opening by file handle needs
 * CAP_DAC_READ_SEARCH, which a non-root fsuid drops, so opens are checked
 * with faccessat2(AT_EACCESS) as the caller and done as the server.
 * Each thread serving requests gets its own umask of 0 (unshare(CLONE_FS)),
 * so modes are what the kernel asked after applying the caller's umask.
 *
 * Locks.  POSIX locks are open file description (F_OFD_*) locks on the
 * server's fd of the FUSE file handle: two opens conflict with each other,
 * as two processes' locks do.  Limits: a process sharing one open file
 * with a forked child shares its locks too, and SETLKW never waits (the
 * server thread must not block on a lock another request may be needed to
 * release): it returns -EAGAIN if the lock is taken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <lx/fuse_server.h>

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452	/* Linux 6.6; older kernels give -ENOSYS */
#endif

#define SRV_MINOR		36
#define SRV_MAX_PAGES		256
#define SRV_MAX_WRITE		(SRV_MAX_PAGES * 4096U)
#define SRV_FAST_TIMEOUT	86400	/* seconds, fast mode */
#define SRV_DEFAULT_MAX_FDS	512
#define SRV_ARG_STACK		4096	/* requests this big are copied on the stack */
#define SRV_XATTR_MAX		65536
#define SRV_COPY_MAX		(1U << 30)	/* one COPY_FILE_RANGE, fits a u32 */
#define SRV_OPCODES		64	/* opcodes counted: above FUSE_SYNCFS */

#define RESOLVE_ONE	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | \
			 RESOLVE_NO_SYMLINKS)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef container_of
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#endif

/* An intrusive chained hash table keyed by 64-bit hashes. */
struct hlink {
	struct hlink *next;
	uint64_t hash;
};

struct htab {
	struct hlink **b;
	size_t nb;		/* buckets, a power of two */
	size_t n;
};

struct lx_inode {
	struct hlink by_id;
	struct hlink by_ino;
	struct lx_inode *lru_prev, *lru_next;
	uint64_t nodeid;
	dev_t dev;
	ino_t ino;
	mode_t type;		/* S_IFMT bits */
	int fd;			/* O_PATH fd, -1 while dropped */
	int mnt;		/* index in the server's mounts, with fh */
	uint64_t nlookup;
	unsigned int refs;	/* requests using it, open files */
	bool in_ids;		/* in by_id: the kernel may name it */
	bool in_inos;		/* in by_ino: lookups may find it */
	bool on_lru;		/* fd may be dropped (refs == 0, has fh) */
	struct file_handle *fh;	/* NULL: no handles here, fd is kept */
	/* without a handle: where it was last seen, to reopen it for I/O */
	uint64_t parent;
	char *name;
};

struct lx_file {
	struct hlink link;
	uint64_t fh;
	int fd;
	int accmode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	bool is_dir;
	bool hashed;
	bool locked;		/* lock_owner set locks through it */
	unsigned int refs;
	uint64_t lock_owner;
	struct lx_inode *ino;
	pthread_mutex_t dir_lock;	/* lseek + getdents of READDIR */
};

struct lx_mnt {
	int mount_id;
	int fd;			/* any fd on it, for open_by_handle_at */
	bool opens;		/* its handles open: they are used */
};

struct lx_fuse_server {
	pthread_mutex_t lock;	/* everything below but constants */
	struct htab ids, inos, files;
	struct lx_inode *root;
	struct lx_inode *single;	/* the file of a single-file share */
	struct lx_inode *lru_head, *lru_tail;	/* head: least recent */
	unsigned int nfds;	/* O_PATH fds held by inodes */
	unsigned int max_fds;
	uint64_t next_nodeid, next_fh;
	struct lx_mnt *mnts;
	int nmnts;
	unsigned int n_nofh;	/* inodes without a file handle */
	/* constants after create */
	char *root_path;	/* a single file without handles reopens here */
	char *single_name;	/* the single file's name in the root */
	uint64_t root_ino;	/* inode number of the synthetic root */
	bool readonly, strict, switch_creds;
	uid_t uid;
	gid_t gid;
	/* from INIT */
	bool inited;
	uint32_t minor;
	/* requests served, by opcode (atomic) */
	uint64_t served[SRV_OPCODES];
};

/* One request being served. */
struct req {
	struct lx_fuse_server *s;
	struct fuse_in_header h;
	const char *arg;	/* private copy of the arguments */
	size_t arglen;
	const struct iovec *in;
	int nin;
	const struct iovec *out;
	int nout;
	size_t outcap;
	bool as_caller;
};

/* ---- hash tables ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t devino_hash(dev_t dev, ino_t ino)
{
	return mix64((uint64_t)ino ^ mix64((uint64_t)dev + 1));
}

static int ht_init(struct htab *t)
{
	t->nb = 64;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	return t->b ? 0 : -ENOMEM;
}

static void ht_grow(struct htab *t)
{
	size_t nb = t->nb * 2, i;
	struct hlink **b = calloc(nb, sizeof(*b));
	struct hlink *l, *next;

	if (!b)
		return;		/* longer chains, still correct */
	for (i = 0; i < t->nb; i++) {
		for (l = t->b[i]; l; l = next) {
			next = l->next;
			l->next = b[l->hash & (nb - 1)];
			b[l->hash & (nb - 1)] = l;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void ht_add(struct htab *t, struct hlink *l, uint64_t hash)
{
	struct hlink **slot;

	if (t->n >= t->nb)
		ht_grow(t);
	l->hash = hash;
	slot = &t->b[hash & (t->nb - 1)];
	l->next = *slot;
	*slot = l;
	t->n++;
}

static void ht_del(struct htab *t, struct hlink *l)
{
	struct hlink **p = &t->b[l->hash & (t->nb - 1)];

	while (*p && *p != l)
		p = &(*p)->next;
	if (*p) {
		*p = l->next;
		t->n--;
	}
}

static struct hlink *ht_first(const struct htab *t, uint64_t hash)
{
	return t->b[hash & (t->nb - 1)];
}

/* ---- iovecs ---- */

/* Total length, or SIZE_MAX if it overflows. */
static size_t iov_total(const struct iovec *v, int n)
{
	size_t t = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (v[i].iov_len > SIZE_MAX - t)
			return SIZE_MAX;
		t += v[i].iov_len;
	}
	return t;
}

/* Copy len bytes at byte offset off of v into buf; returns bytes copied. */
static size_t iov_read(const struct iovec *v, int n, size_t off, void *buf,
		       size_t len)
{
	size_t done = 0;
	int i;

	for (i = 0; i < n && done < len; i++) {
		size_t l = v[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		c = l - off < len - done ? l - off : len - done;
		memcpy((char *)buf + done, (char *)v[i].iov_base + off, c);
		done += c;
		off = 0;
	}
	return done;
}

/* Copy len bytes of buf to byte offset off of v; returns bytes copied. */
static size_t iov_write(const struct iovec *v, int n, size_t off,
			const void *buf, size_t len)
{
	size_t done = 0;
	int i;

	for (i = 0; i < n && done < len; i++) {
		size_t l = v[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		c = l - off < len - done ? l - off : len - done;
		memcpy((char *)v[i].iov_base + off, (const char *)buf + done, c);
		done += c;
		off = 0;
	}
	return done;
}

/*
 * Up to max iovecs covering bytes [off, off + len) of v, into dst; returns
 * how many, and in *covered how many bytes they cover (less than len if v
 * is shorter or max too small).
 */
static int iov_slice(const struct iovec *v, int n, size_t off, size_t len,
		     struct iovec *dst, int max, size_t *covered)
{
	int i, k = 0;

	*covered = 0;
	for (i = 0; i < n && len && k < max; i++) {
		size_t l = v[i].iov_len, c;

		if (off >= l) {
			off -= l;
			continue;
		}
		c = l - off < len ? l - off : len;
		dst[k].iov_base = (char *)v[i].iov_base + off;
		dst[k].iov_len = c;
		k++;
		len -= c;
		*covered += c;
		off = 0;
	}
	return k;
}

/* ---- request arguments ---- */

/* The next argument of size len, or NULL if the request is shorter. */
static const void *arg_take(struct req *r, size_t *pos, size_t len)
{
	const void *p;

	if (*pos > r->arglen || len > r->arglen - *pos)
		return NULL;
	p = r->arg + *pos;
	*pos += len;
	return p;
}

/*
 * The next argument as a name: NUL-terminated inside the request and one
 * path component (not empty, ".", ".." and without '/').  -errno if not.
 */
static int arg_name(struct req *r, size_t *pos, const char **name)
{
	const char *p = r->arg + *pos;
	size_t avail, len;

	if (*pos >= r->arglen)
		return -EINVAL;
	avail = r->arglen - *pos;
	len = strnlen(p, avail);
	if (len == avail || len == 0)
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(p, '/', len) ||
	    (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '.'))))
		return -EINVAL;
	*pos += len + 1;
	*name = p;
	return 0;
}

/* ---- credentials ---- */

static __thread bool thread_ready;

/*
 * A thread serving requests gets an fs_struct of its own with umask 0, so
 * the modes the kernel sends (already masked with the caller's umask) are
 * the modes files get.  If unshare fails, the process umask also applies.
 */
static void thread_prepare(void)
{
	if (thread_ready)
		return;
	thread_ready = true;
	if (unshare(CLONE_FS) == 0)
		umask(0);
}

static void creds_set(uid_t uid, gid_t gid)
{
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
}

/* Act as the caller of r from now on (until creds_server). */
static int creds_caller(struct req *r)
{
	struct lx_fuse_server *s = r->s;

	if (!s->switch_creds || r->as_caller ||
	    (r->h.uid == s->uid && r->h.gid == s->gid))
		return 0;
	creds_set(r->h.uid, r->h.gid);
	r->as_caller = true;
	/* setfsuid reports no error: check that it took */
	if ((uid_t)syscall(SYS_setfsuid, -1) != r->h.uid ||
	    (gid_t)syscall(SYS_setfsgid, -1) != r->h.gid) {
		creds_set(s->uid, s->gid);
		r->as_caller = false;
		return -EPERM;
	}
	return 0;
}

static void creds_server(struct req *r)
{
	if (!r->as_caller)
		return;
	creds_set(r->s->uid, r->s->gid);
	r->as_caller = false;
}

/* ---- attributes ---- */

/* dev_t in the kernel's new_encode_dev() form, as FUSE carries it */
static uint32_t dev_encode(dev_t d)
{
	uint32_t ma = major(d), mi = minor(d);

	return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffU) << 12);
}

static dev_t dev_decode(uint32_t d)
{
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

static void fill_attr(struct fuse_attr *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->mtime = st->st_mtim.tv_sec;
	a->ctime = st->st_ctim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev = dev_encode(st->st_rdev);
	a->blksize = st->st_blksize;
}

static uint64_t timeout(const struct lx_fuse_server *s)
{
	return s->strict ? 0 : SRV_FAST_TIMEOUT;
}

static int xfstat(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) ?
	       -errno : 0;
}

static bool no_openat2;	/* Linux < 5.6, or valgrind < 3.20 */

/*
 * Open name, one checked path component, below dirfd.  Without openat2,
 * openat(O_NOFOLLOW) is as safe for a single component: it has no '/' and
 * is not "..", so the only link it could follow is itself.
 */
static int xopenat2(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_ONE,
	};
	long fd = -1;

	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd < 0 ? -errno : (int)fd;
		__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
	}
	fd = openat(dirfd, name, (int)how.flags, (mode_t)how.mode);
	return fd < 0 ? -errno : (int)fd;
}

/* Permission check as the current (caller's) credentials; 0 or -errno. */
static int xaccess(int fd, int mask)
{
	return syscall(SYS_faccessat2, fd, "", mask,
		       AT_EMPTY_PATH | AT_EACCESS) ? -errno : 0;
}

/* ---- the inode table (s->lock held unless said otherwise) ---- */

/* The root and a single-file share's file live as long as the server. */
static bool ino_pinned(const struct lx_fuse_server *s,
		       const struct lx_inode *ino)
{
	return ino == s->root || ino == s->single;
}

/* Node nodeid is a single-file share's synthetic root directory. */
static bool synth_root(const struct lx_fuse_server *s, uint64_t nodeid)
{
	return s->single && nodeid == FUSE_ROOT_ID;
}

union fhbuf {
	struct file_handle h;
	char b[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

/* The file handle of fd's inode; false if its file system gives none. */
static bool get_handle(int fd, union fhbuf *fb, int *mount_id)
{
	fb->h.handle_bytes = MAX_HANDLE_SZ;
	return name_to_handle_at(fd, "", &fb->h, mount_id, AT_EMPTY_PATH) == 0;
}

static bool fh_equal(const struct file_handle *a, const struct file_handle *b)
{
	return a->handle_bytes == b->handle_bytes &&
	       a->handle_type == b->handle_type &&
	       !memcmp(a->f_handle, b->f_handle, a->handle_bytes);
}

/* Index of known mount mount_id in s->mnts, or -1. */
static int mnt_find(const struct lx_fuse_server *s, int mount_id)
{
	int i;

	for (i = 0; i < s->nmnts; i++)
		if (s->mnts[i].mount_id == mount_id)
			return i;
	return -1;
}

/* Index of a known mount whose handles open, or -1. */
static int mnt_opens(const struct lx_fuse_server *s, int mount_id)
{
	int i = mnt_find(s, mount_id);

	return i >= 0 && s->mnts[i].opens ? i : -1;
}

/*
 * Index of mount mount_id in s->mnts; a new mount is added with an fd of
 * directory dirfd (an O_PATH fd on it) or, if dirfd < 0, with mfd, and
 * fh, a handle of a file on it, is opened once to see whether its handles
 * open: without CAP_DAC_READ_SEARCH (a server not run as root), or on a
 * file system that gives handles it cannot open, they are not used.
 * open_by_handle_at() wants a real open fd there (it refuses O_PATH).
 */
static int mnt_index(struct lx_fuse_server *s, int mount_id, int dirfd,
		     int mfd, struct file_handle *fh)
{
	struct lx_mnt *m;
	int i, nfd, err, t = -1;
	uid_t ou;
	gid_t og;

	i = mnt_find(s, mount_id);
	if (i >= 0)
		return i;
	/*
	 * As the server: the caller may lack search permission, and a
	 * non-root fsuid drops the CAP_DAC_READ_SEARCH handles need.
	 */
	ou = s->switch_creds ? syscall(SYS_setfsuid, s->uid) : 0;
	og = s->switch_creds ? syscall(SYS_setfsgid, s->gid) : 0;
	if (dirfd >= 0)
		nfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		nfd = fcntl(mfd, F_DUPFD_CLOEXEC, 0);
	err = nfd < 0 ? -errno : 0;
	if (nfd >= 0)
		t = open_by_handle_at(nfd, fh, O_PATH | O_CLOEXEC);
	if (s->switch_creds)
		creds_set(ou, og);
	if (err)
		return err;
	if (t >= 0)
		close(t);
	m = realloc(s->mnts, (s->nmnts + 1) * sizeof(*m));
	if (!m) {
		close(nfd);
		return -ENOMEM;
	}
	s->mnts = m;
	m[s->nmnts].mount_id = mount_id;
	m[s->nmnts].fd = nfd;
	m[s->nmnts].opens = t >= 0;
	return s->nmnts++;
}

static void lru_del(struct lx_fuse_server *s, struct lx_inode *ino)
{
	if (!ino->on_lru)
		return;
	if (ino->lru_prev)
		ino->lru_prev->lru_next = ino->lru_next;
	else
		s->lru_head = ino->lru_next;
	if (ino->lru_next)
		ino->lru_next->lru_prev = ino->lru_prev;
	else
		s->lru_tail = ino->lru_prev;
	ino->lru_prev = ino->lru_next = NULL;
	ino->on_lru = false;
}

/* Idle inodes whose fd can be reopened by handle go on the LRU list. */
static void lru_add(struct lx_fuse_server *s, struct lx_inode *ino)
{
	if (ino->on_lru || ino->fd < 0 || !ino->fh || ino->refs ||
	    ino_pinned(s, ino))
		return;
	ino->lru_prev = s->lru_tail;
	ino->lru_next = NULL;
	if (s->lru_tail)
		s->lru_tail->lru_next = ino;
	else
		s->lru_head = ino;
	s->lru_tail = ino;
	ino->on_lru = true;
}

/* Drop the fds of the least recently used idle inodes over the bound. */
static void lru_trim(struct lx_fuse_server *s)
{
	while (s->nfds > s->max_fds && s->lru_head) {
		struct lx_inode *ino = s->lru_head;

		lru_del(s, ino);
		close(ino->fd);
		ino->fd = -1;
		s->nfds--;
	}
}

static void ino_free(struct lx_fuse_server *s, struct lx_inode *ino)
{
	lru_del(s, ino);
	if (ino->fd >= 0) {
		close(ino->fd);
		s->nfds--;
	}
	if (!ino->fh && !ino_pinned(s, ino))
		s->n_nofh--;
	free(ino->fh);
	free(ino->name);
	free(ino);
}

/* Forgotten by the kernel: no longer found; freed once unused. */
static void ino_unhash(struct lx_fuse_server *s, struct lx_inode *ino)
{
	if (ino->in_ids) {
		ht_del(&s->ids, &ino->by_id);
		ino->in_ids = false;
	}
	if (ino->in_inos) {
		ht_del(&s->inos, &ino->by_ino);
		ino->in_inos = false;
	}
	if (!ino->refs)
		ino_free(s, ino);
}

static struct lx_inode *ino_find(struct lx_fuse_server *s, uint64_t nodeid)
{
	uint64_t h = mix64(nodeid);
	struct hlink *l;

	for (l = ht_first(&s->ids, h); l; l = l->next) {
		struct lx_inode *ino = container_of(l, struct lx_inode, by_id);

		if (ino->nodeid == nodeid)
			return ino;
	}
	return NULL;
}

static void ino_put_locked(struct lx_fuse_server *s, struct lx_inode *ino)
{
	if (--ino->refs)
		return;
	if (!ino->in_ids) {
		ino_free(s, ino);
		return;
	}
	lru_add(s, ino);
	lru_trim(s);
}

/* Lock not held. */
static void ino_put(struct lx_fuse_server *s, struct lx_inode *ino)
{
	if (!ino)
		return;
	pthread_mutex_lock(&s->lock);
	ino_put_locked(s, ino);
	pthread_mutex_unlock(&s->lock);
}

/*
 * Lock not held.  The inode of nodeid, with its O_PATH fd, held for the
 * request until ino_put().  Reopening a dropped fd by handle needs
 * CAP_DAC_READ_SEARCH: call it with the server's credentials.  The
 * synthetic root of a single-file share has no fd (-1) and no handle:
 * a host call made on it fails with -EBADF.
 */
static int ino_get(struct lx_fuse_server *s, uint64_t nodeid,
		   struct lx_inode **out)
{
	struct lx_inode *ino;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	ino = ino_find(s, nodeid);
	if (!ino) {
		err = -ESTALE;
		goto out;
	}
	if (ino->fd < 0 && ino->fh) {
		int fd = open_by_handle_at(s->mnts[ino->mnt].fd, ino->fh,
					   O_PATH | O_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			goto out;
		}
		ino->fd = fd;
		s->nfds++;
	}
	lru_del(s, ino);
	ino->refs++;
	*out = ino;
	lru_trim(s);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

/*
 * Lock not held.  Count one lookup of the inode behind fd that st
 * describes, found as name in node parent, and give it held (ino_put()):
 * the node it has if it is known, else a new one.  With keep, fd is an
 * O_PATH fd the table takes (or closes).  Without, fd stays the caller's
 * and only its file handle is taken: the node is reopened by handle when
 * a request needs it; -EOPNOTSUPP if fd has no handle the table can use.
 */
static int ino_enter(struct lx_fuse_server *s, int fd, bool keep,
		     const struct stat *st, uint64_t parent, const char *name,
		     struct lx_inode **out)
{
	uint64_t h = devino_hash(st->st_dev, st->st_ino);
	struct lx_inode *ino = NULL;
	struct hlink *l, *next;
	int mount_id = -1, err = 0;
	union fhbuf fb;
	bool has_fh;

	has_fh = get_handle(fd, &fb, &mount_id);
	pthread_mutex_lock(&s->lock);
	for (l = ht_first(&s->inos, h); l; l = next) {
		struct lx_inode *c = container_of(l, struct lx_inode, by_ino);

		next = l->next;
		if (c->dev != st->st_dev || c->ino != st->st_ino)
			continue;
		/* an fd held pins the inode: its number cannot be reused */
		if (c->fd >= 0 || (has_fh && c->fh && fh_equal(c->fh, &fb.h) &&
				   s->mnts[c->mnt].mount_id == mount_id)) {
			ino = c;
			break;
		}
		/* deleted while its fd was dropped; the number is reused */
		ht_del(&s->inos, &c->by_ino);
		c->in_inos = false;
	}
	if (!keep)
		fd = -1;
	if (ino) {
		ino->nlookup++;
		if (ino->fd < 0 && fd >= 0) {
			ino->fd = fd;
			s->nfds++;
			fd = -1;
		}
		lru_del(s, ino);	/* held: off the list until put */
		if (!ino->fh && name) {
			char *n = strdup(name);

			if (n) {
				free(ino->name);
				ino->name = n;
				ino->parent = parent;
			}
		}
		goto out;
	}
	if (!keep && (!has_fh || S_ISDIR(st->st_mode) ||
		      mnt_opens(s, mount_id) < 0)) {
		err = -EOPNOTSUPP;	/* known mounts only; see below */
		goto out;
	}
	ino = calloc(1, sizeof(*ino));
	if (!ino) {
		err = -ENOMEM;
		goto out;
	}
	ino->nodeid = s->next_nodeid++;
	ino->dev = st->st_dev;
	ino->ino = st->st_ino;
	ino->type = st->st_mode & S_IFMT;
	ino->nlookup = 1;
	ino->mnt = -1;
	/* a mount is entered through its root, a directory */
	if (has_fh) {
		int m = S_ISDIR(st->st_mode) ?
			mnt_index(s, mount_id, fd, -1, &fb.h) :
			mnt_opens(s, mount_id);
		size_t sz = sizeof(struct file_handle) + fb.h.handle_bytes;

		ino->fh = m >= 0 && s->mnts[m].opens ? malloc(sz) : NULL;
		if (ino->fh) {
			memcpy(ino->fh, &fb.h, sz);
			ino->mnt = m;
		}
	}
	if (!ino->fh && !keep) {
		free(ino);	/* no fd and no handle: unreachable */
		ino = NULL;
		err = -EOPNOTSUPP;
		goto out;
	}
	if (!ino->fh) {
		s->n_nofh++;
		ino->parent = parent;
		ino->name = name ? strdup(name) : NULL;
	}
	ino->fd = fd;
	if (fd >= 0)
		s->nfds++;
	fd = -1;
	ht_add(&s->ids, &ino->by_id, mix64(ino->nodeid));
	ino->in_ids = true;
	ht_add(&s->inos, &ino->by_ino, h);
	ino->in_inos = true;
out:
	if (ino && !err) {
		ino->refs++;
		*out = ino;
	}
	lru_trim(s);
	pthread_mutex_unlock(&s->lock);
	if (fd >= 0)
		close(fd);
	return err;
}

/* Lock not held. */
static void ino_forget(struct lx_fuse_server *s, uint64_t nodeid, uint64_t n)
{
	struct lx_inode *ino;

	pthread_mutex_lock(&s->lock);
	ino = ino_find(s, nodeid);
	if (ino && ino != s->root) {
		if (n >= ino->nlookup) {
			ino->nlookup = 0;
			if (ino != s->single)	/* found again by name */
				ino_unhash(s, ino);
		} else {
			ino->nlookup -= n;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Lock not held.  Reopen a regular file without a file handle through the
 * name it was last seen under, and check it is still the same inode.
 */
static int ino_open_by_name(struct lx_fuse_server *s, struct lx_inode *ino,
			    int flags)
{
	char name[NAME_MAX + 1];
	struct lx_inode *p;
	uint64_t parent;
	struct stat st;
	int fd, err;

	if (ino == s->single) {	/* a single file: the path we were given */
		fd = open(s->root_path, flags | O_NONBLOCK);
		if (fd < 0)
			return -errno;
		goto check;
	}
	pthread_mutex_lock(&s->lock);
	if (!ino->name || strlen(ino->name) > NAME_MAX) {
		pthread_mutex_unlock(&s->lock);
		return -ESTALE;
	}
	strcpy(name, ino->name);
	parent = ino->parent;
	pthread_mutex_unlock(&s->lock);
	err = ino_get(s, parent, &p);
	if (err)
		return err;
	/* O_NONBLOCK: the name may be a FIFO by now; opening it must not wait */
	fd = xopenat2(p->fd, name, flags | O_NONBLOCK, 0);
	ino_put(s, p);
	if (fd < 0)
		return fd == -ENOENT ? -ESTALE : fd;
check:
	err = xfstat(fd, &st);
	if (!err && (st.st_dev != ino->dev || st.st_ino != ino->ino))
		err = -ESTALE;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Lock not held.  A new fd of inode ino (held) for I/O, opened with the
 * server's credentials: the caller's permission is checked before, with
 * xaccess() as the caller.  Only directories and regular files are ever
 * opened: a FIFO or device node in the share stays inert.
 */
static int ino_open(struct lx_fuse_server *s, struct lx_inode *ino, int flags)
{
	struct file_handle *fh;
	int fd, mfd = -1;

	if (S_ISDIR(ino->type)) {
		fd = openat(ino->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (!S_ISREG(ino->type))
		return S_ISLNK(ino->type) ? -ELOOP : -EPERM;
	fh = ino->fh;		/* constant while ino lives */
	if (!fh)
		return ino_open_by_name(s, ino, flags | O_CLOEXEC);
	pthread_mutex_lock(&s->lock);
	mfd = s->mnts[ino->mnt].fd;
	pthread_mutex_unlock(&s->lock);
	fd = open_by_handle_at(mfd, fh, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- open files ---- */

/*
 * Lock not held.  A new FUSE file handle for fd (consumed) of ino (held);
 * fd is -1 for the synthetic root of a single-file share.
 */
static int file_new(struct lx_fuse_server *s, struct lx_inode *ino, int fd,
		    int accmode, bool is_dir, uint64_t *fh)
{
	struct lx_file *f = calloc(1, sizeof(*f));

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&f->dir_lock, NULL);
	f->fd = fd;
	f->accmode = accmode;
	f->is_dir = is_dir;
	f->refs = 1;		/* the table's */
	pthread_mutex_lock(&s->lock);
	f->fh = s->next_fh++;
	f->ino = ino;
	ino->refs++;
	ht_add(&s->files, &f->link, mix64(f->fh));
	f->hashed = true;
	pthread_mutex_unlock(&s->lock);
	*fh = f->fh;
	return 0;
}

static struct lx_file *file_find(struct lx_fuse_server *s, uint64_t fh)
{
	uint64_t h = mix64(fh);
	struct hlink *l;

	for (l = ht_first(&s->files, h); l; l = l->next) {
		struct lx_file *f = container_of(l, struct lx_file, link);

		if (f->fh == fh)
			return f;
	}
	return NULL;
}

/* Lock not held.  Open file fh, held until file_put(). */
static int file_get(struct lx_fuse_server *s, uint64_t fh,
		    struct lx_file **out)
{
	struct lx_file *f;

	pthread_mutex_lock(&s->lock);
	f = file_find(s, fh);
	if (f)
		f->refs++;
	pthread_mutex_unlock(&s->lock);
	*out = f;
	return f ? 0 : -EBADF;
}

static void file_free(struct lx_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	pthread_mutex_destroy(&f->dir_lock);
	free(f);
}

/* Lock not held. */
static void file_put(struct lx_fuse_server *s, struct lx_file *f)
{
	bool last;

	if (!f)
		return;
	pthread_mutex_lock(&s->lock);
	last = --f->refs == 0;
	if (last)
		ino_put_locked(s, f->ino);
	pthread_mutex_unlock(&s->lock);
	if (last)
		file_free(f);
}

/*
 * Lock not held.  Take fh out of the table (RELEASE); the caller drops the
 * table's reference with file_put() when done with it.
 */
static int file_unhash(struct lx_fuse_server *s, uint64_t fh,
		       struct lx_file **out)
{
	struct lx_file *f;

	pthread_mutex_lock(&s->lock);
	f = file_find(s, fh);
	if (f) {
		ht_del(&s->files, &f->link);
		f->hashed = false;
	}
	pthread_mutex_unlock(&s->lock);
	*out = f;
	return f ? 0 : -EBADF;
}

/*
 * Lock not held.  Close every file and forget every node but the root
 * (DESTROY, and before freeing the server).  Requests still running keep
 * what they hold until they finish.
 */
static void srv_reset(struct lx_fuse_server *s)
{
	struct hlink *l, *next;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->files.nb; i++) {
		for (l = s->files.b[i]; l; l = next) {
			struct lx_file *f = container_of(l, struct lx_file,
							 link);

			next = l->next;
			ht_del(&s->files, l);
			f->hashed = false;
			if (--f->refs == 0) {
				ino_put_locked(s, f->ino);
				file_free(f);
			}
		}
	}
	for (i = 0; i < s->ids.nb; i++) {
		for (l = s->ids.b[i]; l; l = next) {
			struct lx_inode *ino = container_of(l, struct lx_inode,
							    by_id);

			next = l->next;
			if (ino == s->root)
				continue;
			ino->nlookup = 0;
			if (ino != s->single)
				ino_unhash(s, ino);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- replies ---- */

/* The reply: a header with error err, then len bytes of data. */
static long reply(struct req *r, int err, const void *data, size_t len)
{
	struct fuse_out_header oh;

	if (sizeof(oh) + len > r->outcap) {	/* callers check; still */
		err = -EINVAL;
		len = 0;
	}
	oh.len = sizeof(oh) + len;
	oh.error = err;
	oh.unique = r->h.unique;
	iov_write(r->out, r->nout, 0, &oh, sizeof(oh));
	if (len)
		iov_write(r->out, r->nout, sizeof(oh), data, len);
	return oh.len;
}

/* Copy the next argument (a fixed-size struct) out of the request. */
static int arg_get(struct req *r, size_t *pos, void *dst, size_t len)
{
	const void *p = arg_take(r, pos, len);

	if (!p)
		return -EINVAL;
	memcpy(dst, p, len);
	return 0;
}

/* Bytes of reply data that fit after the header. */
static size_t reply_room(const struct req *r)
{
	return r->outcap - sizeof(struct fuse_out_header);
}

/* Fill e for node nodeid that st describes. */
static void entry_fill(struct req *r, uint64_t nodeid, const struct stat *st,
		       struct fuse_entry_out *e)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = nodeid;
	e->entry_valid = timeout(r->s);
	e->attr_valid = timeout(r->s);
	fill_attr(&e->attr, st);
}

/*
 * Fill e for the inode behind fd (an O_PATH fd, consumed), found as name
 * in node parent, counting one lookup of it.
 */
static int make_entry(struct req *r, uint64_t parent, const char *name,
		      int fd, struct fuse_entry_out *e)
{
	struct lx_inode *ino;
	struct stat st;
	int err = xfstat(fd, &st);

	if (err) {
		close(fd);
		return err;
	}
	err = ino_enter(r->s, fd, true, &st, parent, name, &ino);
	if (err)
		return err;
	entry_fill(r, ino->nodeid, &st, e);
	ino_put(r->s, ino);
	return 0;
}

/* Look name up below dirfd (of node parent) as is, into e. */
static int lookup_at(struct req *r, int dirfd, uint64_t parent,
		     const char *name, struct fuse_entry_out *e)
{
	int fd = xopenat2(dirfd, name, O_PATH, 0);

	if (fd < 0)
		return fd;
	return make_entry(r, parent, name, fd, e);
}

static long reply_attr(struct req *r, int fd)
{
	struct fuse_attr_out o;
	struct stat st;
	int err = xfstat(fd, &st);

	if (err)
		return err;
	memset(&o, 0, sizeof(o));
	o.attr_valid = timeout(r->s);
	fill_attr(&o.attr, &st);
	return reply(r, 0, &o, sizeof(o));
}

/*
 * Fill e for a single-file share's file, found in the root under its name,
 * counting one lookup of it.  Its O_PATH fd is held for good.
 */
static int single_entry(struct req *r, struct fuse_entry_out *e)
{
	struct lx_fuse_server *s = r->s;
	struct stat st;
	int err = xfstat(s->single->fd, &st);

	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	s->single->nlookup++;
	pthread_mutex_unlock(&s->lock);
	entry_fill(r, s->single->nodeid, &st, e);
	return 0;
}

/*
 * A single-file share's synthetic root: a read-only directory of root's,
 * with the times and block size of the file it holds.
 */
static long reply_root_attr(struct req *r)
{
	struct fuse_attr_out o;
	struct stat st;
	int err = xfstat(r->s->single->fd, &st);

	if (err)
		return err;
	memset(&o, 0, sizeof(o));
	o.attr_valid = timeout(r->s);
	fill_attr(&o.attr, &st);
	o.attr.ino = r->s->root_ino;
	o.attr.mode = S_IFDIR | 0555;
	o.attr.nlink = 2;
	o.attr.uid = 0;
	o.attr.gid = 0;
	o.attr.size = 0;
	o.attr.blocks = 0;
	o.attr.rdev = 0;
	return reply(r, 0, &o, sizeof(o));
}

/*
 * Clear S_ISUID, and S_ISGID if group-executable, as the host would after
 * a write or truncate by a caller without CAP_FSETID (the kernel tells us
 * when with FUSE_HANDLE_KILLPRIV_V2).  fd is open for I/O.
 */
static int kill_suidgid(int fd)
{
	struct stat st;
	mode_t m;

	if (fstat(fd, &st))
		return -errno;
	m = st.st_mode & 07777;
	if (!(m & S_ISUID) && (m & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP))
		return 0;
	m &= ~S_ISUID;
	if (m & S_IXGRP)
		m &= ~S_ISGID;
	return fchmod(fd, m) ? -errno : 0;
}

/* ---- INIT, DESTROY, lookups, attributes ---- */

static long op_init(struct req *r)
{
	struct lx_fuse_server *s = r->s;
	struct fuse_init_in in;
	struct fuse_init_out o;
	uint64_t want, kflags;

	if (r->arglen < 16)	/* major, minor, max_readahead, flags */
		return -EINVAL;
	memset(&in, 0, sizeof(in));
	memcpy(&in, r->arg, r->arglen < sizeof(in) ? r->arglen : sizeof(in));
	memset(&o, 0, sizeof(o));
	o.major = FUSE_KERNEL_VERSION;
	o.minor = SRV_MINOR;
	if (in.major > FUSE_KERNEL_VERSION)	/* the kernel retries with 7 */
		return reply(r, 0, &o, sizeof(o));
	if (in.major < FUSE_KERNEL_VERSION || in.minor < 12)
		return -EPROTO;
	kflags = in.flags;
	if ((in.flags & FUSE_INIT_EXT) && r->arglen >= 20)
		kflags |= (uint64_t)in.flags2 << 32;
	want = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC |
	       FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
	       FUSE_PARALLEL_DIROPS | FUSE_HANDLE_KILLPRIV_V2 | FUSE_MAX_PAGES;
	/* strict: the kernel drops cached pages when mtime or size change */
	want |= s->strict ? FUSE_AUTO_INVAL_DATA : FUSE_CACHE_SYMLINKS;
	want &= kflags;
	o.minor = in.minor < SRV_MINOR ? in.minor : SRV_MINOR;
	o.flags = (uint32_t)want;
	o.max_readahead = in.max_readahead;
	o.max_background = 64;
	o.congestion_threshold = 48;
	o.max_write = SRV_MAX_WRITE;
	o.time_gran = 1;
	if (want & FUSE_MAX_PAGES)
		o.max_pages = SRV_MAX_PAGES;
	s->minor = o.minor;
	__atomic_store_n(&s->inited, true, __ATOMIC_RELEASE);
	return reply(r, 0, &o, o.minor >= 23 ? sizeof(o) :
		     FUSE_COMPAT_22_INIT_OUT_SIZE);
}

static long op_destroy(struct req *r)
{
	srv_reset(r->s);
	__atomic_store_n(&r->s->inited, false, __ATOMIC_RELEASE);
	return reply(r, 0, NULL, 0);
}

static long op_lookup(struct req *r)
{
	struct fuse_entry_out e;
	struct lx_inode *p;
	const char *name;
	size_t pos = 0;
	int err;

	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	if (synth_root(r->s, r->h.nodeid)) {
		/* the file, by the name it has in the root; nothing else */
		err = strcmp(name, r->s->single_name) ? -ENOENT :
		      single_entry(r, &e);
	} else {
		err = ino_get(r->s, r->h.nodeid, &p);
		if (err)
			return err;
		err = creds_caller(r);
		if (!err) {
			err = lookup_at(r, p->fd, p->nodeid, name, &e);
			creds_server(r);
		}
		ino_put(r->s, p);
	}
	if (err == -ENOENT && !r->s->strict) {
		/* a negative entry, cached as long as positive ones */
		memset(&e, 0, sizeof(e));
		e.entry_valid = timeout(r->s);
		err = 0;
	}
	if (err)
		return err;
	return reply(r, 0, &e, sizeof(e));
}

static long op_forget(struct req *r)
{
	struct fuse_forget_in fi;
	size_t pos = 0;

	if (!arg_get(r, &pos, &fi, sizeof(fi)))
		ino_forget(r->s, r->h.nodeid, fi.nlookup);
	return 0;
}

static long op_batch_forget(struct req *r)
{
	struct fuse_batch_forget_in bi;
	struct fuse_forget_one one;
	size_t pos = 0;
	uint32_t i;

	if (arg_get(r, &pos, &bi, sizeof(bi)))
		return 0;
	for (i = 0; i < bi.count; i++) {
		if (arg_get(r, &pos, &one, sizeof(one)))
			break;
		ino_forget(r->s, one.nodeid, one.nlookup);
	}
	return 0;
}

static long op_getattr(struct req *r)
{
	struct fuse_getattr_in gi;
	struct lx_inode *ino;
	struct lx_file *f;
	long ret;
	int err;

	memset(&gi, 0, sizeof(gi));
	if (r->arglen >= sizeof(gi))
		memcpy(&gi, r->arg, sizeof(gi));
	if (gi.getattr_flags & FUSE_GETATTR_FH) {
		err = file_get(r->s, gi.fh, &f);
		if (err)
			return err;
		ret = synth_root(r->s, f->ino->nodeid) ? reply_root_attr(r) :
		      reply_attr(r, f->fd);
		file_put(r->s, f);
		return ret;
	}
	if (synth_root(r->s, r->h.nodeid))
		return reply_root_attr(r);
	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	ret = reply_attr(r, ino->fd);
	ino_put(r->s, ino);
	return ret;
}

/* chmod: as the caller, through an fd of the file (fchmod wants one). */
static int set_mode(struct req *r, struct lx_inode *ino, struct lx_file *f,
		    mode_t mode)
{
	int fd = -1, err;

	if (f) {
		fd = f->fd;
	} else if (S_ISREG(ino->type) || S_ISDIR(ino->type)) {
		fd = ino_open(r->s, ino, O_RDONLY | O_NONBLOCK);
		if (fd < 0)
			return fd;
	} else if (S_ISLNK(ino->type)) {
		return -EOPNOTSUPP;	/* Linux has no symlink modes */
	}
	err = creds_caller(r);
	if (!err) {
		if (fd >= 0)
			err = fchmod(fd, mode) ? -errno : 0;
		else	/* FIFO, socket, device: never opened; Linux >= 6.6 */
			err = syscall(__NR_fchmodat2, ino->fd, "", mode,
				      AT_EMPTY_PATH) ? -errno : 0;
		creds_server(r);
	}
	if (!f && fd >= 0)
		close(fd);
	return err == -ENOSYS ? -EOPNOTSUPP : err;
}

/* truncate: write permission checked as the caller, done as the server */
static int set_size(struct req *r, struct lx_inode *ino, struct lx_file *f,
		    uint64_t size, bool kill)
{
	int fd, err;

	if (size > INT64_MAX)
		return -EINVAL;
	if (f) {
		fd = f->fd;
	} else {
		if (!S_ISREG(ino->type))
			return S_ISDIR(ino->type) ? -EISDIR : -EINVAL;
		err = creds_caller(r);
		if (err)
			return err;
		err = xaccess(ino->fd, W_OK);
		creds_server(r);
		if (err)
			return err;
		fd = ino_open(r->s, ino, O_WRONLY | O_NONBLOCK);
		if (fd < 0)
			return fd;
	}
	err = ftruncate(fd, (off_t)size) ? -errno : 0;
	if (!err && kill)
		err = kill_suidgid(fd);
	if (!f)
		close(fd);
	return err;
}

static struct timespec time_arg(uint32_t valid, uint32_t set, uint32_t now,
				uint64_t sec, uint32_t nsec)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = UTIME_OMIT };

	if (valid & now) {
		ts.tv_nsec = UTIME_NOW;
	} else if (valid & set) {
		ts.tv_sec = (time_t)sec;
		ts.tv_nsec = nsec;	/* >= 1e9 gets -EINVAL from the host */
	}
	return ts;
}

static long op_setattr(struct req *r)
{
	struct fuse_setattr_in sa;
	struct lx_file *f = NULL;
	struct lx_inode *ino;
	size_t pos = 0;
	long ret;
	int err;

	if (arg_get(r, &pos, &sa, sizeof(sa)))
		return -EINVAL;
	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	if (sa.valid & FATTR_FH) {
		err = file_get(r->s, sa.fh, &f);
		if (err)
			goto out;
	}
	if (sa.valid & (FATTR_UID | FATTR_GID)) {
		uid_t u = (sa.valid & FATTR_UID) ? sa.uid : (uid_t)-1;
		gid_t g = (sa.valid & FATTR_GID) ? sa.gid : (gid_t)-1;

		err = creds_caller(r);
		if (err)
			goto out;
		if (fchownat(ino->fd, "", u, g,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			err = -errno;
		creds_server(r);
		if (err)
			goto out;
	}
	if (sa.valid & FATTR_MODE) {
		err = set_mode(r, ino, f, sa.mode & 07777);
		if (err)
			goto out;
	}
	if (sa.valid & FATTR_SIZE) {
		err = set_size(r, ino, f, sa.size,
			       sa.valid & FATTR_KILL_SUIDGID);
		if (err)
			goto out;
	}
	if (sa.valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW |
			FATTR_MTIME_NOW)) {
		struct timespec ts[2];

		ts[0] = time_arg(sa.valid, FATTR_ATIME, FATTR_ATIME_NOW,
				 sa.atime, sa.atimensec);
		ts[1] = time_arg(sa.valid, FATTR_MTIME, FATTR_MTIME_NOW,
				 sa.mtime, sa.mtimensec);
		err = creds_caller(r);
		if (err)
			goto out;
		if (utimensat(ino->fd, "", ts,
			      AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
			err = -errno;
		creds_server(r);
		if (err)
			goto out;
	}
out:
	ret = err ? err : reply_attr(r, ino->fd);
	file_put(r->s, f);
	ino_put(r->s, ino);
	return ret;
}

static long op_readlink(struct req *r)
{
	struct lx_inode *ino;
	char buf[PATH_MAX];
	ssize_t n;
	int err;

	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	n = S_ISLNK(ino->type) ? readlinkat(ino->fd, "", buf, sizeof(buf)) :
	    (errno = EINVAL, -1);
	if (n < 0)
		n = -errno;
	ino_put(r->s, ino);
	if (n < 0)
		return n;
	if ((size_t)n > reply_room(r))
		return -ENAMETOOLONG;
	return reply(r, 0, buf, n);
}

/* ---- making and removing names ---- */

enum { MK_NOD, MK_DIR, MK_LNK };

/* Make name in the request's node as the caller, and reply its entry. */
static long make_node(struct req *r, int kind, const char *name, mode_t mode,
		      dev_t dev, const char *target)
{
	struct fuse_entry_out e;
	struct lx_inode *p;
	int err;

	err = ino_get(r->s, r->h.nodeid, &p);
	if (err)
		return err;
	err = creds_caller(r);
	if (err)
		goto out;
	switch (kind) {
	case MK_NOD:
		err = mknodat(p->fd, name, mode, dev);
		break;
	case MK_DIR:
		err = mkdirat(p->fd, name, mode);
		break;
	default:
		err = symlinkat(target, p->fd, name);
		break;
	}
	err = err ? -errno : lookup_at(r, p->fd, p->nodeid, name, &e);
	creds_server(r);
out:
	ino_put(r->s, p);
	return err ? err : reply(r, 0, &e, sizeof(e));
}

/*
 * Device nodes are refused (-EPERM) but for whiteouts (0:0 character
 * devices, for overlayfs in lx): the share is a host directory, and a
 * device node there would be one on the host.
 */
static long op_mknod(struct req *r)
{
	struct fuse_mknod_in mi;
	const char *name;
	size_t pos = 0;
	mode_t type;
	int err;

	if (arg_get(r, &pos, &mi, sizeof(mi)))
		return -EINVAL;
	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	type = mi.mode & S_IFMT;
	switch (type) {
	case 0:
		type = S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	case S_IFCHR:
		if (mi.rdev == 0)
			break;
		return -EPERM;
	default:
		return -EPERM;
	}
	return make_node(r, MK_NOD, name, type | (mi.mode & 07777 & ~mi.umask),
			 dev_decode(mi.rdev), NULL);
}

static long op_mkdir(struct req *r)
{
	struct fuse_mkdir_in mi;
	const char *name;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &mi, sizeof(mi)))
		return -EINVAL;
	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	return make_node(r, MK_DIR, name, mi.mode & 07777 & ~mi.umask, 0, NULL);
}

static long op_symlink(struct req *r)
{
	const char *name, *target;
	size_t pos = 0, avail, len;
	int err;

	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	if (pos >= r->arglen)
		return -EINVAL;
	target = r->arg + pos;
	avail = r->arglen - pos;
	len = strnlen(target, avail);
	if (len == avail || len == 0)
		return -EINVAL;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	return make_node(r, MK_LNK, name, 0, 0, target);
}

static long remove_name(struct req *r, int flags)
{
	struct lx_inode *p;
	const char *name;
	size_t pos = 0;
	int err;

	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	err = ino_get(r->s, r->h.nodeid, &p);
	if (err)
		return err;
	err = creds_caller(r);
	if (!err) {
		err = unlinkat(p->fd, name, flags) ? -errno : 0;
		creds_server(r);
	}
	ino_put(r->s, p);
	return err ? err : reply(r, 0, NULL, 0);
}

static long op_unlink(struct req *r)
{
	return remove_name(r, 0);
}

static long op_rmdir(struct req *r)
{
	return remove_name(r, AT_REMOVEDIR);
}

/* A handle-less inode st describes is now name in node dir. */
static void track_name(struct lx_fuse_server *s, const struct stat *st,
		       uint64_t dir, const char *name)
{
	uint64_t h = devino_hash(st->st_dev, st->st_ino);
	struct hlink *l;

	pthread_mutex_lock(&s->lock);
	for (l = ht_first(&s->inos, h); l; l = l->next) {
		struct lx_inode *c = container_of(l, struct lx_inode, by_ino);
		char *n;

		if (c->fh || c->dev != st->st_dev || c->ino != st->st_ino ||
		    ino_pinned(s, c))
			continue;
		n = strdup(name);
		if (n) {
			free(c->name);
			c->name = n;
			c->parent = dir;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static long do_rename(struct req *r, uint64_t newdir, uint32_t flags,
		      size_t pos)
{
	struct lx_inode *op = NULL, *np = NULL;
	const char *oldname, *newname;
	struct stat ost, nst;
	bool track, otrack = false, ntrack = false;
	int err;

	err = arg_name(r, &pos, &oldname);
	if (!err)
		err = arg_name(r, &pos, &newname);
	if (err)
		return err;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	err = ino_get(r->s, r->h.nodeid, &op);
	if (!err)
		err = ino_get(r->s, newdir, &np);
	if (err)
		goto out;
	pthread_mutex_lock(&r->s->lock);
	track = r->s->n_nofh > 0;
	pthread_mutex_unlock(&r->s->lock);
	if (track) {
		otrack = !fstatat(op->fd, oldname, &ost, AT_SYMLINK_NOFOLLOW);
		ntrack = (flags & RENAME_EXCHANGE) &&
			 !fstatat(np->fd, newname, &nst, AT_SYMLINK_NOFOLLOW);
	}
	err = creds_caller(r);
	if (err)
		goto out;
	if (renameat2(op->fd, oldname, np->fd, newname, flags))
		err = -errno;
	creds_server(r);
	if (!err && otrack)
		track_name(r->s, &ost, np->nodeid, newname);
	if (!err && ntrack)
		track_name(r->s, &nst, op->nodeid, oldname);
out:
	ino_put(r->s, np);
	ino_put(r->s, op);
	return err ? err : reply(r, 0, NULL, 0);
}

static long op_rename(struct req *r)
{
	struct fuse_rename_in ri;
	size_t pos = 0;

	if (arg_get(r, &pos, &ri, sizeof(ri)))
		return -EINVAL;
	return do_rename(r, ri.newdir, 0, pos);
}

static long op_rename2(struct req *r)
{
	struct fuse_rename2_in ri;
	size_t pos = 0;

	if (arg_get(r, &pos, &ri, sizeof(ri)))
		return -EINVAL;
	return do_rename(r, ri.newdir, ri.flags, pos);
}

/*
 * linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH, which the caller's
 * fsuid drops: the caller's right to add a name to the directory is
 * checked as the caller, the link made as the server.
 */
static long op_link(struct req *r)
{
	struct lx_inode *o = NULL, *p = NULL;
	struct fuse_entry_out e;
	struct fuse_link_in li;
	const char *name;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &li, sizeof(li)))
		return -EINVAL;
	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	err = ino_get(r->s, li.oldnodeid, &o);
	if (!err)
		err = ino_get(r->s, r->h.nodeid, &p);
	if (err)
		goto out;
	if (S_ISDIR(o->type)) {
		err = -EPERM;
		goto out;
	}
	err = creds_caller(r);
	if (err)
		goto out;
	err = xaccess(p->fd, W_OK | X_OK);
	creds_server(r);
	if (!err && linkat(o->fd, "", p->fd, name, AT_EMPTY_PATH))
		err = -errno;
	if (!err)
		err = lookup_at(r, p->fd, p->nodeid, name, &e);
out:
	ino_put(r->s, p);
	ino_put(r->s, o);
	return err ? err : reply(r, 0, &e, sizeof(e));
}

/* ---- open files: data ---- */

/* The open(2) flags of a request the server passes on to the host. */
static int io_flags(uint32_t flags, int *accmode)
{
	int acc = flags & O_ACCMODE;

	if (acc == O_ACCMODE)
		return -EINVAL;
	*accmode = acc;
	return acc | (flags & (O_APPEND | O_TRUNC | O_SYNC | O_DSYNC));
}

static int access_mask(int acc, int flags)
{
	int mask = acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK;

	return (flags & O_TRUNC) ? mask | W_OK : mask;
}

/*
 * A file's FLUSH at close only drops the POSIX locks set through its
 * handle (op_flush): FOPEN_NOFLUSH spares the round trip, and lx's kernel
 * still flushes a file that set such a lock (kernel/patches/0013).
 */
static uint32_t fopen_flags(const struct lx_fuse_server *s, bool dir)
{
	if (dir)
		return s->strict ? 0 : FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR;
	return s->strict ? FOPEN_NOFLUSH : FOPEN_KEEP_CACHE | FOPEN_NOFLUSH;
}

static long op_open(struct req *r)
{
	struct fuse_open_out o;
	struct fuse_open_in oi;
	struct lx_inode *ino;
	int flags, acc, fd, err;
	size_t pos = 0;
	uint64_t fh;

	if (arg_get(r, &pos, &oi, sizeof(oi)))
		return -EINVAL;
	flags = io_flags(oi.flags, &acc);
	if (flags < 0)
		return flags;
	if (r->s->readonly && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	if (!S_ISREG(ino->type)) {
		err = S_ISDIR(ino->type) ? -EISDIR :
		      S_ISLNK(ino->type) ? -ELOOP : -EPERM;
		goto out;
	}
	err = creds_caller(r);
	if (err)
		goto out;
	err = xaccess(ino->fd, access_mask(acc, flags));
	creds_server(r);
	if (err)
		goto out;
	fd = ino_open(r->s, ino, flags);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	if ((oi.open_flags & FUSE_OPEN_KILL_SUIDGID) && (flags & O_TRUNC))
		kill_suidgid(fd);
	err = file_new(r->s, ino, fd, acc, false, &fh);
out:
	ino_put(r->s, ino);
	if (err)
		return err;
	memset(&o, 0, sizeof(o));
	o.fh = fh;
	o.open_flags = fopen_flags(r->s, false);
	return reply(r, 0, &o, sizeof(o));
}

/*
 * Created (or opened) as the caller by name, O_NOFOLLOW, O_NONBLOCK (a
 * FIFO of that name must not block the server) and never anything but a
 * regular file.
 */
static long op_create(struct req *r)
{
	struct {
		struct fuse_entry_out e;
		struct fuse_open_out o;
	} out;
	struct lx_inode *p, *ino = NULL;
	struct fuse_create_in ci;
	int flags, acc, fd, pfd, err;
	struct stat st, pst;
	const char *name;
	size_t pos = 0;
	uint64_t fh;

	if (arg_get(r, &pos, &ci, sizeof(ci)))
		return -EINVAL;
	err = arg_name(r, &pos, &name);
	if (err)
		return err;
	flags = io_flags(ci.flags, &acc);
	if (flags < 0)
		return flags;
	flags |= O_CREAT | (ci.flags & O_EXCL) | O_NONBLOCK;
	err = ino_get(r->s, r->h.nodeid, &p);
	if (err)
		return err;
	err = creds_caller(r);
	if (err)
		goto out;
	fd = xopenat2(p->fd, name, flags, ci.mode & 07777 & ~ci.umask);
	creds_server(r);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = xfstat(fd, &st);
	if (!err && !S_ISREG(st.st_mode))
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EPERM;
	if (!err && (ci.open_flags & FUSE_OPEN_KILL_SUIDGID) &&
	    (flags & O_TRUNC))
		kill_suidgid(fd);
	/* the node is reached again by the new file's handle */
	if (!err)
		err = ino_enter(r->s, fd, false, &st, p->nodeid, name, &ino);
	if (err == -EOPNOTSUPP) {
		/* no usable handle: the table's O_PATH fd, by name again */
		pfd = xopenat2(p->fd, name, O_PATH, 0);
		err = pfd < 0 ? pfd : xfstat(pfd, &pst);
		if (!err && (pst.st_dev != st.st_dev || pst.st_ino != st.st_ino))
			err = -ESTALE;	/* renamed or replaced meanwhile */
		if (err && pfd >= 0)
			close(pfd);
		if (!err)
			err = ino_enter(r->s, pfd, true, &st, p->nodeid, name,
					&ino);
	}
	if (!err) {
		entry_fill(r, ino->nodeid, &st, &out.e);
		err = file_new(r->s, ino, fd, acc, false, &fh);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
out:
	ino_put(r->s, ino);
	ino_put(r->s, p);
	if (err)
		return err;
	memset(&out.o, 0, sizeof(out.o));
	out.o.fh = fh;
	out.o.open_flags = fopen_flags(r->s, false);
	return reply(r, 0, &out, sizeof(out));
}

/* A scratch iovec array for n buffers (at most IOV_MAX). */
static struct iovec *iov_scratch(struct iovec *stack, int nstack, int *n)
{
	if (*n > IOV_MAX)
		*n = IOV_MAX;
	if (*n <= nstack)
		return stack;
	return malloc(*n * sizeof(struct iovec));
}

static long op_read(struct req *r)
{
	const size_t hdr = sizeof(struct fuse_out_header);
	struct iovec stack[16], *iov;
	struct fuse_out_header oh;
	struct fuse_read_in ri;
	size_t size, done = 0;
	struct lx_file *f;
	int niov = r->nout, err = 0;
	size_t pos = 0;

	if (arg_get(r, &pos, &ri, sizeof(ri)) || ri.offset > INT64_MAX)
		return -EINVAL;
	size = ri.size;
	if (size > SRV_MAX_WRITE)
		size = SRV_MAX_WRITE;
	if (size > reply_room(r))
		size = reply_room(r);
	err = file_get(r->s, ri.fh, &f);
	if (err)
		return err;
	iov = iov_scratch(stack, 16, &niov);
	if (!iov)
		err = -ENOMEM;
	else if (f->is_dir)
		err = -EISDIR;
	while (!err && done < size) {
		size_t cov;
		int k = iov_slice(r->out, r->nout, hdr + done, size - done,
				  iov, niov, &cov);
		ssize_t n = k ? preadv(f->fd, iov, k, ri.offset + done) : 0;

		if (n < 0 && !done)
			err = -errno;
		if (n <= 0)
			break;
		done += n;
	}
	if (iov != stack)
		free(iov);
	file_put(r->s, f);
	if (err)
		return err;
	oh.len = hdr + done;
	oh.error = 0;
	oh.unique = r->h.unique;
	iov_write(r->out, r->nout, 0, &oh, sizeof(oh));
	return oh.len;
}

/* The data is written straight from the request's buffers. */
static long op_write(struct req *r)
{
	const size_t dataoff = sizeof(struct fuse_in_header) +
			       sizeof(struct fuse_write_in);
	struct iovec stack[16], *iov;
	struct fuse_write_out wo;
	struct fuse_write_in wi;
	int niov = r->nin, err = 0;
	struct lx_file *f;
	size_t pos = 0, done = 0;

	if (arg_get(r, &pos, &wi, sizeof(wi)) || wi.offset > INT64_MAX ||
	    wi.size > r->h.len - dataoff || wi.size > SRV_MAX_WRITE)
		return -EINVAL;
	err = file_get(r->s, wi.fh, &f);
	if (err)
		return err;
	iov = iov_scratch(stack, 16, &niov);
	if (!iov)
		err = -ENOMEM;
	else if (f->is_dir)
		err = -EISDIR;
	else if (f->accmode == O_RDONLY)
		err = -EBADF;
	if (!err && (wi.write_flags & FUSE_WRITE_KILL_SUIDGID))
		err = kill_suidgid(f->fd);
	while (!err && done < wi.size) {
		size_t cov;
		int k = iov_slice(r->in, r->nin, dataoff + done, wi.size - done,
				  iov, niov, &cov);
		ssize_t n = k ? pwritev(f->fd, iov, k, wi.offset + done) : 0;

		if (n < 0 && !done)
			err = -errno;
		if (n <= 0)
			break;
		done += n;
	}
	if (iov != stack)
		free(iov);
	file_put(r->s, f);
	if (err)
		return err;
	memset(&wo, 0, sizeof(wo));
	wo.size = done;
	return reply(r, 0, &wo, sizeof(wo));
}

/* RELEASE and RELEASEDIR */
static long op_release(struct req *r)
{
	struct fuse_release_in ri;
	struct lx_file *f;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &ri, sizeof(ri)))
		return -EINVAL;
	err = file_unhash(r->s, ri.fh, &f);
	if (err)
		return err;
	if ((ri.release_flags & FUSE_RELEASE_FLOCK_UNLOCK) && f->fd >= 0)
		flock(f->fd, LOCK_UN);
	file_put(r->s, f);
	return reply(r, 0, NULL, 0);
}

/*
 * close() by a lock owner drops its POSIX locks on the file: those taken
 * through this handle by that owner.
 */
static long op_flush(struct req *r)
{
	struct fuse_flush_in fi;
	struct lx_file *f;
	size_t pos = 0;
	bool unlock;
	int err;

	if (arg_get(r, &pos, &fi, sizeof(fi)))
		return -EINVAL;
	err = file_get(r->s, fi.fh, &f);
	if (err)
		return err;
	pthread_mutex_lock(&r->s->lock);
	unlock = f->locked && f->lock_owner == fi.lock_owner;
	if (unlock)
		f->locked = false;
	pthread_mutex_unlock(&r->s->lock);
	if (unlock) {
		struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

		fcntl(f->fd, F_OFD_SETLK, &fl);
	}
	file_put(r->s, f);
	return reply(r, 0, NULL, 0);
}

/* FSYNC and FSYNCDIR */
static long op_fsync(struct req *r)
{
	struct fuse_fsync_in fi;
	struct lx_file *f;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &fi, sizeof(fi)))
		return -EINVAL;
	err = file_get(r->s, fi.fh, &f);
	if (err)
		return err;
	/* the synthetic root of a single-file share has no fd to sync */
	if (f->fd >= 0 &&
	    ((fi.fsync_flags & FUSE_FSYNC_FDATASYNC) ? fdatasync(f->fd) :
						       fsync(f->fd)))
		err = -errno;
	file_put(r->s, f);
	return err ? err : reply(r, 0, NULL, 0);
}

/* ---- directories ---- */

static long op_opendir(struct req *r)
{
	struct fuse_open_out o;
	struct lx_inode *ino;
	int fd, err;
	uint64_t fh;

	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	if (!S_ISDIR(ino->type)) {
		err = -ENOTDIR;
		goto out;
	}
	if (synth_root(r->s, ino->nodeid)) {	/* readable by all, no fd */
		err = file_new(r->s, ino, -1, O_RDONLY, true, &fh);
		goto out;
	}
	err = creds_caller(r);
	if (err)
		goto out;
	err = xaccess(ino->fd, R_OK);
	creds_server(r);
	if (err)
		goto out;
	fd = ino_open(r->s, ino, O_RDONLY);
	err = fd < 0 ? fd : file_new(r->s, ino, fd, O_RDONLY, true, &fh);
out:
	ino_put(r->s, ino);
	if (err)
		return err;
	memset(&o, 0, sizeof(o));
	o.fh = fh;
	o.open_flags = fopen_flags(r->s, true);
	return reply(r, 0, &o, sizeof(o));
}

struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define DENTS_BUF	32768

/*
 * READDIR(PLUS) of a single-file share's synthetic root, from entry offset
 * on, into at most cap bytes: ".", ".." and the file (offsets 1, 2, 3).
 * READDIRPLUS counts a lookup of the file when it sends it.
 */
static long readdir_root(struct req *r, uint64_t offset, size_t cap,
			 bool plus)
{
	struct lx_fuse_server *s = r->s;
	char buf[3 * FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS +
				       NAME_MAX)] __attribute__((aligned(8)));
	size_t used = 0;
	uint64_t i;

	for (i = offset; i < 3; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." :
				   s->single_name;
		size_t nl = strlen(name), sz;
		struct fuse_dirent *de;

		sz = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
		sz = FUSE_DIRENT_ALIGN(sz + nl);
		if (used + sz > cap)
			break;
		memset(buf + used, 0, sz);
		if (plus) {
			struct fuse_direntplus *dp =
				(struct fuse_direntplus *)(buf + used);

			if (i == 2 && single_entry(r, &dp->entry_out))
				memset(&dp->entry_out, 0,
				       sizeof(dp->entry_out));
			de = &dp->dirent;
		} else {
			de = (struct fuse_dirent *)(buf + used);
		}
		de->ino = i == 2 ? s->single->ino : s->root_ino;
		de->off = i + 1;
		de->namelen = nl;
		de->type = (i == 2 ? S_IFREG : S_IFDIR) >> 12;	/* DT_* */
		memcpy(de->name, name, nl);
		used += sz;
	}
	return reply(r, 0, buf, used);
}

/*
 * READDIR and READDIRPLUS: from the offset the kernel gives (the d_off of
 * the last entry it got), as many entries as fit.  READDIRPLUS looks each
 * entry up as the caller, counting a lookup only for entries it sends;
 * "." and ".." and entries that vanished go without one (node id 0).
 */
static long do_readdir(struct req *r, bool plus)
{
	size_t cap, used = 0, pos = 0;
	struct fuse_read_in ri;
	char *buf = NULL, *dbuf = NULL;
	struct lx_file *f;
	bool full = false;
	long ret;
	int err;

	if (arg_get(r, &pos, &ri, sizeof(ri)) || ri.offset > INT64_MAX)
		return -EINVAL;
	err = file_get(r->s, ri.fh, &f);
	if (err)
		return err;
	if (!f->is_dir) {
		file_put(r->s, f);
		return -ENOTDIR;
	}
	cap = ri.size;
	if (cap > reply_room(r))
		cap = reply_room(r);
	if (cap > SRV_MAX_WRITE)
		cap = SRV_MAX_WRITE;
	if (synth_root(r->s, f->ino->nodeid)) {
		ret = readdir_root(r, ri.offset, cap, plus);
		file_put(r->s, f);
		return ret;
	}
	buf = malloc(cap + 1);
	dbuf = malloc(DENTS_BUF);
	if (!buf || !dbuf) {
		err = -ENOMEM;
		goto out;
	}
	pthread_mutex_lock(&f->dir_lock);
	if (lseek(f->fd, (off_t)ri.offset, SEEK_SET) < 0)
		err = -errno;
	if (!err && plus)
		err = creds_caller(r);
	while (!err && !full) {
		long n = syscall(SYS_getdents64, f->fd, dbuf, DENTS_BUF);
		long dpos;

		if (n < 0 && !used)
			err = -errno;
		if (n <= 0)
			break;
		for (dpos = 0; dpos < n;) {
			struct dirent64 *d = (struct dirent64 *)(dbuf + dpos);
			size_t nl = strlen(d->d_name), sz;
			struct fuse_dirent *de;

			sz = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
			sz = FUSE_DIRENT_ALIGN(sz + nl);
			if (used + sz > cap) {
				full = true;
				break;
			}
			memset(buf + used, 0, sz);
			if (plus) {
				struct fuse_direntplus *dp =
					(struct fuse_direntplus *)(buf + used);
				bool dot = d->d_name[0] == '.' &&
					   (nl == 1 || (nl == 2 &&
							d->d_name[1] == '.'));

				if (!dot && lookup_at(r, f->fd, f->ino->nodeid,
						      d->d_name, &dp->entry_out))
					memset(&dp->entry_out, 0,
					       sizeof(dp->entry_out));
				de = &dp->dirent;
			} else {
				de = (struct fuse_dirent *)(buf + used);
			}
			de->ino = d->d_ino;
			de->off = d->d_off;
			de->namelen = nl;
			de->type = d->d_type;
			memcpy(de->name, d->d_name, nl);
			used += sz;
			dpos += d->d_reclen;
		}
	}
	creds_server(r);
	pthread_mutex_unlock(&f->dir_lock);
out:
	ret = err ? err : reply(r, 0, buf, used);
	free(dbuf);
	free(buf);
	file_put(r->s, f);
	return ret;
}

static long op_readdir(struct req *r)
{
	return do_readdir(r, false);
}

static long op_readdirplus(struct req *r)
{
	return do_readdir(r, true);
}

/* ---- file systems, extended attributes, access ---- */

static long op_statfs(struct req *r)
{
	struct fuse_statfs_out o;
	struct lx_inode *ino;
	struct statfs sf;
	int err;

	/* a single-file share's root: the file system of its file */
	err = ino_get(r->s, synth_root(r->s, r->h.nodeid) ?
			    r->s->single->nodeid : r->h.nodeid, &ino);
	if (err)
		return err;
	if (fstatfs(ino->fd, &sf))
		err = -errno;
	ino_put(r->s, ino);
	if (err)
		return err;
	memset(&o, 0, sizeof(o));
	o.st.blocks = sf.f_blocks;
	o.st.bfree = sf.f_bfree;
	o.st.bavail = sf.f_bavail;
	o.st.files = sf.f_files;
	o.st.ffree = sf.f_ffree;
	o.st.bsize = sf.f_bsize;
	o.st.namelen = sf.f_namelen;
	o.st.frsize = sf.f_frsize;
	return reply(r, 0, &o, sizeof(o));
}

/* syncfs() wants a real open fd, as open_by_handle_at() does */
static long op_syncfs(struct req *r)
{
	struct lx_inode *ino = r->s->single ? r->s->single : r->s->root;
	int fd = ino_open(r->s, ino, O_RDONLY | O_NONBLOCK), err;

	if (fd < 0)
		return fd;
	err = syncfs(fd) ? -errno : 0;
	close(fd);
	return err ? err : reply(r, 0, NULL, 0);
}

/*
 * Extended attributes are served on regular files and directories only
 * (opened as the server, used as the caller: f*xattr() want an fd, and a
 * FIFO or device is never opened); "system.*" names (ACLs and the like,
 * which the kernel handles itself without FUSE_POSIX_ACL) are not served.
 * A single-file share's synthetic root has none.
 */
static int xattr_fd(struct req *r, struct lx_inode **ino, int *fd)
{
	int err = ino_get(r->s, r->h.nodeid, ino);

	if (err)
		return err;
	if ((!S_ISREG((*ino)->type) && !S_ISDIR((*ino)->type)) ||
	    synth_root(r->s, (*ino)->nodeid)) {
		*fd = -1;
		return 0;
	}
	*fd = ino_open(r->s, *ino, O_RDONLY | O_NONBLOCK);
	if (*fd < 0) {
		ino_put(r->s, *ino);
		return *fd;
	}
	return 0;
}

static bool xattr_system(const char *name)
{
	return !strncmp(name, "system.", 7);
}

static int xattr_name(struct req *r, size_t *pos, const char **name)
{
	const char *p = r->arg + *pos;
	size_t avail, len;

	if (*pos >= r->arglen)
		return -EINVAL;
	avail = r->arglen - *pos;
	len = strnlen(p, avail);
	if (len == avail || len == 0)
		return -EINVAL;
	if (len > XATTR_NAME_MAX)
		return -ERANGE;
	if (xattr_system(p))
		return -EOPNOTSUPP;
	*pos += len + 1;
	*name = p;
	return 0;
}

static long op_setxattr(struct req *r)
{
	struct fuse_setxattr_in si;	/* without FUSE_SETXATTR_EXT: 8 bytes */
	const char *name, *value;
	struct lx_inode *ino;
	size_t pos = 0;
	int fd, err;

	if (arg_get(r, &pos, &si, FUSE_COMPAT_SETXATTR_IN_SIZE))
		return -EINVAL;
	err = xattr_name(r, &pos, &name);
	if (err)
		return err;
	if (si.size > SRV_XATTR_MAX)
		return -E2BIG;
	value = arg_take(r, &pos, si.size);
	if (!value)
		return -EINVAL;
	err = xattr_fd(r, &ino, &fd);
	if (err)
		return err;
	err = fd < 0 ? -EPERM : creds_caller(r);
	if (!err) {
		if (fsetxattr(fd, name, value, si.size, si.flags))
			err = -errno;
		creds_server(r);
	}
	if (fd >= 0)
		close(fd);
	ino_put(r->s, ino);
	return err ? err : reply(r, 0, NULL, 0);
}

/* GETXATTR and LISTXATTR: a size query (size 0) or the data. */
static long get_xattrs(struct req *r, bool list)
{
	struct fuse_getxattr_out go;
	struct fuse_getxattr_in gi;
	const char *name = NULL;
	struct lx_inode *ino;
	char *buf = NULL;
	ssize_t n = 0;
	size_t pos = 0;
	long ret;
	int fd, err;

	if (arg_get(r, &pos, &gi, sizeof(gi)))
		return -EINVAL;
	if (!list) {
		err = xattr_name(r, &pos, &name);
		if (err)
			return err;
	}
	err = xattr_fd(r, &ino, &fd);
	if (err)
		return err;
	if (fd < 0)
		err = list ? 0 : -ENODATA;	/* nothing, on other types */
	else
		err = creds_caller(r);
	if (fd >= 0 && !err) {
		/* a list is always read whole: system.* names are cut out */
		n = list ? flistxattr(fd, NULL, 0) :
		    fgetxattr(fd, name, NULL, 0);
		if (n > SRV_XATTR_MAX)
			n = SRV_XATTR_MAX;
		if (n > 0 && (list || gi.size)) {
			buf = malloc(n);
			if (!buf)
				err = -ENOMEM;
			else
				n = list ? flistxattr(fd, buf, n) :
				    fgetxattr(fd, name, buf, n);
		}
		if (!err && n < 0)
			err = -errno;
		creds_server(r);
	}
	if (fd >= 0)
		close(fd);
	ino_put(r->s, ino);
	if (!err && list && buf) {
		ssize_t i = 0, o = 0;

		while (i < n) {
			size_t l = strnlen(buf + i, n - i) + 1;

			if (!xattr_system(buf + i)) {
				memmove(buf + o, buf + i, l);
				o += l;
			}
			i += l;
		}
		n = o;
	}
	if (err) {
		ret = err;
	} else if (!gi.size) {
		memset(&go, 0, sizeof(go));
		go.size = n;
		ret = reply(r, 0, &go, sizeof(go));
	} else if ((size_t)n > gi.size || (size_t)n > reply_room(r)) {
		ret = -ERANGE;
	} else {
		ret = reply(r, 0, buf, n);
	}
	free(buf);
	return ret;
}

static long op_getxattr(struct req *r)
{
	return get_xattrs(r, false);
}

static long op_listxattr(struct req *r)
{
	return get_xattrs(r, true);
}

static long op_removexattr(struct req *r)
{
	struct lx_inode *ino;
	const char *name;
	size_t pos = 0;
	int fd, err;

	err = xattr_name(r, &pos, &name);
	if (err)
		return err;
	err = xattr_fd(r, &ino, &fd);
	if (err)
		return err;
	err = fd < 0 ? -ENODATA : creds_caller(r);
	if (!err) {
		if (fremovexattr(fd, name))
			err = -errno;
		creds_server(r);
	}
	if (fd >= 0)
		close(fd);
	ino_put(r->s, ino);
	return err ? err : reply(r, 0, NULL, 0);
}

static long op_access(struct req *r)
{
	struct fuse_access_in ai;
	struct lx_inode *ino;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &ai, sizeof(ai)))
		return -EINVAL;
	if ((ai.mask & W_OK) && r->s->readonly)
		return -EROFS;
	if (synth_root(r->s, r->h.nodeid))	/* 0555, owned by root */
		return (ai.mask & W_OK) && r->h.uid ? -EACCES :
		       reply(r, 0, NULL, 0);
	err = ino_get(r->s, r->h.nodeid, &ino);
	if (err)
		return err;
	err = creds_caller(r);
	if (!err) {
		err = xaccess(ino->fd, ai.mask & (R_OK | W_OK | X_OK));
		creds_server(r);
	}
	ino_put(r->s, ino);
	return err ? err : reply(r, 0, NULL, 0);
}

/* ---- locks and ranges ---- */

static int lk_to_flock(const struct fuse_file_lock *lk, struct flock *fl)
{
	if (lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK)
		return -EINVAL;
	if (lk->start > INT64_MAX || lk->end < lk->start)
		return -EINVAL;
	memset(fl, 0, sizeof(*fl));
	fl->l_type = lk->type;
	fl->l_whence = SEEK_SET;
	fl->l_start = lk->start;
	/* end is inclusive; OFFSET_MAX (INT64_MAX) means to the end */
	fl->l_len = lk->end >= INT64_MAX ? 0 : lk->end - lk->start + 1;
	return 0;
}

static long op_getlk(struct req *r)
{
	struct fuse_lk_out lo;
	struct fuse_lk_in li;
	struct lx_file *f;
	struct flock fl;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &li, sizeof(li)))
		return -EINVAL;
	err = lk_to_flock(&li.lk, &fl);
	if (err)
		return err;
	err = file_get(r->s, li.fh, &f);
	if (err)
		return err;
	if (fcntl(f->fd, F_OFD_GETLK, &fl))
		err = -errno;
	file_put(r->s, f);
	if (err)
		return err;
	memset(&lo, 0, sizeof(lo));
	lo.lk = li.lk;
	lo.lk.type = fl.l_type;
	if (fl.l_type != F_UNLCK) {
		lo.lk.start = fl.l_start;
		lo.lk.end = fl.l_len ? (uint64_t)(fl.l_start + fl.l_len - 1) :
				       (uint64_t)INT64_MAX;
		lo.lk.pid = 0;	/* a host pid means nothing in lx */
	}
	return reply(r, 0, &lo, sizeof(lo));
}

/* SETLK and SETLKW: SETLKW never waits, it gets -EAGAIN (see the top). */
static long op_setlk(struct req *r)
{
	struct fuse_lk_in li;
	struct lx_file *f;
	struct flock fl;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &li, sizeof(li)))
		return -EINVAL;
	err = lk_to_flock(&li.lk, &fl);
	if (err)
		return err;
	err = file_get(r->s, li.fh, &f);
	if (err)
		return err;
	if (li.lk_flags & FUSE_LK_FLOCK) {
		int op = li.lk.type == F_RDLCK ? LOCK_SH :
			 li.lk.type == F_WRLCK ? LOCK_EX : LOCK_UN;

		if (flock(f->fd, op | LOCK_NB))
			err = errno == EWOULDBLOCK ? -EAGAIN : -errno;
	} else if (fcntl(f->fd, F_OFD_SETLK, &fl)) {
		err = (errno == EACCES || errno == EAGAIN) ? -EAGAIN : -errno;
	} else if (li.lk.type != F_UNLCK) {
		pthread_mutex_lock(&r->s->lock);
		f->locked = true;
		f->lock_owner = li.owner;
		pthread_mutex_unlock(&r->s->lock);
	}
	file_put(r->s, f);
	return err ? err : reply(r, 0, NULL, 0);
}

static long op_fallocate(struct req *r)
{
	struct fuse_fallocate_in fi;
	struct lx_file *f;
	size_t pos = 0;
	int err;

	if (arg_get(r, &pos, &fi, sizeof(fi)) || fi.offset > INT64_MAX ||
	    fi.length > INT64_MAX)
		return -EINVAL;
	err = file_get(r->s, fi.fh, &f);
	if (err)
		return err;
	if (fallocate(f->fd, fi.mode, (off_t)fi.offset, (off_t)fi.length))
		err = -errno;
	file_put(r->s, f);
	return err ? err : reply(r, 0, NULL, 0);
}

static long op_lseek(struct req *r)
{
	struct fuse_lseek_out lo;
	struct fuse_lseek_in li;
	struct lx_file *f;
	size_t pos = 0;
	off_t off;
	int err;

	if (arg_get(r, &pos, &li, sizeof(li)) || li.offset > INT64_MAX ||
	    (li.whence != SEEK_DATA && li.whence != SEEK_HOLE))
		return -EINVAL;
	err = file_get(r->s, li.fh, &f);
	if (err)
		return err;
	off = lseek(f->fd, (off_t)li.offset, li.whence);
	if (off < 0)
		err = -errno;
	file_put(r->s, f);
	if (err)
		return err;
	memset(&lo, 0, sizeof(lo));
	lo.offset = off;
	return reply(r, 0, &lo, sizeof(lo));
}

static long op_copy_file_range(struct req *r)
{
	struct lx_file *fin = NULL, *fout = NULL;
	struct fuse_copy_file_range_in ci;
	struct fuse_write_out wo;
	loff_t oi, oo;
	size_t pos = 0;
	ssize_t n = 0;
	int err;

	if (arg_get(r, &pos, &ci, sizeof(ci)) || ci.flags ||
	    ci.off_in > INT64_MAX || ci.off_out > INT64_MAX)
		return -EINVAL;
	err = file_get(r->s, ci.fh_in, &fin);
	if (!err)
		err = file_get(r->s, ci.fh_out, &fout);
	if (!err) {
		oi = ci.off_in;
		oo = ci.off_out;
		n = copy_file_range(fin->fd, &oi, fout->fd, &oo,
				    ci.len < SRV_COPY_MAX ? ci.len : SRV_COPY_MAX,
				    0);
		if (n < 0)
			err = -errno;
	}
	file_put(r->s, fout);
	file_put(r->s, fin);
	if (err)
		return err;
	memset(&wo, 0, sizeof(wo));
	wo.size = n;
	return reply(r, 0, &wo, sizeof(wo));
}

static long op_noreply(struct req *r)
{
	(void)r;
	return 0;
}

/* ---- dispatch ---- */

#define OPF_MOD		1	/* changes the share: -EROFS if read-only */
#define OPF_NOREPLY	2

struct op {
	long (*fn)(struct req *r);
	uint16_t argmin;	/* fixed argument bytes */
	uint16_t outmin;	/* reply bytes after the header */
	uint8_t flags;
};

#define S(t) ((uint16_t)sizeof(struct t))
static const struct op ops[] = {
	[FUSE_LOOKUP] = { op_lookup, 0, S(fuse_entry_out), 0 },
	[FUSE_FORGET] = { op_forget, 0, 0, OPF_NOREPLY },
	[FUSE_GETATTR] = { op_getattr, 0, S(fuse_attr_out), 0 },
	[FUSE_SETATTR] = { op_setattr, S(fuse_setattr_in), S(fuse_attr_out),
			   OPF_MOD },
	[FUSE_READLINK] = { op_readlink, 0, 0, 0 },
	[FUSE_SYMLINK] = { op_symlink, 0, S(fuse_entry_out), OPF_MOD },
	[FUSE_MKNOD] = { op_mknod, S(fuse_mknod_in), S(fuse_entry_out),
			 OPF_MOD },
	[FUSE_MKDIR] = { op_mkdir, S(fuse_mkdir_in), S(fuse_entry_out),
			 OPF_MOD },
	[FUSE_UNLINK] = { op_unlink, 0, 0, OPF_MOD },
	[FUSE_RMDIR] = { op_rmdir, 0, 0, OPF_MOD },
	[FUSE_RENAME] = { op_rename, S(fuse_rename_in), 0, OPF_MOD },
	[FUSE_LINK] = { op_link, S(fuse_link_in), S(fuse_entry_out), OPF_MOD },
	[FUSE_OPEN] = { op_open, S(fuse_open_in), S(fuse_open_out), 0 },
	[FUSE_READ] = { op_read, S(fuse_read_in), 0, 0 },
	[FUSE_WRITE] = { op_write, S(fuse_write_in), S(fuse_write_out),
			 OPF_MOD },
	[FUSE_STATFS] = { op_statfs, 0, S(fuse_statfs_out), 0 },
	[FUSE_RELEASE] = { op_release, S(fuse_release_in), 0, 0 },
	[FUSE_FSYNC] = { op_fsync, S(fuse_fsync_in), 0, 0 },
	[FUSE_SETXATTR] = { op_setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE, 0,
			    OPF_MOD },
	[FUSE_GETXATTR] = { op_getxattr, S(fuse_getxattr_in),
			    S(fuse_getxattr_out), 0 },
	[FUSE_LISTXATTR] = { op_listxattr, S(fuse_getxattr_in),
			     S(fuse_getxattr_out), 0 },
	[FUSE_REMOVEXATTR] = { op_removexattr, 0, 0, OPF_MOD },
	[FUSE_FLUSH] = { op_flush, S(fuse_flush_in), 0, 0 },
	[FUSE_INIT] = { op_init, 16, FUSE_COMPAT_22_INIT_OUT_SIZE, 0 },
	[FUSE_OPENDIR] = { op_opendir, S(fuse_open_in), S(fuse_open_out), 0 },
	[FUSE_READDIR] = { op_readdir, S(fuse_read_in), 0, 0 },
	[FUSE_RELEASEDIR] = { op_release, S(fuse_release_in), 0, 0 },
	[FUSE_FSYNCDIR] = { op_fsync, S(fuse_fsync_in), 0, 0 },
	[FUSE_GETLK] = { op_getlk, S(fuse_lk_in), S(fuse_lk_out), 0 },
	[FUSE_SETLK] = { op_setlk, S(fuse_lk_in), 0, 0 },
	[FUSE_SETLKW] = { op_setlk, S(fuse_lk_in), 0, 0 },
	[FUSE_ACCESS] = { op_access, S(fuse_access_in), 0, 0 },
	[FUSE_CREATE] = { op_create, S(fuse_create_in),
			  S(fuse_entry_out) + S(fuse_open_out), OPF_MOD },
	[FUSE_INTERRUPT] = { op_noreply, 0, 0, OPF_NOREPLY },
	[FUSE_DESTROY] = { op_destroy, 0, 0, 0 },
	[FUSE_NOTIFY_REPLY] = { op_noreply, 0, 0, OPF_NOREPLY },
	[FUSE_BATCH_FORGET] = { op_batch_forget, 0, 0, OPF_NOREPLY },
	[FUSE_FALLOCATE] = { op_fallocate, S(fuse_fallocate_in), 0, OPF_MOD },
	[FUSE_READDIRPLUS] = { op_readdirplus, S(fuse_read_in), 0, 0 },
	[FUSE_RENAME2] = { op_rename2, S(fuse_rename2_in), 0, OPF_MOD },
	[FUSE_LSEEK] = { op_lseek, S(fuse_lseek_in), S(fuse_lseek_out), 0 },
	[FUSE_COPY_FILE_RANGE] = { op_copy_file_range,
				   S(fuse_copy_file_range_in),
				   S(fuse_write_out), OPF_MOD },
	[FUSE_SYNCFS] = { op_syncfs, 0, 0, 0 },
};
#undef S
_Static_assert(ARRAY_SIZE(ops) <= SRV_OPCODES, "SRV_OPCODES too small");

/*
 * Nothing is made in, removed from or renamed into or out of a single-file
 * share's synthetic root, and its attributes do not change: -EPERM.  Its
 * fd of -1 would fail such a call anyway; this gives the right error.
 * Called once the op's fixed arguments are known to be there.
 */
static bool root_refuses(const struct req *r)
{
	struct fuse_rename_in ri;	/* fuse_rename2_in starts the same */

	if (!r->s->single)
		return false;
	switch (r->h.opcode) {
	case FUSE_SETATTR:
	case FUSE_SYMLINK:
	case FUSE_MKNOD:
	case FUSE_MKDIR:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_LINK:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
	case FUSE_CREATE:
		return r->h.nodeid == FUSE_ROOT_ID;
	case FUSE_RENAME:
	case FUSE_RENAME2:
		memcpy(&ri, r->arg, sizeof(ri));
		return r->h.nodeid == FUSE_ROOT_ID ||
		       ri.newdir == FUSE_ROOT_ID;
	default:
		return false;
	}
}

long lx_fuse_server_handle(struct lx_fuse_server *s, const struct iovec *in,
			   int nin, const struct iovec *out, int nout)
{
	char stackbuf[SRV_ARG_STACK] __attribute__((aligned(16)));
	const size_t ohdr = sizeof(struct fuse_out_header);
	const struct op *op = NULL;
	char *heap = NULL;
	struct req r;
	size_t copy;
	long ret;

	if (!s || !in || nin <= 0 || nout < 0 || (nout && !out))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	if (iov_read(in, nin, 0, &r.h, sizeof(r.h)) != sizeof(r.h) ||
	    r.h.len < sizeof(r.h) || r.h.len > iov_total(in, nin))
		return -EINVAL;
	r.s = s;
	r.in = in;
	r.nin = nin;
	r.out = out;
	r.nout = nout;
	r.outcap = nout ? iov_total(out, nout) : 0;
	if (r.h.opcode < ARRAY_SIZE(ops) && ops[r.h.opcode].fn) {
		op = &ops[r.h.opcode];
		__atomic_add_fetch(&s->served[r.h.opcode], 1, __ATOMIC_RELAXED);
	}
	if (!(op && (op->flags & OPF_NOREPLY)) && r.outcap < ohdr)
		return -EINVAL;
	/*
	 * The arguments are copied before they are looked at: the request
	 * lies in memory a program may share, which could change a length
	 * or a name's NUL after it was checked.  WRITE data is not copied.
	 */
	copy = r.h.len - sizeof(r.h);
	if (r.h.opcode == FUSE_WRITE && copy > sizeof(struct fuse_write_in))
		copy = sizeof(struct fuse_write_in);
	if (copy > sizeof(stackbuf)) {
		heap = malloc(copy);
		if (!heap)
			return op && (op->flags & OPF_NOREPLY) ? 0 :
			       reply(&r, -ENOMEM, NULL, 0);
	}
	r.arg = heap ? heap : stackbuf;
	r.arglen = iov_read(in, nin, sizeof(r.h), heap ? heap : stackbuf, copy);
	thread_prepare();
	if (!op)
		ret = -ENOSYS;
	else if (!__atomic_load_n(&s->inited, __ATOMIC_ACQUIRE) &&
		 r.h.opcode != FUSE_INIT &&
		 !(op->flags & OPF_NOREPLY))
		ret = -EIO;
	else if (r.arglen < op->argmin ||
		 (!(op->flags & OPF_NOREPLY) && r.outcap - ohdr < op->outmin))
		ret = -EINVAL;
	else if ((op->flags & OPF_MOD) && s->readonly)
		ret = -EROFS;
	else if (root_refuses(&r))
		ret = -EPERM;
	else
		ret = op->fn(&r);
	creds_server(&r);	/* never leave the thread as the caller */
	if (op && (op->flags & OPF_NOREPLY))
		ret = 0;
	else if (ret < 0)
		ret = reply(&r, (int)ret, NULL, 0);
	free(heap);
	return ret;
}

/* ---- the server ---- */

void lx_fuse_server_destroy(struct lx_fuse_server *s)
{
	int i;

	if (!s)
		return;
	if (s->ids.b && s->inos.b && s->files.b)
		srv_reset(s);
	if (s->single) {
		ino_free(s, s->single);
		s->single = NULL;
	}
	if (s->root)
		ino_free(s, s->root);
	for (i = 0; i < s->nmnts; i++)
		close(s->mnts[i].fd);
	free(s->mnts);
	free(s->root_path);
	free(s->single_name);
	free(s->ids.b);
	free(s->inos.b);
	free(s->files.b);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int lx_fuse_server_create(const struct lx_fuse_opts *o,
			  struct lx_fuse_server **out, char *err,
			  size_t errlen)
{
	struct lx_inode *root, *ino;
	struct lx_fuse_server *s;
	const char *what;
	union fhbuf fb;
	int mount_id, m, ret, fd, mfd = -1;
	struct stat st;

	if (errlen)
		err[0] = 0;
	if (!o || !o->dir || !out) {
		if (errlen)
			snprintf(err, errlen, "fuse: no directory to share");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->readonly = !!o->readonly;
	s->strict = !!o->strict_cache;
	s->max_fds = o->max_fds ? o->max_fds : SRV_DEFAULT_MAX_FDS;
	s->next_nodeid = FUSE_ROOT_ID + 1;
	s->next_fh = 1;
	s->uid = geteuid();
	s->gid = getegid();
	s->switch_creds = s->uid == 0;
	what = "out of memory";
	ret = -ENOMEM;
	if (ht_init(&s->ids) || ht_init(&s->inos) || ht_init(&s->files))
		goto fail;
	fd = open(o->dir, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		what = strerror(errno);
		goto fail;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		what = strerror(errno);
		close(fd);
		goto fail;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		what = "not a directory or regular file";
		close(fd);
		goto fail;
	}
	/* the shared inode: the root if a directory, else the single file */
	ino = calloc(1, sizeof(*ino));
	if (!ino) {
		close(fd);
		goto fail;
	}
	ino->dev = st.st_dev;
	ino->ino = st.st_ino;
	ino->type = st.st_mode & S_IFMT;
	ino->fd = fd;
	ino->mnt = -1;
	s->nfds = 1;
	if (S_ISDIR(st.st_mode)) {
		ino->nodeid = FUSE_ROOT_ID;
		ino->nlookup = 1;
		s->root = ino;
		ht_add(&s->inos, &ino->by_ino, devino_hash(ino->dev, ino->ino));
		ino->in_inos = true;
	} else {
		/*
		 * A synthetic directory holding the file under its name (see
		 * the top); the file is found by its node id only, never in
		 * the inode index, so no lookup can enter it another way.
		 */
		const char *name = strrchr(o->dir, '/');

		name = name ? name + 1 : o->dir;
		ino->nodeid = s->next_nodeid++;
		s->single = ino;
		ht_add(&s->ids, &ino->by_id, mix64(ino->nodeid));
		ino->in_ids = true;
		if (!*name || strlen(name) > NAME_MAX) {
			ret = -EINVAL;
			what = "no file name";
			goto fail;
		}
		s->single_name = strdup(name);
		if (!s->single_name)
			goto fail;
		root = calloc(1, sizeof(*root));
		if (!root)
			goto fail;
		root->nodeid = FUSE_ROOT_ID;
		root->type = S_IFDIR;
		root->fd = -1;
		root->mnt = -1;
		root->nlookup = 1;
		s->root = root;
		/* any number but the file's */
		s->root_ino = st.st_ino == FUSE_ROOT_ID ? FUSE_ROOT_ID + 1 :
							  FUSE_ROOT_ID;
	}
	ht_add(&s->ids, &s->root->by_id, mix64(FUSE_ROOT_ID));
	s->root->in_ids = true;
	if (S_ISREG(st.st_mode)) {
		/* the file itself is the mount fd; it must be the same file */
		struct stat st2;

		mfd = open(o->dir, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (mfd >= 0 && (fstat(mfd, &st2) || st2.st_dev != st.st_dev ||
				 st2.st_ino != st.st_ino)) {
			close(mfd);
			mfd = -1;
		}
	}
	m = -1;
	if (get_handle(fd, &fb, &mount_id) && (S_ISDIR(st.st_mode) || mfd >= 0))
		m = mnt_index(s, mount_id, S_ISDIR(st.st_mode) ? fd : -1, mfd,
			      &fb.h);
	if (m >= 0 && !s->mnts[m].opens)
		m = -1;
	if (m >= 0) {
		size_t sz = sizeof(struct file_handle) + fb.h.handle_bytes;

		ino->fh = malloc(sz);
		if (!ino->fh)
			goto fail;
		memcpy(ino->fh, &fb.h, sz);
		ino->mnt = m;
	} else if (S_ISREG(st.st_mode)) {
		s->root_path = strdup(o->dir);
		if (!s->root_path)
			goto fail;
	}
	if (mfd >= 0)
		close(mfd);
	*out = s;
	return 0;
fail:
	if (mfd >= 0)
		close(mfd);
	if (errlen)
		snprintf(err, errlen, "fuse: %s: %s", o->dir, what);
	lx_fuse_server_destroy(s);
	return ret;
}

uint64_t lx_fuse_server_served(struct lx_fuse_server *s, uint32_t opcode)
{
	if (!s || opcode >= SRV_OPCODES)
		return 0;
	return __atomic_load_n(&s->served[opcode], __ATOMIC_RELAXED);
}

int lx_fuse_server_host_fd(struct lx_fuse_server *s, uint64_t nodeid,
			   uint64_t fh, int flags)
{
	int acc = flags & O_ACCMODE, ret;
	struct lx_file *f;

	if (!s || (flags & ~(O_ACCMODE | O_CLOEXEC)) || acc == O_ACCMODE)
		return -EINVAL;
	if (acc != O_RDONLY && s->readonly)
		return -EROFS;
	ret = file_get(s, fh, &f);
	if (ret)
		return ret;
	if (f->is_dir || f->ino->nodeid != nodeid)
		ret = -EBADF;
	else if (acc != O_WRONLY && f->accmode == O_WRONLY)
		ret = -EACCES;	/* no reading through a write-only handle */
	else if (acc != O_RDONLY && f->accmode == O_RDONLY)
		ret = -EACCES;	/* nor writing through a read-only one */
	else
		ret = ino_open(s, f->ino, acc);
	file_put(s, f);
	return ret;
}
