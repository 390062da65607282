// SPDX-License-Identifier: GPL-2.0
/*
 * fuseref.c - which host file is behind an lx fd on virtio-fs.
 *
 * DESIGN.md decision 2: a program maps a virtio-fs file from the host
 * file itself.  The share's tag (the mount's source), the FUSE node id and
 * the file handle name the open file to lx's FUSE server in the home
 * process, which opens the host file for the mapping.
 *
 * Reads go to the host file too: lx's FUSE server shares the host's page
 * cache, so a read() of a virtio-fs file is a host preadv2(RWF_NOWAIT)
 * into the caller's buffer - one copy, as natively - instead of a FUSE
 * request per 128 KiB, a copy into lx's page cache and a copy out.  What
 * the host does not have in its page cache takes the FUSE way (the device
 * thread waits for the disk, not a task holding lx's CPU), and so does a
 * read into kernel memory.  lx's writes go through to the server (no
 * writeback cache), so the host file is always the newest copy.
 */
#include <linux/pagemap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <asm/lx.h>
#include "../../../fs/mount.h"
#include "../../../fs/fuse/fuse_i.h"

long lx_sys_fuse_ref(int fd, struct lx_fuse_ref __user *uref,
		     unsigned long flags)
{
	struct lx_fuse_ref ref = { 0 };
	struct fuse_file *ff;
	struct inode *inode;
	struct fd f;
	long ret = -EINVAL;

	if (flags & ~LX_FUSE_REF_SHARED)
		return -EINVAL;
	f = fdget(fd);
	if (!f.file)
		return -EBADF;
	inode = file_inode(f.file);
	/* virtio-fs only: a FUSE mount a program made has another server */
	if (inode->i_sb->s_magic != FUSE_SUPER_MAGIC ||
	    strcmp(inode->i_sb->s_type->name, "virtiofs") ||
	    !S_ISREG(inode->i_mode))
		goto out;
	ff = f.file->private_data;
	ref.nodeid = ff->nodeid;
	ref.fh = ff->fh;
	strscpy(ref.tag, real_mount(f.file->f_path.mnt)->mnt_devname,
		sizeof(ref.tag));
	ret = copy_to_user(uref, &ref, sizeof(ref)) ? -EFAULT : 0;
	if (!ret && (flags & LX_FUSE_REF_SHARED)) {
		/*
		 * The host's page cache is the one copy from now on: lx's
		 * writes go through to the server already (no writeback
		 * cache), and reads of the inode drop what lx cached of the
		 * range first (kernel/patches/0002).  For good: lx does not
		 * know when the host mapping goes.
		 */
		set_bit(FUSE_I_HOST_MAPPED, &get_fuse_inode(inode)->state);
		filemap_write_and_wait(inode->i_mapping);
		invalidate_inode_pages2(inode->i_mapping);
	}
out:
	fdput(f);
	return ret;
}

/* the iovecs of what is left of a user-memory iterator, at most n */
static int user_iovecs(const struct iov_iter *it, struct iovec *iov, int n)
{
	size_t left = iov_iter_count(it), skip = it->iov_offset;
	int i;

	if (iter_is_ubuf(it)) {
		iov[0].iov_base = it->ubuf + skip;
		iov[0].iov_len = left;
		return 1;
	}
	for (i = 0; i < n && i < it->nr_segs && left; i++, skip = 0) {
		iov[i].iov_base = it->iov[i].iov_base + skip;
		iov[i].iov_len = min(left, it->iov[i].iov_len - skip);
		left -= iov[i].iov_len;
	}
	return i;
}

ssize_t arch_fuse_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct fuse_file *ff = file->private_data;
	struct lx_fuse_ref ref = { 0 };
	struct iov_iter it = *to;
	struct iovec iov[8];
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;
	long n;
	int cnt;

	if (!lx_host->fuse_read || !S_ISREG(inode->i_mode) ||
	    (!iter_is_iovec(to) && !iter_is_ubuf(to)) ||
	    strcmp(inode->i_sb->s_type->name, "virtiofs") ||
	    mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY) ||
	    mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK))
		return -EOPNOTSUPP;
	ref.nodeid = ff->nodeid;
	ref.fh = ff->fh;
	strscpy(ref.tag, real_mount(file->f_path.mnt)->mnt_devname,
		sizeof(ref.tag));
	/*
	 * All of it or up to the end of the file: a part the host must
	 * fetch from its disk sends the whole read the FUSE way (what was
	 * copied already is copied again).
	 */
	while (iov_iter_count(&it)) {
		cnt = user_iovecs(&it, iov, ARRAY_SIZE(iov));
		n = lx_host->fuse_read(&ref, iov, cnt, pos);
		if (n < 0)
			return -EOPNOTSUPP;
		if (!n)
			break;		/* the end of the file */
		iov_iter_advance(&it, n);
		pos += n;
		done += n;
	}
	iov_iter_advance(to, done);
	iocb->ki_pos = pos;
	file_accessed(file);
	return done;
}
