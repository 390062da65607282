# SPDX-License-Identifier: GPL-2.0
#
# lx: Linux 6.1 as a library inside container processes.
#
#   make deps    install the Debian packages the build and tests need
#   make         build the kernel (first time ~10 min) and build/liblx.a
#   make images  build the container images from Debian packages (cached
#                in ~/.cache/lx/images; the first time takes minutes)
#   make test    build and run the tests
#   make demo    boot the kernel and run a short session in it
#   make bench   run the benchmarks into docs/BENCHMARKS.md
#
# V=1 shows full commands.

TOP := $(CURDIR)
B := $(TOP)/build
KSRC := $(B)/linux
JOBS ?= $(shell nproc)

CC := gcc
CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wpointer-arith \
	-Wwrite-strings -fPIE -fstack-protector-strong -I$(TOP)/include
LDFLAGS := -pie
LIBS := -lpthread -lmnl -lutil

ifeq ($(V),1)
Q :=
else
Q := @
endif

DEPS := linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev \
	ccache xz-utils cpio rsync python3 kmod valgrind \
	e2fsprogs iproute2 iputils-ping ethtool libmnl-dev iperf3 \
	busybox-static procps libcapstone-dev libseccomp-dev debootstrap

# lx's C suite (tests/prog/) is built with musl too
DEPS += musl-tools

# t-go's Go program (tests/go/) is built with Debian's Go
DEPS += golang-go

# t-blk puts a disk behind a loop device of 4 KiB sectors (losetup)
DEPS += mount

