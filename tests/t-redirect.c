// SPDX-License-Identifier: GPL-2.0
/*
 * How a program's system calls reach lx (DESIGN.md decision 6), with
 * lxexec and the programs of tests/guest/: sites in a program's text and
 * in a library it dlopen()s are rewritten into direct calls, code written
 * at run time stays trapped, numbers out of range (lx's private ones
 * included) are ENOSYS, and register state - vector, general, x87 control
 * word and MXCSR - survives a call on the rewritten and on the trapped
 * path.  The site cache is used and survives garbage; it is keyed by the
 * host file, so a planted file with a real program's build-id lends it no
 * sites, and only the home process holds it.  A program that switches
 * the redirection off on purpose reaches only the host system calls of
 * the program process's seccomp filter; the home process is confined too.
 * --zpoline makes the sites no jump can take calls through address 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static char root[64], cache[80], out[80], lxexec[256], progs[256];

/* lxexec's root, its cache, then the arguments; output to out */
static int lx(const char *opts, const char *args)
{
	return host_sh("LX_CACHE=%s %s %s --rootfs %s -- %s > %s 2>&1 "
		       "</dev/null", cache, lxexec, opts, root, args, out);
}

static int out_has(const char *what)
{
	return host_sh("grep -q -e '%s' %s", what, out) == 0;
}

static int out_count(const char *what)
{
	char cmd[256];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "grep -c -e '%s' %s", what, out);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void show_out(void)
{
	host_sh("sed 's/^/# /' %s", out);
}

/* The four calls with sentinels: natively, the program itself is right. */
static void test_regs_native(void)
{
	CHECK_EQ(host_sh("%s/redirect regs %s/file %s/redirect > %s 2>&1",
			 progs, root, progs, out), 0);
	if (!CHECK_EQ(out_count(": ok "), 4))
		show_out();
}

static void test_regs_rewritten(void)
{
	CHECK_EQ(lx("", "/bin/redirect regs /file /bin/redirect"), 0);
	if (!CHECK_EQ(out_count(": ok (no error) site=rewritten"), 4))
		show_out();
}

static void test_regs_trapped(void)
{
	CHECK_EQ(lx("--no-rewrite", "/bin/redirect regs /file /bin/redirect"),
		 0);
	if (!CHECK_EQ(out_count(": ok (no error) site=original"), 4))
		show_out();
}

/*
 * A handler that changes vector, x87 and MXCSR state, run at the end of a
 * call: the state comes back, on both paths (natively too).
 */
static void test_handler_state(void)
{
	CHECK_EQ(host_sh("%s/redirect sigfp > %s 2>&1", progs, out), 0);
	if (!CHECK(out_has(": ok (no error) site=original$"), "natively"))
		show_out();
	CHECK_EQ(lx("", "/bin/redirect sigfp"), 0);
	if (!CHECK(out_has(": ok (no error) site=rewritten$") &&
		   out_has("^handled: 1$"), "rewritten"))
		show_out();
	CHECK_EQ(lx("--no-rewrite", "/bin/redirect sigfp"), 0);
	if (!CHECK(out_has(": ok (no error) site=original$") &&
		   out_has("^handled: 1$"), "trapped"))
		show_out();
}

/* JIT code is trapped and served; bad numbers are ENOSYS, as natively */
static void test_reach(void)
{
	char native[96];

	snprintf(native, sizeof(native), "%s.native", out);
	CHECK_EQ(host_sh("%s/redirect reach > %s 2>&1", progs, native), 0);
	CHECK_EQ(lx("", "/bin/redirect reach"), 0);
	CHECK(out_has("^jit getpid same$"), "code written at run time");
	CHECK(out_has("^jit site original$"), "JIT code is not rewritten");
	if (!CHECK_EQ(host_sh("cmp -s %s %s", native, out), 0))
		show_out();
	unlink(native);
}

/* a library mapped by dlopen() gets its sites rewritten */
static void test_dlopen(void)
{
	CHECK_EQ(lx("", "/bin/dlsite /lib/libsite.so"), 0);
	if (!CHECK(out_has("^getpid same site=rewritten$"), "dlopen"))
		show_out();
	CHECK_EQ(lx("--no-rewrite", "/bin/dlsite /lib/libsite.so"), 0);
	if (!CHECK(out_has("^getpid same site=original$"), "--no-rewrite"))
		show_out();
}

