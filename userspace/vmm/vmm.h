/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmig-vm, the reference VMM: a VM on /dev/kvm with long-mode vCPUs, a
 * serial port, a block device on an image file, and live migration over
 * /dev/vmmig.
 *
 * Threads and locking:
 * - one thread per vCPU runs KVM_RUN and handles its exits (vm.c);
 * - the main thread runs the monitor (monitor.c) and, for a move, the
 *   migration (migrate.c);
 * - struct vm.lock guards the run state (@hold, @parked, @state, @exit_code)
 *   and is taken by vCPU threads only between two KVM_RUNs;
 * - the dirty bitmaps the VMM keeps itself (vm.ram_dirty, disk.dirty) are
 *   set with atomic ORs by vCPU threads and taken with atomic exchanges by
 *   the migration, so that a write is either in this round or the next;
 * - with --dirty-ring, struct vm.ring_lock guards the vCPUs' ring positions
 *   and the harvested entries: a vCPU whose ring filled up and the
 *   migration both harvest (kvm.c);
 * - the serial port has its own lock (several vCPUs may print).
 */
#ifndef _VMMIG_VMM_H
#define _VMMIG_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/kvm.h>

#include "compiler.h"
#include "guest_abi.h"

#define PAGE_SIZE	4096UL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BITS_PER_LONG	64

/* The guest's RAM is region 1 at gpa 0; a moved disk is region 2, far above it. */
#define VMM_REGION_RAM	1
#define VMM_REGION_DISK	2
#define VMM_DISK_GPA	0x10000000000ULL

/* Log to stderr, prefixed with the VMM's name. */
void vmm_log(const char *fmt, ...) __printf(1, 2);
extern const char *vmm_name;

u64 now_ns(void);		/* CLOCK_MONOTONIC */
u64 wall_ns(void);		/* CLOCK_REALTIME: comparable between hosts */

