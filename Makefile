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
# make bench           datapath benchmark in the VM (same as tests/bench/run)
# make fuzz            the fuzzers, fault test and soak, long, in the VM (tests/fuzz/run)
# make dkms-install    register with DKMS, build and install for KVER (default: running kernel)
# make dkms-uninstall  remove it from DKMS again
# make install         tools, man pages, bash completion, systemd unit, example
#                      config under DESTDIR/PREFIX (default /usr/local)
# make uninstall       remove what make install installed
# make check-man       every man page renders without a warning (man, groff, mandoc)
# make check-tools     check-man, bash completion and install tests (on this machine)
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
# Where make module builds: one tree per kernel (tests/bench/run: the bench kernel).
MODULE_OUT ?= $(BUILD)/kmod-test
DISTRO_KDIR ?= $(firstword $(wildcard /usr/src/linux-headers-6.12.*-amd64))

VERSION := 0.1.0
KVER ?= $(shell uname -r)
DKMS_SRC = $(DESTDIR)/usr/src/vmmig-$(VERSION)

MODULE_SRCS := Kbuild $(shell cd $(TOP) && find kmod uapi -name '*.[ch]')

# make install: the usual GNU directory variables.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# Programs make install puts in SBINDIR.
SBIN_PROGS := userspace/vmmigctl/vmmigctl
MAN_PAGES = $(sort $(wildcard $(TOP)/Documentation/*.[1-8]))

.PHONY: all module userspace selftests distro-build checkpatch check-netlink netlink-gen \
	check demo bench clean dkms-install dkms-uninstall install uninstall check-man \
	check-tools

all: check-netlink check-man module userspace selftests

# $(call build_module,<kernel tree>,<output dir>)
# Copies what changed, stamped now: an object built from an older copy (by a
# concurrent make, say) can then never look newer than its source.
define build_module
	@test -d "$(1)" || { echo "kernel tree '$(1)' not found" >&2; exit 1; }
	@mkdir -p $(2)
	@cd $(TOP) && for f in $(MODULE_SRCS); do \
		cmp -s $$f $(2)/$$f || install -D -m 644 $$f $(2)/$$f || exit 1; done
	$(MAKE) -C $(1) M=$(2) W=1 modules 2>&1 | tee $(2)/build.log
	@! grep -E 'warning:|WARNING:' $(2)/build.log || \
		{ echo "module build for $(1) has warnings" >&2; exit 1; }
endef

module:
	$(call build_module,$(KDIR),$(MODULE_OUT))

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
	$(TOP)/userspace/qemu/check

check-netlink:
	@$(TOP)/tests/check-netlink $(KSRC) >/dev/null

netlink-gen:
	$(TOP)/tests/check-netlink $(KSRC) --update

check:
	$(TOP)/tests/run-tests

demo:
	$(TOP)/tests/run-demo

bench:
	$(TOP)/tests/bench/run

.PHONY: fuzz
fuzz:
	$(TOP)/tests/fuzz/run

# DKMS builds from /usr/src/vmmig-VERSION, a copy of the module's sources.
dkms-install:
	@command -v dkms >/dev/null || { echo "dkms is not installed (apt-get install dkms)" >&2; exit 1; }
	-@dkms remove vmmig/$(VERSION) --all >/dev/null 2>&1
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cd $(TOP) && cp --parents $(MODULE_SRCS) $(DKMS_SRC)/
	sed 's/@VERSION@/$(VERSION)/' $(TOP)/dkms.conf > $(DKMS_SRC)/dkms.conf
	dkms add vmmig/$(VERSION)
	dkms build vmmig/$(VERSION) -k $(KVER)
	dkms install vmmig/$(VERSION) -k $(KVER)

dkms-uninstall:
	-dkms remove vmmig/$(VERSION) --all
	rm -rf $(DKMS_SRC)

# Any warning fails: man and groff as man(1) runs them, and mandoc's lint.
check-man:
	@command -v mandoc >/dev/null || { echo "mandoc is not installed" >&2; exit 1; }
	@fail=0; for p in $(MAN_PAGES); do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l -Tutf8 -Z "$$p" 2>&1 >/dev/null; \
		       groff -man -ww -z "$$p" 2>&1; mandoc -T lint -W warning "$$p" 2>&1); \
		[ -z "$$out" ] || { echo "$$out" >&2; fail=1; }; \
	done; \
	[ $$fail = 0 ] || { echo "man pages have warnings" >&2; exit 1; }

check-tools: check-man userspace
	$(TOP)/tests/completion-test
	$(TOP)/tests/install-test

install: userspace
	for p in $(SBIN_PROGS); do install -D -m 755 $(TOP)/$$p $(DESTDIR)$(SBINDIR)/$$(basename $$p) || exit 1; done
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; install -D -m 644 $$p $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$p) || exit 1; done
	install -D -m 644 $(TOP)/userspace/completion/vmmigctl $(DESTDIR)$(BASHCOMPDIR)/vmmigctl
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' $(TOP)/userspace/systemd/vmmig.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/vmmig.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/vmmig.service
	install -D -m 644 $(TOP)/userspace/vmmigctl/vmmig.conf.example \
		$(DESTDIR)$(SYSCONFDIR)/vmmig/vmmig.conf.example

# Leaves /etc/vmmig/vmmig.conf, the administrator's, alone.
uninstall:
	for p in $(SBIN_PROGS); do rm -f $(DESTDIR)$(SBINDIR)/$$(basename $$p); done
	for p in $(MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$(basename $$p); done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/vmmigctl $(DESTDIR)$(SYSTEMDUNITDIR)/vmmig.service \
		$(DESTDIR)$(SYSCONFDIR)/vmmig/vmmig.conf.example
	-rmdir $(DESTDIR)$(SYSCONFDIR)/vmmig 2>/dev/null

clean:
	rm -rf $(BUILD)
	$(MAKE) -C $(TOP)/userspace clean
	$(MAKE) -C $(TOP)/tests/selftests clean
