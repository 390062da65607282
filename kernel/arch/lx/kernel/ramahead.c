// SPDX-License-Identifier: GPL-2.0
/*
 * ramahead.c - the page allocator tells the host where it starts taking
 * fresh RAM, so the host can bring in what comes next before it is used.
 *
 * lx's RAM is a host memory file.  The first write of each page of it is
 * a host page fault that allocates, zeroes and maps a page: ~2.5 us on
 * the machines lx runs on, where Linux filling its own page cache
 * spends ~0.8 us a page in all.  A write of 256 MiB into a fresh lx's
 * page cache took ~170 ms of faults on lx's one CPU.  The same work done
 * by a host thread on another CPU, a little ahead of the allocator, is
 * off lx's path; and a page the host has brought in is mapped in a
 * process by its first read together with its neighbours (the host's
 * fault-around maps up to 16 pages present in the file at once), where
 * a first write maps one.
 *
 * So: the first allocation of a page in each 2 MiB block of RAM the
 * boot did not use is reported to the host (mem_used), which decides
 * what to bring in; and every allocation reads its pages once, in 64 KiB
 * steps, before its user writes them.
 * lx_ram_ahead=0 turns both off.
 */
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <asm/lx.h>

#define BLOCK_PAGES	(SZ_2M >> PAGE_SHIFT)

static bool ram_ahead = true;
static unsigned long end_pfn;	/* 0 until the page allocator is up */
/* 2 MiB blocks of RAM the kernel has used: the boot's, then reported */
static unsigned long *used;

static int __init lx_ram_ahead_param(char *p)
{
	return kstrtobool(p, &ram_ahead);
}
early_param("lx_ram_ahead", lx_ram_ahead_param);

/* RAM is [0, end) in pages: from setup_arch(), memblock still up. */
void __init lx_ram_ahead_init(unsigned long end)
{
	if (ram_ahead)
		used = memblock_alloc(BITS_TO_LONGS(DIV_ROUND_UP(end,
				      BLOCK_PAGES)) * sizeof(long), sizeof(long));
}

/*
 * After memblock_free_all(): the boot's allocations are memblock's, all
 * at the bottom of RAM (bottom-up), so the blocks up to the end of the
 * last one count as used, in one report; the free blocks above them,
 * which the page allocator hands out first, are the host's to bring in
 * like the late part (its memmap is in the boot's, late_memmap_init()).
 */
void __init lx_ram_ahead_boot(unsigned long end)
{
	phys_addr_t start, stop, top = 0;
	unsigned long blocks;
	u64 i;

	if (!used)
		return;
	for_each_reserved_mem_range(i, &start, &stop)
		top = max(top, stop);
	blocks = DIV_ROUND_UP(PFN_UP(top), BLOCK_PAGES);
	lx_host->mem_used(memory_start, blocks * SZ_2M);
	bitmap_set(used, 0, blocks);
	end_pfn = end;
}

static void report(unsigned long pfn, unsigned long end)
{
	unsigned long b = pfn / BLOCK_PAGES, last = (end - 1) / BLOCK_PAGES;

	/*
	 * Marked only once the host has it: mem_used() may wait for the
	 * host to finish with the block, and whatever allocates in it
	 * meanwhile (an interrupt) reports it too, and waits too.
	 */
	for (; b <= last; b++)
		if (!test_bit(b, used)) {
			lx_host->mem_used(memory_start +
					  PFN_PHYS(b * BLOCK_PAGES), SZ_2M);
			set_bit(b, used);
		}
}

void arch_alloc_page(struct page *page, int order)
{
	unsigned long pfn = page_to_pfn(page), end = pfn + (1UL << order);
	const char *p, *stop;

	if (pfn >= end_pfn)
		return;
	report(pfn, min(end, end_pfn));
	/* mapped with what the host brought in around it: see above */
	p = page_address(page);
	stop = p + (PAGE_SIZE << order);
	for (; p < stop; p += SZ_64K)
		(void)READ_ONCE(*p);
}
