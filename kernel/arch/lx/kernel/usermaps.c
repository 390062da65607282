// SPDX-License-Identifier: GPL-2.0
/*
 * usermaps.c - what lx knows of a program's mappings, for /proc/PID/maps.
 *
 * A program's memory is the host's (DESIGN.md decision 2): guest/ makes
 * its mappings with host calls, and lx, built without an MMU, has no VMA
 * of them.  guest/ tells lx what it mapped, unmapped, protected and moved
 * (LX_SYS_UMAP), lx keeps that list per address space, and
 * /proc/PID/maps shows it as Linux would (kernel/patches/0003): the range,
 * rwx and private or shared, the offset, device and inode and path of a
 * file, [stack] for the stack the program started on.  The mappings lx's
 * own code makes in a program process are not told, and not shown.
 *
 * LX_UMAP_EXE also gives the address space its program file
 * (/proc/PID/exe) and the task its name, as an exec would.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/magic.h>
#include <linux/mman.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/lx.h>
#include "../../../fs/proc/internal.h"

#define UMAP_MAX 65530		/* as vm.max_map_count */

struct umap {
	struct list_head node;
	unsigned long start, end;
	unsigned long flags;	/* VM_READ, VM_WRITE, VM_EXEC, VM_MAYSHARE */
	struct file *file;	/* or NULL */
	unsigned long pgoff;
};

/* The list of one address space, sorted by address. */
struct umaps {
	struct hlist_node node;
	struct mm_struct *mm;
	struct mutex lock;
	struct list_head list;
	unsigned int count;
};

static DEFINE_HASHTABLE(all_umaps, 8);
static DEFINE_SPINLOCK(all_lock);

static struct umaps *umaps_of(struct mm_struct *mm, bool make)
{
	struct umaps *u, *fresh = NULL;

again:
	spin_lock(&all_lock);
	hash_for_each_possible(all_umaps, u, node, (unsigned long)mm)
		if (u->mm == mm) {
			spin_unlock(&all_lock);
			kfree(fresh);
			return u;
		}
	if (fresh) {
		hash_add(all_umaps, &fresh->node, (unsigned long)mm);
		spin_unlock(&all_lock);
		return fresh;
	}
	spin_unlock(&all_lock);
	if (!make)
		return NULL;
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return NULL;
	fresh->mm = mm;
	mutex_init(&fresh->lock);
	INIT_LIST_HEAD(&fresh->list);
	goto again;
}

static void umap_free(struct umaps *u, struct umap *e)
{
	list_del(&e->node);
	if (e->file)
		fput(e->file);
	kfree(e);
	u->count--;
}

/* Split e at addr (inside it): e keeps the lower part.  Under u->lock. */
static int umap_split(struct umaps *u, struct umap *e, unsigned long addr)
{
	struct umap *hi = kmalloc(sizeof(*hi), GFP_KERNEL);

	if (!hi)
		return -ENOMEM;
	*hi = *e;
	hi->start = addr;
	if (hi->file) {
		get_file(hi->file);
		hi->pgoff += (addr - e->start) >> PAGE_SHIFT;
	}
	e->end = addr;
	list_add(&hi->node, &e->node);
	u->count++;
	return 0;
}

