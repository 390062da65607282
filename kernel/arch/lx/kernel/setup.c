// SPDX-License-Identifier: GPL-2.0
/*
 * setup.c - boot and halt of the library kernel.
 *
 * lx_kernel_boot() starts a host thread that runs start_kernel() and then
 * stays the idle task's thread.  The init task (pid 1) runs the initcalls
 * and execs "/init", a file made at late_initcall that only lx's binfmt
 * accepts: init becomes a user process with no program, the anchor of the
 * booting host process, and the caller of lx_kernel_boot() is released.
 */
#include <linux/binfmts.h>
#include <linux/init.h>
#include <linux/fs.h>
#include <linux/panic_notifier.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/reboot.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/start_kernel.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/module.h>
#include <linux/pm.h>
#include <linux/delay.h>
#include <linux/random.h>
#include <asm/sections.h>
#include <asm/lx.h>

unsigned long memory_start, memory_end;
unsigned long empty_zero_page;
static unsigned long mem_size = 64UL << 20;
/*
 * RAM whose struct pages the boot initialises; the rest comes in when
 * the page allocator needs it (CONFIG_ARCH_LATE_MEMMAP).  Every page of
 * the memmap the boot writes is a host page fault (~3 us here): at
 * mem=256M, initialising all of it was a third of the boot.
 */
static unsigned long boot_mem = 32UL << 20;
void (*pm_power_off)(void);
EXPORT_SYMBOL(pm_power_off);

static unsigned int boot_word;	/* 0 booting, 1 booted, 2 failed */
static int running;
static struct lx_jmp *halt_jb;

static int __init lx_mem_param(char *p)
{
	unsigned long size = memparse(p, &p);

	if (size < (16UL << 20)) {
		pr_warn("lx: mem=%lu is too small, using 16M\n", size);
		size = 16UL << 20;
	}
	mem_size = PAGE_ALIGN(size);
	return 0;
}
early_param("mem", lx_mem_param);

/* lx_boot_mem=SIZE: RAM ready at boot (0: all of it) */
static int __init lx_boot_mem_param(char *p)
{
	boot_mem = memparse(p, &p);
	return 0;
}
early_param("lx_boot_mem", lx_boot_mem_param);

/*
 * lx_hugeram=0: RAM for later on the host's 4 KiB pages; =1: on its 2 MiB
 * pages; unset: the host decides (2 MiB pages unless they cost more).
 */
static int hugeram = -1;
static int __init lx_hugeram_param(char *p)
{
	bool on;

	if (kstrtobool(p, &on))
		return -EINVAL;
	hugeram = on;
	return 0;
}
early_param("lx_hugeram", lx_hugeram_param);

/*
 * The boot's own allocations stay low (bottom-up): all above boot_mem,
 * and above the memmap, which must be there from the start, is left for
 * later, and the host may back it with its 2 MiB pages.
 */
static void __init late_memory(void)
{
	unsigned long memmap, first, late, page;

	if (!boot_mem)
		return;
	memmap = ALIGN(max_low_pfn, MAX_ORDER_NR_PAGES) * sizeof(struct page);
	first = ALIGN(PFN_UP(boot_mem + memmap), MAX_ORDER_NR_PAGES);
	if (first >= max_low_pfn)
		return;
	late_memmap_pfn = first;
	/* boot allocations past it fail where they are made, not later */
	memblock_set_current_limit(PFN_PHYS(first));
	late = (max_low_pfn - first) << PAGE_SHIFT;
	page = lx_host->mem_late(memory_start + (first << PAGE_SHIFT), late);
	lx_ram_ahead_init(max_low_pfn);
	pr_info("lx: %lu MiB of RAM for later, on host pages of up to %lu KiB\n",
		late >> 20, page >> 10);
}

void __init setup_arch(char **cmdline_p)
{
	unsigned long zones[MAX_NR_ZONES] = { 0 };
	u8 seed[64];

	*cmdline_p = boot_command_line;
	/* delays wait on the host clock: nothing to calibrate */
	preset_lpj = 1000000;
	parse_early_param();

	memory_start = lx_host->mem_alloc(mem_size, hugeram);
	if (!memory_start)
		panic("lx: cannot allocate %lu bytes of kernel memory\n",
		      mem_size);
	memory_end = memory_start + mem_size;

	/* the host's entropy: getrandom() never blocks in lx */
	lx_host->entropy(seed, sizeof(seed));
	add_bootloader_randomness(seed, sizeof(seed));
	memzero_explicit(seed, sizeof(seed));

	/* boot's allocations low: the top of RAM may come in late */
	memblock_set_bottom_up(true);
	memblock_add(__pa(memory_start), mem_size);
	empty_zero_page = (unsigned long)memblock_alloc(PAGE_SIZE, PAGE_SIZE);

	min_low_pfn = 0;
	max_low_pfn = PFN_DOWN(mem_size);
	max_pfn = max_low_pfn;
	max_mapnr = max_low_pfn;
	high_memory = (void *)memory_end;

	init_mm.start_code = (unsigned long)_stext;
	init_mm.end_code = (unsigned long)_etext;
	init_mm.end_data = (unsigned long)_edata;
	init_mm.brk = (unsigned long)_end;

	late_memory();
	zones[ZONE_NORMAL] = max_low_pfn;
	free_area_init(zones);
}

