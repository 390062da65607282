// SPDX-License-Identifier: GPL-2.0
/*
 * rewrite.c - a program's system call sites turned into calls into lx
 * (DESIGN.md decision 6).
 *
 * Syscall User Dispatch traps every syscall instruction outside lx: a
 * SIGSYS round trip of a few microseconds.  Sites in file-backed text are
 * rewritten when their mapping is made, before any thread can run there
 * (the loader's segments, and the executable mappings ld.so makes): the
 * instructions just before a syscall - often "mov $NR, %eax", at least
 * five bytes, none of them a branch or RIP-relative - become a jump to a
 * stub nearby, which runs those instructions, puts the return address in
 * rcx (as syscall does) and jumps to lx_fast_entry (entry.S).
 *
 *	before:	b8 27 00 00 00	mov $39, %eax		after:	e9 <stub>
 *		0f 05		syscall				0f 05
 *
 * The syscall instruction itself stays: code that jumps straight to it
 * still works, through the trap.  A site is verified before it is
 * rewritten: the text is disassembled with capstone section by section
 * (a linear sweep from each executable section's start), and no direct
 * branch of the section may land inside the bytes the jump replaces.
 * Indirect branches into them cannot be ruled out by a disassembler; no
 * compiler emits them there (they would land between two instructions of
 * one basic block).  Code made at run time (JIT) is never rewritten and
 * stays trapped.
 *
 * The sweep takes ~80 ms for glibc: the sites found are kept in a cache
 * file shared by the user's containers, and a cached site is used only if
 * the bytes in memory are what was verified.  A program process, which a
 * program may have taken over, never touches the cache: it asks its home
 * process (homefd.c, one round trip per executable mapping), which opens
 * the host file behind the mapping, looks the sites up by that file's
 * identity (device, inode, size, mtime, ctime: its own fstat()) and range,
 * or sweeps that same file and appends the record, and sends the sites
 * back (lx_rewrite_sites_host()).  Nothing a container writes can name a
 * file of another container, as a copied build-id once could.  Files the
 * home process cannot reach (not on virtio-fs: an ext4 image, ramfs) are
 * swept by the program process for itself, uncached.
 */
#define _GNU_SOURCE
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lx/lx.h>
#include "guest.h"

/*
 * capstone is loaded, not linked: its ~78,000 relocations cost every start
 * of lxexec about 2 ms, and with a warm site cache no sweep needs it.
 * lxexec loads it on a thread of its own while it boots the kernel
 * (lx_rewrite_preload()), before the home is confined, and the program
 * process inherits it; without it, sites that need a sweep stay trapped.
 */
static struct {
	cs_err (*open)(cs_arch arch, cs_mode mode, csh *handle);
	cs_insn *(*malloc)(csh handle);
	bool (*disasm_iter)(csh handle, const uint8_t **code, size_t *size,
			    uint64_t *address, cs_insn *insn);
	void (*free)(cs_insn *insn, size_t count);
	cs_err (*close)(csh *handle);
	int loaded;
} cs;

