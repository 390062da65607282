// SPDX-License-Identifier: GPL-2.0
/*
 * fuseref.c - which host file is behind an lx fd on virtio-fs.
 *
 * DESIGN.md decision 2: a program maps a virtio-fs file from the host
 * file itself.  The share's tag (the mount's source), the FUSE node id and
 * the file handle name the open file to lx's FUSE server in the home
 * process, which opens the host file for the mapping.
 *
 * Reads and writes go to the host file too: lx's FUSE server shares the
 * host's page cache, so a read() of a virtio-fs file is a host
 * preadv2(RWF_NOWAIT) into the caller's buffer (a plain preadv() on tmpfs,
 * which lacks the flag and never waits for a disk) and a write() a pwritev
 * from it - one copy, as natively - instead of FUSE requests (128 KiB a
 * read, 1 MiB a write) and
 * a copy through lx's page cache.  What the host does not have in its page
 * cache takes the FUSE way (the device thread waits for the disk), and so
 * do reads and writes of kernel memory.  lx keeps no dirty pages of these
 * files (no writeback cache), so the host file is always the newest copy.
 */
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
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

/*
 * A regular virtio-fs file, user memory of the calling thread's own
 * process: the host file may serve it.  Not for a kernel thread or an
 * io_uring worker, whose host thread need not be in the process whose
 * memory the buffer is.
 */
static bool host_file_io(struct kiocb *iocb, struct iov_iter *it,
			 struct lx_fuse_ref *ref)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct fuse_file *ff = file->private_data;

	if (!S_ISREG(inode->i_mode) ||
	    (current->flags & (PF_KTHREAD | PF_IO_WORKER)) ||
	    (!iter_is_iovec(it) && !iter_is_ubuf(it)) ||
	    strcmp(inode->i_sb->s_type->name, "virtiofs"))
		return false;
	ref->nodeid = ff->nodeid;
	ref->fh = ff->fh;
	strscpy(ref->tag, real_mount(file->f_path.mnt)->mnt_devname,
		sizeof(ref->tag));
	return true;
}

/* at most this much a host call: a SIGKILL is looked at in between */
#define HOST_IO_MAX (8UL << 20)

/*
 * Move the bytes between the host file and it, from pos on: what was
 * moved; *err what stopped it: 0 at the end of the file (or for a task
 * being killed: a short count it never returns; or where the buffer runs
 * into lx's memory), -EOPNOTSUPP where lx must go the FUSE way (no host fd
 * here, a buffer starting in lx's memory), else the host's answer
 * (-EAGAIN: on the host's disk).  Without lx's CPU, as the task's own code
 * runs: a copy of megabytes, or a write the host's writeback throttles,
 * holds no one else up.  The iterator is a copy on this task's stack.
 */
static ssize_t host_io(const struct lx_fuse_ref *ref, struct iov_iter *it,
		       loff_t pos, int write, long *err)
{
	struct task_struct *t = current;
	struct iovec iov[8];
	ssize_t done = 0;
	size_t len;
	long n = 0;
	int cnt, i;

	/*
	 * The host copies only what is the program's, up to where the
	 * buffer runs into lx's memory (a short count); one that starts
	 * there goes the FUSE way, to its -EFAULT.
	 */
	if (!lx_user_iovecs(it, iov, 1)) {
		*err = -EOPNOTSUPP;
		return 0;
	}
	/*
	 * If the process dies meanwhile, lx_kernel_process_died() sees the
	 * flag: the frames on this stack hold locks no one could release.
	 */
	t->thread.flags |= LX_THREAD_HOSTIO;
	lx_task_leave();
	while ((cnt = lx_user_iovecs(it, iov, ARRAY_SIZE(iov)))) {
		if (done && __fatal_signal_pending(t))
			break;	/* a short count: the task dies on its way out */
		for (i = 0, len = 0; i < cnt; i++) {
			if (len + iov[i].iov_len > HOST_IO_MAX) {
				iov[i].iov_len = HOST_IO_MAX - len;
				cnt = i + 1;
				break;
			}
			len += iov[i].iov_len;
		}
		n = write ? lx_host->fuse_write(ref, iov, cnt, pos + done) :
			    lx_host->fuse_read(ref, iov, cnt, pos + done);
		if (n <= 0)
			break;
		iov_iter_advance(it, n);
		done += n;
	}
	lx_task_enter(t);
	t->thread.flags &= ~LX_THREAD_HOSTIO;
	*err = n < 0 ? n : 0;
	return done;
}

