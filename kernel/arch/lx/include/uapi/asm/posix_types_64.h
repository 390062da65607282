/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* lx speaks the x86-64 ABI: its layout is x86-64's. */
#include "../../../../x86/include/uapi/asm/posix_types_64.h"
