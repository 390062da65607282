// SPDX-License-Identifier: GPL-2.0
/*
 * fuseref.c - which host file is behind an lx fd on virtio-fs.
 *
 * DESIGN.md decision 2: a program maps a virtio-fs file from the host
 * file itself.  The share's tag (the mount's source), the FUSE node id and
 * the file handle name the open file to lx's FUSE server in the home
 * process, which opens the host file for the mapping.
 */
#include <linux/pagemap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/uaccess.h>
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
