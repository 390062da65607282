// SPDX-License-Identifier: GPL-2.0
/*
 * lxexec: unmodified programs on lx, from images that images/mkimage.sh
 * makes from Debian packages (make images): busybox-static applets and
 * static-pie glibc programs from the busybox image, and Debian's own glibc
 * programs (ls, cat, perl, python3) from the debootstrap image give the
 * same output and exit status as in a chroot of the same root on the host;
 * bad programs and options give a clear error and the status a shell would
 * give.
 *
 * The cached images are shared by every run and never written: each root
 * here is an overlayfs view of one, its writes going to this test's temp
 * directory, mounted in a mount namespace of the test's own (gone with it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wordexp.h>

#include "tap.h"
#include "util.h"

static char base[64], bb[96], deb[96], lxexec[256], out_lx[96], out_host[96];
static const char *root = bb;	/* the root of the busybox cases */

/*
 * The chroot's side: the file systems lxexec mounts in lx, mounted the
 * same way (a mount namespace of its own), then the program.
 */
static const char chroot_sh[] =
	"mount -t proc proc \"$0/proc\" && "
	"mount -t devtmpfs devtmpfs \"$0/dev\" && "
	"mount -t tmpfs tmpfs \"$0/tmp\" && exec chroot \"$0\" \"$@\"";

/* Run argv (argv[0] is lxexec or unshare), output to out; its status. */
static int run_to(const char *out, char *const argv[], char *const envp[])
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || fd < 0)
			_exit(125);
		dup2(in, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (envp)
			execve(argv[0], argv, envp);
		else
			execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path)
{
	char *x = NULL;
	size_t xl = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	if (getdelim(&x, &xl, 0, f) <= 0 && x)
		x[0] = 0;
	fclose(f);
	return x;
}

/*
 * Run PROG ARGS (argv) under lxexec with root dir and in a chroot of dir;
 * compare exit status and output (stdout and stderr together).  norm, if
 * not NULL, is an awk program both outputs go through first.
 */
static void same_argv(const char *dir, const char *const *args,
		      const char *norm)
{
	static char path[] =
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *const env[] = { path, NULL };
	const char *lx_argv[64], *host_argv[64];
	char what[160], *x, *y;
	int a, b, n = 0, i;

	lx_argv[n++] = lxexec;
	lx_argv[n++] = "--rootfs";
	lx_argv[n++] = dir;
	lx_argv[n++] = "--";
	for (i = 0; args[i] && n < 63; i++)
		lx_argv[n++] = args[i];
	lx_argv[n] = NULL;
	n = 0;
	host_argv[n++] = "/usr/bin/unshare";
	host_argv[n++] = "--mount";
	host_argv[n++] = "--propagation";
	host_argv[n++] = "private";
	host_argv[n++] = "/bin/sh";
	host_argv[n++] = "-c";
	host_argv[n++] = chroot_sh;
	host_argv[n++] = dir;
	for (i = 0; args[i] && n < 63; i++)
		host_argv[n++] = args[i];
	host_argv[n] = NULL;

	/* the first line of the program's words, to name the case */
	snprintf(what, sizeof(what), "%s", args[0]);
	for (i = 1; args[i] && strlen(what) < 100; i++)
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " %.*s", (int)strcspn(args[i], "\n"), args[i]);

	a = run_to(out_lx, (char *const *)lx_argv, NULL);
	b = run_to(out_host, (char *const *)host_argv, env);
	if (norm) {
		CHECK_EQ(host_sh("awk '%s' %s > %s.n && mv %s.n %s && "
				 "awk '%s' %s > %s.n && mv %s.n %s", norm,
				 out_lx, out_lx, out_lx, out_lx, norm,
				 out_host, out_host, out_host, out_host), 0);
	}
	x = slurp(out_lx);
	y = slurp(out_host);
	CHECK(a == b, "%s: status %d in lx, %d natively", what, a, b);
	CHECK(x && y && !strcmp(x, y), "%s: output differs:\nlx:\n%s\nhost:\n%s",
	      what, x ? x : "(none)", y ? y : "(none)");
	free(x);
	free(y);
}

