// SPDX-License-Identifier: GPL-2.0
/*
 * The KVM side of a VM: /dev/kvm, one memslot of RAM with dirty logging on
 * demand (KVM's bitmap, or with --dirty-ring its per-vCPU rings), vCPUs
 * started in long mode, and a vCPU's whole state saved and restored for a
 * move. No threads here: vm.c runs the vCPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

#define MSR_IA32_TSC		0x10
#define CR0_PE			BIT_ULL(0)
#define CR0_MP			BIT_ULL(1)
#define CR0_ET			BIT_ULL(4)
#define CR0_NE			BIT_ULL(5)
#define CR0_WP			BIT_ULL(16)
#define CR0_PG			BIT_ULL(31)
#define CR4_PAE			BIT_ULL(5)
#define CR4_OSFXSR		BIT_ULL(9)
#define CR4_OSXMMEXCPT		BIT_ULL(10)
#define EFER_LME		BIT_ULL(8)
#define EFER_LMA		BIT_ULL(10)

/*
 * The MSRs a move carries besides what the sregs hold (EFER, FS/GS base):
 * those a 64-bit guest may have set. Only the ones this KVM knows are kept.
 */
static const u32 vcpu_msrs[] = {
	0x174, 0x175, 0x176,		/* SYSENTER_CS/ESP/EIP */
	0x1a0,				/* MISC_ENABLE */
	0x277,				/* PAT */
	0xc0000081, 0xc0000082,		/* STAR, LSTAR */
	0xc0000083, 0xc0000084,		/* CSTAR, SYSCALL_MASK */
	0xc0000102, 0xc0000103,		/* KERNEL_GS_BASE, TSC_AUX */
};

static u32 msr_list[ARRAY_SIZE(vcpu_msrs)];
static unsigned int msr_count;
static size_t xsave_bytes;	/* 0: KVM_GET_FPU only */

static int kvm_ioctl_err(const char *what)
{
	int err = errno;

	vmm_log("%s: %s", what, strerror(err));
	return -err;
}

/* The MSRs of vcpu_msrs[] that KVM lists as saveable. */
static int kvm_pick_msrs(int kvm_fd)
{
	struct kvm_msr_list *list;
	unsigned int i, j, n = 256;

	list = calloc(1, sizeof(*list) + n * sizeof(u32));
	if (!list)
		return -ENOMEM;
	list->nmsrs = n;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return kvm_ioctl_err("KVM_GET_MSR_INDEX_LIST");
	}
	msr_count = 0;
	for (i = 0; i < ARRAY_SIZE(vcpu_msrs); i++)
		for (j = 0; j < list->nmsrs; j++)
			if (list->indices[j] == vcpu_msrs[i])
				msr_list[msr_count++] = vcpu_msrs[i];
	free(list);
	return 0;
}

static struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c;
	unsigned int n = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG) {
			kvm_ioctl_err("KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
		n *= 2;
	}
}

/* The vCPU's CPUID: what KVM supports, with this vCPU's APIC id. */
static int kvm_vcpu_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *src = v->vm->cpuid, *c;
	size_t size = sizeof(*c) + src->nent * sizeof(c->entries[0]);
	unsigned int i;
	int ret = 0;

	c = malloc(size);
	if (!c)
		return -ENOMEM;
	memcpy(c, src, size);
	for (i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 1) {
			c->entries[i].ebx &= 0x00ffffff;
			c->entries[i].ebx |= v->index << 24;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = kvm_ioctl_err("KVM_SET_CPUID2");
	free(c);
	return ret;
}

static int kvm_vcpu_create(struct vm *vm, unsigned int index)
{
	struct vcpu *v = &vm->vcpus[index];
	int size;

	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
	if (v->fd < 0)
		return kvm_ioctl_err("KVM_CREATE_VCPU");
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < 0)
		return kvm_ioctl_err("KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return kvm_ioctl_err("mmap(kvm_run)");
	}
	v->run_size = size;
	if (vm->ring_entries) {
		v->ring = mmap(NULL, vm->ring_entries * sizeof(*v->ring), PROT_READ | PROT_WRITE,
			       MAP_SHARED, v->fd, KVM_DIRTY_LOG_PAGE_OFFSET * PAGE_SIZE);
		if (v->ring == MAP_FAILED) {
			v->ring = NULL;
			return kvm_ioctl_err("mmap(dirty ring)");
		}
	}
	return kvm_vcpu_cpuid(v);
}

/*
 * --dirty-ring: KVM pushes each page a vCPU dirties to that vCPU's ring
 * instead of setting a bit in the slot's bitmap. Only before the first
 * vCPU exists. ACQ_REL (the VMM orders its accesses to the entries) is
 * preferred; x86 also has the plain cap, where it orders them the same way.
 */
