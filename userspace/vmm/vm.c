// SPDX-License-Identifier: GPL-2.0
/*
 * A VM's life: loading a guest program, the vCPU threads and their exits
 * (the port I/O devices), holding every vCPU still for a move, and
 * stopping. See the locking rules in vmm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

/* Interrupts KVM_RUN; the handler does nothing. */
#define SIG_KICK	SIGUSR1

static void kick_handler(int sig)
{
	(void)sig;
}

struct guest_info *vm_info(struct vm *vm)
{
	return (struct guest_info *)(vm->ram + GUEST_INFO_GPA);
}

void *vm_gpa(struct vm *vm, u64 gpa, u64 len)
{
	if (gpa > vm->ram_bytes || len > vm->ram_bytes - gpa)
		return NULL;
	return vm->ram + gpa;
}

void vm_mark_ram_dirty(struct vm *vm, u64 gpa, u64 len)
{
	if (len)
		bitmap_set_range_atomic(vm->ram_dirty, gpa / PAGE_SIZE,
					(gpa + len - 1) / PAGE_SIZE - gpa / PAGE_SIZE + 1);
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	pthread_condattr_t ca;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = -1;
	vm->vm_fd = -1;
	vm->disk.fd = -1;
	vm->event_fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->ring_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &ca);
	pthread_condattr_destroy(&ca);
	vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->event_fd < 0)
		return -errno;
	/* No SA_RESTART: a kick must end KVM_RUN with EINTR. */
	sigaction(SIG_KICK, &sa, NULL);

	if (!cfg->ncpus || cfg->ncpus > GUEST_MAX_VCPUS) {
		vmm_log("%u vCPUs: the VM has 1 to %u", cfg->ncpus, GUEST_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->ram_bytes < GUEST_MIN_RAM || cfg->ram_bytes > GUEST_MAX_RAM ||
	    cfg->ram_bytes % (2UL << 20)) {
		vmm_log("%lu MiB of RAM: the VM has 4 MiB to 3 GiB, in 2 MiB steps",
			(unsigned long)(cfg->ram_bytes >> 20));
		return -EINVAL;
	}
	ret = kvm_vm_create(vm, cfg);
	if (ret)
		return ret;
	vm->ram_dirty = calloc(bitmap_longs(vm->ram_pages), sizeof(long));
	if (!vm->ram_dirty)
		return -ENOMEM;
	serial_init(&vm->serial, cfg->serial_fd);
	return 0;
}

