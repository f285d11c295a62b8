# Bare-metal TCP endpoint for the Arm MPS2 (AN385 by default).
#
#   make                 build build/firmware.{elf,bin,hex} and print its size
#   make run             boot it under QEMU on a tap device in a namespace
#   make test            every test (installs missing Debian packages first)
#   make deps            install the Debian packages the project needs
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

test-e2e: firmware
	@tests/e2e/run_all.sh

# The one test command: packages first, then every suite.
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-e2e

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory firmware
	@tools/run.sh $(FW_OUT)/firmware.elf $(QEMU_MACHINE)

clean:
	rm -rf $(BUILD)

.PHONY: FORCE clean
FORCE:

-include $(FW_OBJS:.o=.d) $(HOST_LIB_OBJS:.o=.d)
