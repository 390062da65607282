cmd_arch/lx/include/generated/asm/syscall_table.h := sh ./scripts/syscalltbl.sh --abis common,64 arch/x86/entry/syscalls/syscall_64.tbl arch/lx/include/generated/asm/syscall_table.h