int lx_rewrite_preload(void)
{
	static const char *const names[] = { "libcapstone.so.4",
					     "libcapstone.so.5",
					     "libcapstone.so" };
	void *h = NULL;
	unsigned int i;

	if (cs.loaded)
		return 0;
	for (i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -ENOENT;
	cs.open = (typeof(cs.open))dlsym(h, "cs_open");
	cs.malloc = (typeof(cs.malloc))dlsym(h, "cs_malloc");
	cs.disasm_iter = (typeof(cs.disasm_iter))dlsym(h, "cs_disasm_iter");
	cs.free = (typeof(cs.free))dlsym(h, "cs_free");
	cs.close = (typeof(cs.close))dlsym(h, "cs_close");
	if (!cs.open || !cs.malloc || !cs.disasm_iter || !cs.free ||
	    !cs.close) {
		dlclose(h);
		return -ENOENT;
	}
	__atomic_store_n(&cs.loaded, 1, __ATOMIC_RELEASE);
	return 0;
}

#define JMP_LEN 5		/* e9 rel32 */
#define GROUP_MAX 15		/* the most bytes one stub relocates */
#define STUB_LEN 48		/* the longest stub (SITE_AFTER: 41), rounded */
#define RANGE (1L << 31)	/* what a rel32 reaches */

int lx_rewrite_cache_fd = -1;
int lx_rewrite_debug;
int lx_rewrite_enabled = 1;

/* pread() of an ELF file: through lx (an lx fd), or the host's */
typedef long (*file_read)(long fd, void *buf, size_t n, uint64_t off);

static long lx_read(long fd, void *buf, size_t n, uint64_t off)
{
	return lx_syscall4(SYS_pread64, fd, buf, n, off);
}

static long host_read(long fd, void *buf, size_t n, uint64_t off)
{
	ssize_t r = pread(fd, buf, n, off);

	return r < 0 ? -errno : r;
}

/* One verified site: the group starts at off (from the mapping's start). */
struct site {
	uint32_t off;		/* the first byte the jump replaces */
	uint8_t len;		/* how many bytes it replaces */
	uint8_t kind;
	uint16_t pad;
};

/*
 * SITE_BEFORE: [off, off + len) are the instructions before the syscall,
 * which stays after them.  SITE_AFTER: the syscall is at off, and the
 * instructions after it, to off + len, are moved into the stub too.
 * SITE_CALL: a syscall at off (len 2) that no jump can take, for the
 * zpoline mode (zpoline.c), which makes it "call *%rax" in place.
 */
enum { SITE_BEFORE, SITE_AFTER, SITE_CALL };

struct sites {
	struct site *v;
	size_t n, cap;
	size_t found;		/* syscall instructions seen */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (!lx_rewrite_debug)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(2, buf, n) < 0)
		return;
}

static int push_site(struct sites *s, uint32_t off, uint8_t len, int kind)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct site *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct site){ .off = off, .len = len, .kind = kind };
	return 0;
}

/* May this instruction run somewhere else, unchanged? */
static int relocatable(const cs_insn *in)
{
	switch (in->id) {
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
	case X86_INS_INT:
	case X86_INS_INT3:
	case X86_INS_INTO:
	case X86_INS_UD2:
	case X86_INS_CALL:
	case X86_INS_RET:
	case X86_INS_JMP:
	case X86_INS_LJMP:
	case X86_INS_LCALL:
	case X86_INS_LOOP:
	case X86_INS_LOOPE:
	case X86_INS_LOOPNE:
	case X86_INS_JRCXZ:
	case X86_INS_JECXZ:
	case X86_INS_XBEGIN:
	case X86_INS_XABORT:
	/*
	 * Padding: a function may start right after it and be called only
	 * indirectly, which no branch scan sees.
	 */
	case X86_INS_NOP:
	case X86_INS_ENDBR64:
		return 0;
	}
	if (in->id >= X86_INS_JAE && in->id <= X86_INS_JS &&
	    in->id != X86_INS_JMP)
		return 0;	/* the conditional jumps */
	return !strstr(in->op_str, "rip");
}