/* GDT, identity page tables for 4 GiB, the info page, the program. */
int vm_load(struct vm *vm, const char *image, const char *args)
{
	static const u64 gdt[] = {
		0, 0x00af9a000000ffffULL, 0x00cf92000000ffffULL,
	};
	u64 *pml4 = vm_gpa(vm, GUEST_PML4_GPA, PAGE_SIZE);
	u64 *pdpt = pml4 + 512, *pd = pml4 + 1024;
	struct guest_info *info = vm_info(vm);
	u64 room = vm->ram_bytes - GUEST_IMAGE_GPA;
	unsigned int i;
	struct stat st;
	ssize_t n;
	int fd, ret;

	if (strlen(args) >= GUEST_ARGS_MAX) {
		vmm_log("guest arguments longer than %d bytes", GUEST_ARGS_MAX - 1);
		return -E2BIG;
	}
	fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		vmm_log("guest program %s: %s", image, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if ((u64)st.st_size > room) {
		vmm_log("guest program %s (%lld bytes) does not fit in RAM", image,
			(long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	n = read(fd, vm->ram + GUEST_IMAGE_GPA, st.st_size);
	close(fd);
	if (n != st.st_size) {
		vmm_log("guest program %s: short read", image);
		return -EIO;
	}

	memcpy(vm->ram + GUEST_GDT_GPA, gdt, sizeof(gdt));
	pml4[0] = (GUEST_PML4_GPA + PAGE_SIZE) | 0x3;		/* present, writable */
	for (i = 0; i < 4; i++)
		pdpt[i] = (GUEST_PML4_GPA + (2 + i) * PAGE_SIZE) | 0x3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = (u64)i << 21 | 0x83;			/* 2 MiB page */

	info->magic = GUEST_INFO_MAGIC;
	info->ram_bytes = vm->ram_bytes;
	info->tsc_khz = vm->tsc_khz;
	info->ncpus = vm->ncpus;
	info->disk_blocks = vm->disk.blocks;
	memcpy(info->args, args, strlen(args) + 1);

	for (i = 0; i < vm->ncpus; i++) {
		ret = kvm_vcpu_boot(&vm->vcpus[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void vm_stop(struct vm *vm, int code, const char *fmt, ...)
{
	u64 one = 1;
	unsigned int i;
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->state != VM_STOPPED) {
		vm->state = VM_STOPPED;
		vm->exit_code = code;
		va_start(ap, fmt);
		vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
		va_end(ap);
		if (write(vm->event_fd, &one, sizeof(one)) < 0)
			vmm_log("eventfd: %s", strerror(errno));
		for (i = 0; i < vm->ncpus; i++) {
			if (!vm->vcpus[i].started)
				continue;
			vm->vcpus[i].run->immediate_exit = 1;
			pthread_kill(vm->vcpus[i].thread, SIG_KICK);
		}
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

bool vm_stopped(struct vm *vm)
{
	bool ret;

	pthread_mutex_lock(&vm->lock);
	ret = vm->state == VM_STOPPED;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int vm_wait(struct vm *vm)
{
	int code;

	pthread_mutex_lock(&vm->lock);
	while (vm->state != VM_STOPPED)
		pthread_cond_wait(&vm->cond, &vm->lock);
	code = vm->exit_code;
	pthread_mutex_unlock(&vm->lock);
	return code;
}

/* The guest asked to sleep: until the time is up or the VM is held. */
static void vcpu_sleep(struct vcpu *v, u32 us)
{
	struct vm *vm = v->vm;
	u64 deadline = now_ns() + (u64)us * 1000;
	struct timespec ts = {
		.tv_sec = deadline / 1000000000, .tv_nsec = deadline % 1000000000,
	};

	pthread_mutex_lock(&vm->lock);
	while (!vm->hold && vm->state != VM_STOPPED && now_ns() < deadline)
		pthread_cond_timedwait(&vm->cond, &vm->lock, &ts);
	pthread_mutex_unlock(&vm->lock);
}

static void vcpu_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	u8 *data = (u8 *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	struct vm *vm = v->vm;
	u16 port = run->io.port;
	u32 val = 0;

	if (port >= GUEST_PORT_COM1 && port < GUEST_PORT_COM1 + 8) {
		serial_io(&vm->serial, port, out, data, run->io.size, run->io.count);
		return;
	}
	if (run->io.size == 4 && run->io.count == 1)
		memcpy(&val, data, 4);
	else if (out)
		port = 0;	/* the 32-bit registers take 32-bit accesses only */

	switch (port) {
	case GUEST_PORT_POWEROFF:
		if (out) {
			vm_stop(vm, (int)val, "the guest powered off (status %d)", (int)val);
			return;
		}
		break;
	case GUEST_PORT_SLEEP:
		if (out) {
			vcpu_sleep(v, val);
			return;
		}
		break;
	case GUEST_PORT_BLK:
		if (out) {
			disk_request(vm, val);
		} else {
			val = vm->disk.fd >= 0 ? vm->disk.blocks : 0;
			memcpy(data, &val, 4);
		}
		return;
	}
	/* Nothing there: reads float high, writes vanish. */
	if (!out)
		memset(data, 0xff, (size_t)run->io.size * run->io.count);
}

static void vcpu_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_io(v);
		return;
	case KVM_EXIT_HLT:
		v->halted = true;
		return;
	case KVM_EXIT_INTR:
		return;
	case KVM_EXIT_DIRTY_RING_FULL:
		/* KVM enters this vCPU again only once its ring has room: make it. */
		pthread_mutex_lock(&v->vm->ring_lock);
		if (kvm_ring_harvest(v->vm))
			vm_stop(v->vm, 125, "vCPU %u: its dirty ring is full and cannot be reset",
				v->index);
		pthread_mutex_unlock(&v->vm->ring_lock);
		return;
	}
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		memset(&regs, 0, sizeof(regs));
	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		vm_stop(v->vm, 125, "vCPU %u: triple fault (rip %#llx)", v->index, regs.rip);
		break;
	case KVM_EXIT_MMIO:
		vm_stop(v->vm, 125, "vCPU %u: access to %#llx, outside RAM (rip %#llx)",
			v->index, run->mmio.phys_addr, regs.rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_stop(v->vm, 125, "vCPU %u: entry failed, reason %#llx", v->index,
			run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_stop(v->vm, 125, "vCPU %u: KVM internal error %u (rip %#llx)", v->index,
			run->internal.suberror, regs.rip);
		break;
	default:
		vm_stop(v->vm, 125, "vCPU %u: unexpected exit %u (rip %#llx)", v->index,
			run->exit_reason, regs.rip);
	}
}

/*
 * Finish the exit being handled: KVM completes an I/O instruction only on
 * the next KVM_RUN, and a vCPU must not be saved half way through one. With
 * immediate_exit set, KVM_RUN completes it and returns without running the
 * guest (a string I/O may need more exits first).
 */
static void vcpu_drain(struct vcpu *v)
{
	v->run->immediate_exit = 1;
	for (;;) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN)
				vm_stop(v->vm, 125, "vCPU %u: KVM_RUN: %s", v->index,
					strerror(errno));
			return;
		}
		vcpu_exit(v);
	}
}

static bool vcpu_must_park(struct vcpu *v)
{
	return v->vm->hold || v->halted || v->vm->state != VM_RUNNING;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	pthread_mutex_lock(&vm->lock);
	for (;;) {
		if (vcpu_must_park(v)) {
			if (!v->parked) {
				pthread_mutex_unlock(&vm->lock);
				vcpu_drain(v);
				pthread_mutex_lock(&vm->lock);
				v->parked = true;
				vm->parked++;
				pthread_cond_broadcast(&vm->cond);
				continue;
			}
			if (vm->state == VM_STOPPED && vm->hold == ~0U)
				break;
			pthread_cond_wait(&vm->cond, &vm->lock);
			continue;
		}
		if (v->parked) {
			v->parked = false;
			vm->parked--;
		}
		pthread_mutex_unlock(&vm->lock);

		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN)
				vm_stop(vm, 125, "vCPU %u: KVM_RUN: %s", v->index, strerror(errno));
		} else {
			vcpu_exit(v);
		}
		pthread_mutex_lock(&vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

static int vm_start_threads(struct vm *vm, bool held)
{
	unsigned int i;
	int ret;

	pthread_mutex_lock(&vm->lock);
	vm->state = VM_RUNNING;
	if (held)
		vm->hold++;
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->ncpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			vm_stop(vm, 125, "cannot start vCPU %u: %s", i, strerror(ret));
			return -ret;
		}
		vm->vcpus[i].started = true;
	}
	if (held) {
		pthread_mutex_lock(&vm->lock);
		while (vm->parked < vm->ncpus && vm->state != VM_STOPPED)
			pthread_cond_wait(&vm->cond, &vm->lock);
		pthread_mutex_unlock(&vm->lock);
	}
	return 0;
}

int vm_start(struct vm *vm)
{
	return vm_start_threads(vm, false);
}

int vm_start_held(struct vm *vm)
{
	return vm_start_threads(vm, true);
}

int vm_hold(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->state == VM_STOPPED) {
		pthread_mutex_unlock(&vm->lock);
		return -ESHUTDOWN;
	}
	vm->hold++;
	for (i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i].run->immediate_exit = 1;
		if (vm->vcpus[i].started)
			pthread_kill(vm->vcpus[i].thread, SIG_KICK);
	}
	pthread_cond_broadcast(&vm->cond);	/* out of guest sleeps */
	while (vm->parked < vm->ncpus && vm->state != VM_STOPPED && vm->state != VM_CREATED)
		pthread_cond_wait(&vm->cond, &vm->lock);
	if (vm->state == VM_STOPPED) {
		vm->hold--;
		ret = -ESHUTDOWN;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void vm_release(struct vm *vm)
{
	unsigned int i;

	pthread_mutex_lock(&vm->lock);
	if (!--vm->hold) {
		for (i = 0; i < vm->ncpus; i++)
			vm->vcpus[i].run->immediate_exit = 0;
		pthread_cond_broadcast(&vm->cond);
	}
	pthread_mutex_unlock(&vm->lock);
}

/* The period of the throttle: held for pct % of it, running the rest. */
#define THROTTLE_PERIOD_NS	50000000ULL

static void sleep_ns(u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *throttle_thread(void *arg)
{
	struct vm *vm = arg;
	unsigned int pct;

	pthread_setname_np(pthread_self(), "throttle");
	for (;;) {
		pthread_mutex_lock(&vm->lock);
		pct = vm->throttle_pct;
		pthread_mutex_unlock(&vm->lock);
		if (!pct)
			break;
		if (vm_hold(vm))
			break;
		sleep_ns(THROTTLE_PERIOD_NS * pct / 100);
		vm_release(vm);
		sleep_ns(THROTTLE_PERIOD_NS * (100 - pct) / 100);
	}
	return NULL;
}

void vm_set_throttle(struct vm *vm, unsigned int pct)
{
	pthread_mutex_lock(&vm->lock);
	vm->throttle_pct = pct;
	pthread_mutex_unlock(&vm->lock);
	if (pct && !vm->throttling) {
		vm->throttling = !pthread_create(&vm->throttle_thread, NULL, throttle_thread, vm);
	} else if (!pct && vm->throttling) {
		pthread_join(vm->throttle_thread, NULL);
		vm->throttling = false;
	}
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	vm_set_throttle(vm, 0);
	vm_stop(vm, 0, "destroyed");
	pthread_mutex_lock(&vm->lock);
	vm->hold = ~0U;		/* with VM_STOPPED: the vCPU threads return */
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
	kvm_vm_destroy(vm);
	disk_close(&vm->disk);
	free(vm->ram_dirty);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	pthread_cond_destroy(&vm->cond);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->ring_lock);
}
