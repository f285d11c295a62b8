# Bare-metal TCP endpoint for the Arm MPS2 (AN385 by default).
#
#   make                 build build/firmware.{elf,bin,hex} and print its size
#   make run             boot it under QEMU on a tap device in a namespace
#   make test            every test (installs missing Debian packages first)
#   make deps            install the Debian packages the project needs
#   make bench           footprint, CPU and network figures (docs/bench.md)
#
# Build settings (see README): IP NETMASK GATEWAY MAC TCP_MAX_CONNS TCP_MSL_MS
# TCP_TXBUF TCP_WND TRACE BOARD. Each is checked; a bad value stops the build.

BOARD ?= mps2-an385
BUILD ?= build
SHELL := /bin/bash

ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error BOARD=$(BOARD) is not a board of ours: choose one of $(notdir $(wildcard board/mps2-*)))
endif
include board/$(BOARD)/board.mk

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# --- Build settings -> -D flags (defaults live in firmware/net/config.h) ---
define ip_setting # $(1)=make variable, $(2)=C macro
ifneq ($$($(1)),)
$(1)_HEX := $$(shell tools/ip2hex.sh '$$($(1))')
ifeq ($$($(1)_HEX),)
$$(error $(1)=$$($(1)) is not an IPv4 address (want a.b.c.d))
endif
SETTINGS += -D$(2)=$$($(1)_HEX) -D$(2)_STR='"$$($(1))"'
endif
endef
$(eval $(call ip_setting,IP,NET_IP_ADDR))
$(eval $(call ip_setting,NETMASK,NET_NETMASK))
$(eval $(call ip_setting,GATEWAY,NET_GATEWAY))
ifneq ($(MAC),)
MAC_C := $(shell tools/mac2c.sh '$(MAC)')
ifeq ($(MAC_C),)
$(error MAC=$(MAC) is not a unicast MAC address (want aa:bb:cc:dd:ee:ff))
endif
SETTINGS += -DNET_MAC_FALLBACK='$(MAC_C)'
endif
define num_setting # $(1)=make variable, $(2)=C macro
ifneq ($$($(1)),)
ifeq ($$(shell [[ '$$($(1))' =~ ^[0-9]+$$$$ ]] && echo ok),)
$$(error $(1)=$$($(1)) is not a decimal number)
endif
SETTINGS += -D$(2)=$$($(1))
endif
endef
$(eval $(call num_setting,TCP_MAX_CONNS,TCP_MAX_CONNS))
$(eval $(call num_setting,TCP_MSL_MS,TCP_MSL_MS))
$(eval $(call num_setting,TCP_TXBUF,TCP_TXBUF))
$(eval $(call num_setting,TCP_WND,TCP_WND))
$(eval $(call num_setting,TRACE,NET_TRACE_DEFAULT))
SETTINGS += -DFW_VERSION='"$(VERSION)"' -DFW_BOARD='"$(BOARD)"'

