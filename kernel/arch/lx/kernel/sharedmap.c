// SPDX-License-Identifier: GPL-2.0
/*
 * sharedmap.c - MAP_SHARED mappings of ramfs files for programs.
 *
 * A program's memory is host memory (DESIGN.md decision 2), and lx's page
 * cache is kernel RAM, which every process of the container maps shared.
 * So a program maps a page of a ramfs file (/tmp, /dev/shm) by mapping the
 * very page of kernel RAM that holds it: stores are seen by read() and
 * write()s by the mapping, with no copy.  LX_SYS_MAP_PAGES finds (or
 * makes) the pages, takes a reference on each for the mapping and tells
 * the caller where they are; guest/ maps them (mremap of kernel RAM).
 * The references follow the program's mappings as LX_SYS_UMAP tells of
 * them (usermaps.c), and go with the address space.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/lx.h>

/* A page of a file held for a program's mapping, by address space. */
struct lx_pin {
	struct hlist_node node;
	struct mm_struct *mm;
	unsigned long uaddr;
	struct page *page;
};

static DEFINE_HASHTABLE(pins, 10);
static DEFINE_SPINLOCK(pins_lock);
static unsigned long npins;	/* under pins_lock */

static unsigned long pin_key(struct mm_struct *mm, unsigned long uaddr)
{
	return (unsigned long)mm ^ (uaddr >> PAGE_SHIFT);
}

/* Drop the pin of mm at uaddr, if any.  Under pins_lock. */
static struct lx_pin *pin_take(struct mm_struct *mm, unsigned long uaddr)
{
	struct lx_pin *p;

	hash_for_each_possible(pins, p, node, pin_key(mm, uaddr))
		if (p->mm == mm && p->uaddr == uaddr) {
			hash_del(&p->node);
			npins--;
			return p;
		}
	return NULL;
}

static void pin_free(struct lx_pin *p)
{
	put_page(p->page);
	kfree(p);
}

/*
 * LX_SYS_MAP_PAGES(fd, pgoff, n, uaddr, kaddrs): the pages pgoff..pgoff+n
 * of the ramfs file fd, for a mapping at uaddr; each page's kernel
 * address in kaddrs[i], 0 for a page past the end of the file.
 */
long lx_sys_map_pages(int fd, unsigned long pgoff, unsigned long n,
		      unsigned long uaddr, unsigned long __user *kaddrs)
{
	struct mm_struct *mm = current->mm;
	unsigned long i, end_index;
	struct inode *inode;
	struct fd f;
	long ret = 0;

	if (!mm || !n || n > (1UL << 20) || uaddr & ~PAGE_MASK)
		return -EINVAL;
	f = fdget(fd);
	if (!f.file)
		return -EBADF;
	inode = file_inode(f.file);
	if (inode->i_sb->s_magic != RAMFS_MAGIC || !S_ISREG(inode->i_mode)) {
		ret = -EINVAL;
		goto out;
	}
	end_index = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE);
	for (i = 0; i < n && !ret; i++) {
		unsigned long addr = 0, index = pgoff + i;
		struct lx_pin *p, *old;
		struct page *page;

		if (index < end_index) {
			page = read_mapping_page(inode->i_mapping, index, NULL);
			if (IS_ERR(page)) {
				ret = PTR_ERR(page);
				break;
			}
			p = kmalloc(sizeof(*p), GFP_KERNEL);
			if (!p) {
				put_page(page);
				ret = -ENOMEM;
				break;
			}
			p->mm = mm;
			p->uaddr = uaddr + i * PAGE_SIZE;
			p->page = page;
			spin_lock(&pins_lock);
			/* a mapping made over another one replaces it */
			old = pin_take(mm, p->uaddr);
			hash_add(pins, &p->node, pin_key(mm, p->uaddr));
			npins++;
			spin_unlock(&pins_lock);
			if (old)
				pin_free(old);
			addr = (unsigned long)page_address(page);
		}
		if (put_user(addr, kaddrs + i))
			ret = -EFAULT;
	}
	/* on failure the caller maps nothing: what was pinned goes */
	if (ret)
		lx_pins_drop(mm, uaddr, i * PAGE_SIZE);
out:
	fdput(f);
	return ret;
}

/*
 * The pins of mm in [uaddr, uaddr + len) - by walking the pins when they
 * are fewer than the range's pages (a munmap of a huge reservation) -
 * dropped, or (to) moved to the same offsets from to.
 */
static void pins_range(struct mm_struct *mm, unsigned long uaddr,
		       unsigned long len, unsigned long to, bool move)
{
	unsigned long a, end = uaddr + PAGE_ALIGN(len);
	struct hlist_node *tmp;
	struct lx_pin *p;
	HLIST_HEAD(gone);
	int bkt;

	spin_lock(&pins_lock);
	if (!npins) {
		spin_unlock(&pins_lock);
		return;
	}
	if ((end - uaddr) >> PAGE_SHIFT > npins) {
		hash_for_each_safe(pins, bkt, tmp, p, node)
			if (p->mm == mm && p->uaddr >= uaddr &&
			    p->uaddr < end) {
				hash_del(&p->node);
				npins--;
				hlist_add_head(&p->node, &gone);
			}
	} else {
		for (a = uaddr; a < end; a += PAGE_SIZE) {
			p = pin_take(mm, a);
			if (p)
				hlist_add_head(&p->node, &gone);
		}
	}
	if (move) {
		hlist_for_each_entry_safe(p, tmp, &gone, node) {
			hlist_del(&p->node);
			p->uaddr = p->uaddr - uaddr + to;
			hash_add(pins, &p->node, pin_key(mm, p->uaddr));
			npins++;
		}
	}
	spin_unlock(&pins_lock);
	hlist_for_each_entry_safe(p, tmp, &gone, node)
		pin_free(p);
}

/*
 * The program unmapped [uaddr, +len), or mapped something else there; or
 * mremap() moved it to to (usermaps.c tells, with its own list).
 */
void lx_pins_drop(struct mm_struct *mm, unsigned long uaddr,
		  unsigned long len)
{
	pins_range(mm, uaddr, len, 0, false);
}

void lx_pins_move(struct mm_struct *mm, unsigned long old, unsigned long len,
		  unsigned long to)
{
	pins_range(mm, old, len, to, true);
}

/* An address space goes (asm/mmu_context.h): its pins go with it. */
void lx_mm_release_pins(struct mm_struct *mm)
{
	struct hlist_node *tmp;
	struct lx_pin *p;
	HLIST_HEAD(gone);
	int bkt;

	spin_lock(&pins_lock);
	hash_for_each_safe(pins, bkt, tmp, p, node)
		if (p->mm == mm) {
			hash_del(&p->node);
			npins--;
			hlist_add_head(&p->node, &gone);
		}
	spin_unlock(&pins_lock);
	hlist_for_each_entry_safe(p, tmp, &gone, node)
		pin_free(p);
}