/*
 * (What --debug says is not matched at the start of a line: the kernel
 * log, on the same stderr, may be written around it in pieces.)
 *
 * --debug says what was rewritten; the first start has the home process
 * find the sites (it alone reads and writes the cache), the second uses
 * the cache.  The cache is a directory of one record a file (no
 * temporary file stays); the append-only file of earlier versions goes.
 */
static void test_debug_and_cache(void)
{
	host_sh("rm -rf %s/sites.d && echo old > %s/sites", cache, cache);
	CHECK_EQ(lx("--debug", "/bin/redirect reach"), 0);
	CHECK_EQ(host_sh("[ ! -e %s/sites ] && [ -z \"$(ls -A %s/sites.d | "
			 "grep -v '^[0-9a-f][0-9a-f][0-9a-f]$')\" ] && "
			 "[ $(ls %s/sites.d | wc -l) -ge 1 ]", cache, cache,
			 cache), 0);
	if (!CHECK(out_has("lx: /bin/redirect: [0-9]* of [0-9]* syscall "
			   "sites rewritten (verified by the home process), "
			   "the rest trapped"), "--debug"))
		show_out();
	CHECK_EQ(lx("--debug", "/bin/redirect reach"), 0);
	if (!CHECK(out_has("lx: /bin/redirect: .* rewritten (cached)"),
		   "cached"))
		show_out();
	/* a cache full of garbage is not trusted, and rebuilt */
	CHECK_EQ(host_sh("n=0; for f in %s/sites.d/*; do "
			 "head -c 4096 /dev/urandom > $f; n=$((n + 1)); done; "
			 "[ $n -gt 0 ]", cache), 0);
	CHECK_EQ(lx("--debug", "/bin/redirect regs /file /bin/redirect"), 0);
	if (!CHECK_EQ(out_count(": ok (no error) site=rewritten"), 4))
		show_out();
	CHECK(!out_has("(cached)"), "garbage is not a cache");
	/* an unwritable cache directory: no cache, same results */
	CHECK_EQ(host_sh("LX_CACHE=/proc/no/such %s --rootfs %s -- "
			 "/bin/redirect regs /file /bin/redirect > %s 2>&1",
			 lxexec, root, out), 0);
	CHECK_EQ(out_count(": ok (no error) site=rewritten"), 4);
}

/* vm.mmap_min_addr now, into buf; 0, or -1 */
static int min_addr_get(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ok && buf[0] ? 0 : -1;
}

static int min_addr_set(const char *v)
{
	return host_sh("echo %s > /proc/sys/vm/mmap_min_addr", v);
}

/* out, without lx's own lines and the site's, equals the file native */
static int same_as_native(const char *native)
{
	return host_sh("grep -v -e '^zpoline site=' -e '^lxexec: ' -e '^lx: ' "
		       "%s | cmp -s - %s", out, native);
}

/*
 * --zpoline.  On a host that does not allow a mapping at address 0,
 * lxexec says so and the site no jump can take stays trapped.  With
 * vm.mmap_min_addr = 0 - set by this test as root for the few runs that
 * need it, then put back: lx never changes it - that site is a call
 * through address 0, and what the numbers through it and calls through
 * null and small pointers do is what they do natively.  A dynamic glibc
 * program's leftover sites become calls too, and it runs.
 */
