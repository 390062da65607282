// SPDX-License-Identifier: GPL-2.0
/* Tests unknown syscall numbers and bad pointers passed to lx. */
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "util.h"

#define PAGE		4096
#define FILE_SIZE	(2 * PAGE)

static long fd = -1;	/* /tmp/bad: FILE_SIZE pattern bytes */

static void test_enosys(void)
{
	static const long nrs[] = { 335, 1000, 5000, -1, -1000, LONG_MAX };
	size_t i;
	long ret;

	for (i = 0; i < ARRAY_SIZE(nrs); i++) {
		ret = lx_syscall0(nrs[i]);
		CHECK(ret == -ENOSYS, "syscall %ld gave %ld (%s)", nrs[i], ret,
		      tap_errstr(ret));
	}
	/* and the kernel still works */
	CHECK_OK(lx_syscall0(SYS_getpid));
}

static void test_make_file(void)
{
	static unsigned char data[FILE_SIZE];

	if (!CHECK_EQ(make_tmp(), 0))
		return;
	fd = lx_syscall4(SYS_openat, AT_FDCWD, "/tmp/bad",
			 O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	if (!CHECK_OK(fd))
		return;
	fill_pattern(data, FILE_SIZE, 9);
	CHECK_EQ(write_all(fd, data, FILE_SIZE), FILE_SIZE);
}

/* Every call given p as its buffer must fail with -EFAULT, changing nothing. */
static void bad_pointer(void *p)
{
	struct stat st;

	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, p, 16), -EFAULT);
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_CUR), 0);
	CHECK_EQ(lx_syscall3(SYS_write, fd, p, 16), -EFAULT);
	CHECK_EQ(lx_syscall3(SYS_openat, AT_FDCWD, p, O_RDONLY), -EFAULT);
	CHECK_EQ(lx_syscall2(SYS_fstat, fd, p), -EFAULT);
	CHECK_EQ(lx_syscall2(SYS_stat, "/tmp/bad", p), -EFAULT);
	if (CHECK_EQ(lx_syscall2(SYS_fstat, fd, &st), 0))
		CHECK_EQ(st.st_size, FILE_SIZE);
}

static void test_null(void)
{
	bad_pointer(NULL);
}

static void test_unmapped(void)
{
	void *p;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	munmap(p, PAGE);
	bad_pointer(p);
}

static void test_prot_none(void)
{
	void *p;

	p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	bad_pointer(p);
	munmap(p, PAGE);
}

static void test_kernel_half(void)
{
	bad_pointer((void *)0xffff888000000000UL);
}

/* A buffer whose second page is inaccessible: a short read. */
static void test_partial(void)
{
	unsigned char *p;

	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno)))
		return;
	if (CHECK(!mprotect(p + PAGE, PAGE, PROT_NONE), "mprotect: %s",
		  strerror(errno))) {
		CHECK_EQ(lx_syscall4(SYS_pread64, fd, p, 2 * PAGE, 0), PAGE);
		CHECK_EQ(check_pattern(p, PAGE, 9), -1);
	}
	munmap(p, 2 * PAGE);
}

/* lx's own code as a buffer: the kernel must not write its own image. */
static void test_lx_code(void)
{
	unsigned char before[16];
	long code = (long)lx_syscall;

	memcpy(before, (void *)code, sizeof(before));
	CHECK_EQ(lx_syscall3(SYS_lseek, fd, 0, SEEK_SET), 0);
	CHECK_EQ(lx_syscall3(SYS_read, fd, code, sizeof(before)), -EFAULT);
	CHECK(!memcmp(before, (void *)code, sizeof(before)),
	      "lx_syscall's code was changed");
	CHECK_EQ(lx_syscall2(SYS_fstat, fd, code), -EFAULT);
	CHECK(!memcmp(before, (void *)code, sizeof(before)),
	      "lx_syscall's code was changed");
	CHECK_OK(lx_syscall0(SYS_getpid));
}

int main(void)
{
	boot_kernel();
	tap_run("unknown syscall numbers return -ENOSYS", test_enosys);
	tap_run("make a test file", test_make_file);
	if (fd < 0)
		tap_bail("no test file");
	tap_run("NULL buffers give -EFAULT", test_null);
	tap_run("an unmapped page gives -EFAULT", test_unmapped);
	tap_run("a PROT_NONE page gives -EFAULT", test_prot_none);
	tap_run("a kernel-half address gives -EFAULT", test_kernel_half);
	tap_run("read into a buffer that runs into a PROT_NONE page is short",
		test_partial);
	tap_run("read() into lx's own code (lx_syscall) gives -EFAULT",
		test_lx_code);
	close_fd(fd);
	halt_kernel();
	return tap_done();
}
