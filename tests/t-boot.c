// SPDX-License-Identifier: GPL-2.0
/* Tests booting and halting lx, each boot in a fork()ed child. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <sys/utsname.h>

#include "util.h"

/* Boot, check uname, halt. */
static void test_boot_uname_halt(void)
{
	struct utsname u;

	CHECK_EQ(lx_running(), 0);
	if (!CHECK_EQ(lx_start_kernel("mem=64M"), 0))
		return;
	CHECK_EQ(lx_running(), 1);
	memset(&u, 0, sizeof(u));
	if (CHECK_EQ(lx_syscall1(SYS_uname, &u), 0)) {
		CHECK(!strcmp(u.sysname, "Linux"), "sysname \"%s\"", u.sysname);
		CHECK(!strncmp(u.release, "6.1", 3) &&
		      (u.release[3] == '.' || u.release[3] == '\0' ||
		       u.release[3] == '-'),
		      "release \"%s\"", u.release);
		CHECK(!strcmp(u.machine, "x86_64"), "machine \"%s\"",
		      u.machine);
	}
	CHECK_EQ(lx_halt(), 0);
	CHECK_EQ(lx_running(), 0);
}

static void test_second_start(void)
{
	if (!CHECK_EQ(lx_start_kernel("mem=64M"), 0))
		return;
	CHECK_EQ(lx_start_kernel("mem=64M"), -EALREADY);
	CHECK_EQ(lx_start_kernel(NULL), -EALREADY);
	/* the running kernel must be unharmed */
	CHECK_EQ(lx_running(), 1);
	CHECK_EQ(lx_syscall0(SYS_getpid), 1);
	CHECK_EQ(lx_halt(), 0);
}

static void test_mem32(void)
{
	struct sysinfo si;
	unsigned long total;

	if (!CHECK_EQ(lx_start_kernel("mem=32M"), 0))
		return;
	/* the booting thread is the init task */
	CHECK_EQ(lx_syscall0(SYS_getpid), 1);
	memset(&si, 0, sizeof(si));
	if (CHECK_EQ(lx_syscall1(SYS_sysinfo, &si), 0)) {
		total = si.totalram * si.mem_unit;
		CHECK(total > (8UL << 20) && total <= (32UL << 20),
		      "totalram %lu bytes with mem=32M", total);
	}
	CHECK_EQ(lx_halt(), 0);
}

static unsigned long free_mib(void)
{
	struct sysinfo si = { 0 };

	if (lx_syscall1(SYS_sysinfo, &si))
		return 0;
	return (unsigned long)si.freeram * si.mem_unit >> 20;
}

/* the kernel's log so far, or NULL */
static const char *kernel_log(void)
{
	static char log[1 << 17];
	long n = lx_syscall3(SYS_syslog, 3 /* READ_ALL */, log,
			     sizeof(log) - 1);

	if (n <= 0)
		return NULL;
	log[n] = 0;
	return log;
}

/* the kernel's log says nothing went wrong (a bad page, a warning) */
static void check_klog(void)
{
	const char *log = kernel_log();

	if (!CHECK(log != NULL, "syslog"))
		return;
	CHECK(!strstr(log, "BUG") && !strstr(log, "WARNING"),
	      "the kernel log: %.400s",
	      strstr(log, "BUG") ? strstr(log, "BUG") : strstr(log, "WARNING"));
}

/* the host page size the boot says RAM for later has, in KiB (or -1) */
static long late_page_kib(void)
{
	static const char says[] = "MiB of RAM for later, on host pages of up to ";
	const char *log = kernel_log(), *p = log ? strstr(log, says) : NULL;

	return p ? atol(p + strlen(says)) : -1;
}

/* a field of this process's /proc/self/smaps_rollup, in KiB (or -1) */
static long smaps_kib(const char *field)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/smaps_rollup", "r");

	if (!f)
		return -1;
	while (kib < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)) &&
		    line[strlen(field)] == ':')
			kib = atol(line + strlen(field) + 1);
	fclose(f);
	return kib;
}

/* the host makes no 2 MiB page of a tmpfs file (no THP, or "deny") */
static int host_thp_off(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
		      O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strstr(buf, "[deny]") != NULL;
}

