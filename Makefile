# vmm: a KVM micro-VM and its guest kernel.
#
#   make            build/vmm, build/kernel.elf and the workloads (build/user*/)
#   make run        build, then run the demo in a guest
#   make test       every test: unit (Check, ASan+UBSan), integration, interop, fuzz smoke
#   make bench      benchmarks (ONLY=prefix to pick some)
#   make clean      remove everything the build and the tests made
#
# Sources are found by wildcard: a new .c in a module directory is built without editing
# this file.

BUILD   ?= build
# scripts/nested-kvm.sh keeps its guest (kernel, initrd) here, so make clean removes it.
export NESTED_KVM_DIR := $(abspath $(BUILD))/nested
CC      ?= gcc
HOSTCC  := $(CC)
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)

# ---- dependencies ---------------------------------------------------------------
# Installing is a target: every build depends on it (order-only, so it never forces a
# rebuild) and it runs scripts/install-deps.sh only when something is missing. Parsing
# this file installs nothing, so `make clean` or `make -n` have no side effects. The
# package flags are looked up at first use, after deps ran (PKG memoizes each query).
PKG = $(or $(PKG_$(subst $() ,_,$(1))),$(eval PKG_$(subst $() ,_,$(1)) := \
	$(shell pkg-config $(1) 2>/dev/null))$(PKG_$(subst $() ,_,$(1))))

WARN    := -Wall -Wextra -Werror
COMMON  := -std=c11 $(WARN) -g -I. -D_GNU_SOURCE

# ---- host: the VMM -------------------------------------------------------------
VMM_CFLAGS   = $(COMMON) -O2 -fPIE -DINVARIANTS -pthread \
	$(call PKG,--cflags libelf liburing)