HOST_OBJS := $(patsubst host/%.c,$(B)/host/%.o,$(wildcard host/*.c))
TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(wildcard tests/t-*.c))

.PHONY: all deps kernel images test test-asan demo bench clean distclean

all: $(B)/liblx.a $(B)/lxexec

deps:
	@echo "  DEPS    apt-get install $(DEPS)"
	$(Q)DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEPS) >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		     apt-get install -y -qq $(DEPS) >/dev/null; }

# Container images made from Debian packages, cached outside the tree;
# images/mkimage.sh rebuilds one only when its recipe changes.
images:
	$(Q)images/mkimage.sh

# kbuild decides what is out of date; this always asks it.
kernel:
	$(Q)V=$(V) kernel/kbuild.sh $(KSRC) $(TOP)/include $(JOBS)

$(KSRC)/vmlinux: kernel
	@:

# Only the lx_* symbols of the kernel stay global.
$(B)/lx.o: $(KSRC)/vmlinux
	@echo "  OBJCOPY $@"
	$(Q)objcopy --wildcard --keep-global-symbol='lx_*' --add-section .note.GNU-stack=/dev/null $< $@
	$(Q)undef=$$(nm -u $@ | grep -v _GLOBAL_OFFSET_TABLE_); if [ -n "$$undef" ]; then \
		echo "lx.o: undefined symbols: $$undef" >&2; exit 1; fi

# lx's own code in container processes uses no vector registers, as the
# kernel does not: a program's vector state is saved only when host libc
# may run (lx_fpu_lazy in include/lx/lx.h).
LXCFLAGS := $(CFLAGS) -mgeneral-regs-only

$(B)/host/%.o: host/%.c host/*.h include/lx/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(LXCFLAGS) -MMD -MP -c -o $@ $<

# guest/: the program runner (lxexec) and what runs in program processes
GUEST_OBJS := $(patsubst guest/%.c,$(B)/guest/%.o,$(filter-out guest/lxexec.c,$(wildcard guest/*.c))) \
	$(B)/guest/entry.o

$(B)/guest/%.o: guest/%.c guest/*.h include/lx/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(LXCFLAGS) -MMD -MP -c -o $@ $<

$(B)/guest/entry.o: guest/entry.S guest/guest.h
	@mkdir -p $(dir $@)
	@echo "  AS      $@"
	$(Q)$(CC) -D__ASSEMBLY__ -fPIE -c -o $@ $<

$(B)/lxexec: $(B)/guest/lxexec.o $(GUEST_OBJS) $(B)/liblx.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lseccomp

$(B)/liblx.a: $(B)/lx.o $(HOST_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/tests/%: tests/%.c tests/*.h $(B)/liblx.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblx.a $(LIBS)

# lx's C suite: each program of tests/prog/ built four ways, for t-cprogs
# to run inside lx and natively.
PROG_BUILDS := glibc-static-pie musl-static glibc-dynamic musl-dynamic
PROG_NAMES := $(patsubst tests/prog/%.c,%,$(wildcard tests/prog/*.c))
PROGS := $(foreach b,$(PROG_BUILDS),$(addprefix $(B)/tests/prog/$(b)/,$(PROG_NAMES)))
PROG_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -pthread

$(B)/tests/prog/glibc-static-pie/%: tests/prog/%.c tests/prog/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(PROG_CFLAGS) -static-pie -o $@ $<

$(B)/tests/prog/musl-static/%: tests/prog/%.c tests/prog/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)musl-gcc $(PROG_CFLAGS) -static -o $@ $<

$(B)/tests/prog/glibc-dynamic/%: tests/prog/%.c tests/prog/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(PROG_CFLAGS) -o $@ $<

$(B)/tests/prog/musl-dynamic/%: tests/prog/%.c tests/prog/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)musl-gcc $(PROG_CFLAGS) -o $@ $<

$(B)/tests/t-cprogs $(B)/asan/tests/t-cprogs: $(PROGS)

# programs t-redirect runs inside lx (tests/guest/)
REDIRECT_PROGS := $(B)/tests/guest/redirect $(B)/tests/guest/dlsite \
	$(B)/tests/guest/libsite.so

$(B)/tests/guest/redirect: tests/guest/redirect.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -Wall -static -o $@ $< -lpthread

$(B)/tests/guest/dlsite: tests/guest/dlsite.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -Wall -o $@ $<

$(B)/tests/guest/libsite.so: tests/guest/libsite.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -Wall -shared -fPIC -o $@ $<

$(B)/tests/t-redirect $(B)/asan/tests/t-redirect: $(REDIRECT_PROGS)

# t-go's program (tests/go/lxgo.go), static (CGO_ENABLED=0), also what
# bench/run-go.sh measures.  Go's build cache and GOPATH live under
# $LX_CACHE/go (default ~/.cache/lx/go), never in the tree.  Without go
# nothing is built and t-go fails, saying why (make deps installs it).
GO := go
GO_CACHE := $(or $(LX_CACHE),$(HOME)/.cache/lx)/go

$(B)/tests/go/lxgo: tests/go/lxgo.go
	@mkdir -p $(dir $@)
	$(Q)if command -v $(GO) >/dev/null; then \
		echo "  GO      $@"; \
		cd tests/go && GOCACHE=$(GO_CACHE)/cache GOPATH=$(GO_CACHE)/path \
		GOFLAGS= CGO_ENABLED=0 $(GO) build -trimpath -o $@ lxgo.go; \
	else \
		echo "  GO      $@: no go (make deps installs golang-go)"; \
	fi

$(B)/tests/t-go $(B)/asan/tests/t-go: $(B)/tests/go/lxgo

# Linux's own selftests from the kernel tree (futex, timers, net), built
# statically into build/selftests for t-selftests to run inside lx and
# natively; build.sh rebuilds only what changed.
.PHONY: selftests
selftests: | $(B)/liblx.a
	$(Q)tests/selftests/build.sh

$(B)/tests/t-selftests $(B)/asan/tests/t-selftests: | selftests

test: $(TESTS) $(B)/lxexec images
	$(Q)LXEXEC=$(B)/lxexec tests/run-tests.sh $(B)/tests

# host/ and the tests under AddressSanitizer and UBSan (the kernel object
# is not instrumented): every test program, run the same way.
ASAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
ASAN_HOST_OBJS := $(patsubst host/%.c,$(B)/asan/host/%.o,$(wildcard host/*.c))
ASAN_TESTS := $(patsubst tests/%.c,$(B)/asan/tests/%,$(wildcard tests/t-*.c))

$(B)/asan/host/%.o: host/%.c host/*.h include/lx/*.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@ (asan)"
	$(Q)$(CC) $(CFLAGS) $(ASAN) -c -o $@ $<

$(B)/asan/liblx.a: $(B)/lx.o $(ASAN_HOST_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/asan/tests/%: tests/%.c tests/*.h $(B)/asan/liblx.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@ (asan)"
	$(Q)$(CC) $(CFLAGS) $(ASAN) $(LDFLAGS) -o $@ $< $(B)/asan/liblx.a $(LIBS)

test-asan: $(ASAN_TESTS) $(B)/lxexec images
	$(Q)LXEXEC=$(B)/lxexec ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1 tests/run-tests.sh $(B)/asan/tests

demo: $(B)/demo/lx-demo $(B)/lxexec images
	$(Q)$<
	$(Q)demo/run-busybox.sh $(B)/lxexec $(B)/demo-root
	$(Q)demo/run-python.sh $(B)/lxexec $(B)/demo-python

$(B)/demo/lx-demo: demo/lx-demo.c $(B)/liblx.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblx.a $(LIBS)

bench: $(B)/bench/lx-bench $(B)/bench/lx-devbench $(B)/lxexec $(B)/tests/go/lxgo
	$(Q)bench/run.sh $(B)/bench/lx-bench

$(B)/bench/lx-devbench: bench/lx-devbench.c $(B)/liblx.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblx.a $(LIBS)

$(B)/bench/lx-bench: bench/lx-bench.c $(B)/liblx.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/liblx.a $(LIBS)

clean:
	rm -rf $(B)/host $(B)/tests $(B)/demo $(B)/asan $(B)/lx.o $(B)/liblx.a \
		$(B)/selftests

distclean:
	rm -rf $(B)

-include $(wildcard $(B)/host/*.d)