/* same_argv() of a shell word list, split as sh would (no $(...)). */
static void same_in(const char *dir, const char *words)
{
	wordexp_t we;

	if (!CHECK(wordexp(words, &we, WRDE_NOCMD | WRDE_UNDEF) == 0,
		   "cannot split %s", words))
		return;
	same_argv(dir, (const char *const *)we.we_wordv, NULL);
	wordfree(&we);
}

static void same(const char *words)
{
	same_in(bb, words);
}

static const char pie_c[] =
	"#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
	"int main(int c, char **v)\n{\n"
	"\tchar *p = malloc(1 << 20), l[64];\n"
	"\tFILE *f = fopen(\"/etc/fruit\", \"r\");\n\tint n = 0;\n\n"
	"\tmemset(p, 1, 1 << 20);\n\twhile (fgets(l, 64, f))\n\t\tn++;\n"
	"\tprintf(\"%s: %d lines, %d args\\n\", v[0], n, c);\n"
	"\treturn 7;\n}\n";

static const char threads_c[] =
	"#include <pthread.h>\n#include <stdio.h>\n"
	"static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;\n"
	"static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;\n"
	"static long total;\nstatic int ready;\n"
	"static void *work(void *a)\n{\n\tlong i, n = (long)a;\n\n"
	"\tfor (i = 0; i < 20000; i++) {\n\t\tpthread_mutex_lock(&m);\n"
	"\t\ttotal += n;\n\t\tpthread_mutex_unlock(&m);\n\t}\n"
	"\tpthread_mutex_lock(&m);\n\tready++;\n\tpthread_cond_signal(&cv);\n"
	"\tpthread_mutex_unlock(&m);\n\treturn (void *)(n * 2);\n}\n"
	"int main(void)\n{\n\tpthread_t t[16];\n\tlong i, sum = 0;\n\tvoid *r;\n\n"
	"\tfor (i = 0; i < 16; i++)\n"
	"\t\tpthread_create(&t[i], 0, work, (void *)(i + 1));\n"
	"\tpthread_mutex_lock(&m);\n\twhile (ready < 16)\n"
	"\t\tpthread_cond_wait(&cv, &m);\n\tpthread_mutex_unlock(&m);\n"
	"\tfor (i = 0; i < 16; i++) {\n\t\tpthread_join(t[i], &r);\n"
	"\t\tsum += (long)r;\n\t}\n"
	"\tprintf(\"total %ld joined %ld\\n\", total, sum);\n\treturn 0;\n}\n";

