# Shared by the test rig scripts: where the cached kernels live.
# VMMIG_KERNEL picks one: "test" (the default: kernel.config, with lockdep,
# kmemleak and the other debug checks the test run fails on) or "bench"
# (kernel.config and then kernel-bench.config: the same kernel without
# them, what benchmarks run on).
# shellcheck shell=bash

VMMIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMMIG_CACHE=${VMMIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmmig}
VMMIG_SRC_TAR=${VMMIG_SRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

vmmig_src_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
}

VMMIG_KERNEL=${VMMIG_KERNEL:-test}

# The config fragments of this kernel, merged onto tinyconfig in this order.
vmmig_kernel_fragments() {
	echo "$VMMIG_TOP/tests/vm/kernel.config"
	case "$VMMIG_KERNEL" in
	test) ;;
	bench) echo "$VMMIG_TOP/tests/vm/kernel-bench.config" ;;
	*) echo "VMMIG_KERNEL=$VMMIG_KERNEL: not test or bench" >&2; return 1 ;;
	esac
}

# The cache key: source version + config fragments + the recipe that builds it.
vmmig_kernel_key() {
	local frags
	frags=$(vmmig_kernel_fragments) || return 1
	{
		vmmig_src_version
		# shellcheck disable=SC2086 # one path per line, no spaces
		cat $frags "$VMMIG_TOP/tests/vm/build-kernel"
	} | sha256sum | cut -c1-16
}

vmmig_kernel_dir() {
	local name=kernel key
	[ "$VMMIG_KERNEL" = test ] || name=kernel-$VMMIG_KERNEL
	key=$(vmmig_kernel_key) || return 1
	echo "$VMMIG_CACHE/$name-$(vmmig_src_version)-$key"
}

# Under TCG the guest's TSC is the host's, but the tiny test kernel (no HPET,
# no ACPI PM timer) calibrates it against the PIT only, which fails when the
# host is busy: tsc_khz stays 0, and KVM in the VM then never enters a guest
# (kvm_guest_time_update() waits for a TSC rate forever). Hand the guest
# kernel the host's rate when the host knows it (constant TSC).
vmmig_tsc_param() {
	grep -qw constant_tsc /proc/cpuinfo 2>/dev/null || return 0
	awk -F: '/^cpu MHz/ { printf "tsc_early_khz=%d\n", $2 * 1000; exit }' /proc/cpuinfo
}