/* Entries in [start, end) split off at both ends.  Under u->lock. */
static int umap_cut(struct umaps *u, unsigned long start, unsigned long end)
{
	struct umap *e;
	int ret;

	list_for_each_entry(e, &u->list, node) {
		if (e->start < start && start < e->end) {
			ret = umap_split(u, e, start);
			if (ret)
				return ret;
		}
		if (e->start < end && end < e->end) {
			ret = umap_split(u, e, end);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int umap_remove(struct umaps *u, unsigned long start,
		       unsigned long end)
{
	struct umap *e, *tmp;
	int ret = umap_cut(u, start, end);

	list_for_each_entry_safe(e, tmp, &u->list, node)
		if (e->start >= start && e->end <= end)
			umap_free(u, e);
	return ret;
}

static int umap_insert(struct umaps *u, unsigned long start,
		       unsigned long end, unsigned long flags,
		       struct file *file, unsigned long pgoff)
{
	struct umap *n, *e;
	int ret;

	ret = umap_remove(u, start, end);
	if (ret)
		return ret;
	if (u->count >= UMAP_MAX)
		return -ENOMEM;
	n = kmalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->start = start;
	n->end = end;
	n->flags = flags;
	n->file = file ? get_file(file) : NULL;
	n->pgoff = pgoff;
	list_for_each_entry(e, &u->list, node)
		if (e->start >= end)
			break;
	list_add_tail(&n->node, &e->node);
	u->count++;
	return 0;
}

static unsigned long vm_flags_of(unsigned long prot, bool shared)
{
	return (prot & PROT_READ ? VM_READ : 0) |
	       (prot & PROT_WRITE ? VM_WRITE : 0) |
	       (prot & PROT_EXEC ? VM_EXEC : 0) | (shared ? VM_MAYSHARE : 0);
}

/* The program file: /proc/PID/exe, and the task's name, as exec sets them. */
static long umap_exe(struct mm_struct *mm, int fd)
{
	struct fd f = fdget(fd);
	const char *name;
	long ret;

	if (!f.file)
		return -EBADF;
	ret = replace_mm_exe_file(mm, f.file);
	if (!ret) {
		name = f.file->f_path.dentry->d_name.name;
		__set_task_comm(current, name, true);
	}
	fdput(f);
	return ret;
}

/*
 * The pages held for shared ramfs mappings (sharedmap.c) follow the
 * program's mappings: gone with an unmapped range or one mapped over
 * (but a shared ramfs mapping itself, which LX_SYS_MAP_PAGES just held),
 * moved with mremap().
 */
static void umap_pins(struct mm_struct *mm, unsigned long op,
		      unsigned long start, unsigned long len,
		      unsigned long prot, struct file *file, unsigned long arg)
{
	switch (op) {
	case LX_UMAP_MAP:
		if (!(prot & LX_UMAP_SHARED) || !file ||
		    file_inode(file)->i_sb->s_magic != RAMFS_MAGIC)
			lx_pins_drop(mm, start, len);
		break;
	case LX_UMAP_UNMAP:
		lx_pins_drop(mm, start, len);
		break;
	case LX_UMAP_MOVE:
		/* (start, len, prot = new length, arg = new address) */
		if (arg != start) {
			lx_pins_drop(mm, arg, prot);
			lx_pins_move(mm, start, min(len, prot), arg);
		}
		if (prot < len)
			lx_pins_drop(mm, start + PAGE_ALIGN(prot),
				     len - PAGE_ALIGN(prot));
		break;
	}
}

long lx_sys_umap(unsigned long op, unsigned long start, unsigned long len,
		 unsigned long prot, long fd, unsigned long arg)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = start + PAGE_ALIGN(len);
	struct file *file = NULL;
	struct umaps *u;
	struct umap *e;
	long ret = 0;

	if (!mm)
		return -EINVAL;
	if (op == LX_UMAP_STACK) {
		mm->start_stack = start;
		return 0;
	}
	if (op == LX_UMAP_EXE)
		return umap_exe(mm, fd);
	if (start & ~PAGE_MASK || end < start || end > TASK_SIZE)
		return -EINVAL;
	if (op == LX_UMAP_MAP && fd >= 0) {
		file = fget(fd);
		if (!file)
			return -EBADF;
	}
	umap_pins(mm, op, start, len, prot, file, arg);
	u = umaps_of(mm, op == LX_UMAP_MAP || op == LX_UMAP_MOVE);
	if (!u) {
		if (file)
			fput(file);
		return op == LX_UMAP_MAP ? -ENOMEM : 0;
	}
	mutex_lock(&u->lock);
	switch (op) {
	case LX_UMAP_MAP:
		ret = umap_insert(u, start, end,
				  vm_flags_of(prot, prot & LX_UMAP_SHARED),
				  file, arg >> PAGE_SHIFT);
		break;
	case LX_UMAP_UNMAP:
		ret = umap_remove(u, start, end);
		break;
	case LX_UMAP_PROTECT:
		ret = umap_cut(u, start, end);
		list_for_each_entry(e, &u->list, node)
			if (e->start >= start && e->end <= end)
				e->flags = vm_flags_of(prot,
						       e->flags & VM_MAYSHARE);
		break;
	case LX_UMAP_MOVE: {
		/* mremap(start, len, prot = new length, arg = new address) */
		unsigned long nstart = arg, nend = arg + PAGE_ALIGN(prot);
		struct umap *src = NULL;

		list_for_each_entry(e, &u->list, node)
			if (e->start <= start && start < e->end) {
				src = e;
				break;
			}
		if (!src || nend < nstart || nend > TASK_SIZE ||
		    nstart & ~PAGE_MASK) {
			ret = -EINVAL;
			break;
		}
		file = src->file ? get_file(src->file) : NULL;
		prot = src->flags;
		arg = src->pgoff + ((start - src->start) >> PAGE_SHIFT);
		ret = umap_remove(u, start, end);
		if (!ret)
			ret = umap_insert(u, nstart, nend, prot, file, arg);
		break;
	}
	default:
		ret = -EINVAL;
	}
	mutex_unlock(&u->lock);
	if (file)
		fput(file);
	return ret;
}

/* The address space goes (asm/mmu_context.h). */
void lx_mm_release_umaps(struct mm_struct *mm)
{
	struct umap *e, *tmp;
	struct umaps *u = umaps_of(mm, false);

	if (!u)
		return;
	spin_lock(&all_lock);
	hash_del(&u->node);
	spin_unlock(&all_lock);
	list_for_each_entry_safe(e, tmp, &u->list, node)
		umap_free(u, e);
	kfree(u);
}

/*
 * /proc/PID/maps: the seq_file position is the address to go on from, as
 * in fs/proc/task_nommu.c; the list is locked from start to stop.
 */
static struct umap *umap_from(struct umaps *u, unsigned long addr)
{
	struct umap *e;

	list_for_each_entry(e, &u->list, node)
		if (e->end > addr)
			return e;
	return NULL;
}

static void *umaps_start(struct seq_file *m, loff_t *ppos)
{
	struct proc_maps_private *priv = m->private;
	struct umaps *u;
	struct umap *e;

	if (*ppos == -1UL)
		return NULL;
	priv->task = get_proc_task(priv->inode);
	if (!priv->task)
		return ERR_PTR(-ESRCH);
	if (!priv->mm || !mmget_not_zero(priv->mm))
		goto none;
	u = umaps_of(priv->mm, false);
	if (!u) {
		mmput(priv->mm);
		goto none;
	}
	mutex_lock(&u->lock);
	e = umap_from(u, *ppos);
	if (e)
		return e;
	mutex_unlock(&u->lock);
	mmput(priv->mm);
none:
	put_task_struct(priv->task);
	priv->task = NULL;
	return NULL;
}

static void *umaps_next(struct seq_file *m, void *v, loff_t *ppos)
{
	struct proc_maps_private *priv = m->private;
	struct umaps *u = umaps_of(priv->mm, false);
	struct umap *e = v;

	*ppos = e->end;
	if (list_is_last(&e->node, &u->list)) {
		*ppos = -1UL;
		return NULL;
	}
	return list_next_entry(e, node);
}

static void umaps_stop(struct seq_file *m, void *v)
{
	struct proc_maps_private *priv = m->private;
	struct umaps *u;

	if (IS_ERR_OR_NULL(v) && !priv->task)
		return;
	if (priv->task) {
		u = umaps_of(priv->mm, false);
		if (u)
			mutex_unlock(&u->lock);
		mmput(priv->mm);
		put_task_struct(priv->task);
		priv->task = NULL;
	}
}

static int umaps_show(struct seq_file *m, void *v)
{
	struct proc_maps_private *priv = m->private;
	struct umap *e = v;
	unsigned long ino = 0;
	dev_t dev = 0;

	if (e->file) {
		struct inode *inode = file_inode(e->file);

		dev = inode->i_sb->s_dev;
		ino = inode->i_ino;
	}
	seq_setwidth(m, 25 + sizeof(void *) * 6 - 1);
	seq_printf(m, "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ",
		   e->start, e->end, e->flags & VM_READ ? 'r' : '-',
		   e->flags & VM_WRITE ? 'w' : '-',
		   e->flags & VM_EXEC ? 'x' : '-',
		   e->flags & VM_MAYSHARE ? 's' : 'p',
		   e->file ? (unsigned long long)e->pgoff << PAGE_SHIFT : 0,
		   MAJOR(dev), MINOR(dev), ino);
	if (e->file) {
		seq_pad(m, ' ');
		seq_file_path(m, e->file, "\n");
	} else if (e->start <= priv->mm->start_stack &&
		   priv->mm->start_stack < e->end) {
		seq_pad(m, ' ');
		seq_puts(m, "[stack]");
	}
	seq_putc(m, '\n');
	return 0;
}

const struct seq_operations lx_maps_seq_ops = {
	.start = umaps_start,
	.next = umaps_next,
	.stop = umaps_stop,
	.show = umaps_show,
};