# Static PIE: no dynamic linking at start-up (measured ~0.1 ms of a ~1.3 ms boot), and a
# binary that runs on hosts without libelf/liburing installed.
VMM_LIBS     = -static-pie $(call PKG,--libs --static libelf liburing) -pthread
VMM_SRCS    := $(wildcard vmm/*.c devices/*.c)
VMM_OBJS    := $(VMM_SRCS:%.c=$(BUILD)/host/%.o)
VMM_LIBOBJS := $(filter-out $(BUILD)/host/vmm/main.o,$(VMM_OBJS))

# ---- guest kernel ----------------------------------------------------------------
GUEST_CFLAGS := -std=c11 $(WARN) -g -O2 -I. -Iguest -Iguest/kern -DKERNEL -DINVARIANTS \
	-ffreestanding -fno-builtin-printf -nostdlib -mno-red-zone -mcmodel=kernel \
	-mgeneral-regs-only -mno-sse -mno-mmx -mno-80387 -fno-pic -fno-pie \
	-fno-stack-protector -fomit-frame-pointer -fno-asynchronous-unwind-tables \
	-fcf-protection=none -mno-tls-direct-seg-refs
GUEST_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	-Wl,--build-id=none -T guest/kernel.ld
GUEST_SRCS  := $(wildcard guest/amd64/*.c guest/amd64/*.S guest/kern/*.c guest/dev/*.c \
	vm/*.c tests/vmtests/*.c)
GUEST_OBJS  := $(patsubst %,$(BUILD)/guest/%.o,$(basename $(GUEST_SRCS)))

# ---- host: unit tests (ASan + UBSan) -----------------------------------------------
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_CFLAGS  = $(COMMON) -O1 -DINVARIANTS -DVM_HOST -pthread -Itests/support $(SAN) \
	$(call PKG,--cflags check libelf liburing)
UNIT_LIBS    = $(call PKG,--libs check libelf liburing) -pthread $(SAN)
# pmap is the machine's, but builds on the host too: host tests walk the page tables it
# writes into the simulated RAM (guest/amd64/pmap_int.h has the hooks that differ).
VMCORE_SRCS := $(wildcard vm/*.c tests/support/*.c) guest/amd64/pmap.c
UNIT_SRCS   := $(wildcard tests/unit/*.c tests/vmtests/*.c) $(VMCORE_SRCS)
UNIT_OBJS   := $(UNIT_SRCS:%.c=$(BUILD)/unit/%.o) \
	$(patsubst $(BUILD)/host/%,$(BUILD)/unit/%,$(VMM_LIBOBJS))

# ---- host: the VM core without sanitizers, for benchmarks ---------------------------
BENCH_CFLAGS := $(COMMON) -O2 -DVM_HOST -pthread -Itests/support
VMCORE_BENCH_OBJS := $(VMCORE_SRCS:%.c=$(BUILD)/bench/%.o)

# ---- host: libFuzzer targets over the parsers of untrusted input ---------------------
FUZZ_CC     := clang
FUZZ_CFLAGS  = -std=c11 -Wall -Wextra -Werror -g -O1 -I. -D_GNU_SOURCE -DINVARIANTS \
	-fsanitize=fuzzer-no-link,address,undefined $(call PKG,--cflags libelf liburing)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_LIBOBJS := $(patsubst $(BUILD)/host/%,$(BUILD)/fuzzobj/%,$(VMM_LIBOBJS))

# ---- workloads (guest/user): static musl programs for the guest, gcc ones for the host
USER_CFLAGS := -std=c11 $(WARN) -O2 -I. -D_GNU_SOURCE
USER_PROGS  := $(basename $(notdir $(wildcard guest/user/*.c)))
USER_DEPS   := guest/user/lib/wl.c guest/user/lib/wl.h guest/amd64/vmparam.h

.SECONDARY:

.PHONY: all run test unit fuzz bench clean deps lint
all: $(BUILD)/vmm $(BUILD)/kernel.elf $(USER_PROGS:%=$(BUILD)/user/%) \
	$(USER_PROGS:%=$(BUILD)/user-host/%)

# What the builds and tests need, installed when missing (scripts/install-deps.sh).
deps:
	@pkg-config --exists libelf liburing check 2>/dev/null && \
	command -v musl-gcc >/dev/null && command -v clang >/dev/null && \
	command -v qemu-system-x86_64 >/dev/null && command -v gdb >/dev/null && \
	command -v gnuplot >/dev/null || { \
	echo "make: installing missing dependencies with scripts/install-deps.sh"; \
	bash scripts/install-deps.sh; }

# Every compile waits for deps (order-only: deps never makes anything out of date).
$(VMM_OBJS) $(GUEST_OBJS) $(UNIT_OBJS) $(FUZZ_LIBOBJS) $(VMCORE_BENCH_OBJS): | deps
$(BUILD)/fuzzobj/tests/fuzz/%.o $(BUILD)/bench/tests/bench/%.o: | deps

$(BUILD)/vmm: $(VMM_OBJS)
	@echo "  LD      $@"
	$(Q)$(HOSTCC) -o $@ $^ $(VMM_LIBS)

$(BUILD)/host/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(HOSTCC) $(VMM_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/kernel.elf: $(GUEST_OBJS) guest/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $(GUEST_OBJS) -lgcc

$(BUILD)/guest/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $< (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/guest/%.o: %.S
	@mkdir -p $(@D)
	@echo "  AS      $< (guest)"
	$(Q)$(CC) $(GUEST_CFLAGS) -D__ASSEMBLY__ -MMD -MP -c -o $@ $<

$(BUILD)/user/%: guest/user/%.c $(USER_DEPS) | deps
	@mkdir -p $(@D)
	@echo "  CC      $< (musl, static)"
	$(Q)musl-gcc -static $(USER_CFLAGS) -o $@ $< guest/user/lib/wl.c

$(BUILD)/user-host/%: guest/user/%.c $(USER_DEPS) | deps
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(USER_CFLAGS) -o $@ $< guest/user/lib/wl.c

$(BUILD)/unit/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit-tests: $(UNIT_OBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(HOSTCC) -o $@ $^ $(UNIT_LIBS)

$(BUILD)/bench/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(BENCH_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/kvm-floor: tests/bench/kvm_floor.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(COMMON) -O2 -o $@ $<

$(BUILD)/tests/floor-probe: tests/bench/floor_probe.c tests/bench/cpl3_vm.h
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(COMMON) -O2 -o $@ $<

# The disk's own speed on the swap file (raw io_uring), the swap figures' reference.
$(BUILD)/tests/uring-ref: tests/bench/uring_ref.c | deps
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(COMMON) -O2 $(call PKG,--cflags liburing) -o $@ $< $(call PKG,--libs liburing)

# Each tests/bench/bench_NAME.c is a program over the VM core built without sanitizers.
BENCH_PROGS := $(patsubst tests/bench/%.c,$(BUILD)/tests/%,$(wildcard tests/bench/bench_*.c))
$(BUILD)/tests/bench_%: $(BUILD)/bench/tests/bench/bench_%.o $(VMCORE_BENCH_OBJS)
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) -o $@ $^ -pthread

# A kernel that misbehaves on purpose (triple fault, int3, hlt, spin), for the integration tests.
$(BUILD)/tests/bad-guest.elf: tests/integration/bad_guest.S tests/integration/bad_guest.ld
	@mkdir -p $(@D)
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,tests/integration/bad_guest.ld -o $@ $<

$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzzobj/tests/fuzz/fuzz_%.o $(FUZZ_LIBOBJS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ \
		$(call PKG,--libs libelf liburing) -pthread

# The dump reader's fuzz seeds (and README's example): the unit tests' synthetic dumps.
$(BUILD)/tests/dump-seeds: tests/fuzz/dump_seeds.c tests/unit/dump_fixture.c \
	tests/unit/dump_fixture.h | deps
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(COMMON) -O1 $(call PKG,--cflags libelf) -o $@ tests/fuzz/dump_seeds.c \
		tests/unit/dump_fixture.c $(call PKG,--libs libelf)

fuzz: $(FUZZ_TARGETS) $(BUILD)/kernel.elf $(BUILD)/tests/bad-guest.elf $(BUILD)/tests/dump-seeds
	bash tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

# Where the host has no usable /dev/kvm the demo runs in a nested KVM, said loudly. The
# self-tests, then a program using four times a 32 MiB guest's RAM through swap (-s),
# every byte verified (its swap file is removed after the run).
run: all
	bash scripts/nested-kvm.sh --if-needed $(BUILD)/vmm run --ktest
	rm -f $(BUILD)/demo.swap
	bash scripts/nested-kvm.sh --if-needed $(BUILD)/vmm run -m 32M -s $(BUILD)/demo.swap \
		$(BUILD)/user/swapstress 128 2; st=$$?; rm -f $(BUILD)/demo.swap; exit $$st

test: all $(BUILD)/tests/unit-tests $(BUILD)/tests/bad-guest.elf $(FUZZ_TARGETS) \
	$(BUILD)/tests/dump-seeds
	@bash scripts/run-tests.sh $(BUILD)

unit: $(BUILD)/tests/unit-tests
	$(BUILD)/tests/unit-tests

bench: all $(BUILD)/tests/kvm-floor $(BUILD)/tests/floor-probe $(BUILD)/tests/timecmd \
	$(BUILD)/tests/uring-ref \
	$(BENCH_PROGS)
	@bash scripts/bench.sh $(BUILD) $(ONLY)

# Static analysis of the host and VM-core sources (cppcheck, from Debian).
lint:
	@command -v cppcheck >/dev/null || { echo "make lint: cppcheck is missing (apt-get install cppcheck)"; exit 1; }
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. -Itests/support -DINVARIANTS vmm devices vm

clean:
	rm -rf $(BUILD) vmm-*.core *.swap

-include $(shell find $(abspath $(BUILD)) -path '$(NESTED_KVM_DIR)' -prune -o -type f -name '*.d' -print 2>/dev/null)

$(BUILD)/tests/timecmd: tests/bench/timecmd.c
	@mkdir -p $(@D)
	$(Q)$(HOSTCC) $(COMMON) -O2 -o $@ $<
