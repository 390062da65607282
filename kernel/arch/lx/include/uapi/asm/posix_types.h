/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* lx speaks the x86-64 ABI: its types are x86-64's. */
#include <asm/posix_types_64.h>
