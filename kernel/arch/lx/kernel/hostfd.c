// SPDX-License-Identifier: GPL-2.0
/*
 * hostfd.c - files of lx that are host file descriptors.
 *
 * A program's stdio stays what its engine gave: a pipe stays a pipe, a pty
 * a tty (with its window size), and preserved fds and host memfds are
 * served the same way.  read, write, poll, ioctl and fstat go to the host
 * fd; the host fd's number is the same in every process of the container
 * (the home process made it before forking them), and each process uses
 * its own copy.
 *
 * Nothing here blocks on the host while the CPU is held: I/O is tried
 * without blocking, and a task that must wait sleeps in the kernel like
 * any other, on the file's wait queue.  The home process's poller thread
 * watches the host fds tasks wait for and raises LX_HOSTFD_IRQ, whose
 * handler wakes them.  So waits are interruptible by signals, and poll,
 * select and epoll on a hostfd work.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/fdtable.h>
#include <linux/interrupt.h>
#include <linux/mount.h>
#include <linux/poll.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/syscalls.h>
#include <linux/termios.h>
#include <linux/uio.h>
#include <asm/ioctls.h>
#include <asm/unistd.h>
#include <asm/lx.h>

#define HOSTFD_MAGIC 0x6c786664	/* "lxfd" */
#define HOSTFD_SLOTS 4096

struct hostfd {
	int fd;			/* the host fd lx uses: private, non-blocking */
	int orig;		/* the fd given, or -1 if fd is the one given */
	unsigned int io_flags;	/* LX_IO_* for the host */
	bool stream;		/* pipe, tty, socket: no position */
	unsigned int seq;	/* bumped by each wake-up from the poller */
	__poll_t armed;		/* events the poller watches for (one shot) */
	int slot;		/* its index in slots[]: the poller's name for it */
	wait_queue_head_t wq;
	char *name;		/* what its path shows (a memfd's), or NULL */
};

static struct hostfd *slots[HOSTFD_SLOTS];
static unsigned long ready[HOSTFD_SLOTS / BITS_PER_LONG];
static DEFINE_SPINLOCK(slots_lock);
static struct vfsmount *hostfd_mnt;

/* The home process's poller saw slot's host fd ready (any host thread). */
void lx_kernel_hostfd_ready(int slot)
{
	if (slot < 0 || slot >= HOSTFD_SLOTS)
		return;
	__atomic_fetch_or(&ready[slot / BITS_PER_LONG],
			  1UL << (slot % BITS_PER_LONG), __ATOMIC_RELEASE);
	lx_trigger_irq(LX_HOSTFD_IRQ);
}

static irqreturn_t hostfd_irq(int irq, void *arg)
{
	unsigned long bits;
	struct hostfd *h;
	int i, b;

	for (i = 0; i < ARRAY_SIZE(ready); i++) {
		if (!READ_ONCE(ready[i]))
			continue;
		bits = __atomic_exchange_n(&ready[i], 0, __ATOMIC_ACQUIRE);
		while (bits) {
			b = __builtin_ctzl(bits);
			bits &= bits - 1;
			spin_lock(&slots_lock);
			h = slots[i * BITS_PER_LONG + b];
			if (h) {
				h->seq++;
				h->armed = 0;	/* the one-shot report came */
				wake_up_interruptible_poll(&h->wq, EPOLLIN |
							   EPOLLOUT);
			}
			spin_unlock(&slots_lock);
		}
	}
	return IRQ_HANDLED;
}

/*
 * Ask the poller to tell us when the host fd has events.  The host
 * registration is one-shot and covers everything anyone waits for.
 */
static void hostfd_arm(struct hostfd *h, __poll_t events)
{
	unsigned long flags;

	spin_lock_irqsave(&slots_lock, flags);
	h->armed |= events & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP);
	events = h->armed;
	spin_unlock_irqrestore(&slots_lock, flags);
	lx_host->fd_arm(h->fd, h->slot, (__force int)events);
}

/* pread/pwrite and their vector forms give a position of their own. */
static bool positional_call(void)
{
	struct pt_regs *regs = current_pt_regs();

	switch (regs->orig_ax) {
	case __NR_pread64:
	case __NR_pwrite64:
	case __NR_preadv:
	case __NR_pwritev:
		return true;
	case __NR_preadv2:
	case __NR_pwritev2:
		return (long)regs->r10 != -1;	/* -1: the current offset */
	default:
		return false;
	}
}