static void test_zpoline(void)
{
	char native[96], old[32];
	int r;

	snprintf(native, sizeof(native), "%s.native", out);
	CHECK_EQ(host_sh("%s/redirect zpoline | grep -v '^zpoline site=' > "
			 "%s 2>&1", progs, native), 0);
	if (!CHECK_EQ(min_addr_get(old, sizeof(old)), 0))
		return;
	if (strcmp(old, "0")) {
		CHECK_EQ(lx("--zpoline", "/bin/redirect zpoline"), 0);
		if (!CHECK(out_has("^lxexec: --zpoline: the host does not "
				   "allow a mapping at address 0") &&
			   out_has("^zpoline site=original$"), "refused"))
			show_out();
		if (!CHECK_EQ(same_as_native(native), 0))
			show_out();
	}
	if (geteuid()) {
		unlink(native);
		tap_skip("setting vm.mmap_min_addr to 0 needs root");
		return;
	}
	if (!CHECK_EQ(min_addr_set("0"), 0))
		return;
	r = lx("--zpoline", "/bin/redirect zpoline");
	if (!CHECK(r == 0 && out_has("^zpoline site=call$") &&
		   !out_has("^lxexec: --zpoline"), "the site a call"))
		show_out();
	if (!CHECK_EQ(same_as_native(native), 0))
		show_out();
	/* not without --zpoline */
	CHECK_EQ(lx("", "/bin/redirect zpoline"), 0);
	CHECK(out_has("^zpoline site=original$"), "only with --zpoline");
	CHECK_EQ(lx("--zpoline --debug", "/bin/dlsite /lib/libsite.so"), 0);
	if (!CHECK(out_has("^getpid same site=rewritten$") &&
		   out_has("lx: .*libc.so.6: [0-9]* of [0-9]* syscall sites "
			   "rewritten.*, [1-9][0-9]* made calls through "
			   "address 0 (zpoline)"), "glibc's sites"))
		show_out();
	CHECK_EQ(min_addr_set(old), 0);
	unlink(native);
}

/*
 * A copy of the program src at dst whose "redirect inside" site (see
 * tests/guest/redirect.c) lx may rewrite: its jnz lands at the site's
 * first byte instead of inside it.  Only that byte differs, so the copy
 * keeps src's build-id and layout.  0, or -1.
 */