void __init mem_init(void)
{
	memblock_free_all();
	lx_ram_ahead_boot(max_low_pfn);
	late_memmap_init();
}

/* The kernel image is part of the host program: nothing to free. */
void free_initmem(void)
{
}

static long __ref boot_body(void *arg)
{
	start_kernel();
	return 0;
}

/* start_kernel() runs on init_task's stack; the thread stays idle's. */
static void boot_thread(void *arg)
{
	lx_host->task_set(&init_task);
	lx_call_on_stack(boot_body, NULL, task_stack_page(&init_task) +
			 THREAD_SIZE);
}

int lx_kernel_running(void)
{
	return READ_ONCE(running);
}

int __ref lx_kernel_boot(const struct lx_host_ops *ops, const char *cmdline)
{
	unsigned int b;
	int ret;

	if (lx_host)
		return -EALREADY;
	lx_host = ops;
	strscpy(boot_command_line, cmdline ? cmdline : "", COMMAND_LINE_SIZE);

	init_task.thread.flags = LX_THREAD_KERNEL;
	init_task.thread.host_pid = lx_host->host_pid();
	/* the boot thread holds the CPU until idle releases it */
	lx_cpu_take();
	lx_boot_thread_start();
	ret = lx_host->thread_start(boot_thread, NULL);
	if (ret) {
		lx_host = NULL;
		return ret;
	}
	while ((b = __atomic_load_n(&boot_word, __ATOMIC_ACQUIRE)) == 0)
		lx_host->futex_wait(&boot_word, 0);
	if (b != 1)
		return -EIO;
	WRITE_ONCE(running, 1);
	return 0;
}

void lx_boot_done(void)
{
	__atomic_store_n(&boot_word, 1, __ATOMIC_RELEASE);
	lx_host->futex_wake(&boot_word, 1);
}

/*
 * "/init" is a placeholder executable: exec'ing it makes init a user
 * process without a program.  It is made once the root file system is up.
 */
static int __init lx_make_init(void)
{
	struct file *f = filp_open("/init", O_CREAT | O_RDONLY, 0700);

	if (IS_ERR(f))
		pr_err("lx: cannot make /init: %ld\n", PTR_ERR(f));
	else
		fput(f);
	return 0;
}
late_initcall(lx_make_init);

static int lx_load_init(struct linux_binprm *bprm)
{
	int ret;

	if (current->pid != 1 || strcmp(bprm->filename, "/init") ||
	    bprm->file->f_inode->i_size != 0)
		return -ENOEXEC;
	ret = begin_new_exec(bprm);
	if (ret)
		return ret;
	setup_new_exec(bprm);
	finalize_exec(bprm);
	return 0;
}

static struct linux_binfmt lx_init_format = {
	.module = THIS_MODULE,
	.load_binary = lx_load_init,
};

static int __init lx_init_format_register(void)
{
	register_binfmt(&lx_init_format);
	return 0;
}
core_initcall(lx_init_format_register);

/*
 * What reboot(2) does after user space has gone: write every dirty page
 * back (files written inside survive), then the machine's halt.
 */
static long halt_body(void *arg)
{
	ksys_sync();
	kernel_halt();
	return 0;
}

int lx_kernel_halt(void)
{
	struct task_struct *t = lx_host ? lx_host->task_get() : NULL;
	struct lx_jmp jb;

	if (!READ_ONCE(running))
		return -ENODEV;
	if (!t)
		return -EPERM;
	lx_task_enter(t);
	WRITE_ONCE(running, 0);
	if (lx_setjmp(&jb) == 0) {
		halt_jb = &jb;
		lx_task_call(t, halt_body, NULL);
	}
	/* machine_halt() came back here: stop every kernel thread */
	lx_threads_stop();
	lx_host->timer_set(0);
	lx_host->mem_free(memory_start, memory_end - memory_start);
	return 0;
}

static int lx_panic_event(struct notifier_block *nb, unsigned long event,
			  void *msg)
{
	lx_host->panic(msg);
	return NOTIFY_DONE;
}

static struct notifier_block lx_panic_block = {
	.notifier_call = lx_panic_event,
};

static int __init lx_panic_init(void)
{
	atomic_notifier_chain_register(&panic_notifier_list, &lx_panic_block);
	return 0;
}
early_initcall(lx_panic_init);

void machine_halt(void)
{
	if (halt_jb)
		lx_longjmp(halt_jb);
	panic("lx: halt outside lx_halt()\n");
}

void machine_power_off(void)
{
	machine_halt();
}

void machine_restart(char *cmd)
{
	machine_halt();
}