/* The target of a direct branch, or 0. */
static uint64_t branch_target(const cs_insn *in)
{
	int is_branch = in->id == X86_INS_CALL || in->id == X86_INS_JMP ||
			in->id == X86_INS_LOOP || in->id == X86_INS_LOOPE ||
			in->id == X86_INS_LOOPNE || in->id == X86_INS_JRCXZ ||
			in->id == X86_INS_JECXZ || in->id == X86_INS_XBEGIN ||
			(in->id >= X86_INS_JAE && in->id <= X86_INS_JS);

	if (!is_branch || strncmp(in->op_str, "0x", 2))
		return 0;
	return strtoull(in->op_str, NULL, 16);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct sweep {
	const char *name;
	csh cs;
	cs_insn *in;
	uint64_t *targets;
	size_t ntargets, cap;
	struct sites cand;	/* offsets from code, before verification */
	struct sites calls;	/* every syscall instruction, as SITE_CALL */
};

static int add_target(struct sweep *w, uint64_t t)
{
	if (w->ntargets == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;
		uint64_t *v = realloc(w->targets, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->targets = v;
		w->cap = cap;
	}
	w->targets[w->ntargets++] = t;
	return 0;
}

/*
 * Linear sweep of one section, at code[0..len), whose first byte is at
 * offset base of the mapping.  Addresses in the sweep are offsets.  A
 * syscall is a candidate with the relocatable instructions just before it
 * (SITE_BEFORE), or else with those just after it (SITE_AFTER).
 */
static int sweep_section(struct sweep *w, const uint8_t *code, size_t len,
			 uint64_t base)
{
	/* sizes of the last instructions, contiguous; 0: not relocatable */
	uint8_t last[GROUP_MAX];
	int nlast = 0, i;
	uint64_t a = base, t, after = 0;	/* a syscall's offset + 1 */
	unsigned int g, ga = 0;
	const uint8_t *p = code;
	size_t left = len;

	while (left) {
		if (!cs.disasm_iter(w->cs, &p, &left, &a, w->in)) {
			/* not an instruction (data, padding): start again after */
			p++;
			left--;
			a++;
			nlast = 0;
			after = 0;
			continue;
		}
		t = branch_target(w->in);
		if (t && add_target(w, t))
			return -ENOMEM;
		if (after) {
			/* the instructions after a syscall, until 5 bytes */
			if (!relocatable(w->in)) {
				after = 0;
			} else if ((ga += w->in->size) + 2 >= JMP_LEN) {
				if (ga + 2 <= GROUP_MAX &&
				    push_site(&w->cand, after - 1, ga + 2,
					      SITE_AFTER))
					return -ENOMEM;
				after = 0;
			}
		}
		if (w->in->id == X86_INS_SYSCALL) {
			w->cand.found++;
			if (push_site(&w->calls, w->in->address, 2,
				      SITE_CALL))
				return -ENOMEM;
			for (i = nlast - 1, g = 0; i >= 0 && g < JMP_LEN; i--) {
				if (!last[i])
					break;
				g += last[i];
			}
			if (g >= JMP_LEN && g <= GROUP_MAX) {
				if (push_site(&w->cand, w->in->address - g, g,
					      SITE_BEFORE))
					return -ENOMEM;
			} else {
				after = w->in->address + 1;
				ga = 0;
			}
		}
		if (nlast == GROUP_MAX) {
			memmove(last, last + 1, GROUP_MAX - 1);
			nlast--;
		}
		last[nlast++] = relocatable(w->in) ? w->in->size : 0;
	}
	return 0;
}

/* Does a direct branch of the sweep land in (start, end)? */
static int lands_inside(const struct sweep *w, uint64_t start, uint64_t end)
{
	size_t lo = 0, hi = w->ntargets;

	/* the first target above start */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->targets[mid] <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->ntargets && w->targets[lo] < end;
}

/* The syscall instruction of a jump site. */
static uint64_t site_syscall(const struct site *s)
{
	return s->kind == SITE_BEFORE ? s->off + s->len : s->off;
}

/*
 * Keep the candidates no direct branch lands inside of (at their first
 * byte is fine: the jump starts there), and that do not overlap the one
 * kept before (a syscall's following bytes, the next one's group).  Then
 * the syscalls no kept site takes, as SITE_CALL.
 */
static void verify(struct sweep *w, struct sites *out)
{
	uint64_t kept_end = 0, *taken;
	size_t i, jumps;

	qsort(w->targets, w->ntargets, sizeof(uint64_t), cmp_u64);
	for (i = 0; i < w->cand.n; i++) {
		uint64_t start = w->cand.v[i].off;
		uint64_t end = start + w->cand.v[i].len;

		if (lands_inside(w, start, end)) {
			say("lx: %s: site +%#lx: a branch lands inside it, "
			    "trapped\n", w->name, (unsigned long)start);
			continue;
		}
		if (start < kept_end)
			continue;
		out->v[out->n++] = w->cand.v[i];
		kept_end = end;
	}
	jumps = out->n;
	taken = malloc((jumps + 1) * sizeof(*taken));
	if (!taken)
		return;		/* no SITE_CALL then: they stay trapped */
	for (i = 0; i < jumps; i++)
		taken[i] = site_syscall(&out->v[i]);
	qsort(taken, jumps, sizeof(*taken), cmp_u64);
	for (i = 0; i < w->calls.n; i++) {
		uint64_t at = w->calls.v[i].off;

		if (!bsearch(&at, taken, jumps, sizeof(*taken), cmp_u64) &&
		    !lands_inside(w, at, at + 2))
			out->v[out->n++] = w->calls.v[i];
	}
	free(taken);
}

/*
 * Find the sites of a mapping: the executable sections of the ELF file
 * (read through lx fd) that lie in [file_off, file_off + len), whose
 * bytes are at addr.  Without section headers nothing is rewritten.
 */
static int find_sites(file_read rd, long fd, uint64_t file_off,
		      const uint8_t *addr, size_t len, const char *name,
		      struct sites *out)
{
	Elf64_Ehdr eh;
	Elf64_Shdr *sh = NULL;
	struct sweep w = { .name = name };
	int i, r = 0;

	if (rd(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum ||
	    eh.e_shnum > 4096)
		return 0;
	sh = malloc(eh.e_shnum * sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	if (rd(fd, sh, eh.e_shnum * sizeof(*sh), eh.e_shoff) !=
	    (long)(eh.e_shnum * sizeof(*sh)))
		goto out;
	if (!__atomic_load_n(&cs.loaded, __ATOMIC_ACQUIRE)) {
		r = -ENOSYS;	/* no capstone: the sites stay trapped */
		goto out;
	}
	if (cs.open(CS_ARCH_X86, CS_MODE_64, &w.cs) != CS_ERR_OK) {
		r = -ENOMEM;
		goto out;
	}
	w.in = cs.malloc(w.cs);
	if (!w.in) {
		r = -ENOMEM;
		goto out_cs;
	}
	for (i = 0; i < eh.e_shnum && !r; i++) {
		uint64_t s = sh[i].sh_offset, e = s + sh[i].sh_size;

		if (sh[i].sh_type != SHT_PROGBITS ||
		    !(sh[i].sh_flags & SHF_EXECINSTR))
			continue;
		if (s < file_off || e > file_off + len || e < s)
			continue;	/* not (wholly) in this mapping */
		r = sweep_section(&w, addr + (s - file_off), e - s,
				  s - file_off);
	}
	if (!r) {
		out->v = malloc((w.cand.n + w.calls.n + 1) * sizeof(*out->v));
		if (out->v) {
			out->found = w.cand.found;
			verify(&w, out);
		} else {
			r = -ENOMEM;
		}
	}
	cs.free(w.in, 1);
out_cs:
	cs.close(&w.cs);
out:
	free(w.cand.v);
	free(w.calls.v);
	free(w.targets);
	free(sh);
	return r;
}

/*
 * The cache: a directory ($LX_CACHE/sites.d, lx_rewrite_cache_fd) of at
 * most SLOTS files, each one record
 *	struct rec, then n struct site
 * keyed by the identity of the host file a home process swept (struct
 * file_key: what its own fstat() of the fd it swept says) and the
 * mapping's range.  A key names bytes, not a claim a file makes about
 * itself: a build-id is any file's to copy, so a file planted in one
 * container could lend its sites to another container's library (the
 * LXS2 records were keyed so).  A key has two slots, from two hashes of
 * it: a lookup reads one or two small files whatever the cache holds
 * (the append-only file this replaced was read and checksummed whole at
 * every start, ~1 ms at 1 MiB).  A new record takes a free slot of its
 * two, or the one written longer ago.  Only home processes read and
 * write the cache.  A record is written whole to the slot's temporary
 * file, then renamed over the slot: a reader sees the old record or the
 * new one, never a torn one.
 */
#define REC_MAGIC 0x3453584cU	/* "LXS4": SITE_CALL sites too */
#define SLOTS 4096
#define REC_SITES_MAX (1 << 20)
#define TMP_STALE_S 10		/* a temporary file older: its writer died */

/*
 * A host file: written (contents or size) since, it has another mtime
 * and ctime; an inode number used again for another file comes with
 * another ctime, which no one sets but the host kernel, to the time.
 */
struct file_key {
	uint64_t dev, ino, size;
	uint64_t mtime_ns, ctime_ns;
	uint64_t file_off, len;		/* the mapping's range */
};

struct rec {
	uint32_t magic;
	uint32_t n;		/* sites */
	uint32_t found;		/* syscalls seen */
	uint32_t sum;		/* over the record, this field 0 */
	struct file_key key;
};

/* What the home process answers a program process (homefd.c carries it). */
struct sites_reply {
	uint64_t file_off, len;	/* the request's: the answer is to it */
	uint32_t n, found;	/* n struct site follow */
	uint32_t cached, pad;
};

static void file_key(const struct stat *st, uint64_t file_off, uint64_t len,
		     struct file_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	k->size = st->st_size;
	k->mtime_ns = st->st_mtim.tv_sec * 1000000000ULL + st->st_mtim.tv_nsec;
	k->ctime_ns = st->st_ctim.tv_sec * 1000000000ULL + st->st_ctim.tv_nsec;
	k->file_off = file_off;
	k->len = len;
}

/* FNV-1a: against torn and stray bytes (only home processes write) */
static uint64_t fnv(uint64_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		s = (s ^ *b++) * 0x100000001b3ULL;
	return s;
}

static uint32_t rec_sum(const struct rec *r)
{
	struct rec h = *r;
	uint64_t s;

	h.sum = 0;
	s = fnv(0xcbf29ce484222325ULL, &h, sizeof(h));
	s = fnv(s, r + 1, (size_t)r->n * sizeof(struct site));
	return (uint32_t)(s ^ (s >> 32));
}

/* Slot i (0, 1) of key: its file's name and its temporary file's. */
static void slot_names(const struct file_key *key, int i, char name[8],
		       char tmp[8])
{
	uint64_t h = fnv(0xcbf29ce484222325ULL + i, key, sizeof(*key));
	unsigned int slot = (h ^ (h >> 32)) % SLOTS;

	snprintf(name, 8, "%03x", slot);
	snprintf(tmp, 8, ".%03x", slot);
}

/* The record in the slot named name if it is key's, checked whole. */
static struct rec *slot_load(const char *name, const struct file_key *key)
{
	size_t max = sizeof(struct rec) + REC_SITES_MAX * sizeof(struct site);
	struct rec *r = NULL;
	struct stat st;
	int fd;

	fd = openat(lx_rewrite_cache_fd, name,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(*r) || (size_t)st.st_size > max)
		goto out;
	r = malloc(st.st_size);
	if (r && (pread(fd, r, st.st_size, 0) != st.st_size ||
		  r->magic != REC_MAGIC || r->n > REC_SITES_MAX ||
		  sizeof(*r) + (size_t)r->n * sizeof(struct site) !=
			  (size_t)st.st_size ||
		  rec_sum(r) != r->sum ||
		  memcmp(&r->key, key, sizeof(*key)))) {
		free(r);	/* another key's, another format's, garbage */
		r = NULL;
	}
out:
	close(fd);
	return r;
}

/* key's record (malloc'ed), or NULL */
static struct rec *cache_load(const struct file_key *key)
{
	char name[8], tmp[8];
	struct rec *r = NULL;
	int i;

	for (i = 0; i < 2 && !r; i++) {
		slot_names(key, i, name, tmp);
		r = slot_load(name, key);
	}
	return r;
}

/* The slot of key's two to write: a free one, else the older. */
static void slot_pick(const struct file_key *key, char name[8], char tmp[8])
{
	char name1[8], tmp1[8];
	struct stat st, st1;

	slot_names(key, 0, name, tmp);
	if (fstatat(lx_rewrite_cache_fd, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	slot_names(key, 1, name1, tmp1);
	if (fstatat(lx_rewrite_cache_fd, name1, &st1, AT_SYMLINK_NOFOLLOW) ||
	    st1.st_mtim.tv_sec < st.st_mtim.tv_sec ||
	    (st1.st_mtim.tv_sec == st.st_mtim.tv_sec &&
	     st1.st_mtim.tv_nsec < st.st_mtim.tv_nsec)) {
		memcpy(name, name1, 8);
		memcpy(tmp, tmp1, 8);
	}
}

/*
 * The slot's temporary file, made here (O_EXCL: another home may be
 * writing the slot; one that died doing so left a file that is taken
 * over once stale).  An fd, or -1.
 */
static int cache_tmp(const char *tmp)
{
	struct stat st;
	int fd;

	fd = openat(lx_rewrite_cache_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd >= 0 || errno != EEXIST)
		return fd;
	if (fstatat(lx_rewrite_cache_fd, tmp, &st, AT_SYMLINK_NOFOLLOW) ||
	    time(NULL) - st.st_mtime < TMP_STALE_S ||
	    unlinkat(lx_rewrite_cache_fd, tmp, 0))
		return -1;
	return openat(lx_rewrite_cache_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		      O_NOFOLLOW | O_CLOEXEC, 0644);
}

static void cache_store(const struct file_key *key, const struct sites *s)
{
	size_t bytes = sizeof(struct rec) + s->n * sizeof(*s->v);
	char name[8], tmp[8];
	struct rec *r;
	int fd, err = 0;

	if (s->n > REC_SITES_MAX)
		return;
	r = malloc(bytes);
	if (!r)
		return;
	*r = (struct rec){ .magic = REC_MAGIC, .n = s->n, .found = s->found,
			   .key = *key };
	if (s->n)
		memcpy(r + 1, s->v, s->n * sizeof(*s->v));
	r->sum = rec_sum(r);
	slot_pick(key, name, tmp);
	fd = cache_tmp(tmp);
	if (fd < 0) {
		if (errno != EEXIST)	/* not: another home writes the slot */
			err = errno;
	} else {
		errno = ENOSPC;		/* what a short write means */
		if (write(fd, r, bytes) != (ssize_t)bytes)
			err = errno;
		if (close(fd) && !err)
			err = errno;
		if (!err && renameat(lx_rewrite_cache_fd, tmp,
				     lx_rewrite_cache_fd, name))
			err = errno;
		if (err)
			unlinkat(lx_rewrite_cache_fd, tmp, 0);
	}
	if (err)
		say("lx: cannot write the site cache (slot %s): %s\n", name,
		    strerror(err));
	free(r);
}

/* A stub area of size bytes within a rel32 of [lo, hi). */
static uint8_t *stub_area(uint64_t lo, uint64_t hi, size_t size)
{
	uint64_t hint = lo > size + (2UL << 20) ? lo - size - (2UL << 20) : 0;
	uint8_t *p;

	p = mmap((void *)hint, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if ((uint64_t)p + size - lo > RANGE - 4096 &&
	    hi - (uint64_t)p > RANGE - 4096) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

static void put32(uint8_t *p, int64_t v)
{
	int32_t x = (int32_t)v;

	memcpy(p, &x, 4);
}

/* "lea ret(%rip), %rcx; jmp *(area)": a call of lx_fast_entry. */
static uint8_t *put_call(uint8_t *q, const uint8_t *ret, const uint8_t *area)
{
	q[0] = 0x48, q[1] = 0x8d, q[2] = 0x0d;	/* lea rel32(%rip), %rcx */
	put32(q + 3, ret - (q + 7));
	q += 7;
	q[0] = 0xff, q[1] = 0x25;		/* jmp *rel32(%rip) */
	put32(q + 2, area - (q + 6));
	return q + 6;
}

/*
 * Rewrite the jump sites: stubs in one area near the mapping, then the
 * jumps.  A SITE_BEFORE stub is the group, then the call returning after
 * the syscall in the text; a SITE_AFTER stub is the call returning into
 * the stub, a syscall instruction (lx's restart of an interrupted call
 * goes back 2 bytes), the moved instructions and a jump back.  The area's
 * first 8 bytes hold lx_fast_entry's address.  How many were rewritten.
 */
static size_t patch_jumps(uint8_t *text, size_t len, const struct sites *s)
{
	uint64_t entry = (uint64_t)lx_fast_entry;
	uint8_t *area, **stubs, *stub;
	size_t i, n = 0, done = 0, size;

	for (i = 0; i < s->n; i++)
		n += s->v[i].kind != SITE_CALL;
	if (!n)
		return 0;
	size = (8 + n * STUB_LEN + 4095) & ~4095UL;
	area = stub_area((uint64_t)text, (uint64_t)text + len, size);
	stubs = calloc(s->n, sizeof(*stubs));	/* a site's, if made */
	if (!area || !stubs) {
		say("lx: no room for stubs near %p: its sites stay trapped\n",
		    text);
		if (area)
			munmap(area, size);
		free(stubs);
		return 0;
	}
	memcpy(area, &entry, 8);
	for (i = 0, stub = area + 8; i < s->n; i++) {
		uint8_t *g = text + s->v[i].off, *sys = g + s->v[i].len;
		uint8_t *q = stub;

		/* what was verified is what is there (a cache could be stale) */
		if (s->v[i].kind == SITE_CALL || s->v[i].len < JMP_LEN ||
		    s->v[i].len > GROUP_MAX ||
		    s->v[i].off + s->v[i].len + 2 > len)
			continue;
		if (s->v[i].kind == SITE_BEFORE) {
			if (sys[0] != 0x0f || sys[1] != 0x05)
				continue;
			memcpy(q, g, s->v[i].len);
			q += s->v[i].len;
			q = put_call(q, sys + 2, area);
		} else {
			/* the syscall, then what followed it, then back */
			if (g[0] != 0x0f || g[1] != 0x05)
				continue;
			q = put_call(q, q + 7 + 6 + 2, area);
			/* where lx's restart of an interrupted call lands */
			*q++ = 0x0f;
			*q++ = 0x05;
			memcpy(q, g + 2, s->v[i].len - 2);
			q += s->v[i].len - 2;
			*q = 0xe9;			/* jmp rel32 */
			put32(q + 1, (g + s->v[i].len) - (q + 5));
		}
		stubs[i] = stub;
		stub += STUB_LEN;
	}
	if (mprotect(area, size, PROT_READ | PROT_EXEC)) {
		munmap(area, size);
		free(stubs);
		return 0;
	}
	for (i = 0; i < s->n; i++) {
		uint8_t *g = text + s->v[i].off;

		if (!stubs[i])
			continue;
		g[0] = 0xe9;				/* jmp rel32 */
		put32(g + 1, stubs[i] - (g + JMP_LEN));
		memset(g + JMP_LEN, 0xcc, s->v[i].len - JMP_LEN);
		done++;
	}
	free(stubs);
	return done;
}

/* In the zpoline mode, the syscalls no jump takes become calls. */
static size_t patch_calls(uint8_t *text, size_t len, const struct sites *s)
{
	size_t i, done = 0;

	if (!lx_zpoline_on)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == SITE_CALL && s->v[i].off + 2 <= len &&
		    !lx_zpoline_add(text + s->v[i].off))
			done++;
	return done;
}

/*
 * The sites of a mapping, from the home process, which looks them up in
 * the cache by the host file's identity or sweeps the host file: 0, or
 * -errno if it cannot reach the file (not on virtio-fs) or answered
 * nothing usable.  *how says which, for --debug.
 */
static int home_sites(long fd, uint64_t file_off, uint64_t len,
		      const char *name, struct sites *out, const char **how)
{
	struct sites_reply *h = malloc(LX_HOMEFD_REPLY_MAX);
	long n;

	if (!h)
		return -ENOMEM;
	n = lx_homefd_sites(fd, file_off, len, name, h, LX_HOMEFD_REPLY_MAX);
	if (n < (long)sizeof(*h) || h->file_off != file_off || h->len != len ||
	    (size_t)n != sizeof(*h) + (size_t)h->n * sizeof(struct site)) {
		free(h);
		return n < 0 ? (int)n : -EIO;
	}
	out->n = h->n;
	out->found = h->found;
	*how = h->cached ? " (cached)" : " (verified by the home process)";
	memmove(h, h + 1, out->n * sizeof(struct site));
	out->v = (struct site *)h;
	return 0;
}

/*
 * Rewrite the syscall sites of an executable mapping of the ELF file
 * behind lx fd (len bytes from file_off, at text, still writable); name
 * is for --debug (NULL: the fd's path).
 */
void lx_rewrite(long fd, uint64_t file_off, void *text, size_t len,
		const char *name)
{
	struct sites s = { 0 };
	char path[256];
	const char *how = "";
	size_t done, calls;

	if (!lx_rewrite_enabled || !memmem(text, len, "\x0f\x05", 2))
		return;	/* no syscall instruction can be in there */
	if (!name && lx_rewrite_debug) {
		/* the file's path in lx, for what --debug says */
		char link[64];
		long n;

		snprintf(link, sizeof(link), "/proc/self/fd/%ld", fd);
		n = lx_syscall3(SYS_readlink, link, path, sizeof(path) - 1);
		if (n > 0)
			path[n] = 0;
		else
			snprintf(path, sizeof(path), "fd %ld", fd);
		name = path;
	} else if (!name) {
		name = "";
	}
	if (home_sites(fd, file_off, len, name, &s, &how)) {
		/* the home process cannot reach the file: for us alone */
		how = "";
		if (find_sites(lx_read, fd, file_off, text, len, name, &s) ||
		    !s.v)
			return;
	}
	done = patch_jumps(text, len, &s);
	calls = patch_calls(text, len, &s);
	if (s.found && lx_zpoline_on)
		say("lx: %s: %zu of %zu syscall sites rewritten%s, %zu made "
		    "calls through address 0 (zpoline), the rest trapped\n",
		    name, done, s.found, how, calls);
	else if (s.found)
		say("lx: %s: %zu of %zu syscall sites rewritten%s, the rest "
		    "trapped\n", name, done, s.found, how);
	free(s.v);
}

/*
 * Find the sites of [file_off, file_off + len) of the ELF file behind
 * host fd, whose size is size.  Not an ELF file with section headers:
 * none (s->v stays NULL).
 */
static int sweep_host(int fd, uint64_t size, uint64_t file_off, uint64_t len,
		      const char *name, struct sites *s)
{
	uint64_t in_file;
	void *text;
	int r;

	/*
	 * Only the file's bytes are mapped (a page past its end would be
	 * SIGBUS here, and a program chose the range): the sweep reads only
	 * executable sections wholly inside them.
	 */
	in_file = size - file_off < len ? size - file_off : len;
	text = mmap(NULL, in_file, PROT_READ, MAP_PRIVATE, fd, file_off);
	if (text == MAP_FAILED)
		return -errno;
	r = find_sites(host_read, fd, file_off, text, in_file, name, s);
	munmap(text, in_file);
	return r;
}

/*
 * In the home process: the sites of the len bytes from file_off of the
 * ELF file behind host fd (a program process maps them), into reply (at
 * most max bytes: struct sites_reply, then the sites), from the cache or
 * found now and cached.  The key and the sweep both come from this fd: a
 * program that names another file or range than it maps learns only the
 * true sites of a file it can read, and patches only where the bytes it
 * has are the ones verified (patch()).  name is for --debug.  The reply's
 * size, or -errno.
 */
long lx_rewrite_sites_host(int fd, uint64_t file_off, uint64_t len,
			   const char *name, void *reply, size_t max)
{
	struct sites_reply *h = reply;
	struct sites s = { 0 };
	struct file_key key, now;
	const struct site *v;
	struct rec *rec = NULL;
	struct stat st;
	size_t n, room;
	int r;

	if (!len || len > RANGE || max < sizeof(*h))
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size <= file_off)
		return -EINVAL;
	file_key(&st, file_off, len, &key);
	if (lx_rewrite_cache_fd >= 0)
		rec = cache_load(&key);
	if (rec) {
		v = (const struct site *)(rec + 1);
		n = rec->n;
		*h = (struct sites_reply){ .found = rec->found, .cached = 1 };
	} else {
		r = sweep_host(fd, st.st_size, file_off, len, name, &s);
		if (r) {
			free(s.v);
			return r;
		}
		/* a file written under the sweep is not cached */
		if (lx_rewrite_cache_fd >= 0 && !fstat(fd, &st)) {
			file_key(&st, file_off, len, &now);
			if (!memcmp(&key, &now, sizeof(key)))
				cache_store(&key, &s);
		}
		v = s.v;
		n = s.n;
		*h = (struct sites_reply){ .found = s.found };
	}
	/* a reply holds so many; the rest stay trapped */
	room = (max - sizeof(*h)) / sizeof(*v);
	h->n = n < room ? n : room;
	h->file_off = file_off;
	h->len = len;
	if (h->n)
		memcpy(h + 1, v, h->n * sizeof(*v));
	free(s.v);
	free(rec);
	return sizeof(*h) + h->n * sizeof(*v);
}