ssize_t arch_fuse_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	size_t count = iov_iter_count(to);
	struct lx_fuse_ref ref = { 0 };
	struct iov_iter it = *to;
	ssize_t done;
	long err;

	if (!lx_host->fuse_read || !host_file_io(iocb, to, &ref) ||
	    mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY) ||
	    mapping_tagged(inode->i_mapping, PAGECACHE_TAG_WRITEBACK))
		return -EOPNOTSUPP;
	done = host_io(&ref, &it, iocb->ki_pos, 0, &err);
	if (err) {
		/*
		 * A part the host must fetch from its disk (or a fault) sends
		 * the whole read the FUSE way, what was copied is copied
		 * again; and not from what lx cached, which may be older than
		 * what earlier reads returned.  (A process with no host path
		 * to the file does not drop the cache everyone shares.)
		 */
		if (err != -EOPNOTSUPP)
			invalidate_inode_pages2_range(inode->i_mapping,
				iocb->ki_pos >> PAGE_SHIFT,
				(iocb->ki_pos + count - 1) >> PAGE_SHIFT);
		return -EOPNOTSUPP;
	}
	iov_iter_advance(to, done);
	iocb->ki_pos += done;
	/* the host's file is longer than lx thinks: ask again at stat */
	if (iocb->ki_pos > i_size_read(inode))
		fuse_invalidate_attr(inode);
	file_accessed(file);
	return done;
}

/*
 * write() through the host file: one copy into the host's page cache, as
 * natively, instead of a copy into lx's page cache (fresh kernel RAM: a
 * host page fault each) and the server's pwrite.  The host write may
 * block (the host's writeback throttles it, and RWF_NOWAIT is no buffered
 * write's on ext4): host_io() gives lx's CPU up for it; the inode lock
 * keeps other writers out meanwhile.  Afterwards lx drops what it cached
 * of the range and updates the size, as a FUSE write does.  A file whose
 * write must clear suid or sgid goes the FUSE way, where the server does.
 */
ssize_t arch_fuse_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct lx_fuse_ref ref = { 0 };
	struct iov_iter it = *from;
	ssize_t done;
	long err;

	/*
	 * O_APPEND goes the FUSE way: the server's handle appends at the host
	 * file's end, which lx's size may not know (another writer on the
	 * share).
	 */
	if (!lx_host->fuse_write || !host_file_io(iocb, from, &ref) ||
	    (iocb->ki_flags & IOCB_APPEND) ||
	    (inode->i_mode & (S_ISUID | S_ISGID)))
		return -EOPNOTSUPP;
	done = host_io(&ref, &it, iocb->ki_pos, 1, &err);
	if (!done)
		return err ? err : -EOPNOTSUPP; /* -EOPNOTSUPP: no host fd */
	iov_iter_advance(from, done);
	invalidate_inode_pages2_range(inode->i_mapping,
				      iocb->ki_pos >> PAGE_SHIFT,
				      (iocb->ki_pos + done - 1) >> PAGE_SHIFT);
	fuse_write_update_attr(inode, iocb->ki_pos + done, done);
	return done;
}

/*
 * A file lx closes (its last reference, in the process that drops it):
 * that process's host write fd of the node goes (a host program may wait
 * for the file's close or want to run it: ETXTBSY), and the read fd too
 * if lx unlinked the file (the host would keep its blocks).  Another open
 * file of the node in the process opens a write fd again when it writes;
 * read fds of live files stay for the next open.
 */
void arch_fuse_release(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct fuse_file *ff = file->private_data;
	struct lx_fuse_ref ref = { 0 };

	if (!lx_host->fuse_closed || !S_ISREG(inode->i_mode) ||
	    strcmp(inode->i_sb->s_type->name, "virtiofs"))
		return;
	ref.nodeid = ff->nodeid;
	strscpy(ref.tag, real_mount(file->f_path.mnt)->mnt_devname,
		sizeof(ref.tag));
	lx_host->fuse_closed(&ref, !inode->i_nlink);
}