static ssize_t hostfd_io(struct kiocb *iocb, struct iov_iter *it, int write)
{
	struct file *file = iocb->ki_filp;
	struct hostfd *h = file->private_data;
	__poll_t want = write ? EPOLLOUT : EPOLLIN;
	size_t count = iov_iter_count(it);
	struct iovec fast[UIO_FASTIOV], *iov = fast, *big = NULL;
	void *bounce = NULL;
	unsigned int seq;
	bool at_host_pos;
	int cnt;
	long n;

	if (!count)
		return 0;
	if (iter_is_iovec(it) || iter_is_ubuf(it)) {
		/*
		 * User memory is host memory: the host reads and writes it,
		 * up to where it runs into lx's (a short count, as a fault).
		 */
		unsigned long nsegs = iter_is_ubuf(it) ? 1 : it->nr_segs;

		if (nsegs > ARRAY_SIZE(fast)) {
			big = kmalloc_array(nsegs, sizeof(*big), GFP_KERNEL);
			if (!big)
				return -ENOMEM;
			iov = big;
		}
		cnt = lx_user_iovecs(it, iov, nsegs);
		if (!cnt) {
			kfree(big);
			return -EFAULT;
		}
	} else {
		/* kernel buffers (splice, sendfile): through a bounce buffer */
		count = min_t(size_t, count, 65536);
		bounce = kmalloc(count, GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
		if (write && copy_from_iter(bounce, count, it) != count) {
			kfree(bounce);
			return -EFAULT;
		}
		fast[0].iov_base = (void __user *)bounce;
		fast[0].iov_len = count;
		cnt = 1;
	}
	/*
	 * A regular file's offset is the host description's, shared with
	 * whoever else has it (a shell's ">" file): read() and write() use
	 * and move it, and f_pos follows it; pread/pwrite say where.
	 */
	at_host_pos = h->stream || !positional_call();
	for (;;) {
		seq = READ_ONCE(h->seq);
		n = lx_host->fd_io(h->fd, iov, cnt, write,
				   at_host_pos ? -1 : iocb->ki_pos, h->io_flags);
		if (n != -EAGAIN)
			break;
		if ((file->f_flags & O_NONBLOCK) ||
		    (iocb->ki_flags & IOCB_NOWAIT)) {
			/* an epoll or poll waiter needs to hear of the change */
			if (waitqueue_active(&h->wq))
				hostfd_arm(h, want);
			break;
		}
		hostfd_arm(h, want);
		/* ready meanwhile: the arm's report may be gone already */
		if (lx_host->fd_poll(h->fd, (__force int)want) &
		    (__force int)(want | EPOLLHUP | EPOLLERR))
			continue;
		if (wait_event_interruptible(h->wq, READ_ONCE(h->seq) != seq)) {
			n = -ERESTARTSYS;
			break;
		}
	}
	if (n == -EPIPE && write)
		send_sig(SIGPIPE, current, 0);	/* as pipe_write() does */
	if (n > 0) {
		if (bounce) {
			if (!write && copy_to_iter(bounce, n, it) != n)
				n = -EFAULT;
		} else {
			iov_iter_advance(it, n);
		}
		if (!h->stream && at_host_pos)
			iocb->ki_pos = lx_host->fd_seek(h->fd, 0, SEEK_CUR);
		else if (!h->stream)
			iocb->ki_pos += n;
	}
	kfree(bounce);
	kfree(big);
	return n;
}

static ssize_t hostfd_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return hostfd_io(iocb, to, 0);
}

static ssize_t hostfd_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return hostfd_io(iocb, from, 1);
}

static __poll_t hostfd_poll(struct file *file, poll_table *pt)
{
	struct hostfd *h = file->private_data;
	__poll_t want = poll_requested_events(pt), mask;

	poll_wait(file, &h->wq, pt);
	mask = (__force __poll_t)lx_host->fd_poll(h->fd,
						  (__force int)(want ? want :
								EPOLLIN | EPOLLOUT));
	/*
	 * Not ready: have the poller wake the wait queue when it is (epoll
	 * polls again without a queue function, after a one-shot fired).
	 */
	if (!(mask & want))
		hostfd_arm(h, want);
	return mask;
}

/* The tty and FIONREAD requests a program's stdio needs, with their sizes. */
static long ioctl_size(unsigned int cmd)
{
	switch (cmd) {
	case TCGETS:
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return sizeof(struct termios);
	case TIOCGWINSZ:
	case TIOCSWINSZ:
		return sizeof(struct winsize);
	case FIONREAD:
	case TIOCOUTQ:
	case TIOCGPTN:
		return sizeof(int);
	case TCFLSH:
	case TCXONC:
	case TCSBRK:
	case TCSBRKP:
		return 0;	/* an integer argument, no pointer */
	default:
		return -1;
	}
}