static int plant_copy(const char *src, const char *dst)
{
	static const uint8_t pat[] = { 0x48, 0x85, 0xff, 0x75, 0x05, 0xb8,
				       0x25, 0, 0, 0, 0xff, 0xc0, 0xff, 0xc0,
				       0x0f, 0x05 };
	static uint8_t buf[4 << 20];
	uint8_t *at;
	size_t n;
	FILE *f;

	f = fopen(src, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	at = memmem(buf, n, pat, sizeof(pat));
	if (n == sizeof(buf) || !at ||
	    memmem(at + 1, buf + n - at - 1, pat, sizeof(pat)))
		return -1;
	at[4] = 0;
	f = fopen(dst, "w");
	if (!f)
		return -1;
	if (fwrite(buf, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) || chmod(dst, 0755) ? -1 : 0;
}

/*
 * The site cache is shared by containers: a file planted in one, which
 * carries a real program's build-id and its layout but other text, must
 * not give its verified sites to the real program run in another.  The
 * copy's site is rewritten, the real one's must stay trapped (its branch
 * into the site's bytes would land in the jump); each gets a record.
 */
static void test_planted_build_id(void)
{
	char other[80], real[300], copy[100];

	snprintf(other, sizeof(other), "%s.other", root);
	snprintf(real, sizeof(real), "%s/redirect", progs);
	snprintf(copy, sizeof(copy), "%s/bin/redirect", other);
	host_sh("rm -rf %s %s/sites.d && mkdir -p %s/bin %s/proc %s/dev %s/tmp",
		other, cache, other, other, other, other);
	if (!CHECK_EQ(plant_copy(real, copy), 0))
		goto out;
	CHECK_EQ(host_sh("a=$(readelf -n %s | grep 'Build ID'); "
			 "[ -n \"$a\" ] && "
			 "[ \"$a\" = \"$(readelf -n %s | grep 'Build ID')\" ] && "
			 "! cmp -s %s %s", real, copy, real, copy), 0);
	/* the copy, in its own root: its home sweeps it */
	CHECK_EQ(host_sh("LX_CACHE=%s %s --debug --rootfs %s -- /bin/redirect "
			 "inside > %s 2>&1 </dev/null", cache, lxexec, other,
			 out), 0);
	if (!CHECK(out_has("^inside getpid same site=rewritten$"), "the copy"))
		show_out();
	/* the real one, from the other root: its own sweep, not the copy's */
	CHECK_EQ(lx("--debug", "/bin/redirect inside"), 0);
	if (!CHECK(out_has("^inside getpid same site=original$"), "the real") ||
	    !CHECK(!out_has("lx: /bin/redirect: .*(cached)"),
		   "the copy's record is not the real program's"))
		show_out();
	/* both are cached now, each with its own sites */
	CHECK_EQ(lx("--debug", "/bin/redirect inside"), 0);
	if (!CHECK(out_has("^inside getpid same site=original$") &&
		   out_has("lx: /bin/redirect: .*(cached)"), "the real, cached"))
		show_out();
	CHECK_EQ(host_sh("LX_CACHE=%s %s --debug --rootfs %s -- /bin/redirect "
			 "inside > %s 2>&1 </dev/null", cache, lxexec, other,
			 out), 0);
	if (!CHECK(out_has("^inside getpid same site=rewritten$") &&
		   out_has("lx: /bin/redirect: .*(cached)"), "the copy, cached"))
		show_out();
out:
	host_sh("rm -rf %s", other);
}

/*
 * The host system calls a program process may make: guest/confine.c and
 * docs/CONFINEMENT.md (futex, futex_waitv, exit, clone, tgkill, prctl, newfstatat and
 * process_vm_writev/readv are there too; with the arguments the bypass uses
 * they are refused or, futex, answer ENOSYS themselves).
 */
static const int allowed[] = {
	0, 1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 24, 25,
	26, 28, 35, 36, 38, 39, 46, 47, 72, 77, 96, 98, 100, 131, 149, 150,
	151, 152, 186, 219, 222, 223, 224, 225, 226, 228, 229, 230, 233, 271,
	273, 286, 295, 296, 302, 318, 319, 324, 325, 327, 334, 449,
};

/* a program past the redirection meets the host's seccomp filter */
static void test_bypass(void)
{
	char line[4096], *tok, *save;
	unsigned int i;
	int nr, reached = 0, ok;
	FILE *f;

	CHECK_EQ(lx("", "/bin/redirect bypass"), 0);
	f = fopen(out, "r");
	if (!CHECK(f != NULL, "no output"))
		return;
	if (!CHECK(fgets(line, sizeof(line), f) &&
		   !strncmp(line, "reached:", 8), "no reached: line")) {
		fclose(f);
		show_out();
		return;
	}
	fclose(f);
	for (tok = strtok_r(line + 8, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		nr = atoi(tok);
		for (i = 0, ok = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			ok |= allowed[i] == nr;
		CHECK(ok, "host system call %d is not one lx allows", nr);
		/* read and getpid prove the calls reached the host at all */
		reached += nr == 0 || nr == 39;
	}
	CHECK_EQ(reached, 2);
	CHECK(out_has("^x32 -38$"), "an x32 call is refused");
	CHECK(out_has("^int80 -38$"), "an int $0x80 call is refused");
	CHECK(out_has("^tiocsti -38$"), "TIOCSTI on the engine's tty refused");
}

/* A line of /proc/PID/status, its value as text, or "" */
static void status_of(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	val[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			snprintf(val, len, "%s", line + strlen(key) + 1);
			val[strcspn(val, "\n")] = 0;
			memmove(val, val + strspn(val, " \t"),
				strlen(val + strspn(val, " \t")) + 1);
			break;
		}
	fclose(f);
}

/*
 * lxexec running "redirect wait ARG" (ARG: threads it makes and joins
 * first): its home and program processes once the program says it is
 * ready, and the fd whose closing ends it.  0, or -1 if it did not start.
 */
static int start_waiting(const char *arg, pid_t *home, pid_t *prog, int *in)
{
	const char *argv[] = { lxexec, "--rootfs", root, "--", "/bin/redirect",
			       "wait", arg, NULL };
	char path[64], line[64] = "";
	int fds[2], outp[2];
	FILE *f;

	*prog = 0;
	if (pipe(fds) || pipe(outp))
		return -1;
	*home = fork();
	if (*home == 0) {
		dup2(fds[0], 0);
		dup2(outp[1], 1);
		close(fds[1]);
		close(outp[0]);
		execv(lxexec, (char *const *)argv);
		_exit(127);
	}
	close(fds[0]);
	close(outp[1]);
	*in = fds[1];
	f = fdopen(outp[0], "r");
	/* "ready", or nothing if it ends: then prog stays 0 */
	if (f && fgets(line, sizeof(line), f) && !strcmp(line, "ready\n")) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
			 *home, *home);
		fclose(f);
		f = fopen(path, "r");
		if (f && fscanf(f, "%d", prog) != 1)
			*prog = 0;
	}
	if (f)
		fclose(f);
	return *prog > 0 ? 0 : -1;
}

/* Close its stdin: the program ends, lxexec with status 0. */
static void stop_waiting(pid_t home, int in)
{
	int st;

	close(in);
	CHECK_EQ(waitpid(home, &st, 0), home);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "lxexec status %#x", st);
}

/*
 * The home process in a mount namespace of its own with one read-only
 * tmpfs in it, the FUSE server's capabilities only, no_new_privs; the
 * program process the same, under its seccomp filter.
 */
static void test_confined(void)
{
	char path[64], val[128], line[512];
	int in, mounts = 0;
	pid_t home, prog;
	FILE *f;

	CHECK_EQ(host_sh("echo read me > %s/readme.txt", root), 0);
	if (!CHECK_EQ(start_waiting("0", &home, &prog, &in), 0))
		return;
	status_of(prog, "Seccomp", val, sizeof(val));
	CHECK(!strcmp(val, "2"), "program Seccomp: %s", val);
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", home);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		mounts++;
		CHECK(strstr(line, " / / ro,") && strstr(line, " tmpfs "),
		      "a mount in the home's namespace: %s", line);
	}
	if (f)
		fclose(f);
	CHECK_EQ(mounts, 1);
	status_of(home, "NoNewPrivs", val, sizeof(val));
	CHECK(!strcmp(val, "1"), "home NoNewPrivs: %s", val);
	/* chown, dac_override, dac_read_search, fowner, fsetid, setgid,
	 * setuid, mknod, setfcap */
	status_of(home, "CapEff", val, sizeof(val));
	CHECK(!strcmp(val, "00000000880000df"), "home CapEff: %s", val);
	status_of(home, "CapBnd", val, sizeof(val));
	CHECK(!strcmp(val, "00000000880000df"), "home CapBnd: %s", val);
	status_of(prog, "NoNewPrivs", val, sizeof(val));
	CHECK(!strcmp(val, "1"), "program NoNewPrivs: %s", val);
	/*
	 * the site cache, shared by containers: the home alone holds it
	 * (its directory, once); the program process asks the home
	 */
	CHECK_EQ(host_sh("for f in /proc/%d/fd/*; do "
			 "case $(readlink $f) in */sites.d*) exit 1;; esac; "
			 "done; exit 0", prog), 0);
	CHECK_EQ(host_sh("n=0; for f in /proc/%d/fd/*; do "
			 "case $(readlink $f) in */sites.d) ;; *) continue;; esac; "
			 "n=$((n + 1)); "
			 "fl=$(awk '/^flags:/ { print $2 }' /proc/%d/fdinfo/${f##*/}); "
			 "[ $(( 0$fl & 03 )) -eq 0 ] && "
			 "[ $(( 0$fl & 0200000 )) -ne 0 ] || exit 1; done; "
			 "[ $n -eq 1 ]", home, home), 0);
	/*
	 * the program read /readme.txt: lx read it from the host file,
	 * through a read-only host fd the home handed over, still cached
	 */
	CHECK_EQ(host_sh("for f in /proc/%d/fd/*; do "
			 "[ \"$(readlink $f)\" = %s/readme.txt ] || continue; "
			 "fl=$(awk '/^flags:/ { print $2 }' /proc/%d/fdinfo/${f##*/}); "
			 "[ $(( 0$fl & 03 )) -eq 0 ] && exit 0; done; exit 1",
			 prog, root, prog), 0);
	stop_waiting(home, in);
	host_sh("rm -f %s/readme.txt", root);
}

