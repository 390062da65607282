/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_PAGE_H
#define _ASM_LX_PAGE_H

/*
 * Kernel RAM sits wherever the host mapped it.  "Physical" addresses are
 * offsets into it, so page frames count from 0 and the memory map covers
 * only RAM (a frame number from the host address would make the kernel
 * walk a hole of billions of frames at boot).  Devices see these offsets.
 */
#define PAGE_SHIFT 12
#ifdef __ASSEMBLY__
#define PAGE_SIZE (1 << PAGE_SHIFT)
#else
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#endif
#define PAGE_MASK (~(PAGE_SIZE - 1))

#include <asm/setup.h>

#ifndef __ASSEMBLY__

#define clear_page(page) memset((page), 0, PAGE_SIZE)
#define copy_page(to, from) memcpy((to), (from), PAGE_SIZE)
#define clear_user_page(page, vaddr, pg) clear_page(page)
#define copy_user_page(to, from, vaddr, pg) copy_page(to, from)

/* the page allocator reports first uses of RAM (kernel/ramahead.c) */
struct page;
#define HAVE_ARCH_ALLOC_PAGE
void arch_alloc_page(struct page *page, int order);

typedef struct {
	unsigned long pte;
} pte_t;
typedef struct {
	unsigned long pmd[16];
} pmd_t;
typedef struct {
	unsigned long pgd;
} pgd_t;
typedef struct {
	unsigned long pgprot;
} pgprot_t;
typedef struct page *pgtable_t;

#define pte_val(x) ((x).pte)
#define pmd_val(x) ((&x)->pmd[0])
#define pgd_val(x) ((x).pgd)
#define pgprot_val(x) ((x).pgprot)
#define __pte(x) ((pte_t){ (x) })
#define __pmd(x) ((pmd_t){ (x) })
#define __pgd(x) ((pgd_t){ (x) })
#define __pgprot(x) ((pgprot_t){ (x) })

extern unsigned long memory_start;
extern unsigned long memory_end;

#define PAGE_OFFSET (memory_start)
#define ARCH_PFN_OFFSET (0UL)

#define __va(x) ((void *)((unsigned long)(x) + memory_start))
#define __pa(x) ((unsigned long)(x) - memory_start)

#define virt_to_pfn(kaddr) (__pa(kaddr) >> PAGE_SHIFT)
#define pfn_to_virt(pfn) __va((pfn) << PAGE_SHIFT)
#define virt_to_page(addr) pfn_to_page(virt_to_pfn(addr))
#define page_to_virt(page) pfn_to_virt(page_to_pfn(page))
#define page_to_phys(page) ((dma_addr_t)page_to_pfn(page) << PAGE_SHIFT)
#define pfn_valid(pfn) ((pfn) < max_mapnr)
#define virt_addr_valid(kaddr)						\
	((unsigned long)(kaddr) >= memory_start &&			\
	 (unsigned long)(kaddr) < memory_end)

#endif /* __ASSEMBLY__ */

#include <asm-generic/memory_model.h>
#include <asm-generic/getorder.h>

#endif