# --- Firmware ---
CROSS ?= arm-none-eabi-
FW_CC := $(CROSS)gcc
FW_DIR := $(BUILD)/$(BOARD)
ifeq ($(BOARD),mps2-an385)
FW_OUT := $(BUILD)
else
FW_OUT := $(FW_DIR)
endif
NET_SRCS := $(wildcard firmware/net/*.c)
APP_SRCS := $(wildcard firmware/app/*.c)
FW_SRCS := $(NET_SRCS) $(APP_SRCS) $(wildcard drivers/*.c) \
           $(wildcard board/common/*.c) $(wildcard board/$(BOARD)/*.c)
INCLUDES := -Ifirmware/net -Ifirmware/app -Idrivers -Iboard/common -Iboard/$(BOARD)
FW_CFLAGS := $(BOARD_CPU) -mthumb -Os -std=c11 -ffreestanding -fno-common \
             -ffunction-sections -fdata-sections -fstack-usage -g \
             -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             $(INCLUDES) $(BOARD_DEFS) $(SETTINGS)
FW_LDFLAGS := $(BOARD_CPU) -mthumb -nostdlib -nostartfiles -Wl,--gc-sections \
              -T $(BOARD_LDSCRIPT) -Wl,-Map=$(FW_DIR)/firmware.map
FW_OBJS := $(patsubst %.c,$(FW_DIR)/obj/%.o,$(FW_SRCS))

.PHONY: all firmware size
all: firmware
firmware: $(FW_OUT)/firmware.elf $(FW_OUT)/firmware.bin $(FW_OUT)/firmware.hex size

# Rebuild everything when the settings change.
$(FW_DIR)/settings: FORCE
	@mkdir -p $(@D); echo '$(SETTINGS) $(FW_CFLAGS)' | cmp -s - $@ || echo '$(SETTINGS) $(FW_CFLAGS)' > $@

$(FW_DIR)/obj/%.o: %.c $(FW_DIR)/settings
	@mkdir -p $(@D)
	$(FW_CC) $(FW_CFLAGS) -MMD -MP -c $< -o $@

$(FW_OUT)/firmware.elf: $(FW_OBJS) $(BOARD_LDSCRIPT) $(BOARD_LDDEPS)
	@mkdir -p $(@D)
	$(FW_CC) $(FW_LDFLAGS) $(FW_OBJS) -lgcc -o $@

$(FW_OUT)/firmware.bin: $(FW_OUT)/firmware.elf
	$(CROSS)objcopy -O binary $< $@
$(FW_OUT)/firmware.hex: $(FW_OUT)/firmware.elf
	$(CROSS)objcopy -O ihex $< $@

size: $(FW_OUT)/firmware.elf
	@$(CROSS)size $<

# --- Host build of the hardware-free code, for tests ---
HOST_CC ?= gcc
HOST_DIR := $(BUILD)/host
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -fno-common \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -Ifirmware/net -Ifirmware/app -Itests/unit $(SETTINGS)
HOST_LIB_SRCS := $(NET_SRCS) $(filter-out firmware/app/main.c,$(APP_SRCS))
HOST_LIB_OBJS := $(patsubst %.c,$(HOST_DIR)/obj/%.o,$(HOST_LIB_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(HOST_DIR)/%,$(wildcard tests/unit/test_*.c))
UNIT_HELPERS := $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c))

$(HOST_DIR)/settings: FORCE
	@mkdir -p $(@D); echo '$(HOST_CFLAGS)' | cmp -s - $@ || echo '$(HOST_CFLAGS)' > $@
$(HOST_DIR)/obj/%.o: %.c $(HOST_DIR)/settings
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
$(HOST_DIR)/libnet.a: $(HOST_LIB_OBJS)
	rm -f $@; ar rcs $@ $^
$(HOST_DIR)/test_%: tests/unit/test_%.c $(UNIT_HELPERS) $(HOST_DIR)/libnet.a $(HOST_DIR)/settings
	$(HOST_CC) $(HOST_CFLAGS) $< $(UNIT_HELPERS) $(HOST_DIR)/libnet.a -lcmocka -o $@

.PHONY: deps test test-unit test-e2e run unit-build
deps:
	@tools/deps.sh

unit-build: $(UNIT_TESTS)
test-unit: unit-build
	@fail=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# e2e runs BOARD's image on BOARD's QEMU machine (FW_ELF/FW_MACHINE override).
E2E_ENV = FW_ELF=$(or $(FW_ELF),$(FW_OUT)/firmware.elf) FW_MACHINE=$(or $(FW_MACHINE),$(QEMU_MACHINE))
# Host tools (the ladder diagram tool).
.PHONY: test-tools
test-tools:
	@/usr/bin/python3 -m unittest discover -s tests/tools -p 'test_*.py'

test-e2e: firmware
	@$(E2E_ENV) tests/e2e/run_all.sh

# --- Differential tests against lwIP (tests/diff, issue 5) ---
# Our net/*.c built again without sanitizers (liblwip is not instrumented)
# at -O2 (as Debian builds lwIP), then every defined global symbol renamed
# ours_* so that lwIP's internal calls to its own tcp_input, tcp_listen, ...
# cannot land in ours. The list comes from nm; ours_syms.h (#define name
# ours_name) is generated from the same list for the driver to include.
DIFF_DIR := $(BUILD)/diff
DIFF_OURS_CFLAGS := -std=c11 -g -O2 -Wall -Wextra -Werror -Wshadow -fno-common \
                    -Ifirmware/net $(SETTINGS)
DIFF_CFLAGS := -std=c11 -g -O2 -Wall -Wextra -Werror -Wshadow -Itests/diff
DIFF_LWIP_CFLAGS := -std=gnu11 -g -O2 -Wall -Wextra -Werror -Itests/diff \
                    $(shell pkg-config --cflags lwip 2>/dev/null)
DIFF_OURS_OBJS := $(patsubst %.c,$(DIFF_DIR)/obj/%.o,$(NET_SRCS))
DIFF_OBJS := $(DIFF_DIR)/diff_main.o $(DIFF_DIR)/scenarios.o $(DIFF_DIR)/ours_drv.o \
             $(DIFF_DIR)/lwip_drv.o

$(DIFF_DIR)/settings: FORCE
	@mkdir -p $(@D); echo '$(DIFF_OURS_CFLAGS)' | cmp -s - $@ || echo '$(DIFF_OURS_CFLAGS)' > $@
$(DIFF_DIR)/obj/%.o: %.c $(DIFF_DIR)/settings
	@mkdir -p $(@D)
	$(HOST_CC) $(DIFF_OURS_CFLAGS) -MMD -MP -c $< -o $@
$(DIFF_DIR)/ours.syms: $(DIFF_OURS_OBJS)
	nm -g --defined-only $^ | awk 'NF == 3 { print $$3, "ours_" $$3 }' | sort -u > $@
$(DIFF_DIR)/ours_syms.h: $(DIFF_DIR)/ours.syms
	{ echo '/* Generated from $< by make: our global symbols, renamed. */'; \
	  awk '{ print "#define " $$1 " " $$2 }' $<; } > $@
$(DIFF_DIR)/libours.a: $(DIFF_OURS_OBJS) $(DIFF_DIR)/ours.syms
	@rm -rf $@ $(DIFF_DIR)/renamed; mkdir -p $(DIFF_DIR)/renamed
	@for o in $(DIFF_OURS_OBJS); do \
	  objcopy --redefine-syms=$(DIFF_DIR)/ours.syms $$o $(DIFF_DIR)/renamed/$$(basename $$o) || exit 1; \
	done
	ar rcs $@ $(DIFF_DIR)/renamed/*.o
	@left=$$(nm -g --defined-only $@ | awk 'NF == 3 && $$3 !~ /^ours_/ { print $$3 }'); \
	if [ -n "$$left" ]; then echo "libours.a: not renamed: $$left" >&2; rm -f $@; exit 1; fi
$(DIFF_DIR)/ours_drv.o: tests/diff/ours_drv.c $(DIFF_DIR)/ours_syms.h $(DIFF_DIR)/settings
	$(HOST_CC) $(DIFF_OURS_CFLAGS) -Itests/diff -I$(DIFF_DIR) -MMD -MP -c $< -o $@
	@bad=$$(nm -u $@ | awk 'NR == FNR { ours[$$1] = 1; next } ($$2 in ours) { print $$2 }' \
	  $(DIFF_DIR)/ours.syms -); \
	if [ -n "$$bad" ]; then echo "ours_drv.o calls unrenamed: $$bad" >&2; rm -f $@; exit 1; fi
$(DIFF_DIR)/lwip_drv.o: tests/diff/lwip_drv.c
	@mkdir -p $(@D)
	$(HOST_CC) $(DIFF_LWIP_CFLAGS) -MMD -MP -c $< -o $@
$(DIFF_DIR)/%.o: tests/diff/%.c
	@mkdir -p $(@D)
	$(HOST_CC) $(DIFF_CFLAGS) -MMD -MP -c $< -o $@
$(DIFF_DIR)/diff_harness: $(DIFF_OBJS) $(DIFF_DIR)/libours.a
	$(HOST_CC) -o $@ $(DIFF_OBJS) $(DIFF_DIR)/libours.a $(shell pkg-config --libs lwip 2>/dev/null)
	@bad=$$(nm --defined-only $@ | awk 'NR == FNR { ours[$$1] = 1; next } ($$3 in ours) { print $$3 }' \
	  $(DIFF_DIR)/ours.syms -); \
	if [ -n "$$bad" ]; then echo "diff_harness defines unrenamed: $$bad" >&2; rm -f $@; exit 1; fi

.PHONY: test-diff
test-diff: $(DIFF_DIR)/diff_harness
	@$(DIFF_DIR)/diff_harness --diffs docs/lwip-differences.md

-include $(DIFF_OURS_OBJS:.o=.d) $(DIFF_OBJS:.o=.d)

# --- Benchmarks (issue 7): tools/bench.py prints the table, writes build/bench.json.
# BENCH_SHORT=1: a few seconds per network figure (bench-short, for make test).
LOADGEN := $(BUILD)/bench/loadgen
$(LOADGEN): tools/loadgen.c
	@mkdir -p $(@D)
	$(HOST_CC) -O2 -Wall -Wextra -Werror -pthread $< -o $@
.PHONY: bench bench-short
bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware $(DIFF_DIR)/diff_harness $(LOADGEN)
	@/usr/bin/python3 tools/bench.py --elf $(FW_OUT)/firmware.elf --map $(FW_DIR)/firmware.map \
	  --machine $(QEMU_MACHINE) --loadgen $(LOADGEN) --diff-harness $(DIFF_DIR)/diff_harness \
	  --json $(BUILD)/bench.json $(if $(filter-out 0,$(BENCH_SHORT)),--short)
bench-short:
	@$(MAKE) --no-print-directory bench BENCH_SHORT=1

# --- Fuzzing and static checks (issue 6) ---
# tests/fuzz/fuzz_stack.c: libFuzzer target, the whole stack in one host
# instance fed sequences of frames, time steps and application calls, with
# invariants checked after every step (input format at its top). `make fuzz`
# runs FUZZ_TIME s, keeps new inputs in build/fuzz/corpus and writes a crash
# to tests/fuzz/crashes/ (FUZZ_SKIP, FUZZ_FLAGS: see the .c); `make test-fuzz`
# is a short fixed-seed pass over the committed corpus and saved crashes.
FUZZ_TIME ?= 300
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -fno-common \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -Ifirmware/net -Ifirmware/app $(SETTINGS)
FUZZ_SRCS := tests/fuzz/fuzz_stack.c $(HOST_LIB_SRCS)
FUZZ_RUN = FUZZ_SKIP='$(FUZZ_SKIP)' $(FUZZ_DIR)/fuzz_stack -max_len=8192 -timeout=10 \
           -print_final_stats=1
$(FUZZ_DIR)/settings: FORCE
	@mkdir -p $(@D); echo '$(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CFLAGS)' > $@
$(FUZZ_DIR)/fuzz_stack: $(FUZZ_SRCS) $(wildcard firmware/net/*.h firmware/app/*.h) $(FUZZ_DIR)/settings
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) -o $@
.PHONY: fuzz test-fuzz test-static
fuzz: $(FUZZ_DIR)/fuzz_stack
	@mkdir -p $(FUZZ_DIR)/corpus tests/fuzz/crashes
	$(FUZZ_RUN) -use_value_profile=1 -max_total_time=$(FUZZ_TIME) \
	  -artifact_prefix=tests/fuzz/crashes/ $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus tests/fuzz/corpus
test-fuzz: $(FUZZ_DIR)/fuzz_stack
	@rm -rf $(FUZZ_DIR)/test-corpus; mkdir -p $(FUZZ_DIR)/test-corpus
	$(FUZZ_RUN) -seed=1 -runs=20000 -artifact_prefix=$(FUZZ_DIR)/ \
	  $(FUZZ_DIR)/test-corpus tests/fuzz/corpus tests/fuzz/crashes
# cppcheck + clang-tidy (host and target) on the firmware sources, then the
# worst-case stack depth against _stack_size. Both run; either fails it.
test-static: firmware
	@fail=0; \
	tools/static_check.sh --cpu='$(BOARD_CPU)' $(FW_SRCS) -- $(INCLUDES) $(BOARD_DEFS) $(SETTINGS) || fail=1; \
	/usr/bin/python3 tools/stack_depth.py --elf $(FW_OUT)/firmware.elf --su-dir $(FW_DIR)/obj \
	  --cross $(CROSS) || fail=1; \
	exit $$fail

# The one test command: packages first, then every suite.
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-tools
	@$(MAKE) --no-print-directory test-diff
	@$(MAKE) --no-print-directory test-e2e
	@$(MAKE) --no-print-directory test-boards
	@$(MAKE) --no-print-directory bench-short
	@$(MAKE) --no-print-directory test-static
	@$(MAKE) --no-print-directory test-fuzz

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@tools/run.sh $(FW_OUT)/firmware.elf $(QEMU_MACHINE)

# The mission step by step: firmware trace beside the host's capture (build/demo.pcap).
.PHONY: demo
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@tools/demo.sh $(FW_OUT)/firmware.elf $(QEMU_MACHINE)

# --- The other boards: ping and echo on each (build/<board>/firmware.elf) ---
TEST_BOARDS := mps2-an386 mps2-an500
BOARD_E2E := test_ping.py test_echo_board.py
.PHONY: test-board test-boards
test-board: firmware
	@fail=0; for t in $(BOARD_E2E); do \
	  E2E_ONLY=$$t $(E2E_ENV) tests/e2e/run_all.sh || fail=1; done; exit $$fail
test-boards:
	@res=; for b in $(TEST_BOARDS); do echo "=== board $$b"; \
	  if $(MAKE) --no-print-directory BOARD=$$b FW_ELF= FW_MACHINE= test-board; \
	  then res="$$res $$b:pass"; else res="$$res $$b:FAIL"; fi; done; \
	echo "=== test-boards:$$res"; [[ $$res != *FAIL* ]]

# --- A real MPS2/MPS2+ board (docs/flashing.md) ---
# dist: the microSD card's files in build/mps2-sd/; flash: onto the board's
# USB volume, MPS2_MOUNT=<its mount point>. MPS2_HBI: the card's MB/ folder.
MPS2_SD := $(BUILD)/mps2-sd
MPS2_HBI ?= HBI0263C
.PHONY: dist flash debug
dist: firmware
	@FW_VERSION='$(VERSION)' CROSS=$(CROSS) tools/dist.sh $(FW_OUT)/firmware.elf $(BOARD) $(MPS2_SD) $(MPS2_HBI)
flash: dist
	@tools/flash.sh $(MPS2_SD) '$(MPS2_MOUNT)' $(patsubst mps2-an%,AN%,$(BOARD))

# QEMU halted at reset + gdb-multiarch with tools/gdb/fw.gdb (tools/debug.sh).
debug:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@tools/debug.sh $(FW_OUT)/firmware.elf $(QEMU_MACHINE)

clean:
	rm -rf $(BUILD)

.PHONY: FORCE clean
FORCE:

-include $(FW_OBJS:.o=.d) $(HOST_LIB_OBJS:.o=.d)
