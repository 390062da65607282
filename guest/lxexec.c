// SPDX-License-Identifier: GPL-2.0
/*
 * lxexec - run a program on lx.
 *
 * This process becomes the container's kernel home process: it declares
 * the root (a host directory through virtio-fs), boots lx, mounts the root
 * and makes it the root of lx's init, gives lx the host's stdio as hostfd
 * files, and forks the program process (lx_fork()), which loads PROG
 * through lx's file system and runs it with its system calls trapped into
 * lx (guest/).  lxexec exits with PROG's status, 128+N if signal N ended it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>
#include <lx/netconf.h>
#include "guest.h"

#define MAX_ENV 256
#define MAX_SYSCTL 64

static const char usage[] =
	"usage: lxexec (--rootfs DIR | --image IMG) [--mem SIZE] [--kernel ARGS]\n"
	"              [--env K=V]...\n"
	"              [--cwd DIR] [--sysctl KEY=VALUE]...\n"
	"              [--net tap:NAME,ip=ADDR/LEN[,gw=GW]] [--cache MODE]\n"
	"              [--no-rewrite] [--zpoline]\n"
	"              [--debug]\n"
	"              -- PROG [ARGS...]\n"
	"\n"
	"Boot lx with DIR as the container's root (shared through virtio-fs),\n"
	"run PROG in it with its system calls served by lx, and exit with its\n"
	"status (128+N if signal N ended it).  PROG without a '/' is looked up\n"
	"in PATH inside the root.  x86-64 programs: static, static-pie or\n"
	"dynamic; threads, no fork or exec yet.\n"
	"\n"
	"  --rootfs DIR   the container's root file system (a host directory)\n"
	"  --image IMG    or an ext4 image (a host file: virtio-blk), mounted\n"
	"                 read-write as the root\n"
	"  --mem SIZE     the kernel's memory (default 256M)\n"
	"  --kernel ARGS  more kernel command-line arguments, after mem=SIZE:\n"
	"                 lx_hugeram=1 (0) puts the memory the kernel takes\n"
	"                 after boot on the host's 2 MiB (4 KiB) pages; by\n"
	"                 default 2 MiB unless the host gives its free 2 MiB\n"
	"                 blocks back to a hypervisor (free page reporting);\n"
	"                 lx_ram_ahead=0: the host does not bring that\n"
	"                 memory in ahead of a fast-growing page cache\n"
	"  --env K=V      an environment variable for PROG (repeatable)\n"
	"  --cwd DIR      PROG's working directory inside the root (default /)\n"
	"  --sysctl KEY=VALUE\n"
	"                 set a sysctl in lx's kernel before PROG starts: VALUE\n"
	"                 is written to /proc/sys/KEY, dots in KEY read as\n"
	"                 slashes (net.ipv4.tcp_fastopen=3); repeatable, applied\n"
	"                 in order after the network is up (as an OCI runtime\n"
	"                 applies config.json's linux.sysctl); one that cannot\n"
	"                 be set ends lxexec with status 2, naming the key\n"
	"  --net tap:NAME,ip=ADDR/LEN[,gw=GW]\n"
	"  --net packet:IFNAME,ip=ADDR/LEN[,gw=GW]\n"
	"                 eth0 on an existing tap, or on AF_PACKET bound to an\n"
	"                 interface (a veth), with that address and gateway\n"
	"  --cache MODE   the root share's cache: fast (the default: long\n"
	"                 timeouts, for a root only lx changes) or strict\n"
	"                 (coherent with changes made on the host)\n"
	"  --no-rewrite   leave every system call site trapped (Syscall User\n"
	"                 Dispatch); by default the sites in a program's and\n"
	"                 its libraries' text become direct calls into lx\n"
	"  --zpoline      also make the sites a jump cannot take (a branch\n"
	"                 lands among the bytes around them) calls through\n"
	"                 address 0, where lx maps a page of its own, instead\n"
	"                 of leaving them trapped.  The host must allow the\n"
	"                 mapping (vm.mmap_min_addr = 0; lx does not change\n"
	"                 it): else lxexec says so and they stay trapped.\n"
	"                 Opt-in: the call stores its return address in the\n"
	"                 8 bytes below the stack pointer, which hand-written\n"
	"                 code may be using (the red zone)\n"
	"  --debug        the kernel log on stderr, which sites were rewritten\n"
	"                 and which stay trapped, and why, and how long each\n"
	"                 step of the launch took\n"
	"\n"
	"Verified sites are cached per host file in $LX_CACHE/sites.d (default\n"
	"~/.cache/lx/sites.d).\n";

static int debug;

/* --debug: how long each step of the launch took, on stderr */
static void step(const char *what)
{
	static struct timespec last;
	struct timespec now;
	long us;

	/* integers only: guest/ is built without SSE */
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - last.tv_sec) * 1000000 +
	     (now.tv_nsec - last.tv_nsec) / 1000;
	if (debug && last.tv_sec)
		fprintf(stderr, "lxexec: %-26s %4ld.%03ld ms\n", what,
			us / 1000, us % 1000);
	last = now;
}