static int put_file(const char *dir, const char *name, const char *text)
{
	char path[160];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* The directory of image name, made by images/mkimage.sh (make images). */
static void find_image(const char *name, char *dir, size_t len)
{
	const char *cache = getenv("LX_CACHE"), *home = getenv("HOME");
	char stamp[256];

	if (cache && *cache)
		snprintf(dir, len, "%s/images/%s", cache, name);
	else
		snprintf(dir, len, "%s/.cache/lx/images/%s",
			 home && *home ? home : "/root", name);
	snprintf(stamp, sizeof(stamp), "%s/etc/lx-image", dir);
	if (access(stamp, R_OK))
		tap_bail("the %s image is not built (%s): run 'make images'",
			 name, dir);
}

/*
 * An overlayfs view of image img at base/name, writable, its writes kept
 * in base/name.up: what a test or its programs write never reaches the
 * cached image.
 */
static int overlay(const char *img, const char *name, char *dir, size_t len)
{
	char up[128], work[128], opts[512];

	snprintf(dir, len, "%s/%s", base, name);
	snprintf(up, sizeof(up), "%s/%s.up", base, name);
	snprintf(work, sizeof(work), "%s/%s.work", base, name);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 img, up, work);
	if (mkdir(dir, 0755) || mkdir(up, 0755) || mkdir(work, 0755) ||
	    mount("overlay", dir, "overlay", 0, opts)) {
		tap_diag("overlay of %s on %s: %s", img, dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void cleanup(void)
{
	umount2(bb, MNT_DETACH);
	umount2(deb, MNT_DETACH);
	host_sh("rm -rf %s %s %s", base, out_lx, out_host);
}

/* Killed (run-tests.sh's timeout): leave nothing under /tmp behind. */
static void on_signal(int sig)
{
	umount2(bb, MNT_DETACH);
	umount2(deb, MNT_DETACH);
	remove_tree_now(base);
	remove_tree_now(out_lx);
	remove_tree_now(out_host);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup(void)
{
	char *t = strdup("/tmp/lx-exec-XXXXXX"), self[256], img[192];
	ssize_t n;

	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(base, sizeof(base), "%s", t);
	free(t);
	snprintf(out_lx, sizeof(out_lx), "%s.lx", base);
	snprintf(out_host, sizeof(out_host), "%s.host", base);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		tap_bail("readlink /proc/self/exe");
	self[n] = 0;
	/* $LXEXEC (make test sets it), or build/tests/t-lxexec -> build/lxexec */
	if (getenv("LXEXEC")) {
		snprintf(lxexec, sizeof(lxexec), "%s", getenv("LXEXEC"));
	} else {
		snprintf(lxexec, sizeof(lxexec), "%s", self);
		*strrchr(lxexec, '/') = 0;
		*strrchr(lxexec, '/') = 0;
		strcat(lxexec, "/lxexec");
	}
	if (access(lxexec, X_OK))
		tap_bail("%s is missing", lxexec);
	/* the overlays go with this process's own mount namespace */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		host_sh("rm -rf %s", base);
		tap_bail("a mount namespace: %s", strerror(errno));
	}
	find_image("busybox", img, sizeof(img));
	if (overlay(img, "busybox", bb, sizeof(bb))) {
		cleanup();
		tap_bail("cannot make the root %s", bb);
	}
	find_image("debian", img, sizeof(img));
	if (overlay(img, "debian", deb, sizeof(deb))) {
		cleanup();
		tap_bail("cannot make the root %s", deb);
	}
	if (host_sh("mkdir -p %s/etc/sub && "
		    "printf 'pear\\napple\\nfig\\n' > %s/etc/fruit && "
		    "echo hello > %s/etc/sub/hello && "
		    "head -c 100000 /dev/urandom > %s/etc/random && "
		    "cp %s/etc/fruit %s/etc/random %s/etc/",
		    root, root, root, root, root, root, deb) ||
	    /* the host's iperf3 (Debian's), its libraries and loader */
	    host_sh("cd %s && cp /usr/bin/iperf3 usr/bin/ && "
		    "for l in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do "
		    "mkdir -p .$(dirname $l) && cp -n $l .$l; done", root) ||
	    put_file(root, "pie.c", pie_c) ||
	    put_file(root, "threads.c", threads_c) ||
	    host_sh("gcc -static-pie -O2 -o %s/bin/pie %s/pie.c && "
		    "gcc -static-pie -O2 -pthread -o %s/bin/threads %s/threads.c",
		    root, root, root, root)) {
		cleanup();
		tap_bail("cannot make the roots in %s", base);
	}
}

static void test_applets(void)
{
	same("/bin/busybox echo hello from lx");
	same("/bin/busybox cat /etc/fruit");
	same("/bin/busybox sort /etc/fruit");
	same("/bin/busybox wc /etc/fruit /etc/random");
	same("/bin/busybox sha256sum /etc/random");
	same("/bin/busybox ls -la /etc");
	same("/bin/busybox find /etc");
	same("/bin/busybox sh -c 'echo $((6 * 7)); exit 3'");
	same("/bin/busybox false");
	/* tar: an archive made, then listed */
	same("/bin/busybox tar -cf /etc.tar -C /etc fruit random");
	same("/bin/busybox tar -tvf /etc.tar");
}

/* --image: the root on an ext4 image (mke2fs -d of the busybox root) */
static void test_image(void)
{
	char img[128];

	snprintf(img, sizeof(img), "%s.ext4", base);
	if (!CHECK_EQ(host_sh("mke2fs -q -t ext4 -d %s %s 64M", bb, img), 0))
		return;
	CHECK_EQ(host_sh("%s --image %s -- /bin/busybox sha256sum /etc/random "
			 "> %s 2>&1 </dev/null", lxexec, img, out_lx), 0);
	CHECK_EQ(host_sh("cd %s && sha256sum etc/random | sed 's| etc/| /etc/|' "
			 "| cmp -s - %s", bb, out_lx), 0);
	/* what the program writes is in the image after lxexec ends */
	CHECK_EQ(host_sh("%s --image %s -- /bin/busybox cp /etc/fruit "
			 "/etc/copied </dev/null", lxexec, img), 0);
	CHECK_EQ(host_sh("debugfs -R 'cat /etc/copied' %s 2>/dev/null | "
			 "cmp -s - %s/etc/fruit", img, bb), 0);
	CHECK_EQ(host_sh("e2fsck -n -f %s >/dev/null 2>&1", img), 0);
	/* not an image: a clear error, status 1 */
	CHECK_EQ(host_sh("%s --image /etc/hostname -- /bin/busybox true "
			 "2>%s", lxexec, out_lx), 1);
	CHECK_EQ(host_sh("grep -q 'not an ext4 image' %s", out_lx), 0);
	unlink(img);
}

static void test_static_pie(void)
{
	same("/bin/pie a b");
}

/*
 * ls -la /: the mount points, whose file systems are each kernel's own
 * (proc, devtmpfs and lx's ramfs-backed tmpfs), may differ in link count,
 * size and time; their modes and everything else may not.  Columns are
 * compared, not their widths (which those counts and sizes set).
 */
static const char ls_root_norm[] =
	"{ $1 = $1 } $NF ~ /^(dev|proc|tmp)$/ { $2 = \"N\"; $5 = \"SIZE\"; $6 = $7 = $8 = \"TIME\" } 1";

/* Debian's glibc programs from the debootstrap image: ld.so, libc, ls, cat */
static void test_debian(void)
{
	same_argv(deb, (const char *[]){ "/bin/ls", "-la", "/", NULL },
		  ls_root_norm);
	same_in(deb, "/bin/ls -la /etc /usr/share/perl5 /bin/ls");
	same_in(deb, "/bin/cat /etc/fruit /etc/debian_version /etc/os-release");
	same_in(deb, "/usr/bin/sha256sum /etc/random /usr/bin/perl");
	same_in(deb, "/bin/cat /no/such/file");
}

/* perl (perl-base): files, a socket pair, TCP over loopback, sprintf */
static const char perl_src[] =
	"use strict; use Socket; use IO::Socket::INET;\n"
	"open(my $f, '<', '/etc/fruit') or die \"fruit: $!\";\n"
	"my @l = sort map { chomp; uc } <$f>; close $f;\n"
	"open(my $o, '>', '/tmp/perl.out') or die \"/tmp: $!\";\n"
	"printf $o \"%s|%d\\n\", join(',', @l), scalar @l; close $o;\n"
	"open($o, '<', '/tmp/perl.out') or die; print scalar <$o>; close $o;\n"
	"print -s '/tmp/perl.out', ' bytes; ';\n"
	"unlink '/tmp/perl.out' or die; print -e '/tmp/perl.out' ? \"kept\\n\" : \"unlinked\\n\";\n"
	"socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die \"socketpair: $!\";\n"
	"syswrite $a, 'ping'; sysread $b, my $buf, 4; print \"socketpair: $buf\\n\";\n"
	"my $srv = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0', Proto => 'tcp')\n"
	"\tor die \"listen: $@\";\n"
	"my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $srv->sockport,\n"
	"\tProto => 'tcp') or die \"connect: $@\";\n"
	"my $s = $srv->accept; print $c \"hello over tcp\\n\"; print 'tcp: ', scalar <$s>;\n"
	"printf \"%5.2f|%-6s|%03d|%x|%e|%s|%v02x\\n\", atan2(1, 1) * 4, 'ab', 7, 255,\n"
	"\t12345.678, sprintf('%*d', 4, 42), '1.22.333';\n"
	"exit 3;\n";

static void test_perl(void)
{
	same_argv(deb, (const char *[]){ "/usr/bin/perl", "-e", perl_src, NULL },
		  NULL);
	same_in(deb, "/usr/bin/perl -e 'open(F, \"<\", \"/no/such\") or die \"open: $!\\n\"'");
}

/* python3: threads, sockets (a pair, TCP over loopback), json, time */
static const char python_src[] =
	"import json, socket, threading, time\n"
	"r = []\n"
	"lock = threading.Lock()\n"
	"def work(i):\n"
	"    with lock:\n"
	"        r.append(i * i)\n"
	"t = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
	"[x.start() for x in t]; [x.join() for x in t]\n"
	"a, b = socket.socketpair(); a.sendall(b'ping'); print('socketpair', b.recv(4))\n"
	"srv = socket.create_server(('127.0.0.1', 0))\n"
	"def serve():\n"
	"    c, _ = srv.accept()\n"
	"    with c:\n"
	"        c.sendall(c.recv(64).upper())\n"
	"s = threading.Thread(target=serve); s.start()\n"
	"with socket.create_connection(srv.getsockname()) as c:\n"
	"    c.sendall(b'hello over tcp'); print('tcp', c.recv(64))\n"
	"s.join()\n"
	"d = json.loads(json.dumps({'squares': sorted(r), 'pi': 3.14159, 'ok': True}))\n"
	"print(json.dumps(d, sort_keys=True))\n"
	"t0 = time.monotonic(); time.sleep(0.05); dt = time.monotonic() - t0\n"
	"print('slept', 0.05 <= dt < 1, 'now', time.time() > 1.7e9,\n"
	"      abs(time.time() - time.clock_gettime(time.CLOCK_REALTIME)) < 1)\n"
	"print(time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(86400 * 365 + 61)))\n";

static void test_python(void)
{
	same_argv(deb, (const char *[]){ "/usr/bin/python3", "-c", python_src,
					 NULL }, NULL);
	same_in(deb, "/usr/bin/python3 -c 'import sys; print(sys.version_info[:2]); sys.exit(5)'");
}

/* 16 glibc threads: mutexes, a condition variable, pthread_join */
static void test_threads(void)
{
	int i;

	for (i = 0; i < 5; i++)
		same("/bin/threads");
}

static void test_path_and_env(void)
{
	CHECK_EQ(host_sh("%s --rootfs %s --env GREETING=hi -- busybox sh -c "
			 "'test \"$GREETING\" = hi' </dev/null", lxexec, root), 0);
	CHECK_EQ(host_sh("%s --rootfs %s --cwd /etc/sub -- busybox cat hello "
			 ">/dev/null </dev/null", lxexec, root), 0);
	CHECK_EQ(host_sh("%s --rootfs %s -- busybox uname -r </dev/null | "
			 "grep -q '^6\\.1\\.'", lxexec, root), 0);
}

/*
 * --kernel: more of the kernel's command line.  lx_hugeram=1: RAM for
 * later on 2 MiB host pages, from a tmpfs lxexec mounts before its
 * sandbox takes the privilege to; the program runs as without.
 */
static void test_kernel_args(void)
{
	CHECK_EQ(host_sh("%s --kernel lx_hugeram=1 --debug --rootfs %s -- "
			 "/bin/busybox sha256sum /etc/random >%s 2>&1 "
			 "</dev/null", lxexec, root, out_lx), 0);
	CHECK_EQ(host_sh("grep -q 'command line: .*mem=256M lx_hugeram=1' %s",
			 out_lx), 0);
	CHECK_EQ(host_sh("grep -q 'RAM for later, on host pages of up to 2048 KiB' %s",
			 out_lx), 0);
	CHECK_EQ(host_sh("cd %s && sha256sum etc/random | cut -d' ' -f1 > %s && "
			 "grep -q -f %s %s", root, out_host, out_host, out_lx),
		 0);
	CHECK_EQ(host_sh("%s --kernel lx_hugeram=0 --debug --rootfs %s -- "
			 "/bin/busybox true 2>&1 </dev/null | grep -q "
			 "'RAM for later, on host pages of up to 4 KiB'", lxexec, root), 0);
	CHECK_EQ(host_sh("%s --kernel \"$(head -c 1000 /dev/zero | tr '\\0' x)\" "
			 "--rootfs %s -- /bin/busybox true 2>%s", lxexec, root,
			 out_lx), 2);
	CHECK_EQ(host_sh("grep -q -- '--kernel: longer than' %s", out_lx), 0);
}

static void test_bad(void)
{
	CHECK_EQ(host_sh("%s --rootfs %s -- /no/such/prog 2>%s", lxexec, root,
			 out_lx), 127);
	CHECK_EQ(host_sh("grep -q 'no/such/prog' %s", out_lx), 0);
	CHECK_EQ(host_sh("%s --rootfs %s -- /etc/fruit 2>/dev/null", lxexec,
			 root), 126);
	CHECK_EQ(host_sh("printf '\\177ELF\\001\\001\\001' > %s/bin/elf32 && "
			 "head -c 64 /dev/zero >> %s/bin/elf32 && "
			 "chmod +x %s/bin/elf32", root, root, root), 0);
	CHECK_EQ(host_sh("%s --rootfs %s -- /bin/elf32 2>%s", lxexec, root,
			 out_lx), 126);
	CHECK_EQ(host_sh("grep -q 'not an x86-64' %s", out_lx), 0);
	/* a dynamic program whose loader is missing (Debian's ls, edited) */
	CHECK_EQ(host_sh("cp %s/bin/ls %s/bin/noloader && "
			 "sed -i 's|/lib64/ld-linux-x86-64.so.2|/lib64/ld-lunux-x86-64.so.2|' "
			 "%s/bin/noloader && %s --rootfs %s -- /bin/noloader 2>%s",
			 deb, deb, deb, lxexec, deb, out_lx), 126);
	CHECK_EQ(host_sh("grep -q 'ld-lunux.*No such file' %s", out_lx), 0);
	CHECK_EQ(host_sh("%s --rootfs /no/such/dir -- /bin/busybox true "
			 "2>%s", lxexec, out_lx), 2);
	CHECK_EQ(host_sh("grep -q '/no/such/dir' %s", out_lx), 0);
	CHECK_EQ(host_sh("%s -- /bin/busybox true 2>/dev/null", lxexec), 2);
	/* fork is not served yet: an error and a word from lx, no hang */
	CHECK(host_sh("timeout 20 %s --rootfs %s -- /bin/busybox sh -c "
		      "'echo $(echo x)' </dev/null >/dev/null 2>%s", lxexec,
		      root, out_lx) != 124, "a fork hangs");
	CHECK_EQ(host_sh("grep -q 'fork, clone' %s", out_lx), 0);
	CHECK_EQ(host_sh("%s --help | grep -q rootfs", lxexec), 0);
}

/*
 * A fault of lx itself: the program process killed by SIGKILL in the
 * middle of a system call loop.  lxexec exits 137 and leaves no process.
 */
static void test_kill9(void)
{
	char cmd[512];
	FILE *f;
	int st, left = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execl(lxexec, "lxexec", "--rootfs", root, "--", "/bin/busybox",
		      "yes", (char *)NULL);
		_exit(99);
	}
	host_msleep(300);
	/* the program process is lxexec's child */
	snprintf(cmd, sizeof(cmd), "pkill -9 -P %d", pid);
	CHECK_EQ(host_sh("%s", cmd), 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 137, "lxexec status %#x", st);
	snprintf(cmd, sizeof(cmd), "pgrep -P %d | wc -l", pid);
	f = popen(cmd, "r");
	if (f && fscanf(f, "%d", &left) != 1)
		left = -1;
	if (f)
		pclose(f);
	CHECK_EQ(left, 0);
}

/*
 * busybox wget inside lx fetches a file from a web server on the host,
 * over a tap in a network namespace this test makes (and is gone with it).
 */
static void test_wget(void)
{
	char srv[128];
	pid_t web;
	int i;

	if (!CHECK(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno)))
		return;
	CHECK_EQ(host_sh("ip link set lo up && ip tuntap add dev lxw0 mode tap && "
			 "ip link set lxw0 up && ip addr add 10.77.0.1/24 dev lxw0"),
		 0);
	snprintf(srv, sizeof(srv), "%s/etc", root);
	web = fork();
	if (web == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 1);
		dup2(null, 2);
		execlp("python3", "python3", "-m", "http.server", "-b",
		       "10.77.0.1", "-d", srv, "8077", (char *)NULL);
		_exit(127);
	}
	/* the server is up when it answers */
	for (i = 0; i < 50 && host_sh("python3 -c 'import urllib.request as u;"
				      " u.urlopen(\"http://10.77.0.1:8077/fruit\")'"
				      " 2>/dev/null"); i++)
		host_msleep(100);
	CHECK_EQ(host_sh("%s --rootfs %s --net tap:lxw0,ip=10.77.0.2/24 -- "
			 "/bin/busybox wget -q -O - http://10.77.0.1:8077/random "
			 "> %s </dev/null", lxexec, root, out_lx), 0);
	CHECK_EQ(host_sh("cmp -s %s %s/etc/random", out_lx, root), 0);
	CHECK_EQ(host_sh("%s --rootfs %s --net tap:nosuch0,ip=10.77.0.2/24 -- "
			 "/bin/busybox true 2>%s", lxexec, root, out_lx), 2);
	CHECK_EQ(host_sh("grep -q nosuch0 %s", out_lx), 0);
	CHECK_EQ(host_sh("%s --rootfs %s --net tap:lxw0 -- /bin/busybox true "
			 "2>/dev/null", lxexec, root), 2);
	kill(web, SIGTERM);
	waitpid(web, NULL, 0);
}