static int kvm_enable_dirty_ring(struct vm *vm, u32 entries)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_DIRTY_LOG_RING_ACQ_REL };
	u64 bytes = (u64)entries * sizeof(struct kvm_dirty_gfn);
	int max;

	max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap.cap);
	if (max <= 0) {
		cap.cap = KVM_CAP_DIRTY_LOG_RING;
		max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap.cap);
	}
	if (max <= 0) {
		vmm_log("%s",
			"--dirty-ring: this KVM offers neither KVM_CAP_DIRTY_LOG_RING_ACQ_REL nor KVM_CAP_DIRTY_LOG_RING");
		return -ENOTSUP;
	}
	if (bytes > (u64)max || bytes < PAGE_SIZE || (entries & (entries - 1))) {
		vmm_log("--dirty-ring %u: a power of 2 from %lu to %lu entries on this KVM",
			entries, PAGE_SIZE / sizeof(struct kvm_dirty_gfn),
			(unsigned long)max / sizeof(struct kvm_dirty_gfn));
		return -EINVAL;
	}
	cap.args[0] = bytes;
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return kvm_ioctl_err("KVM_ENABLE_CAP(dirty ring)");
	vm->ring_entries = entries;
	vmm_log("dirty ring: %u entries per vCPU (%s)", entries,
		cap.cap == KVM_CAP_DIRTY_LOG_RING_ACQ_REL ? "KVM_CAP_DIRTY_LOG_RING_ACQ_REL"
							  : "KVM_CAP_DIRTY_LOG_RING");
	return 0;
}

static int kvm_set_slot(struct vm *vm, bool log)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.flags = log ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = 0,
		.memory_size = vm->ram_bytes,
		.userspace_addr = (u64)vm->ram,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return kvm_ioctl_err("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

int kvm_vm_create(struct vm *vm, const struct vm_config *cfg)
{
	unsigned int i;
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		vmm_log("/dev/kvm: %s (load kvm_amd or kvm_intel)", strerror(errno));
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		vmm_log("/dev/kvm: unexpected KVM API version");
		return -ENOTSUP;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		vmm_log("/dev/kvm: KVM_CAP_IMMEDIATE_EXIT is missing");
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return kvm_ioctl_err("KVM_CREATE_VM");
	ret = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (ret > 0)
		xsave_bytes = ret;
	else if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		xsave_bytes = sizeof(struct kvm_xsave);
	ret = kvm_pick_msrs(vm->kvm_fd);
	if (ret)
		return ret;

	vm->ram_bytes = cfg->ram_bytes;
	vm->ram_pages = cfg->ram_bytes / PAGE_SIZE;
	vm->ram = mmap(NULL, vm->ram_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return kvm_ioctl_err("mmap(guest RAM)");
	}
	ret = kvm_set_slot(vm, false);
	if (ret)
		return ret;
	if (cfg->dirty_ring) {
		ret = kvm_enable_dirty_ring(vm, cfg->dirty_ring);
		if (ret)
			return ret;
	}

	vm->cpuid = kvm_supported_cpuid(vm->kvm_fd);
	if (!vm->cpuid)
		return -ENOMEM;
	vm->ncpus = cfg->ncpus;
	for (i = 0; i < vm->ncpus; i++) {
		ret = kvm_vcpu_create(vm, i);
		if (ret)
			return ret;
	}
	ret = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	if (ret < 0)
		return kvm_ioctl_err("KVM_GET_TSC_KHZ");
	/*
	 * Without a TSC rate KVM never enters a guest: it waits for a clock
	 * update that cannot happen (kvm_guest_time_update()). Say so now.
	 */
	if (!ret) {
		vmm_log("%s",
			"KVM knows no TSC rate: this host's kernel could not calibrate its TSC, and KVM cannot run guests (boot it with tsc_early_khz=)");
		return -ENOTSUP;
	}
	vm->tsc_khz = ret;
	return 0;
}

void kvm_vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->ring)
			munmap(v->ring, vm->ring_entries * sizeof(*v->ring));
		if (v->fd > 0)
			close(v->fd);
	}
	if (vm->vm_fd > 0)
		close(vm->vm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_bytes);
	if (vm->kvm_fd > 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	free(vm->harvest);
	vm->ram = NULL;
	vm->cpuid = NULL;
	vm->harvest = NULL;
}

int kvm_set_dirty_logging(struct vm *vm, bool on)
{
	int ret;

	if (vm->dirty_logging == on)
		return 0;
	ret = kvm_set_slot(vm, on);
	if (!ret)
		vm->dirty_logging = on;
	return ret;
}

int kvm_get_dirty_log(struct vm *vm, unsigned long *map)
{
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = map };

	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return kvm_ioctl_err("KVM_GET_DIRTY_LOG");
	return 0;
}

