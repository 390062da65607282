// SPDX-License-Identifier: GPL-2.0
/*
 * lxexec: unmodified static programs on lx.  busybox-static applets (from
 * Debian's package) and a static-pie glibc program run from a virtio-fs
 * root give the same output and exit status as in a chroot of the same
 * directory on the host; bad programs and options give a clear error and
 * the status a shell would give.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static char root[64], lxexec[256], out_lx[96], out_host[96];

/* Run cmd (a shell word list) under lxexec and in a chroot; compare. */
static void same(const char *args)
{
	int a, b;
	char cmd[1024], *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s --rootfs %s -- %s > %s 2>&1 < /dev/null",
		 lxexec, root, args, out_lx);
	a = host_sh("%s", cmd);
	snprintf(cmd, sizeof(cmd),
		 "env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
		 "chroot %s %s > %s 2>&1 < /dev/null", root, args, out_host);
	b = host_sh("%s", cmd);
	f = fopen(out_lx, "r");
	if (f) {
		if (getdelim(&x, &xl, 0, f) <= 0 && x)
			x[0] = 0;
		fclose(f);
	}
	f = fopen(out_host, "r");
	if (f) {
		if (getdelim(&y, &yl, 0, f) <= 0 && y)
			y[0] = 0;
		fclose(f);
	}
	CHECK(a == b, "%s: status %d in lx, %d natively", args, a, b);
	CHECK(x && y && !strcmp(x, y), "%s: output differs:\nlx:\n%s\nhost:\n%s",
	      args, x ? x : "(none)", y ? y : "(none)");
	free(x);
	free(y);
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

static int put_file(const char *name, const char *text)
{
	char path[160];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

static void setup(void)
{
	char *t = strdup("/tmp/lx-exec-XXXXXX"), self[256];
	ssize_t n;

	if (!mkdtemp(t))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(root, sizeof(root), "%s", t);
	free(t);
	snprintf(out_lx, sizeof(out_lx), "%s.lx", root);
	snprintf(out_host, sizeof(out_host), "%s.host", root);
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
	if (access("/usr/bin/busybox", X_OK))
		tap_bail("busybox-static is not installed (make deps)");
	if (host_sh("mkdir -p %s/bin %s/etc/sub %s/proc %s/dev %s/tmp && "
		    "mknod -m 666 %s/dev/null c 1 3 && "
		    "cp /usr/bin/busybox %s/bin/ && "
		    "printf 'pear\\napple\\nfig\\n' > %s/etc/fruit && "
		    "echo hello > %s/etc/sub/hello && "
		    "head -c 100000 /dev/urandom > %s/etc/random",
		    root, root, root, root, root, root, root, root, root, root) ||
	    /* Debian's dynamic programs with the libraries they need */
	    host_sh("cd %s && for b in /bin/ls /usr/bin/sha256sum /usr/bin/perl; do "
		    "mkdir -p .$(dirname $b) && cp $b .$b && "
		    "for l in $(ldd $b | grep -o '/[^ ]*'); do "
		    "mkdir -p .$(dirname $l) && cp -n $l .$l; done; done", root) ||
	    /* Debian's python3 with its standard library */
	    host_sh("cd %s && b=$(readlink -f /usr/bin/python3) && "
		    "mkdir -p .$(dirname $b) usr/lib && cp $b .$b && "
		    "ln -sf $b usr/bin/python3 && "
		    "for l in $(ldd $b | grep -o '/[^ ]*'); do "
		    "mkdir -p .$(dirname $l) && cp -n $l .$l; done && "
		    "cp -a /usr/lib/python3.11 usr/lib/", root) ||
	    /* Debian's iperf3 */
	    host_sh("cd %s && cp /usr/bin/iperf3 usr/bin/ && "
		    "for l in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do "
		    "mkdir -p .$(dirname $l) && cp -n $l .$l; done", root) ||
	    put_file("pie.c", pie_c) || put_file("threads.c", threads_c) ||
	    host_sh("gcc -static-pie -O2 -o %s/bin/pie %s/pie.c && "
		    "gcc -static-pie -O2 -pthread -o %s/bin/threads %s/threads.c",
		    root, root, root, root)) {
		host_sh("rm -rf %s", root);
		tap_bail("cannot make the root %s", root);
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
}

static void test_static_pie(void)
{
	same("/bin/pie a b");
}

/* Debian's dynamically linked programs: ld.so, libc and friends */
static void test_dynamic(void)
{
	same("/bin/ls -la /etc /bin");
	same("/usr/bin/sha256sum /etc/random");
	same("/usr/bin/perl -e 'open F, \"</etc/fruit\"; my @l = sort <F>; "
	     "print scalar(@l), \" \", join(\",\", map { chomp; uc } @l), "
	     "\"\\n\"; printf(\"%.3f\\n\", atan2(1, 1) * 4)'");
}

/* python3: threads, json, a socket pair, time */
static void test_python(void)
{
	same("/usr/bin/python3 -c 'import json, threading, socket, time\n"
	     "r = []\n"
	     "t = [threading.Thread(target=lambda i=i: r.append(i * i)) for i in range(8)]\n"
	     "[x.start() for x in t]; [x.join() for x in t]\n"
	     "a, b = socket.socketpair(); a.sendall(b\"ping\"); print(b.recv(4))\n"
	     "print(json.dumps(sorted(r)), time.time() > 1e9)'");
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
	/* a dynamic program whose loader is missing */
	CHECK_EQ(host_sh("cp %s/bin/ls %s/bin/noloader && "
			 "sed -i 's|/lib64/ld-linux-x86-64.so.2|/lib64/ld-lunux-x86-64.so.2|' "
			 "%s/bin/noloader && %s --rootfs %s -- /bin/noloader 2>%s",
			 root, root, root, lxexec, root, out_lx), 126);
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
	int dir;

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
		host_msleep(500);
		CHECK(host_sh("timeout 30 iperf3 -c %s -t 1 %s >%s 2>&1 && "
			      "grep -q receiver %s", ip, dir ? "-R" : "", out_lx,
			      out_lx) == 0, "iperf3 %s %s", net, dir ? "-R" : "");
		CHECK(waitpid(srv, &st, 0) == srv && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0, "lxexec iperf3 -s: %#x", st);
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
	tap_run("a static-pie glibc program (malloc, stdio, exit status)",
		test_static_pie);
	tap_run("dynamic glibc programs: ls, sha256sum, perl",
		test_dynamic);
	tap_run("python3: threads, json, a socket pair", test_python);
	tap_run("16 pthreads: mutexes, a condition variable, join (5 runs)",
		test_threads);
	tap_run("PATH lookup, --env, --cwd; uname says 6.1", test_path_and_env);
	tap_run("missing, non-ELF and 32-bit programs, a missing loader; bad options",
		test_bad);
	tap_run("kill -9 of the program process: lxexec exits 137, nothing left",
		test_kill9);
	tap_run("busybox wget over a tap fetches a file from the host",
		test_wget);
	tap_run("iperf3 in lx against the host's, both ways, tap and AF_PACKET",
		test_iperf3);
	host_sh("rm -rf %s %s %s", root, out_lx, out_host);
	return tap_done();
}
