/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel is linked into one relocatable object that becomes part of a
 * host program.  Everything writable goes into one page-aligned section,
 * .lxdata, that the host side moves into the shared kernel region before
 * the first kernel instruction (DESIGN.md decision 5).  It comes before
 * RO_DATA so that data written after init (ro_after_init) lands in it.
 */
#include <asm-generic/vmlinux.lds.h>
#include <asm/thread_info.h>
#include <asm/page.h>
#include <asm/cache.h>

jiffies = jiffies_64;

SECTIONS
{
	.text : {
		_text = .;
		_stext = .;
		TEXT_TEXT
		SCHED_TEXT
		CPUIDLE_TEXT
		LOCK_TEXT
		KPROBES_TEXT
		IRQENTRY_TEXT
		SOFTIRQENTRY_TEXT
		_sinittext = .;
		INIT_TEXT
		_einittext = .;
		_etext = .;
	}

	.lxdata : ALIGN(PAGE_SIZE) {
		lx_data_start = .;
		_sdata = .;
		INIT_TASK_DATA(THREAD_SIZE)
		NOSAVE_DATA
		PAGE_ALIGNED_DATA(PAGE_SIZE)
		CACHELINE_ALIGNED_DATA(L1_CACHE_BYTES)
		READ_MOSTLY_DATA(L1_CACHE_BYTES)
		DATA_DATA
		/* -fPIC puts initialised pointers here */
		*(.data.rel .data.rel.local)
		CONSTRUCTORS
		. = ALIGN(8);
		__start_ro_after_init = .;
		*(.data..ro_after_init)
		__end_ro_after_init = .;
		__init_begin = .;
		INIT_DATA
		INIT_SETUP(16)
		INIT_CALLS
		CON_INITCALL
		INIT_RAM_FS
		__init_end = .;
		_edata = .;
		. = ALIGN(PAGE_SIZE);
		__bss_start = .;
		*(.bss..page_aligned)
		*(.dynbss)
		*(.bss .bss.*)
		*(COMMON)
		__bss_stop = .;
		. = ALIGN(PAGE_SIZE);
		lx_data_end = .;
		_end = .;
	}

	RO_DATA(PAGE_SIZE)
	EXCEPTION_TABLE(16)

	STABS_DEBUG
	DWARF_DEBUG
	ELF_DETAILS

	DISCARDS
}