/* the host's free blocks of 2 MiB and more (/proc/buddyinfo), in MiB */
static long host_free_huge_mib(void)
{
	char line[512], *p;
	long mib = 0;
	int order;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, "zone");
		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		p = strchr(p, ' ');	/* past the zone's name */
		for (order = 0; p && order <= 10; order++) {
			long n = strtol(p, &p, 10);

			if (order >= 9)
				mib += n << (order - 8);
		}
	}
	fclose(f);
	return mib;
}

static char big_buf[1 << 20];

/*
 * MiB i of the file fd gets pattern i, for i < mib (mib < 0: until lx
 * has less than 12 MiB free), with a pause of gap_ms after every second
 * one; how many MiB were written.
 */
static long big_write(long fd, long mib, long gap_ms)
{
	long i;

	for (i = 0; mib < 0 ? free_mib() >= 12 : i < mib; i++) {
		fill_pattern(big_buf, sizeof(big_buf), i);
		if (!CHECK_EQ(write_all(fd, big_buf, sizeof(big_buf)),
			      (long)sizeof(big_buf)))
			break;
		if (gap_ms && i % 2)
			host_msleep(gap_ms);
	}
	return i;
}

/* The first mib MiB of the file fd read back from its start. */
static void big_check(long fd, long mib)
{
	long i, bad = 0;

	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	for (i = 0; i < mib && !bad; i++) {
		if (!CHECK_EQ(read_all(fd, big_buf, sizeof(big_buf)),
			      (long)sizeof(big_buf)))
			break;
		bad = check_pattern(big_buf, sizeof(big_buf), i) >= 0;
		CHECK(!bad, "MiB %ld of /big differs", i);
	}
}

/*
 * The boot initialises the memmap of its first 32 MiB only; the rest of
 * RAM comes in when the page allocator needs it (CONFIG_ARCH_LATE_MEMMAP):
 * 200 MiB written to a ramfs file at once must fit, read back intact, and
 * be free again after the unlink.  258M: the end of RAM is no multiple of
 * the allocator's largest block.  Free memory counts the memory not in
 * yet, from the start.  With host_kib, the boot says that memory is on
 * host pages of that size, and with 2 MiB ones, the host maps them whole
 * (where it has that much memory free in 2 MiB blocks).
 */
static void late_memory_case(const char *cmdline, long host_kib)
{
	struct sysinfo si = { 0 };
	unsigned long total;
	long fd, pmd0 = smaps_kib("ShmemPmdMapped"), pmd;
	long free_huge = host_free_huge_mib();

	if (!CHECK_EQ(lx_start_kernel(cmdline), 0))
		return;
	if (host_kib)
		CHECK_EQ(late_page_kib(), host_kib);
	if (CHECK_EQ(lx_syscall1(SYS_sysinfo, &si), 0)) {
		total = si.totalram * si.mem_unit;
		CHECK(total > (242UL << 20) && total <= (258UL << 20),
		      "totalram %lu bytes with mem=258M", total);
		CHECK((unsigned long)si.freeram * si.mem_unit > (200UL << 20),
		      "freeram %lu right after boot",
		      (unsigned long)si.freeram * si.mem_unit);
	}
	fd = lx_syscall3(SYS_open, "/big", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0, "open /big: %ld", fd);
	big_check(fd, big_write(fd, 200, 0));
	close_fd(fd);
	pmd = smaps_kib("ShmemPmdMapped");
	tap_diag("%s: %ld MiB of the host's RAM on 2 MiB pages "
		 "(%ld MiB free in such blocks before boot)",
		 cmdline, (pmd - pmd0) >> 10, free_huge);
	if (host_kib == 2048 && (free_huge < 512 || host_thp_off()))
		tap_diag("not checked: the host has %ld MiB free in 2 MiB "
			 "blocks%s", free_huge,
			 host_thp_off() ? ", and THP for tmpfs off" : "");
	else if (host_kib == 2048)
		CHECK((pmd - pmd0) >> 10 >= 100,
		      "%ld MiB of the file on 2 MiB pages", (pmd - pmd0) >> 10);
	if (host_kib == 4)
		CHECK_EQ(pmd - pmd0, 0);
	CHECK_OK(lx_syscall1(SYS_unlink, "/big"));
	CHECK(free_mib() > 200, "%lu MiB free after the unlink", free_mib());
	check_klog();
	CHECK_EQ(lx_halt(), 0);
}

static void test_late_memory(void)
{
	late_memory_case("mem=258M", 0);
}

static void test_late_memory_4k(void)
{
	late_memory_case("mem=258M lx_hugeram=0", 4);
}