static long hostfd_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct hostfd *h = file->private_data;
	long size = ioctl_size(cmd);

	if (size < 0)
		return -ENOTTY;
	/* the host reads or writes it: all of it the program's */
	if (size && (!access_ok((void __user *)arg, size) ||
		     lx_user_span(arg, size) != size))
		return -EFAULT;
	return lx_host->fd_ioctl(h->fd, cmd, arg);
}

static loff_t hostfd_llseek(struct file *file, loff_t off, int whence)
{
	struct hostfd *h = file->private_data;
	loff_t pos;

	if (h->stream)
		return -ESPIPE;
	/* the host description's offset is the one */
	pos = lx_host->fd_seek(h->fd, off, whence);
	if (pos >= 0)
		file->f_pos = pos;
	return pos;
}

static int hostfd_release(struct inode *inode, struct file *file)
{
	struct hostfd *h = file->private_data;
	unsigned long flags;

	spin_lock_irqsave(&slots_lock, flags);
	slots[h->slot] = NULL;
	spin_unlock_irqrestore(&slots_lock, flags);
	lx_host->fd_close(h->fd);
	if (h->orig >= 0)
		lx_host->fd_close(h->orig);
	inode->i_private = NULL;
	kfree(h->name);
	kfree(h);
	return 0;
}

static const struct file_operations hostfd_fops = {
	.read_iter = hostfd_read_iter,
	.write_iter = hostfd_write_iter,
	.poll = hostfd_poll,
	.unlocked_ioctl = hostfd_ioctl,
	.llseek = hostfd_llseek,
	.release = hostfd_release,
};

/* fstat of a hostfd is fstat of the host fd. */
static int hostfd_getattr(struct user_namespace *mnt_userns,
			  const struct path *path, struct kstat *ks,
			  u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct hostfd *h = inode->i_private;
	struct stat st;
	int ret;

	generic_fillattr(mnt_userns, inode, ks);
	if (!h)
		return 0;
	ret = lx_host->fd_stat(h->fd, &st);
	if (ret)
		return ret;
	ks->mode = st.st_mode;
	ks->nlink = st.st_nlink;
	ks->uid = make_kuid(&init_user_ns, st.st_uid);
	ks->gid = make_kgid(&init_user_ns, st.st_gid);
	ks->rdev = new_decode_dev(st.st_rdev);
	ks->size = st.st_size;
	ks->blksize = st.st_blksize;
	ks->blocks = st.st_blocks;
	ks->atime.tv_sec = st.st_atime;
	ks->atime.tv_nsec = st.st_atime_nsec;
	ks->mtime.tv_sec = st.st_mtime;
	ks->mtime.tv_nsec = st.st_mtime_nsec;
	ks->ctime.tv_sec = st.st_ctime;
	ks->ctime.tv_nsec = st.st_ctime_nsec;
	return 0;
}

static const struct inode_operations hostfd_iops = {
	.getattr = hostfd_getattr,
};

static char *hostfd_dname(struct dentry *dentry, char *buffer, int buflen)
{
	struct hostfd *h = d_inode(dentry)->i_private;

	if (h && h->name)
		return dynamic_dname(buffer, buflen, "%s", h->name);
	return dynamic_dname(buffer, buflen, "hostfd:[%lu]",
			     d_inode(dentry)->i_ino);
}

static const struct dentry_operations hostfd_dops = {
	.d_dname = hostfd_dname,
};

static int hostfd_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, HOSTFD_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->dops = &hostfd_dops;
	return 0;
}

static struct file_system_type hostfd_fs_type = {
	.name = "hostfd",
	.init_fs_context = hostfd_init_fs_context,
	.kill_sb = kill_anon_super,
};

/*
 * Make an lx file for host fd host_fd: on success lx owns host_fd (closed
 * with the file), on failure the caller still does.
 */
/*
 * LX_SYS_HOSTFD(host_fd, flags, name): name, if not NULL, is what the
 * file's path shows (a program's memfd: "/memfd:NAME (deleted)").
 */