/*
 * kB of the host address space of a process that can be used: its
 * mappings but those with no access at all - host libc's malloc reserves
 * 64 MiB arenas PROT_NONE, one more or less with how its threads met in
 * malloc (VmSize varied by 64 MiB between runs), and guard pages.  -1 if
 * it cannot be read.
 */
static long vm_size(pid_t pid)
{
	unsigned long start, end;
	char path[64], perm[8];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%lx-%lx %7s%*[^\n]", &start, &end, perm) == 3)
		if (strcmp(perm, "---p"))
			kb += (end - start) >> 10;
	fclose(f);
	return kb;
}

/*
 * A program thread's host side is given back when it exits: 2,000
 * threads made and joined one after the other leave the program
 * process's address space as it was (each took a 256 KiB stack and
 * 128 KiB of lx's stacks).
 */
static void test_thread_memory(void)
{
	long none, many;
	pid_t home, prog;
	int in;

	if (!CHECK_EQ(start_waiting("0", &home, &prog, &in), 0))
		return;
	none = vm_size(prog);
	stop_waiting(home, in);
	if (!CHECK_EQ(start_waiting("2000", &home, &prog, &in), 0))
		return;
	many = vm_size(prog);
	stop_waiting(home, in);
	tap_diag("%ld kB mapped after 2,000 threads, %ld kB without", many,
		 none);
	CHECK(none > 0 && many > 0 && many - none < 32 * 1024,
	      "%ld kB mapped after 2,000 threads, %ld kB without", many, none);
}

