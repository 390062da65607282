/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_CURRENT_H
#define _ASM_LX_CURRENT_H

#ifndef __ASSEMBLY__
struct task_struct;

/* One virtual CPU: the task it runs is a plain variable. */
extern struct task_struct *lx_current;

static __always_inline struct task_struct *get_current(void)
{
	return lx_current;
}

#define current get_current()
#endif

#endif