static void test_late_memory_huge(void)
{
	late_memory_case("mem=258M lx_hugeram=1", 2048);
}

/* nobody may mount a tmpfs in a user namespace of its own here */
static int userns_tmpfs(void)
{
	char map[32];
	int status, fs;
	pid_t pid = fork();

	if (pid == 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			_exit(1);
		snprintf(map, sizeof(map), "%u %u 1", geteuid(), geteuid());
		fs = open("/proc/self/uid_map", O_WRONLY);
		if (fs < 0 || write(fs, map, strlen(map)) < 0)
			_exit(1);
		fs = syscall(SYS_fsopen, "tmpfs", 0);
		_exit(fs >= 0 && syscall(SYS_fsconfig, fs, 6 /* CMD_CREATE */,
					 NULL, NULL, 0) == 0 ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * Not root: the tmpfs for RAM on 2 MiB pages comes from a user namespace
 * of lx's own (where the host lets anyone mount a tmpfs in one).
 */
static void test_late_memory_huge_user(void)
{
	int userns;

	/* as a user who logged in: dumpable, /proc/self is its own */
	if (!CHECK(setresgid(65534, 65534, 65534) == 0 &&
		   setresuid(65534, 65534, 65534) == 0 &&
		   prctl(PR_SET_DUMPABLE, 1) == 0, "become nobody"))
		return;
	userns = userns_tmpfs();
	tap_diag("the host %s nobody a tmpfs in a user namespace",
		 userns ? "allows" : "refuses");
	late_memory_case("mem=258M lx_hugeram=1", userns ? 2048 : 4);
}

/* free 4 MiB blocks on the allocator's lists (/proc/buddyinfo) */
static long free_4m_blocks(void)
{
	char buf[512], *p;
	long fd, n;

	fd = lx_syscall3(SYS_open, "/proc/buddyinfo", O_RDONLY, 0);
	if (fd < 0)
		return fd;
	n = lx_syscall3(SYS_read, fd, buf, sizeof(buf) - 1);
	close_fd(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	p = strrchr(buf, ' ');	/* the last column: order 10 */
	return p ? atol(p + 1) : -1;
}

/*
 * With nothing asking, the rest of RAM comes in a while after boot: the
 * allocator's lists then hold its 4 MiB blocks, and the last, short one
 * (258M) went in whole and no further.
 */
static void test_late_memory_background(void)
{
	long blocks = -1;
	int i;

	if (!CHECK_EQ(lx_start_kernel("mem=258M"), 0))
		return;
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	CHECK_OK(lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0));
	/* right after boot, most of RAM is not on the lists yet */
	blocks = free_4m_blocks();
	CHECK(blocks >= 0 && blocks < 20, "%ld free 4 MiB blocks at boot",
	      blocks);
	for (i = 0; i < 100 && (blocks = free_4m_blocks()) < 50; i++)
		host_msleep(100);
	CHECK(blocks >= 50, "%ld free 4 MiB blocks 10 s after boot", blocks);
	host_msleep(300);	/* the work brings the rest in at one go */
	check_klog();
	CHECK_EQ(lx_halt(), 0);
}

/*
 * Pages the host has in the file behind lx's RAM, in KiB: mincore() of
 * this process's big shared mappings (RAM is the only one of 16 MiB or
 * more) says which pages of the file are in memory, mapped here or not.
 */
static long ram_resident_kib(void)
{
	static unsigned char vec[(512UL << 20) >> 12];
	unsigned long lo, hi, i, n;
	char line[512], perms[8];
	long kib = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[3] != 's' || hi - lo < (16UL << 20) ||
		    hi - lo > sizeof(vec) << 12)
			continue;
		n = (hi - lo) >> 12;
		if (mincore((void *)lo, hi - lo, vec))
			continue;
		for (i = 0; i < n; i++)
			kib += (vec[i] & 1) * 4;
	}
	fclose(f);
	return kib;
}

/*
 * Host memory lx's RAM holds past what lx uses, in MiB, once it stops
 * changing (sampled every 100 ms, at most 3 s).
 */
static long host_past_use_mib(void)
{
	struct sysinfo si;
	long now, before = LONG_MIN;
	int i, same = 0;

	for (i = 0; i < 30 && same < 2; i++) {
		if (i)
			host_msleep(100);
		memset(&si, 0, sizeof(si));
		lx_syscall1(SYS_sysinfo, &si);
		now = ram_resident_kib() -
		      (long)((si.totalram - si.freeram) * si.mem_unit >> 10);
		same = now == before ? same + 1 : 0;
		before = now;
	}
	return before >> 10;
}

/* the summed sizes of this process's open files (lx's RAM among them) */
static long long open_file_bytes(void)
{
	char path[300];
	struct dirent *d;
	struct stat st;
	long long sum = 0;
	DIR *dir = opendir("/proc/self/fd");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		if (d->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			sum += st.st_size;
	}
	closedir(dir);
	return sum;
}

/*
 * A program filling lx's page cache fast (mib MiB in 1 MiB writes; -1:
 * until less than 12 MiB is free) has the host bring lx's RAM in ahead
 * of it (host/ramahead.c): ~16 MiB past what lx uses once it stops
 * (ahead 1), and never past the end of RAM (its file does not grow);
 * written slowly (2 MiB every 30 ms), or with lx_ram_ahead=0, nothing
 * past it (ahead 0).  What was written reads back intact.
 */
static void ram_ahead_case(const char *cmdline, long mib, long gap_ms,
			   int ahead)
{
	long fd, i, base, past;
	long long files;

	if (!CHECK_EQ(lx_start_kernel(cmdline), 0))
		return;
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	CHECK_OK(lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0));
	/* all of RAM on the allocator's lists: its memmap written */
	for (i = 0; i < 100 && free_4m_blocks() < 50; i++)
		host_msleep(100);
	base = host_past_use_mib();
	files = open_file_bytes();
	fd = lx_syscall3(SYS_open, "/big", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0, "open /big: %ld", fd);
	mib = big_write(fd, mib, gap_ms);
	past = host_past_use_mib() - base;
	tap_diag("%s, %ld MiB, %ld ms between 2 MiB: %ld MiB of host memory "
		 "ahead", cmdline, mib, gap_ms, past);
	if (ahead > 0)
		CHECK(past >= 8, "%ld MiB ahead after a fast stream", past);
	else if (ahead == 0)
		CHECK(past <= 4, "%ld MiB ahead", past);
	CHECK_EQ(open_file_bytes(), files);
	big_check(fd, mib);
	close_fd(fd);
	check_klog();
	CHECK_EQ(lx_halt(), 0);
}