static void cleanup(void)
{
	host_sh("rm -rf %s %s %s.native %s.other", root, out, out, root);
}

int main(void)
{
	char self[200];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		tap_bail("readlink /proc/self/exe");
	self[n] = 0;
	*strrchr(self, '/') = 0;
	/* build/tests/guest, also for build/asan/tests/t-redirect */
	snprintf(progs, sizeof(progs), "%s/guest", self);
	if (access(progs, F_OK))
		snprintf(progs, sizeof(progs), "%s/../../tests/guest", self);
	if (getenv("LXEXEC"))
		snprintf(lxexec, sizeof(lxexec), "%s", getenv("LXEXEC"));
	else
		snprintf(lxexec, sizeof(lxexec), "%s/../lxexec", self);
	/* make test sets LXEXEC; build/tests/t-redirect -> build/lxexec */
	if (access(lxexec, X_OK))
		tap_bail("%s is missing (make)", lxexec);
	snprintf(root, sizeof(root), "/tmp/lx-redirect-XXXXXX");
	if (!mkdtemp(root))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(cache, sizeof(cache), "%s/.cache", root);
	snprintf(out, sizeof(out), "%s.out", root);
	/* the programs, the dynamic one's libraries and loader */
	if (host_sh("cd %s && mkdir -p bin lib proc dev tmp .cache && "
		    "echo sentinel > file && "
		    "cp %s/redirect %s/dlsite bin/ && "
		    "cp %s/libsite.so lib/ && "
		    "for l in $(ldd %s/dlsite | grep -o '/[^ ]*'); do "
		    "mkdir -p .$(dirname $l) && cp -n $l .$l; done",
		    root, progs, progs, progs, progs)) {
		cleanup();
		tap_bail("cannot make the root %s", root);
	}

	tap_run("sentinels survive getppid, a blocking read, an open and an "
		"mmap natively", test_regs_native);
	tap_run("... and in lx on the rewritten path", test_regs_rewritten);
	tap_run("... and in lx on the trapped path (--no-rewrite)",
		test_regs_trapped);
	tap_run("a signal handler that changes vector, x87 and MXCSR state: "
		"the interrupted code's comes back, both paths",
		test_handler_state);
	tap_run("JIT code trapped and served; -1, 1000, lx's own numbers, x32: "
		"ENOSYS as natively", test_reach);
	tap_run("a dlopen()ed library's site is rewritten", test_dlopen);
	tap_run("--zpoline: refused where the host does not allow address "
		"0; else a site no jump takes is a call through it, numbers "
		"and null-pointer calls as natively", test_zpoline);
	tap_run("--debug tells; the site cache is used, garbage in it is "
		"not", test_debug_and_cache);
	tap_run("a planted file with a real program's build-id and other "
		"text does not lend its sites to the real one in another root",
		test_planted_build_id);
	tap_run("past the redirection, raw calls 0..1023, x32, int $0x80 "
		"reach only the host calls lx allows", test_bypass);
	tap_run("the home process confined: own mount namespace with one "
		"read-only tmpfs, few capabilities, no_new_privs; the site "
		"cache held by the home only",
		test_confined);
	tap_run("an exited thread's host stacks are given back (2,000 "
		"threads: the program's address space does not grow)",
		test_thread_memory);
	cleanup();
	return tap_done();
}
