# SPDX-License-Identifier: GPL-2.0
#
# make                 module + userspace + selftests against the test kernel
# make KDIR=<tree>     module against another kernel build tree
# make distro-build    module against Debian's linux-headers-6.12-amd64, W=1, warnings fatal
# make checkpatch     scripts/checkpatch.pl --strict over the module, uapi and tests
# make check-netlink  kmod/netlink-gen.[ch] and the uapi header agree with the YNL spec
# make netlink-gen    regenerate kmod/netlink-gen.[ch] from Documentation/netlink/vmmig.yaml
# make check           the whole test run in the VM (same as tests/run-tests)
# make demo            the main job (same as tests/run-demo)
#
# Modules are built in copies of the source under build/, one per kernel tree,
# so that objects for two kernels never mix.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build

# The test kernel (built once and cached by tests/vm/build-kernel).
TEST_KERNEL = $(shell $(TOP)/tests/vm/build-kernel)
KDIR ?= $(TEST_KERNEL)/build
KSRC ?= $(TEST_KERNEL)/src
DISTRO_KDIR ?= $(firstword $(wildcard /usr/src/linux-headers-6.12.*-amd64))

MODULE_SRCS := Kbuild $(shell cd $(TOP) && find kmod uapi -name '*.[ch]')

.PHONY: all module userspace selftests distro-build checkpatch check-netlink netlink-gen \
	check demo clean

all: check-netlink module userspace selftests

# $(call build_module,<kernel tree>,<output dir>)
define build_module
	@test -d "$(1)" || { echo "kernel tree '$(1)' not found" >&2; exit 1; }
	@mkdir -p $(2)
	@cd $(TOP) && cp -a --parents $(MODULE_SRCS) $(2)/
	$(MAKE) -C $(1) M=$(2) W=1 modules 2>&1 | tee $(2)/build.log
	@! grep -E 'warning:|WARNING:' $(2)/build.log || \
		{ echo "module build for $(1) has warnings" >&2; exit 1; }
endef

module:
	$(call build_module,$(KDIR),$(BUILD)/kmod-test)

distro-build:
	$(call build_module,$(DISTRO_KDIR),$(BUILD)/kmod-distro)

userspace:
	$(MAKE) -C $(TOP)/userspace

selftests:
	$(MAKE) -C $(TOP)/tests/selftests KSRC=$(KSRC)

CHECKPATCH_FILES = $(shell cd $(TOP) && find kmod uapi tests/selftests userspace -name '*.[ch]')

checkpatch:
	@mkdir -p $(BUILD)
	cd $(TOP) && $(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse --show-types \
		-f $(CHECKPATCH_FILES) | tee $(BUILD)/checkpatch.log
	@! grep -qE ': (ERROR|WARNING|CHECK):' $(BUILD)/checkpatch.log

check-netlink:
	@$(TOP)/tests/check-netlink $(KSRC) >/dev/null

netlink-gen:
	$(TOP)/tests/check-netlink $(KSRC) --update

check:
	$(TOP)/tests/run-tests

demo:
	$(TOP)/tests/run-demo

clean:
	rm -rf $(BUILD)
	$(MAKE) -C $(TOP)/userspace clean
	$(MAKE) -C $(TOP)/tests/selftests clean
