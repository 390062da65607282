/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_ELF_H
#define _ASM_LX_ELF_H

#include <asm/ptrace.h>
#include <asm/user.h>

#define ELF_CLASS ELFCLASS64
#define ELF_DATA ELFDATA2LSB
#define ELF_ARCH EM_X86_64
#define elf_check_arch(x) ((x)->e_machine == EM_X86_64)
#define ELF_EXEC_PAGESIZE 4096
#define ELF_ET_DYN_BASE 0

typedef unsigned long elf_greg_t;
#define ELF_NGREG (sizeof(struct pt_regs) / sizeof(elf_greg_t))
typedef elf_greg_t elf_gregset_t[ELF_NGREG];
typedef struct { unsigned char data[512]; } elf_fpregset_t;

#define ELF_HWCAP (0)
#define ELF_PLATFORM ("x86_64")
#define SET_PERSONALITY(ex) set_personality(PER_LINUX)

#endif