long lx_sys_hostfd(int host_fd, unsigned int flags, const char __user *name)
{
	unsigned long irqflags;
	struct inode *inode;
	struct hostfd *h;
	struct file *file;
	struct stat st;
	int fd, slot, ret;

	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_ACCMODE))
		return -EINVAL;
	if (!hostfd_mnt)
		return -ENODEV;
	ret = lx_host->fd_stat(host_fd, &st);
	if (ret)
		return ret;
	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	if (name) {
		h->name = strndup_user(name, 300);
		if (IS_ERR(h->name)) {
			ret = PTR_ERR(h->name);
			kfree(h);
			return ret;
		}
	}
	init_waitqueue_head(&h->wq);
	h->stream = S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ||
		    S_ISSOCK(st.st_mode);
	h->orig = -1;
	h->fd = host_fd;
	if (S_ISSOCK(st.st_mode)) {
		h->io_flags = LX_IO_SOCKET;
	} else if (h->stream) {
		/* a description of our own, non-blocking: the engine's keeps
		 * its flags, and a read never blocks with the CPU held */
		ret = lx_host->fd_reopen(host_fd, flags & O_ACCMODE);
		if (ret >= 0) {
			h->orig = host_fd;
			h->fd = ret;
			h->io_flags = LX_IO_NONBLOCK;
		}
	}

	fd = get_unused_fd_flags(flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto fail_h;
	}
	spin_lock_irqsave(&slots_lock, irqflags);
	for (slot = 0; slot < HOSTFD_SLOTS && slots[slot]; slot++)
		;
	if (slot < HOSTFD_SLOTS) {
		slots[slot] = h;
		h->slot = slot;
	}
	spin_unlock_irqrestore(&slots_lock, irqflags);
	ret = -ENFILE;
	if (slot == HOSTFD_SLOTS)
		goto fail_fd;

	ret = -ENOMEM;
	inode = new_inode_pseudo(hostfd_mnt->mnt_sb);
	if (!inode)
		goto fail_slot;
	inode->i_ino = get_next_ino();
	inode->i_mode = st.st_mode;
	inode->i_uid = make_kuid(&init_user_ns, st.st_uid);
	inode->i_gid = make_kgid(&init_user_ns, st.st_gid);
	inode->i_rdev = new_decode_dev(st.st_rdev);
	inode->i_op = &hostfd_iops;
	inode->i_fop = &hostfd_fops;
	inode->i_private = h;
	/* never on a dirty list */
	inode->i_state = I_DIRTY;
	inode->i_atime = inode->i_mtime = inode->i_ctime = current_time(inode);

	file = alloc_file_pseudo(inode, hostfd_mnt, "",
				 (flags & (O_ACCMODE | O_NONBLOCK)) |
					 O_LARGEFILE,
				 &hostfd_fops);
	if (IS_ERR(file)) {
		iput(inode);
		ret = PTR_ERR(file);
		goto fail_slot;
	}
	file->private_data = h;
	if (h->stream)
		stream_open(inode, file);
	else
		file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	if (!h->stream)
		file->f_pos = max_t(long long, 0, lx_host->fd_seek(h->fd, 0, SEEK_CUR));
	/* from here the file owns h, its slot and the host fd */
	fd_install(fd, file);
	return fd;

fail_slot:
	spin_lock_irqsave(&slots_lock, irqflags);
	slots[slot] = NULL;
	spin_unlock_irqrestore(&slots_lock, irqflags);
fail_fd:
	put_unused_fd(fd);
fail_h:
	/* the caller keeps the fd it gave */
	if (h->orig >= 0)
		lx_host->fd_close(h->fd);
	kfree(h->name);
	kfree(h);
	return ret;
}

/*
 * LX_SYS_HOSTFD_GET(fd): the host fd behind lx fd fd in the calling
 * process, if it is a hostfd file (guest/ maps a memfd from it, and seals
 * and truncates it on the host); -EINVAL otherwise.
 */
long lx_sys_hostfd_get(int fd)
{
	struct fd f = fdget(fd);
	long ret = -EINVAL;

	if (!f.file)
		return -EBADF;
	if (f.file->f_op == &hostfd_fops)
		ret = ((struct hostfd *)f.file->private_data)->fd;
	fdput(f);
	return ret;
}

static int __init hostfd_init(void)
{
	int ret;

	ret = register_filesystem(&hostfd_fs_type);
	if (ret)
		return ret;
	hostfd_mnt = kern_mount(&hostfd_fs_type);
	if (IS_ERR(hostfd_mnt)) {
		ret = PTR_ERR(hostfd_mnt);
		hostfd_mnt = NULL;
		return ret;
	}
	return request_irq(LX_HOSTFD_IRQ, hostfd_irq, 0, "hostfd", NULL);
}
fs_initcall(hostfd_init);