static void test_ram_ahead(void)
{
	ram_ahead_case("mem=258M lx_hugeram=0", 64, 0, 1);
}

static void test_ram_ahead_huge(void)
{
	ram_ahead_case("mem=258M lx_hugeram=1", 64, 0, 1);
}

/*
 * RAM whose late part is no multiple of 2 MiB (257M), filled up to its
 * last free MiBs: nothing is brought in past its end.
 */
static void test_ram_ahead_end(void)
{
	ram_ahead_case("mem=257M lx_hugeram=0", -1, 0, -1);
}

static void test_ram_ahead_slow(void)
{
	ram_ahead_case("mem=258M lx_hugeram=0", 64, 30, 0);
}

static void test_ram_ahead_off(void)
{
	ram_ahead_case("mem=258M lx_hugeram=0 lx_ram_ahead=0", 64, 0, 0);
}

/* host/ramahead.c, driven here without a kernel (host/home.h) */
void lx_ram_ahead_range(unsigned long start, unsigned long size, int fd,
			long long off, bool huge);
void lx_ram_ahead_start(void);
void lx_ram_ahead_used(unsigned long addr, unsigned long size);
void lx_ram_ahead_stop(void);

/* the pages the race below writes: the first, and the last of each 256 KiB */
static char *race_page(char *ram, unsigned long b, unsigned long i)
{
	return ram + (b << 21) + (i ? (i << 18) - 4096 : 0);
}

/*
 * The handshake that keeps the host's zeros off RAM in use, raced: a
 * thread plays the kernel, reporting 2 MiB blocks of a memory file in
 * turn and writing into each as soon as the report returns - into the
 * last page of each 256 KiB the host writes zeros into at a time - faster
 * than the host brings blocks in, so that its reports land on blocks the
 * host is writing; every byte it wrote is still there afterwards.
 */
