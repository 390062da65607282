/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_MMU_CONTEXT_H
#define _ASM_LX_MMU_CONTEXT_H

/* No MMU: the host owns every address space. */
#include <asm-generic/nommu_context.h>

#endif