/* Bitmaps in KVM_GET_DIRTY_LOG layout: native longs, bit 0 = first page. */
static inline size_t bitmap_longs(u64 nbits)
{
	return (nbits + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

static inline void bitmap_set_atomic(unsigned long *map, u64 bit)
{
	__atomic_fetch_or(&map[bit / BITS_PER_LONG], 1UL << (bit % BITS_PER_LONG),
			  __ATOMIC_RELEASE);
}

/* Set bits first .. first + n - 1. */
void bitmap_set_range_atomic(unsigned long *map, u64 first, u64 n);
/* dst |= src, clearing src word by word atomically. */
void bitmap_take(unsigned long *dst, unsigned long *src, size_t longs);
u64 bitmap_weight(const unsigned long *map, size_t longs);

struct serial {
	pthread_mutex_t lock;
	int out_fd;			/* where THR bytes go */
	u8 ier, lcr, mcr, scr, dll, dlm;
};

struct serial_state {			/* migrated */
	u8 ier, lcr, mcr, scr, dll, dlm;
	u8 pad[2];
};

void serial_init(struct serial *s, int out_fd);
void serial_io(struct serial *s, u16 port, bool out, u8 *data,
	       unsigned int size, unsigned int count);
void serial_save(struct serial *s, struct serial_state *st);
void serial_restore(struct serial *s, const struct serial_state *st);

struct vm;

struct disk {
	char path[1024];
	int fd;				/* -1: no disk */
	u8 *map;			/* the image, MAP_SHARED */
	u64 bytes;
	u64 blocks;
	unsigned long *dirty;		/* blocks written since the last take */
};

/* Open (or with @create_bytes, create) an image; 0 or -errno. */
int disk_open(struct disk *d, const char *path, u64 create_bytes, bool excl);
void disk_close(struct disk *d);
void disk_request(struct vm *vm, u32 req_gpa);
int disk_flush(struct disk *d);

/*
 * A vCPU. @state and @halted belong to its thread while the VM runs, to
 * the migration while the VM is held.
 */
struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	bool halted;			/* ran HLT: nothing wakes it (no interrupts) */
	struct kvm_dirty_gfn *ring;	/* --dirty-ring: KVM's ring, mmapped */
	u32 ring_next;			/* the next entry KVM fills; under vm.ring_lock */
	bool parked;
};

enum vm_state {
	VM_CREATED,
	VM_RUNNING,
	VM_STOPPED,			/* the guest powered off or failed: final */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	u8 *ram;
	u64 ram_bytes;
	u64 ram_pages;
	unsigned int ncpus;
	struct vcpu vcpus[GUEST_MAX_VCPUS];
	struct kvm_cpuid2 *cpuid;
	u64 tsc_khz;
	bool dirty_logging;
	/* --dirty-ring: entries per vCPU ring (0: KVM's dirty bitmap instead) */
	u32 ring_entries;
	pthread_mutex_t ring_lock;
	struct kvm_dirty_gfn *harvest;	/* entries taken from the rings, not yet sent */
	size_t nharvest, harvest_cap;

	struct serial serial;
	struct disk disk;
	unsigned long *ram_dirty;	/* pages the VMM wrote (disk reads) */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_state state;
	unsigned int hold;		/* > 0: vCPUs must park */
	unsigned int parked;
	int exit_code;
	char exit_reason[256];
	int event_fd;			/* readable once the VM stopped */

	pthread_t throttle_thread;
	bool throttling;
	unsigned int throttle_pct;	/* of the time the vCPUs are held */
};

struct vm_config {
	u64 ram_bytes;
	unsigned int ncpus;
	int serial_fd;
	u32 dirty_ring;			/* entries per vCPU; 0: dirty bitmap */
};

/* kvm.c: the KVM side of a VM, no threads. */
int kvm_vm_create(struct vm *vm, const struct vm_config *cfg);
void kvm_vm_destroy(struct vm *vm);
int kvm_set_dirty_logging(struct vm *vm, bool on);
int kvm_get_dirty_log(struct vm *vm, unsigned long *map);
/*
 * --dirty-ring: harvest every vCPU's ring and reset them. The entries
 * join vm.harvest; what does not fit there goes to vm.ram_dirty. Call
 * with vm.ring_lock held.
 */
int kvm_ring_harvest(struct vm *vm);
int kvm_vcpu_boot(struct vcpu *v);
u64 kvm_cpuid_hash(const struct vm *vm);

/* A vCPU's whole architectural state, as it travels (see Documentation/vmm.md). */
#define VCPU_STATE_MAGIC	0x54534356	/* "VCST" */
#define VCPU_MAX_MSRS		32

struct vcpu_state {
	u32 magic;
	u32 index;
	u32 halted;
	u32 nmsrs;
	u64 tsc_khz;
	u64 tsc;			/* MSR_IA32_TSC when saved */
	u64 saved_wall_ns;		/* wall clock when @tsc was read */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_msr_entry msrs[VCPU_MAX_MSRS];
	u32 xsave_bytes;
	u32 pad;
	u8 xsave[];		/* KVM_GET_XSAVE(2) */
};

size_t kvm_vcpu_state_size(struct vm *vm);
int kvm_vcpu_save(struct vcpu *v, struct vcpu_state *st);
/* @tsc_advance_ns: how long the move took, added to the guest's TSC. */
int kvm_vcpu_restore(struct vcpu *v, const struct vcpu_state *st, u64 tsc_advance_ns);

/* vm.c: the VM's life. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);
/* Write the program and the info page; set every vCPU at its entry. */
int vm_load(struct vm *vm, const char *image, const char *args);
int vm_start(struct vm *vm);
/* Start the vCPU threads, but held (vm_release() lets them run). */
int vm_start_held(struct vm *vm);
/* Park every vCPU (nests); 0, or -ESHUTDOWN if the VM has stopped. */
int vm_hold(struct vm *vm);
void vm_release(struct vm *vm);
/* Hold the vCPUs @pct % of the time (0: stop throttling). */
void vm_set_throttle(struct vm *vm, unsigned int pct);
/* Stop the VM for good, with this exit status and reason. */
void vm_stop(struct vm *vm, int code, const char *fmt, ...)
	__printf(3, 4);
bool vm_stopped(struct vm *vm);
/* Wait until the VM stops; its exit code. */
int vm_wait(struct vm *vm);
void vm_mark_ram_dirty(struct vm *vm, u64 gpa, u64 len);
struct guest_info *vm_info(struct vm *vm);
/* Pages of the guest's RAM, or NULL if out of range. */
void *vm_gpa(struct vm *vm, u64 gpa, u64 len);

/* digest.c: a 64-bit digest of a byte range (not cryptographic). */
u64 digest64(const void *p, size_t len, u64 seed);

#endif /* _VMMIG_VMM_H */
