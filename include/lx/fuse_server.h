/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuse_server.h - lx's own FUSE server: serves a host directory (or a single
 * host file) to the kernel's virtio-fs driver, the role virtiofsd plays for
 * a VM (DESIGN.md decision 4).  Pure host code: the virtio-fs device hands it
 * each request as it came out of a descriptor chain and puts the reply back.
 *
 * Security model:
 *  - Requests come from a kernel a hostile program may have corrupted: no
 *    length, name, node id or file handle in a request is trusted, and
 *    the arguments are copied out of the request before they are parsed.
 *  - Every name is one path component, resolved below its parent's fd with
 *    openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) or an *at() call, and
 *    never followed if it is a symlink; files are reopened for I/O by file
 *    handle, never through /proc/self/fd (DESIGN.md decision 8).
 *  - Permissions: the mount uses default_permissions, so lx checks mode,
 *    owner, groups and capabilities of the caller first.  When it runs as
 *    root the server also runs each operation that depends on who asks
 *    with the caller's fsuid/fsgid (fuse_in_header uid/gid), so the host
 *    checks it again and new files, directories, nodes and symlinks belong
 *    to the caller (setgid directories work as on the host).  The caller's
 *    supplementary groups are not known (FUSE 7.36 does not send them):
 *    the server thread's own groups stand in for them on the host.
 *  - Only regular files and directories are ever opened on the host (a
 *    FIFO or device node in the share stays inert); device nodes other
 *    than whiteouts cannot be made; "system.*" xattrs are not served; a
 *    read-only share refuses every change with -EROFS.
 *  - A single-file share's root node is a synthetic directory holding
 *    only the file; the file's host directory is never reachable.
 *
 * Concurrency: handle() and host_fd() may be called from any number of
 * threads at once (one per virtqueue): the server's tables are behind a
 * mutex, and host I/O runs outside it.  A thread calling handle() is given
 * its own fs_struct (unshare(CLONE_FS)) with umask 0 on its first call, so
 * chroot/pivot_root the process before the first request; its fsuid/fsgid
 * are restored before each call returns.  No call ever
 * blocks on another request: a SETLKW that would wait gets -EAGAIN.
 */
#ifndef _LX_FUSE_SERVER_H
#define _LX_FUSE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct lx_fuse_server;

struct lx_fuse_opts {
	/*
	 * Host directory or single regular file to share.  A directory is
	 * the root node (id 1).  For a file (say /srv/conf/app.ini) the root
	 * node is a synthetic read-only directory (mode 0555, owner root,
	 * nlink 2, the file's times) whose only entries are ".", ".." and
	 * the file under its base name ("app.ini"), a node of its own with
	 * every file operation; any other name is -ENOENT, and making,
	 * removing or renaming names in it is -EPERM (-EROFS if readonly).
	 * The file's host directory is never opened nor shown: Linux's
	 * virtio-fs driver needs a directory root, and the file is
	 * typically bind-mounted from there to where it belongs.
	 */
	const char *dir;
	/* refuse every modifying operation with -EROFS */
	int readonly;
	/*
	 * 0 = fast mode for read-mostly roots: entries, attributes and
	 * negative lookups are cached for a day, open files and directories
	 * keep their page cache (FOPEN_KEEP_CACHE, FOPEN_CACHE_DIR) and
	 * symlinks are cached; changes made on the host may stay unseen.
	 * 1 = strict: every timeout is 0, open keeps no cache and the kernel
	 * drops cached pages when mtime or size change (AUTO_INVAL_DATA),
	 * so lx sees changes made on the host (page cache still used).
	 */
	int strict_cache;
	/*
	 * Bound on the O_PATH fds held by the inode table; 0 = 512.  Inodes
	 * beyond it that are not open lose their fd (least recently used
	 * first) and are reopened by file handle when used again.  Inodes
	 * of a file system without file handles keep their fd.
	 */
	unsigned int max_fds;
};

/*
 * Open the share and make a server for it.  Returns 0 and *out, or -errno
 * with a message naming the path in err (if errlen > 0).
 */
int lx_fuse_server_create(const struct lx_fuse_opts *o,
			  struct lx_fuse_server **out, char *err,
			  size_t errlen);

/* Close every fd the server holds and free it. */
void lx_fuse_server_destroy(struct lx_fuse_server *s);

/*
 * Serve one request.  in[0..nin) holds the complete request (fuse_in_header,
 * the op's arguments, data) split at arbitrary points; the reply
 * (fuse_out_header and data) is scattered into out[0..nout).  Returns the
 * reply's length (fuse_out_header.len), 0 for requests that get no reply
 * (FORGET, BATCH_FORGET, INTERRUPT), or -errno if the request is malformed
 * (shorter than its header says or than a fuse_in_header, or out has no
 * room for a fuse_out_header; nout may be 0 for requests without a reply).
 * Failed operations are normal replies with fuse_out_header.error = -errno;
 * a reply's data that does not fit in out gives an -EINVAL reply.
 */
long lx_fuse_server_handle(struct lx_fuse_server *s, const struct iovec *in,
			   int nin, const struct iovec *out, int nout);

/*
 * How many requests with opcode the server has been handed since it was
 * made (of the opcodes it serves; malformed ones too): for diagnostics,
 * and for tests of how many round trips an operation in lx costs.  0 for
 * other opcodes.
 */
uint64_t lx_fuse_server_served(struct lx_fuse_server *s, uint32_t opcode);

/*
 * A new host fd (the caller closes it, it is O_CLOEXEC) of the regular file
 * behind open file handle fh of node nodeid, opened with flags O_RDONLY,
 * O_WRONLY or O_RDWR (O_CLOEXEC allowed), so a program process can mmap
 * the host file itself (DESIGN.md decision 2) and lx can read and write it
 * without a request.  It is a new open file description, not a dup of the
 * server's.  The fh, not just the node, is asked for: the caller's right
 * to the access was checked when fh was opened.  -EBADF if fh is not an
 * open file of nodeid, -EACCES for an access the handle was not opened
 * for, -EROFS for writing on a read-only share, -EINVAL for other flags.
 */
int lx_fuse_server_host_fd(struct lx_fuse_server *s, uint64_t nodeid,
			   uint64_t fh, int flags);

#endif /* _LX_FUSE_SERVER_H */