static void test_ram_ahead_race(void)
{
	const unsigned long blocks = 64, size = blocks << 21;
	unsigned long b, i, bad = 0;
	int round, fd;
	char *ram;

	for (round = 0; round < 8 && !bad; round++) {
		fd = memfd_create("ram", MFD_CLOEXEC);
		if (!CHECK(fd >= 0 && ftruncate(fd, size) == 0, "memfd"))
			return;
		ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   0);
		if (!CHECK(ram != MAP_FAILED, "mmap"))
			return;
		lx_ram_ahead_range((unsigned long)ram, size, fd, 0, false);
		lx_ram_ahead_start();
		for (b = 0; b < blocks; b++) {
			lx_ram_ahead_used((unsigned long)ram + (b << 21),
					  2UL << 20);
			for (i = 0; i <= 8; i++)
				memset(race_page(ram, b, i), (int)(b + i) | 1,
				       4096);
		}
		host_msleep(50);	/* the host's writes, done */
		lx_ram_ahead_stop();
		for (b = 0; b < blocks; b++)
			for (i = 0; i <= 8; i++)
				bad += race_page(ram, b, i)[0] !=
					       (char)((b + i) | 1) ||
				       race_page(ram, b, i)[4095] !=
					       (char)((b + i) | 1);
		CHECK(!bad, "round %d: %lu pages lost what was written", round,
		      bad);
		munmap(ram, size);
		close(fd);
	}
}