static void die(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lxexec: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(NULL);
	/* no exit(): the program process must not run the home's atexit */
	_exit(status);
}

/* capstone, loaded while the kernel boots (rewrite.c) */
static void *preload(void *arg)
{
	(void)arg;
	return (void *)(long)lx_rewrite_preload();
}

/*
 * Start preload() on a CPU other than this thread's, which is the one
 * the kernel's threads will boot on (host.c): ~2 ms of relocations that
 * would otherwise often start there and hold the launch up.
 */
static int start_preload(pthread_t *t)
{
	int cpu = sched_getcpu();
	pthread_attr_t attr;
	cpu_set_t cpus;
	int err;

	pthread_attr_init(&attr);
	if (cpu >= 0 && !sched_getaffinity(0, sizeof(cpus), &cpus) &&
	    CPU_COUNT(&cpus) > 1 && CPU_ISSET(cpu, &cpus)) {
		CPU_CLR(cpu, &cpus);
		pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	}
	err = pthread_create(t, &attr, preload, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

/*
 * Mount the root in lx - the virtio-fs share, or the ext4 image on vda -
 * and make it init's root (and so everyone's).
 */
static void enter_root(const char *cwd, const char *image)
{
	long r;

	lx_syscall2(SYS_mkdir, "/root", 0755);
	if (image) {
		/* the image is lx's first disk */
		lx_syscall2(SYS_mkdir, "/dev", 0755);
		lx_syscall5(SYS_mount, "devtmpfs", "/dev", "devtmpfs", 0, 0);
		r = lx_syscall5(SYS_mount, "/dev/vda", "/root", "ext4", 0, 0);
		if (r)
			die(1, "--image %s: not an ext4 image lx can mount (%s)",
			    image, lx_strerror(r));
	} else {
		r = lx_syscall5(SYS_mount, "root", "/root", "virtiofs", 0, 0);
		if (r)
			die(1, "cannot mount the root in lx: %s",
			    lx_strerror(r));
	}
	/* what programs expect, where the image has the directories */
	lx_syscall5(SYS_mount, "proc", "/root/proc", "proc", 0, 0);
	lx_syscall5(SYS_mount, "devtmpfs", "/root/dev", "devtmpfs", 0, 0);
	lx_syscall5(SYS_mount, "tmpfs", "/root/tmp", "tmpfs", 0, "mode=1777");
	/* POSIX shared memory (shm_open) lives here, as in every container */
	if (!lx_syscall2(SYS_mkdir, "/root/dev/shm", 01777) ||
	    !lx_syscall2(SYS_access, "/root/dev/shm", F_OK))
		lx_syscall5(SYS_mount, "shm", "/root/dev/shm", "tmpfs", 0,
			    "mode=1777");
	if (lx_syscall1(SYS_chdir, "/root") || lx_syscall1(SYS_chroot, ".") ||
	    lx_syscall1(SYS_chdir, "/"))
		die(1, "cannot enter the root in lx");
	r = lx_syscall1(SYS_chdir, cwd);
	if (r)
		die(1, "--cwd %s: %s", cwd, lx_strerror(r));
}

/* The host's fds 0-2 become lx's 0-2. */
static void give_stdio(void)
{
	static const int modes[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	int fd, h;
	long l;

	for (fd = 0; fd < 3; fd++) {
		h = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (h < 0)
			continue;	/* closed on the host: closed in lx */
		l = lx_hostfd(h, modes[fd]);
		if (l < 0) {
			close(h);
			continue;
		}
		if (l != fd) {
			lx_syscall3(SYS_dup3, l, fd, 0);
			lx_syscall1(SYS_close, l);
		}
	}
}

/* --net: the device spec, and eth0's address and gateway. */
struct net_opt {
	char spec[128];
	char ip[64];
	char gw[64];
};

static void parse_net(const char *arg, struct net_opt *n)
{
	char buf[256], *p, *save = NULL;
	const char *kind;

	if (strlen(arg) >= sizeof(buf))
		die(2, "--net %s: too long", arg);
	strcpy(buf, arg);
	p = strtok_r(buf, ",", &save);
	if (!p || (strncmp(p, "tap:", 4) && strncmp(p, "packet:", 7)))
		die(2, "--net %s: give tap:NAME or packet:IFNAME first", arg);
	kind = p[0] == 't' ? "tap" : "packet";
	snprintf(n->spec, sizeof(n->spec), "net:%s=%s", kind,
		 strchr(p, ':') + 1);
	while ((p = strtok_r(NULL, ",", &save))) {
		if (!strncmp(p, "ip=", 3))
			snprintf(n->ip, sizeof(n->ip), "%s", p + 3);
		else if (!strncmp(p, "gw=", 3))
			snprintf(n->gw, sizeof(n->gw), "%s", p + 3);
		else
			die(2, "--net %s: unknown option '%s' (ip=, gw=)", arg, p);
	}
	if (!n->ip[0] || !strchr(n->ip, '/'))
		die(2, "--net %s: give ip=ADDR/LEN", arg);
}

/* eth0 up with its address and default route, through lx's netlink. */
static void config_net(const struct net_opt *n)
{
	long r;

	if ((r = lx_net_link_set("lo", 1, 0)) ||
	    (r = lx_net_link_set("eth0", 1, 0)))
		die(1, "--net: cannot bring the interfaces up: %s",
		    lx_strerror(r));
	r = lx_net_addr_add("eth0", n->ip);
	if (r)
		die(2, "--net: ip=%s: %s", n->ip, lx_strerror(r));
	if (n->gw[0]) {
		r = lx_net_route_add("default", n->gw, "eth0", 0);
		if (r)
			die(2, "--net: gw=%s: %s", n->gw, lx_strerror(r));
	}
}

/*
 * --sysctl KEY=VALUE: /proc/sys/KEY, dots in KEY read as slashes (unless
 * KEY has slashes already, as sysctl(8) reads it then), in buf.  Returns
 * the value, or NULL if the argument is not KEY=VALUE under /proc/sys.
 */
static const char *sysctl_path(const char *arg, char *buf, size_t len)
{
	const char *eq = strchr(arg, '='), *p;
	size_t n = strlen("/proc/sys/");
	int slashes;

	if (!eq || eq == arg || n + (eq - arg) >= len)
		return NULL;
	slashes = memchr(arg, '/', eq - arg) != NULL;
	memcpy(buf, "/proc/sys/", n);
	for (p = arg; p < eq; p++)
		buf[n++] = !slashes && *p == '.' ? '/' : *p;
	buf[n] = 0;
	/* nothing outside /proc/sys: no empty, "." or ".." components */
	for (p = buf + strlen("/proc/sys/"); *p; p += strcspn(p, "/") + 1) {
		n = strcspn(p, "/");
		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return NULL;
		if (!p[n])
			break;
	}
	return eq + 1;
}

/*
 * Write the --sysctl settings in lx's kernel, through a proc of lx's own
 * mounted on /proc of init's boot root (the container's root may have
 * no /proc), before init enters the container's root.
 */
static void apply_sysctls(char **sysctls, int n)
{
	char path[512];
	const char *val;
	long fd, r;
	int i;

	if (!n)
		return;
	lx_syscall2(SYS_mkdir, "/proc", 0555);
	r = lx_syscall5(SYS_mount, "proc", "/proc", "proc", 0, 0);
	if (r)
		die(1, "--sysctl: cannot mount proc in lx: %s", lx_strerror(r));
	for (i = 0; i < n; i++) {
		val = sysctl_path(sysctls[i], path, sizeof(path));
		fd = lx_syscall3(SYS_open, path, O_WRONLY | O_CLOEXEC, 0);
		if (fd == -ENOENT)
			die(2, "--sysctl %.*s: no such sysctl in lx (%s)",
			    (int)(strchr(sysctls[i], '=') - sysctls[i]),
			    sysctls[i], path);
		if (fd < 0)
			die(2, "--sysctl %.*s: cannot open %s: %s",
			    (int)(strchr(sysctls[i], '=') - sysctls[i]),
			    sysctls[i], path, lx_strerror(fd));
		r = lx_syscall3(SYS_write, fd, val, strlen(val));
		lx_syscall1(SYS_close, fd);
		if (r >= 0 && (size_t)r != strlen(val))
			r = -EIO;
		if (r < 0)
			die(2, "--sysctl %.*s: cannot set it to '%s': %s",
			    (int)(strchr(sysctls[i], '=') - sysctls[i]),
			    sysctls[i], val, lx_strerror(r));
	}
	lx_syscall2(SYS_umount2, "/proc", 0);
}

/* PROG as execvp finds it, inside lx's root. */
static const char *find_prog(const char *prog, const char *path, char *buf,
			     size_t len)
{
	const char *p = path, *colon;
	struct stat st;

	if (strchr(prog, '/'))
		return prog;
	while (p && *p) {
		colon = strchr(p, ':');
		snprintf(buf, len, "%.*s/%s",
			 (int)(colon ? colon - p : (long)strlen(p)), p, prog);
		if (!lx_syscall2(SYS_stat, buf, &st) && S_ISREG(st.st_mode))
			return buf;
		p = colon ? colon + 1 : NULL;
	}
	return NULL;
}

static pid_t home_pid;

/*
 * The rewriter's cache of verified sites ($LX_CACHE/sites.d), for the
 * home process, which alone reads and writes it: it answers the program
 * process's questions (guest/homefd.c), which therefore holds no fd of
 * it.  Without it the sites are found again at every start.
 */
static void open_site_cache(void)
{
	const char *dir = getenv("LX_CACHE"), *home = getenv("HOME");
	char path[4096], old[4096 + 8];

	if (dir && *dir)
		snprintf(path, sizeof(path), "%s", dir);
	else if (home && *home)
		snprintf(path, sizeof(path), "%s/.cache/lx", home);
	else
		return;
	/* mkdir -p of the last two levels is enough for ~/.cache/lx */
	if (!dir) {
		char parent[4096];

		snprintf(parent, sizeof(parent), "%s/.cache", home);
		mkdir(parent, 0755);
	}
	mkdir(path, 0755);
	/* the append-only file of earlier versions, read whole each start */
	snprintf(old, sizeof(old), "%s/sites", path);
	unlink(old);
	strncat(path, "/sites.d", sizeof(path) - strlen(path) - 1);
	mkdir(path, 0755);
	lx_rewrite_cache_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lx_rewrite_cache_fd < 0 && lx_rewrite_debug)
		fprintf(stderr, "lxexec: %s: %s (no site cache)\n", path,
			strerror(errno));
}

static void __attribute__((noreturn)) run_program(char **argv, char **envp,
						  const char *path)
{
	static struct lx_thread block;
	struct lx_image img;
	char err[512], buf[4096];
	const char *prog;
	int r;

	/* the program process never outlives the home process */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != home_pid)
		_exit(137);
	prog = find_prog(argv[0], path, buf, sizeof(buf));
	if (!prog)
		die(127, "%s: not found in PATH", argv[0]);
	/* before the loader rewrites the program's sites */
	if (lx_zpoline_wanted && lx_rewrite_enabled)
		lx_zpoline_start();
	r = lx_guest_load(prog, argv, envp, &img, err, sizeof(err));
	if (r)
		die(r == -ENOENT ? 127 : 126, "%s", err);
	step("load the program");
	lx_guest_set_brk(img.brk);
	/* lx raises the program's own SIGPIPE; the host's must not kill it */
	signal(SIGPIPE, SIG_IGN);
	r = lx_guest_thread_init(&block);
	if (r)
		die(126, "cannot trap system calls (Syscall User Dispatch): %s",
		    strerror(-r));
	r = lx_guest_confine();
	if (r)
		die(126, "cannot confine the program process (seccomp): %s",
		    strerror(-r));
	step("trap and confine");
	lx_guest_jump(img.entry, img.sp);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rootfs", required_argument, NULL, 'r' },
		{ "image", required_argument, NULL, 'i' },
		{ "mem", required_argument, NULL, 'm' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "env", required_argument, NULL, 'e' },
		{ "cwd", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "no-rewrite", no_argument, NULL, 'R' },
		{ "zpoline", no_argument, NULL, 'Z' },
		{ "cache", required_argument, NULL, 'C' },
		{ "net", required_argument, NULL, 'n' },
		{ "sysctl", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rootfs = NULL, *image = NULL, *mem = "256M", *cwd = "/";
	const char *kargs = "";
	const char *cache = "fast";
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[MAX_ENV + 3], spec[4200], err[512], cmdline[1024];
	char *sysctls[MAX_SYSCTL], path_buf[512];
	struct net_opt net = { "", "", "" };
	int nenv = 0, nsysctl = 0, c, st, i;
	pthread_t preloader;
	int lst = 0, code;
	long r;
	pid_t pid;

	step(NULL);
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rootfs = optarg;
			break;
		case 'i':
			image = optarg;
			break;
		case 'm':
			if (strlen(optarg) > 32)
				die(2, "--mem %.32s...: not a size", optarg);
			mem = optarg;
			break;
		case 'k':
			if (strlen(optarg) > 900)
				die(2, "--kernel: longer than 900 characters");
			kargs = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '='))
				die(2, "--env %s: not K=V", optarg);
			if (nenv == MAX_ENV)
				die(2, "--env: more than %d variables", MAX_ENV);
			if (!strncmp(optarg, "PATH=", 5))
				path = optarg + 5;
			envp[nenv++] = optarg;
			break;
		case 'c':
			cwd = optarg;
			break;
		case 'd':
			debug = 1;
			lx_rewrite_debug = 1;
			break;
		case 'R':
			lx_rewrite_enabled = 0;
			break;
		case 'Z':
			lx_zpoline_wanted = 1;
			lx_zpoline_read_min_addr();
			break;
		case 'C':
			if (strcmp(optarg, "fast") && strcmp(optarg, "strict"))
				die(2, "--cache %s: fast or strict", optarg);
			cache = optarg;
			break;
		case 'n':
			if (net.spec[0])
				die(2, "--net: one interface for now");
			parse_net(optarg, &net);
			break;
		case 's':
			if (!sysctl_path(optarg, path_buf, sizeof(path_buf)))
				die(2, "--sysctl %s: not KEY=VALUE (a key under "
				    "/proc/sys)", optarg);
			if (nsysctl == MAX_SYSCTL)
				die(2, "--sysctl: more than %d settings",
				    MAX_SYSCTL);
			sysctls[nsysctl++] = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc)
		die(2, "no program given (lxexec --help)");
	if (!rootfs == !image)
		die(2, "one of --rootfs DIR and --image IMG (lxexec --help)");
	if (lx_zpoline_wanted && !lx_rewrite_enabled)
		die(2, "--zpoline rewrites sites, --no-rewrite leaves them all "
		    "trapped: one or the other");
	for (i = 0; i < nenv && strncmp(envp[i], "PATH=", 5); i++)
		;
	if (i == nenv) {
		static char pathenv[256];

		snprintf(pathenv, sizeof(pathenv), "PATH=%s", path);
		envp[nenv++] = pathenv;
	}
	envp[nenv] = NULL;

	/*
	 * On a thread of its own, started before the home is confined (the
	 * library's path is the host's), which ends before the fork.
	 */
	if (lx_rewrite_enabled && start_preload(&preloader))
		lx_rewrite_enabled = 0;
	if (rootfs) {
		snprintf(spec, sizeof(spec), "fs:tag=root,cache=%s,dir=%s",
			 cache, rootfs);
		if (lx_device_add(spec, err, sizeof(err)))
			die(2, "--rootfs: %s", err);
	} else {
		snprintf(spec, sizeof(spec), "blk:file=%s", image);
		if (lx_device_add(spec, err, sizeof(err)))
			die(2, "--image: %s", err);
	}
	if (debug && lx_device_add("console:fd=2", err, sizeof(err)))
		die(1, "%s", err);
	if (net.spec[0] && lx_device_add(net.spec, err, sizeof(err)))
		die(2, "--net: %s", err);
	step("declare devices");
	/* the site cache is the last host path lxexec opens */
	if (lx_rewrite_enabled)
		open_site_cache();
	if (lx_home_sandbox(err, sizeof(err)))
		die(1, "cannot confine the home process: %s", err);
	step("site cache, sandbox");
	snprintf(cmdline, sizeof(cmdline), "mem=%s %s", mem, kargs);
	if (lx_start_kernel(cmdline))
		die(1, "the kernel did not boot (--mem %s, --kernel '%s'?)",
		    mem, kargs);
	step("boot the kernel");
	if (lx_rewrite_enabled) {
		void *ret;

		pthread_join(preloader, &ret);
		if (ret && debug)
			fprintf(stderr, "lxexec: no capstone (libcapstone.so): "
				"sites that need a sweep stay trapped\n");
	}
	if (net.spec[0])
		config_net(&net);
	else if ((r = lx_net_link_set("lo", 1, 0)))
		die(1, "cannot bring up lo: %s", lx_strerror(r));
	apply_sysctls(sysctls, nsysctl);
	enter_root(cwd, image);
	give_stdio();
	step("net, sysctls, root, stdio");
	fflush(NULL);
	r = lx_homefd_start();
	if (r)
		die(1, "cannot start the home's fd server: %s", strerror(-r));
	home_pid = getpid();
	pid = lx_fork();
	if (pid < 0)
		die(1, "fork: %s", lx_strerror(pid));
	lx_homefd_forked(pid == 0);
	step(pid ? "fork (home)" : "fork (program)");
	if (!pid && lx_rewrite_cache_fd >= 0) {
		/* the program process asks the home for sites (homefd.c) */
		close(lx_rewrite_cache_fd);
		lx_rewrite_cache_fd = -1;
	}
	if (pid == 0)
		run_program(argv + optind, envp, path);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/*
	 * A program process that ended itself did so with the status lx
	 * gave it (an exit code, or the signal lx killed it with); one the
	 * host killed (a fault in user code, kill -9 from outside), or that
	 * ended before its program ran (lx then kills what is left of it),
	 * has the host's.
	 */
	if (lx_syscall4(SYS_wait4, -1, &lst, 0, NULL) > 0 && WIFEXITED(st) &&
	    !(WIFSIGNALED(lst) && WTERMSIG(lst) == SIGKILL))
		st = lst;
	step("program ran");
	code = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	/*
	 * What the program wrote goes to the host (sync: lx's page cache to
	 * virtio-fs and the image, the image flushed); then this process
	 * ends, and lx's threads and memory with it, as a machine powers off
	 * after a sync.  An orderly lx_halt() would wake and wait for each
	 * kernel thread (~1 ms); with --debug it runs, so that the kernel's
	 * last lines reach the log.
	 */
	if (debug) {
		lx_halt();
		step("halt");
	} else {
		lx_syscall0(SYS_sync);
	}
	fflush(NULL);
	_exit(code);
}