/*
 * iperf3 inside lx as the server, the host's iperf3 as the client: data
 * both ways (-R: lx sends), over the tap and over AF_PACKET on a veth.
 */
static void iperf3_over(const char *net, const char *ip)
{
	int dir, i;

	for (dir = 0; dir < 2; dir++) {
		pid_t srv = fork();
		int st;

		if (srv == 0) {
			int null = open("/dev/null", O_RDWR);
			char netarg[128];

			snprintf(netarg, sizeof(netarg), "%s,ip=%s/24", net, ip);
			dup2(null, 1);
			dup2(null, 2);
			execl(lxexec, "lxexec", "--rootfs", root, "--net", netarg,
			      "--", "/usr/bin/iperf3", "-s", "-1", (char *)NULL);
			_exit(127);
		}
		/*
		 * The server listens once lx has booted and iperf3 started:
		 * on a loaded machine that takes a while, so the client tries
		 * again while nothing listens (for 30 s at most)
		 */
		CHECK(host_sh("timeout 30 sh -c 'until iperf3 -c %s -t 1 %s "
			      ">%s 2>&1; do grep -q \"unable to connect\" %s "
			      "|| exit 1; sleep 0.2; done' && grep -q receiver %s",
			      ip, dir ? "-R" : "", out_lx, out_lx, out_lx) == 0,
		      "iperf3 %s %s", net, dir ? "-R" : "");
		/* a server the client never reached ends here, not never */
		for (i = 0; i < 300 && waitpid(srv, &st, WNOHANG) == 0; i++)
			host_msleep(100);
		if (i == 300) {
			kill(srv, SIGKILL);
			waitpid(srv, &st, 0);
		}
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "lxexec iperf3 -s: %#x", st);
	}
}