/* a number in an lx file of /proc/sys, or -1 (proc mounted if need be) */
static long lx_sysctl(const char *path)
{
	char buf[32];
	long fd, n;

	if (lx_syscall2(SYS_access, "/proc/sys", F_OK)) {
		lx_syscall2(SYS_mkdir, "/proc", 0555);
		lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0);
	}
	fd = lx_syscall3(SYS_open, path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	n = lx_syscall3(SYS_read, fd, buf, sizeof(buf) - 1);
	close_fd(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atol(buf);
}

/* lx's own defaults (host/host.c, LX_DEFAULT_ARGS) come with no arguments */
static void test_default_cmdline(void)
{
	if (!CHECK_EQ(lx_start_kernel(NULL), 0))
		return;
	CHECK_EQ(lx_syscall0(SYS_getpid), 1);
	CHECK_EQ(lx_sysctl("/proc/sys/vm/dirty_background_ratio"), 1);
	CHECK_EQ(lx_halt(), 0);
}

/* and the caller's arguments override them */
static void test_default_override(void)
{
	if (!CHECK_EQ(lx_start_kernel("mem=64M "
			"sysctl.vm.dirty_background_bytes=8388608"), 0))
		return;
	CHECK_EQ(lx_sysctl("/proc/sys/vm/dirty_background_bytes"), 8388608);
	CHECK_EQ(lx_sysctl("/proc/sys/vm/dirty_background_ratio"), 0);
	CHECK_EQ(lx_halt(), 0);
}

/* this process's host threads */
static int host_threads(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		n += d->d_name[0] != '.';
	closedir(dir);
	return n;
}

/*
 * A command line that would fit lx's 4 KiB but not with lx's defaults
 * before it: -E2BIG (not a line cut short), and nothing runs.
 */
static void test_cmdline_too_long(void)
{
	static char cmdline[4061];

	memset(cmdline, 'x', sizeof(cmdline) - 1);
	memcpy(cmdline, "mem=64M ", 8);
	CHECK_EQ(lx_start_kernel(cmdline), -E2BIG);
	CHECK_EQ(lx_running(), 0);
	CHECK_EQ(host_threads(), 1);
}

/*
 * Kernel threads are fibers of one host thread by default (a bare
 * "lx_fibers" too), or each on a host thread of its own with
 * lx_fibers=0; both boot, make their kernel threads and halt.  The boot
 * makes ~15 kernel threads: a host thread each is twice this process's
 * threads of the default.
 */
static void boot_count(const char *cmdline, int *threads)
{
	*threads = -1;
	if (!CHECK_EQ(lx_start_kernel(cmdline), 0))
		return;
	/* work for a kernel thread (a worker), and a wait for it */
	CHECK_EQ(lx_syscall0(SYS_sync), 0);
	*threads = host_threads();
	CHECK_EQ(lx_halt(), 0);
}

static void test_fibers(void)
{
	int fibers, own;
	pid_t pid;
	int st;

	/* each boot in a child of its own: one boot a process */
	pid = fork();
	if (pid == 0) {
		boot_count("mem=64M lx_fibers=0", &own);
		_exit(own < 0 || own > 250 ? 255 : own);
	}
	waitpid(pid, &st, 0);
	own = WIFEXITED(st) && WEXITSTATUS(st) != 255 ? WEXITSTATUS(st) : -1;
	boot_count("mem=64M lx_fibers", &fibers);
	tap_diag("host threads: %d with fibers, %d without", fibers, own);
	CHECK(fibers > 0 && own > 0 && own >= 2 * fibers,
	      "host threads: %d with fibers, %d without", fibers, own);
}

static void test_enodev(void)
{
	CHECK_EQ(lx_syscall0(SYS_getpid), -ENODEV);
	CHECK_EQ(lx_syscall1(SYS_close, 0), -ENODEV);
	if (!CHECK_EQ(lx_start_kernel("mem=64M"), 0))
		return;
	CHECK_EQ(lx_syscall0(SYS_getpid), 1);
	CHECK_EQ(lx_halt(), 0);
	CHECK_EQ(lx_syscall0(SYS_getpid), -ENODEV);
	CHECK_EQ(lx_syscall1(SYS_close, 0), -ENODEV);
}

/*
 * virtio-console: the kernel log goes to the host fd given, from the boot
 * messages on (printk, also what /dev/kmsg takes), through hvc0.
 */
static void test_console(void)
{
	static char log[1 << 16];
	int p[2], n = 0, r;
	long fd;

	if (!CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe"))
		return;
	CHECK_OK(add_device("console:fd=%d", p[1]));
	close(p[1]);	/* the device has its own copy */
	if (!CHECK_EQ(lx_start_kernel("mem=64M"), 0))
		return;
	lx_syscall2(SYS_mkdir, "/dev", 0755);
	CHECK_OK(lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0));
	fd = lx_syscall3(SYS_open, "/dev/kmsg", O_WRONLY, 0);
	CHECK_EQ(lx_syscall3(SYS_write, fd, "lx-console-test\n", 16), 16);
	close_fd(fd);
	CHECK_EQ(lx_halt(), 0);
	while ((r = read(p[0], log + n, sizeof(log) - 1 - n)) > 0)
		n += r;
	log[n] = 0;
	CHECK(strstr(log, "Linux version 6.1") != NULL, "no boot banner in %d bytes: %.300s", n, log);
	CHECK(strstr(log, "lx-console-test") != NULL, "no /dev/kmsg line");
	close(p[0]);
}

int main(void)
{
	tap_run_forked("boot with mem=64M, uname says Linux 6.1 x86_64, halt",
		       test_boot_uname_halt);
	tap_run_forked("second lx_start_kernel returns -EALREADY",
		       test_second_start);
	tap_run_forked("boot with mem=32M: getpid is 1, RAM at most 32 MiB",
		       test_mem32);
	tap_run_forked("mem=258M: RAM the boot left out comes in on demand",
		       test_late_memory);
	tap_run_forked("mem=258M lx_hugeram=0: that memory on 4 KiB host pages",
		       test_late_memory_4k);
	tap_run_forked("mem=258M lx_hugeram=1: on 2 MiB host pages",
		       test_late_memory_huge);
	tap_run_forked("mem=258M lx_hugeram=1, not root: 2 MiB pages too",
		       test_late_memory_huge_user);
	tap_run_forked("mem=258M: and by itself a while after boot",
		       test_late_memory_background);
	tap_run_forked("a fast-growing page cache: the host brings RAM in "
		       "ahead", test_ram_ahead);
	tap_run_forked("the same on 2 MiB host pages", test_ram_ahead_huge);
	tap_run_forked("never past the end of RAM", test_ram_ahead_end);
	tap_run_forked("the host's zeros never land on RAM in use (raced)",
		       test_ram_ahead_race);
	tap_run_forked("a slowly growing one: nothing ahead", test_ram_ahead_slow);
	tap_run_forked("lx_ram_ahead=0: nothing ahead", test_ram_ahead_off);
	tap_run_forked("kernel threads are fibers of one host thread; "
		       "lx_fibers=0 gives each its own", test_fibers);
	tap_run_forked("boot with the default (NULL) command line: lx's "
		       "defaults", test_default_cmdline);
	tap_run_forked("an argument overrides a default of lx",
		       test_default_override);
	tap_run_forked("a command line too long: -E2BIG, no thread left",
		       test_cmdline_too_long);
	tap_run_forked("syscalls return -ENODEV before boot and after halt",
		       test_enodev);
	tap_run_forked("virtio-console carries the kernel log to a host fd",
		       test_console);
	return tap_done();
}