/*
 * Take @v's entries that KVM filled, in ring order: the flags with acquire
 * semantics (the slot and offset are valid once DIRTY is seen), RESET set
 * with release semantics once they are copied (KVM may reuse the entry
 * after KVM_RESET_DIRTY_RINGS). An entry goes to vm.harvest, or, when that
 * is full (a migration that does not come to take them), as a bit to
 * vm.ram_dirty: sent all the same, by bitmap.
 */
static size_t kvm_ring_take(struct vm *vm, struct vcpu *v)
{
	size_t n = 0;

	for (;;) {
		struct kvm_dirty_gfn *e = &v->ring[v->ring_next & (vm->ring_entries - 1)];
		u32 flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

		if (!(flags & KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (vm->nharvest < vm->harvest_cap)
			vm->harvest[vm->nharvest++] = *e;
		else if (e->slot == 0 && e->offset < vm->ram_pages)
			bitmap_set_atomic(vm->ram_dirty, e->offset);
		__atomic_store_n(&e->flags, flags | KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		v->ring_next++;
		n++;
	}
	return n;
}

int kvm_ring_harvest(struct vm *vm)
{
	unsigned int i;
	size_t n = 0;

	if (!vm->harvest) {
		/* Two full rings a vCPU: a round's worth, and one filling meanwhile. */
		vm->harvest_cap = 2 * (size_t)vm->ring_entries * vm->ncpus;
		vm->harvest = calloc(vm->harvest_cap, sizeof(*vm->harvest));
		if (!vm->harvest)
			return -ENOMEM;
	}
	for (i = 0; i < vm->ncpus; i++)
		n += kvm_ring_take(vm, &vm->vcpus[i]);
	if (n && ioctl(vm->vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
		return kvm_ioctl_err("KVM_RESET_DIRTY_RINGS");
	return 0;
}

/*
 * What the guest may rely on, for comparing two hosts: KVM fills some
 * leaves from the host CPU the call ran on, so the APIC ids in them differ
 * between two CPUs of one machine and are left out.
 */
u64 kvm_cpuid_hash(const struct vm *vm)
{
	u64 h = 0;
	__u32 i;

	for (i = 0; i < vm->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 e = vm->cpuid->entries[i];

		if (e.function == 1)
			e.ebx &= 0x00ffffff;		/* initial APIC id */
		if (e.function == 0xb || e.function == 0x1f)
			e.edx = 0;			/* x2APIC id */
		if (e.function == 0x8000001e) {
			e.eax = 0;			/* extended APIC id */
			e.ebx &= ~0xffU;		/* core id */
			e.ecx &= ~0xffU;		/* node id */
		}
		h = digest64(&e, sizeof(e), h);
	}
	return h;
}

static void kvm_seg(struct kvm_segment *s, u16 sel, u8 type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* Long mode, paging on the identity map vm_load() wrote, at the entry. */
int kvm_vcpu_boot(struct vcpu *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return kvm_ioctl_err("KVM_GET_SREGS");
	kvm_seg(&sregs.cs, 0x08, 0xb, true);
	kvm_seg(&sregs.ds, 0x10, 0x3, false);
	sregs.es = sregs.ds;
	sregs.fs = sregs.ds;
	sregs.gs = sregs.ds;
	sregs.ss = sregs.ds;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = GUEST_PML4_GPA;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_ioctl_err("KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_IMAGE_GPA;
	regs.rflags = 0x2;
	regs.rdi = v->index;
	regs.rsi = GUEST_INFO_GPA;
	regs.rsp = GUEST_STACKS_GPA + (v->index + 1) * GUEST_STACK_SIZE;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return kvm_ioctl_err("KVM_SET_REGS");
	return 0;
}

size_t kvm_vcpu_state_size(struct vm *vm)
{
	(void)vm;
	return sizeof(struct vcpu_state) + (xsave_bytes ? xsave_bytes : sizeof(struct kvm_fpu));
}

static int kvm_msrs_io(struct vcpu *v, unsigned long cmd, struct kvm_msr_entry *e,
		       unsigned int n)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[VCPU_MAX_MSRS];
	} m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	memcpy(m.e, e, n * sizeof(*e));
	ret = ioctl(v->fd, cmd, &m);
	if (ret < 0)
		return kvm_ioctl_err(cmd == KVM_GET_MSRS ? "KVM_GET_MSRS" : "KVM_SET_MSRS");
	if ((unsigned int)ret != n) {
		vmm_log("%s: MSR %#x refused",
			cmd == KVM_GET_MSRS ? "KVM_GET_MSRS" : "KVM_SET_MSRS", e[ret].index);
		return -EINVAL;
	}
	if (cmd == KVM_GET_MSRS)
		memcpy(e, m.e, n * sizeof(*e));
	return 0;
}

/* The vCPU must be out of KVM_RUN with its last exit completed (vm.c). */
int kvm_vcpu_save(struct vcpu *v, struct vcpu_state *st)
{
	struct kvm_msr_entry tsc = { .index = MSR_IA32_TSC };
	unsigned int i;
	int ret;

	memset(st, 0, sizeof(*st));
	st->magic = VCPU_STATE_MAGIC;
	st->index = v->index;
	st->halted = v->halted;
	st->tsc_khz = v->vm->tsc_khz;
	if (ioctl(v->fd, KVM_GET_REGS, &st->regs) < 0)
		return kvm_ioctl_err("KVM_GET_REGS");
	if (ioctl(v->fd, KVM_GET_SREGS, &st->sregs) < 0)
		return kvm_ioctl_err("KVM_GET_SREGS");
	if (xsave_bytes) {
		unsigned long cmd = xsave_bytes > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2
									   : KVM_GET_XSAVE;

		if (ioctl(v->fd, cmd, st->xsave) < 0)
			return kvm_ioctl_err("KVM_GET_XSAVE");
		st->xsave_bytes = xsave_bytes;
	} else {
		if (ioctl(v->fd, KVM_GET_FPU, st->xsave) < 0)
			return kvm_ioctl_err("KVM_GET_FPU");
		st->xsave_bytes = 0;
	}
	if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
	    ioctl(v->fd, KVM_GET_XCRS, &st->xcrs) < 0)
		return kvm_ioctl_err("KVM_GET_XCRS");
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &st->events) < 0)
		return kvm_ioctl_err("KVM_GET_VCPU_EVENTS");
	if (ioctl(v->fd, KVM_GET_DEBUGREGS, &st->debugregs) < 0)
		return kvm_ioctl_err("KVM_GET_DEBUGREGS");
	st->nmsrs = msr_count;
	for (i = 0; i < msr_count; i++)
		st->msrs[i].index = msr_list[i];
	ret = kvm_msrs_io(v, KVM_GET_MSRS, st->msrs, st->nmsrs);
	if (ret)
		return ret;
	ret = kvm_msrs_io(v, KVM_GET_MSRS, &tsc, 1);
	if (ret)
		return ret;
	st->tsc = tsc.data;
	st->saved_wall_ns = wall_ns();
	return 0;
}

int kvm_vcpu_restore(struct vcpu *v, const struct vcpu_state *st, u64 tsc_advance_ns)
{
	struct kvm_msr_entry tsc = { .index = MSR_IA32_TSC };
	struct kvm_msr_entry msrs[VCPU_MAX_MSRS];
	int ret;

	if (st->magic != VCPU_STATE_MAGIC || st->index != v->index || st->nmsrs > VCPU_MAX_MSRS ||
	    (st->xsave_bytes && st->xsave_bytes != xsave_bytes)) {
		vmm_log("vCPU %u: the saved state does not fit this host", v->index);
		return -EINVAL;
	}
	/* Keep the guest's TSC rate, if this host runs at another. */
	if (st->tsc_khz != v->vm->tsc_khz &&
	    ioctl(v->fd, KVM_SET_TSC_KHZ, st->tsc_khz) < 0)
		return kvm_ioctl_err("KVM_SET_TSC_KHZ");
	if (ioctl(v->fd, KVM_SET_SREGS, &st->sregs) < 0)
		return kvm_ioctl_err("KVM_SET_SREGS");
	if (ioctl(v->fd, KVM_SET_REGS, &st->regs) < 0)
		return kvm_ioctl_err("KVM_SET_REGS");
	if (st->xsave_bytes) {
		if (ioctl(v->fd, KVM_SET_XSAVE, st->xsave) < 0)
			return kvm_ioctl_err("KVM_SET_XSAVE");
	} else if (ioctl(v->fd, KVM_SET_FPU, st->xsave) < 0) {
		return kvm_ioctl_err("KVM_SET_FPU");
	}
	if (ioctl(v->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
	    ioctl(v->fd, KVM_SET_XCRS, &st->xcrs) < 0)
		return kvm_ioctl_err("KVM_SET_XCRS");
	memcpy(msrs, st->msrs, sizeof(msrs));
	ret = kvm_msrs_io(v, KVM_SET_MSRS, msrs, st->nmsrs);
	if (ret)
		return ret;
	/* The TSC runs on through the move, at the guest's rate. */
	tsc.data = st->tsc + tsc_advance_ns / 1000 * st->tsc_khz / 1000;
	ret = kvm_msrs_io(v, KVM_SET_MSRS, &tsc, 1);
	if (ret)
		return ret;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &st->events) < 0)
		return kvm_ioctl_err("KVM_SET_VCPU_EVENTS");
	if (ioctl(v->fd, KVM_SET_DEBUGREGS, &st->debugregs) < 0)
		return kvm_ioctl_err("KVM_SET_DEBUGREGS");
	v->halted = st->halted;
	return 0;
}
