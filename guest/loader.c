// SPDX-License-Identifier: GPL-2.0
/*
 * loader.c - an ELF64 x86-64 program, read through lx's file system,
 * mapped into this host process, with the stack Linux would give it.
 * Static, static-pie and dynamic programs: a PT_INTERP (ld-linux,
 * ld-musl) is loaded too and starts the program (AT_BASE, AT_ENTRY).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lx/host_ops.h>
#include <lx/lx.h>
#include "guest.h"

#define STACK_SIZE (8UL << 20)
#define STACK_GUARD (1UL << 20)	/* Linux's stack_guard_gap */
#define PIE_BASE 0x555555554000UL

static long lx_pread_all(long fd, void *buf, size_t len, long off)
{
	size_t done = 0;
	long n;

	while (done < len) {
		n = lx_syscall4(SYS_pread64, fd, (char *)buf + done, len - done,
				off + done);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

static int prot_of(uint32_t f)
{
	return (f & PF_R ? PROT_READ : 0) | (f & PF_W ? PROT_WRITE : 0) |
	       (f & PF_X ? PROT_EXEC : 0);
}

/*
 * One PT_LOAD segment, [start, stop) in pages, from the host file hfd:
 * the pages holding file bytes map the file privately (shared with the
 * host's page cache until written), the rest is anonymous; the tail of
 * the last file page is zeroed where the segment has a bss, as Linux does.
 * Writable at first, for the rewriting of executable text.
 */
static int map_from_host(int hfd, const Elf64_Phdr *ph, uint64_t va,
			 uint64_t start, uint64_t stop)
{
	uint64_t fend = va + ph->p_filesz;
	uint64_t fpages = ph->p_filesz ? (fend + 4095) & ~4095UL : start;
	void *p;

	if (fpages > stop)
		fpages = stop;
	if (fpages > start) {
		p = mmap((void *)start, fpages - start, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED_NOREPLACE, hfd,
			 ph->p_offset - (va - start));
		if (p == MAP_FAILED)
			return -errno;
		if (ph->p_memsz > ph->p_filesz)
			memset((void *)fend, 0, fpages - fend);
	}
	if (stop > fpages) {
		p = mmap((void *)fpages, stop - fpages, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0);
		if (p == MAP_FAILED)
			return -errno;
	}
	return 0;
}

/*
 * Map the PT_LOAD segments at base + p_vaddr: from the host file if the
 * home process gives its fd (virtio-fs), else copies read through lx.
 */
static int map_segments(long fd, const Elf64_Phdr *ph, int n, uint64_t base,
			uint64_t *end, const char *name)
{
	int i, hfd = lx_homefd_fs(fd, O_RDONLY, 0);
	long r = 0;

	*end = 0;
	for (i = 0; i < n; i++) {
		uint64_t start, stop, va = base + ph[i].p_vaddr;
		void *p;

		if (ph[i].p_type != PT_LOAD)
			continue;
		r = -ENOEXEC;
		if (ph[i].p_filesz > ph[i].p_memsz ||
		    (ph[i].p_offset & 4095) != (va & 4095))
			break;
		start = va & ~4095UL;
		stop = (va + ph[i].p_memsz + 4095) & ~4095UL;
		if (hfd >= 0) {
			r = map_from_host(hfd, &ph[i], va, start, stop);
			if (r)
				break;
		} else {
			p = mmap((void *)start, stop - start,
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS |
					 MAP_FIXED_NOREPLACE, -1, 0);
			r = -errno;
			if (p == MAP_FAILED)
				break;
			r = lx_pread_all(fd, (void *)va, ph[i].p_filesz,
					 ph[i].p_offset);
			if (r < 0)
				break;
		}
		if (ph[i].p_flags & PF_X)
			lx_rewrite(fd, ph[i].p_offset, (void *)va,
				   ph[i].p_filesz, name);
		r = -errno;
		if (mprotect((void *)start, stop - start,
			     prot_of(ph[i].p_flags)))
			break;
		r = 0;
		lx_guest_umap(LX_UMAP_MAP, start, stop - start,
			      prot_of(ph[i].p_flags), fd,
			      ph[i].p_offset - (va - start));
		if (va + ph[i].p_memsz > *end)
			*end = va + ph[i].p_memsz;
	}
	if (hfd >= 0)
		close(hfd);
	return r;
}

static uint64_t *push(uint64_t *sp, uint64_t v)
{
	*--sp = v;
	return sp;
}

/* argv, envp and auxv as Linux lays them out (fs/binfmt_elf.c). */
static uint64_t build_stack(char *const argv[], char *const envp[],
			    const char *execfn, uint64_t phdr, int phnum,
			    uint64_t entry, uint64_t interp_base)
{
	char *base, *strp;
	uint64_t *sp, auxv[64], *a = auxv;
	int argc = 0, envc = 0, i, naux;
	char **uargv, **uenvp;
	unsigned char *rnd;

	/* a guard gap below, as Linux keeps: an overflow faults */
	base = mmap(NULL, STACK_GUARD + STACK_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE,
		    -1, 0);
	if (base == MAP_FAILED)
		return 0;
	base += STACK_GUARD;
	if (mprotect(base, STACK_SIZE, PROT_READ | PROT_WRITE))
		return 0;
	lx_guest_umap(LX_UMAP_MAP, (uint64_t)base, STACK_SIZE,
		      PROT_READ | PROT_WRITE, -1, 0);
	strp = base + STACK_SIZE;
	while (argv[argc])
		argc++;
	while (envp[envc])
		envc++;
	uargv = calloc(argc + 1, sizeof(char *));
	uenvp = calloc(envc + 1, sizeof(char *));
	if (!uargv || !uenvp)
		return 0;
	/* strings at the top */
	strp -= strlen(execfn) + 1;
	strcpy(strp, execfn);
	{
		char *fn = strp;

		for (i = envc - 1; i >= 0; i--) {
			strp -= strlen(envp[i]) + 1;
			strcpy(strp, envp[i]);
			uenvp[i] = strp;
		}
		for (i = argc - 1; i >= 0; i--) {
			strp -= strlen(argv[i]) + 1;
			strcpy(strp, argv[i]);
			uargv[i] = strp;
		}
		strp -= 16;
		rnd = (unsigned char *)strp;
		if (getrandom(rnd, 16, 0) != 16)
			memset(rnd, 0x5a, 16);
		strp -= sizeof("x86_64");
		strcpy(strp, "x86_64");
#define AUX(k, v) do { *a++ = (k); *a++ = (uint64_t)(v); } while (0)
		AUX(AT_PHDR, phdr);
		AUX(AT_PHENT, sizeof(Elf64_Phdr));
		AUX(AT_PHNUM, phnum);
		AUX(AT_PAGESZ, 4096);
		AUX(AT_BASE, interp_base);
		AUX(AT_FLAGS, 0);
		AUX(AT_ENTRY, entry);
		AUX(AT_UID, lx_syscall0(SYS_getuid));
		AUX(AT_EUID, lx_syscall0(SYS_geteuid));
		AUX(AT_GID, lx_syscall0(SYS_getgid));
		AUX(AT_EGID, lx_syscall0(SYS_getegid));
		AUX(AT_SECURE, 0);
		AUX(AT_HWCAP, getauxval(AT_HWCAP));
		/* FSGSBASE hidden: programs must not write GS, lx's anchor */
		AUX(AT_HWCAP2, getauxval(AT_HWCAP2) & ~2UL);
		AUX(AT_CLKTCK, 100);
		AUX(AT_RANDOM, rnd);
		AUX(AT_PLATFORM, strp);
		AUX(AT_EXECFN, fn);
		AUX(AT_NULL, 0);
#undef AUX
	}
	naux = a - auxv;
	lx_guest_umap(LX_UMAP_STACK, (uint64_t)strp, 0, 0, -1, 0);
	sp = (uint64_t *)((uintptr_t)strp & ~15UL);
	/* keep the final sp 16-byte aligned */
	if ((naux + envc + 1 + argc + 1 + 1) & 1)
		sp = push(sp, 0);
	for (i = naux - 1; i >= 0; i--)
		sp = push(sp, auxv[i]);
	sp = push(sp, 0);
	for (i = envc - 1; i >= 0; i--)
		sp = push(sp, (uint64_t)uenvp[i]);
	sp = push(sp, 0);
	for (i = argc - 1; i >= 0; i--)
		sp = push(sp, (uint64_t)uargv[i]);
	sp = push(sp, argc);
	free(uargv);
	free(uenvp);
	return (uint64_t)sp;
}

/* One ELF file mapped: what the stack and the jump need of it. */
struct elf_info {
	uint64_t base, entry, phdr, end;
	int phnum;
	char interp[256];	/* PT_INTERP, or "" */
};

/* Lowest and highest addresses the PT_LOAD segments span. */
static uint64_t span_of(const Elf64_Phdr *ph, int n)
{
	uint64_t hi = 0;
	int i;

	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD &&
		    ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = ph[i].p_vaddr + ph[i].p_memsz;
	return (hi + 4095) & ~4095UL;
}

/*
 * Map the ELF file at path; an ET_DYN one at dyn_base, or (dyn_base 0)
 * where the host finds room.
 */
static int load_elf(const char *path, uint64_t dyn_base, int is_prog,
		    struct elf_info *e, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	long fd, r;
	int i;

	memset(e, 0, sizeof(*e));
	fd = lx_syscall4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, lx_strerror(fd));
		return fd;
	}
	r = lx_pread_all(fd, &eh, sizeof(eh), 0);
	if (r != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		r = -ENOEXEC;
		goto out;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "%s: not an x86-64 program (64-bit ELF)",
			 path);
		r = -ENOEXEC;
		goto out;
	}
	if ((eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum ||
	    eh.e_phnum > 64) {
		snprintf(err, errlen, "%s: not an executable ELF file", path);
		r = -ENOEXEC;
		goto out;
	}
	r = lx_pread_all(fd, ph, eh.e_phnum * sizeof(ph[0]), eh.e_phoff);
	if (r != (long)(eh.e_phnum * sizeof(ph[0]))) {
		snprintf(err, errlen, "%s: truncated program headers", path);
		r = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_INTERP)
			continue;
		if (ph[i].p_filesz < 2 || ph[i].p_filesz > sizeof(e->interp) ||
		    lx_pread_all(fd, e->interp, ph[i].p_filesz,
				 ph[i].p_offset) != (long)ph[i].p_filesz ||
		    e->interp[ph[i].p_filesz - 1]) {
			snprintf(err, errlen, "%s: bad interpreter path", path);
			r = -ENOEXEC;
			goto out;
		}
	}
	if (eh.e_type == ET_DYN) {
		e->base = dyn_base;
		if (!e->base) {
			/* room the host finds, given back to map into */
			uint64_t span = span_of(ph, eh.e_phnum);
			void *p = mmap(NULL, span, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED) {
				r = -ENOMEM;
				snprintf(err, errlen, "%s: no room", path);
				goto out;
			}
			munmap(p, span);
			e->base = (uint64_t)p;
		}
	}
	r = map_segments(fd, ph, eh.e_phnum, e->base, &e->end, path);
	if (r) {
		snprintf(err, errlen, "%s: cannot map: %s", path,
			 lx_strerror(r));
		goto out;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_PHDR)
			e->phdr = e->base + ph[i].p_vaddr;
		else if (ph[i].p_type == PT_LOAD && !e->phdr &&
			 ph[i].p_offset <= eh.e_phoff &&
			 eh.e_phoff < ph[i].p_offset + ph[i].p_filesz)
			e->phdr = e->base + ph[i].p_vaddr + eh.e_phoff -
				  ph[i].p_offset;
	}
	e->entry = e->base + eh.e_entry;
	e->phnum = eh.e_phnum;
	/* /proc/self/exe and the process's name, as exec sets them */
	if (is_prog)
		lx_guest_umap(LX_UMAP_EXE, 0, 0, 0, fd, 0);
out:
	lx_syscall1(SYS_close, fd);
	return r;
}

int lx_guest_load(const char *path, char *const argv[], char *const envp[],
		  struct lx_image *img, char *err, size_t errlen)
{
	struct elf_info prog, interp = { 0 };
	int r;

	r = load_elf(path, PIE_BASE, 1, &prog, err, errlen);
	if (r)
		return r;
	img->entry = prog.entry;
	img->brk = prog.end;
	if (prog.interp[0]) {
		/* a dynamic program: its loader (ld.so) starts it */
		r = load_elf(prog.interp, 0, 0, &interp, err, errlen);
		if (r)
			return r == -ENOENT ? -ENOEXEC : r;
		if (interp.interp[0]) {
			snprintf(err, errlen, "%s: an interpreter with one",
				 prog.interp);
			return -ENOEXEC;
		}
		img->entry = interp.entry;
	}
	img->sp = build_stack(argv, envp, path, prog.phdr, prog.phnum,
			      prog.entry, interp.base);
	if (!img->sp) {
		snprintf(err, errlen, "%s: no memory for the stack", path);
		return -ENOMEM;
	}
	return 0;
}
