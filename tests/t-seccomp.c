// SPDX-License-Identifier: GPL-2.0
/*
 * Seccomp inside lx: a BPF filter installed through lx sees x86-64 system
 * call numbers and AUDIT_ARCH_X86_64, and its verdicts (errno, allow,
 * trap) apply to the calls of the thread that installed it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <lx/lx.h>

#include "tap.h"
#include "util.h"

#define LOAD(field) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))

static void test_filter(void)
{
	struct sock_filter insns[] = {
		LOAD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTSUP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { ARRAY_SIZE(insns), insns };
	long mode;

	CHECK_EQ(lx_syscall0(SYS_getppid), 0);
	CHECK_EQ(lx_syscall5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	CHECK_EQ(lx_syscall3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog),
		 0);
	mode = lx_syscall5(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0);
	CHECK_EQ(mode, SECCOMP_MODE_FILTER);
	/* the filter's verdicts */
	CHECK_EQ(lx_syscall0(SYS_getppid), -EPERM);
	CHECK_EQ(lx_syscall1(SYS_uname, NULL), -ENOTSUP);
	/* everything else passes, the number of the call as x86-64's */
	CHECK_EQ(lx_syscall0(SYS_getpid), 1);
	/* the host's own getppid is not lx's business */
	CHECK(getppid() > 0, "host getppid");
}

int main(void)
{
	boot_kernel();
	tap_run("a seccomp filter sees x86-64 numbers and arch, returns errno",
		test_filter);
	halt_kernel();
	return tap_done();
}
