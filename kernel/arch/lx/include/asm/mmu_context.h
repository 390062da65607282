/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_MMU_CONTEXT_H
#define _ASM_LX_MMU_CONTEXT_H

/* No MMU: the host owns every address space. */
struct mm_struct;

/* pages held for the address space's shared mappings (sharedmap.c) */
void lx_mm_release_pins(struct mm_struct *mm);
/* what lx knows of the host mappings of the address space (usermaps.c) */
void lx_mm_release_umaps(struct mm_struct *mm);

#define destroy_context destroy_context
static inline void destroy_context(struct mm_struct *mm)
{
	lx_mm_release_pins(mm);
	lx_mm_release_umaps(mm);
}

#include <asm-generic/nommu_context.h>

#endif
