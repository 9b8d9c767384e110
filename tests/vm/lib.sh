# Shared by the test rig scripts: where the cached test kernel lives.
# shellcheck shell=bash

VMMIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMMIG_CACHE=${VMMIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmmig}
VMMIG_SRC_TAR=${VMMIG_SRC_TAR:-/usr/src/linux-source-6.12.tar.xz}

vmmig_src_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown
}

# The cache key: source version + config fragment + the recipe that builds it.
vmmig_kernel_key() {
	{
		vmmig_src_version
		cat "$VMMIG_TOP/tests/vm/kernel.config" "$VMMIG_TOP/tests/vm/build-kernel"
	} | sha256sum | cut -c1-16
}

vmmig_kernel_dir() {
	echo "$VMMIG_CACHE/kernel-$(vmmig_src_version)-$(vmmig_kernel_key)"
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