static void test_iperf3(void)
{
	CHECK_EQ(host_sh("ip link add lxv0 type veth peer name lxv1 && "
			 "ip link set lxv0 up && ip link set lxv1 up && "
			 "ip addr add 10.78.0.1/24 dev lxv1"), 0);
	iperf3_over("tap:lxw0", "10.77.0.2");
	iperf3_over("packet:lxv0", "10.78.0.2");
}

int main(void)
{
	setup();
	tap_run("busybox applets: same output and status as in a chroot",
		test_applets);
	tap_run("--image: an ext4 image as the root, written back", test_image);
	tap_run("a static-pie glibc program (malloc, stdio, exit status)",
		test_static_pie);
	tap_run("Debian's ls, cat, sha256sum from the debootstrap image",
		test_debian);
	tap_run("Debian's perl: files, sockets, sprintf", test_perl);
	tap_run("Debian's python3: threads, sockets, json, time", test_python);
	tap_run("16 pthreads: mutexes, a condition variable, join (5 runs)",
		test_threads);
	tap_run("PATH lookup, --env, --cwd; uname says 6.1", test_path_and_env);
	tap_run("--kernel lx_hugeram=1: kernel RAM on 2 MiB host pages",
		test_kernel_args);
	tap_run("missing, non-ELF and 32-bit programs, a missing loader; bad options",
		test_bad);
	tap_run("kill -9 of the program process: lxexec exits 137, nothing left",
		test_kill9);
	tap_run("busybox wget over a tap fetches a file from the host",
		test_wget);
	tap_run("iperf3 in lx against the host's, both ways, tap and AF_PACKET",
		test_iperf3);
	cleanup();
	return tap_done();
}
