/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_ENTRY_COMMON_H
#define _ASM_LX_ENTRY_COMMON_H
#endif
