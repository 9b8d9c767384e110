// SPDX-License-Identifier: GPL-2.0
/*
 * A real KVM guest migrated with vmmig: a vCPU in 32-bit protected mode
 * writes a known set of pages each round; the test takes KVM_GET_DIRTY_LOG,
 * checks it names exactly those pages, and hands the bitmap unchanged to
 * VMMIG_IOC_SEND_DIRTY, as a VMM would. After FINISH the destination (a
 * child in netns B) must hold the guest's memory byte for byte. The same
 * over RDMA, on the Soft-RoCE rig of vmmig_test.h (both hosts in the
 * initial namespace).
 *
 * Also: a bitmap longer than its region, or with bits past it, is refused
 * with EINVAL and sends nothing.
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define REGION_ID	1

/* The guest: one memslot, code in its first page, data in all the others. */
#define GUEST_GPA	0x100000UL
#define GUEST_PAGES	1024UL
#define GUEST_BYTES	(GUEST_PAGES * PG)
#define GUEST_WORDS	(GUEST_PAGES / 64)
#define GUEST_IO_PORT	0x10
#define ROUNDS		5
#define GUEST_ROUND_SECS	60

/*
 * Flat 32-bit protected mode, no paging, no stack, no interrupts. %ebx is
 * the round, 0 at reset. Round r writes every page p = r, r + K, r + 2K, ...
 * below GUEST_PAGES, with K = r + 1: dword i of page p becomes
 * r << 24 | p << 12 | i, so a page from another round or place shows. Then
 * OUT r to GUEST_IO_PORT hands control back to the host. The two
 * immediates are filled in at GUEST_CODE_GPA_AT and GUEST_CODE_PAGES_AT.
 */
#define GUEST_CODE_GPA_AT	0x0d
#define GUEST_CODE_PAGES_AT	0x2b

static const unsigned char guest_code[] = {
	0x43,				/* 00: inc %ebx		round++ */
	0x8d, 0x73, 0x01,		/* 01: lea 1(%ebx),%esi	K */
	0x89, 0xda,			/* 04: mov %ebx,%edx	p = r */
	0x89, 0xd7,			/* 06: mov %edx,%edi */
	0xc1, 0xe7, 0x0c,		/* 08: shl $12,%edi */
	0x81, 0xc7, 0, 0, 0, 0,		/* 0b: add $GUEST_GPA,%edi */
	0x89, 0xd8,			/* 11: mov %ebx,%eax */
	0xc1, 0xe0, 0x18,		/* 13: shl $24,%eax */
	0x89, 0xd1,			/* 16: mov %edx,%ecx */
	0xc1, 0xe1, 0x0c,		/* 18: shl $12,%ecx */
	0x09, 0xc8,			/* 1b: or %ecx,%eax */
	0xb9, 0x00, 0x04, 0x00, 0x00,	/* 1d: mov $1024,%ecx */
	0xab,				/* 22: stos %eax,%es:(%edi) */
	0x40,				/* 23: inc %eax */
	0x49,				/* 24: dec %ecx */
	0x75, 0xfb,			/* 25: jnz 22 */
	0x01, 0xf2,			/* 27: add %esi,%edx	p += K */
	0x81, 0xfa, 0, 0, 0, 0,		/* 29: cmp $GUEST_PAGES,%edx */
	0x72, 0xd5,			/* 2f: jb 06 */
	0x89, 0xd8,			/* 31: mov %ebx,%eax */
	0xe6, GUEST_IO_PORT,		/* 33: out %al,$GUEST_IO_PORT */
	0xeb, 0xc9,			/* 35: jmp 00 */
};

static bool guest_writes(unsigned long page, unsigned int round)
{
	return page >= round && page % (round + 1) == round;
}

static __u32 guest_word(unsigned long page, unsigned int round, unsigned int i)
{
	return (__u32)round << 24 | page << 12 | i;
}

/* The source's session is not the destination child's to hold. */
static int dest_close_src(int fd, const void *src_fd)
{
	close(*(const int *)src_fd);
	return 0;
}

static pid_t dest_start(struct vt_dest *d, const int *src_fd)
{
	d->region = REGION_ID;
	d->accept_ms = 60000;
	d->event_ms = 120000;
	d->setup = dest_close_src;
	d->priv = src_fd;
	return vt_dest_start(d);
}

/* A destination a failed test left behind. */
static void dest_kill(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static unsigned int popcount_map(const unsigned long *map, size_t words)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < words; i++)
		n += __builtin_popcountl(map[i]);
	return n;
}

/* One VM, one vCPU, one memslot. */
struct guest {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	unsigned char *mem;	/* guest RAM: the source's region */
};

static void put32(unsigned char *p, __u32 v)
{
	memcpy(p, &v, sizeof(v));	/* x86: little endian */
}

/* The vCPU in flat 32-bit protected mode at the code; slot 0 logs dirty pages. */
static void guest_create(struct __test_metadata *_metadata, struct guest *g)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = GUEST_GPA, .memory_size = GUEST_BYTES,
		.userspace_addr = (unsigned long)g->mem,
	};
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffffffff, .present = 1, .dpl = 0,
		.db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	void *run;
	int size;

	ASSERT_EQ(KVM_API_VERSION, ioctl(g->kvm, KVM_GET_API_VERSION, 0));
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, g->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
	memcpy(g->mem, guest_code, sizeof(guest_code));
	put32(g->mem + GUEST_CODE_GPA_AT, GUEST_GPA);
	put32(g->mem + GUEST_CODE_PAGES_AT, GUEST_PAGES);
	ASSERT_EQ(0, ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		TH_LOG("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, g->vcpu) TH_LOG("KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, size);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, g->vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	g->run = run;
	g->run_size = size;

	ASSERT_EQ(0, ioctl(g->vcpu, KVM_GET_SREGS, &sregs));
	seg.type = 0xb;		/* code: execute/read, accessed */
	seg.selector = 0x8;
	sregs.cs = seg;
	seg.type = 0x3;		/* data: read/write, accessed */
	seg.selector = 0x10;
	sregs.ds = seg;
	sregs.es = seg;
	sregs.fs = seg;
	sregs.gs = seg;
	sregs.ss = seg;
	sregs.cr0 |= 0x1;		/* PE */
	sregs.cr0 &= ~0x80000000ULL;	/* no PG */
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_SREGS, &sregs))
		TH_LOG("KVM_SET_SREGS: %s", strerror(errno));
	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_GPA;
	regs.rflags = 0x2;
	ASSERT_EQ(0, ioctl(g->vcpu, KVM_SET_REGS, &regs));
}

static void guest_destroy(struct guest *g)
{
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->vcpu >= 0)
		close(g->vcpu);
	if (g->vm >= 0)
		close(g->vm);
	close(g->kvm);
}

/*
 * The guest's TSC frequency, 0 if KVM does not know the host's (its TSC
 * calibration failed): KVM then never enters a guest, KVM_RUN spins.
 */
static int kvm_tsc_khz(int kvm)
{
	int vm, vcpu, khz = -1;

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return -1;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu >= 0) {
		khz = ioctl(vcpu, KVM_GET_TSC_KHZ, 0);
		close(vcpu);
	}
	close(vm);
	return khz;
}

static void guest_watchdog(int sig)
{
}

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Run the vCPU until its OUT at the end of a round; return the round it says. */
static int guest_run_round(struct __test_metadata *_metadata, struct guest *g)
{
	struct sigaction sa = { .sa_handler = guest_watchdog };
	struct kvm_run *run = g->run;
	time_t deadline = now_s() + GUEST_ROUND_SECS;
	struct kvm_regs regs;
	int rc;

	/* A round takes well under a second even under TCG: fail, do not hang. */
	sigaction(SIGALRM, &sa, NULL);
	alarm(GUEST_ROUND_SECS);
	do {
		rc = ioctl(g->vcpu, KVM_RUN, 0);
	} while (rc < 0 && errno == EINTR && now_s() < deadline);
	alarm(0);
	if (rc < 0 && errno == EINTR) {
		ioctl(g->vcpu, KVM_GET_REGS, &regs);
		TH_LOG("the round did not end in %d s: rip %#llx, round %llu, page %llu",
		       GUEST_ROUND_SECS, (unsigned long long)regs.rip,
		       (unsigned long long)regs.rbx, (unsigned long long)regs.rdx);
		return -1;
	}
	if (rc < 0) {
		TH_LOG("KVM_RUN: %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != GUEST_IO_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 1 || run->io.count != 1) {
		TH_LOG("unexpected exit %u (entry failure %#llx, suberror %u, port %#x)",
		       run->exit_reason,
		       (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
		       run->internal.suberror, run->io.port);
		return -1;
	}
	return *((unsigned char *)run + run->io.data_offset);
}

/* The first word where two bitmaps differ, or -1. */
static int map_diff(const unsigned long *a, const unsigned long *b, unsigned int words)
{
	unsigned int i;

	for (i = 0; i < words; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

FIXTURE(kvm) {
	struct guest g;
	int fd;
	pid_t dest;
	unsigned char *dst;	/* the destination's region, shared with it */
	struct vt_dest_result *res;
};

FIXTURE_VARIANT(kvm) {
	bool rdma;
};

FIXTURE_VARIANT_ADD(kvm, tcp) { .rdma = false };
FIXTURE_VARIANT_ADD(kvm, rdma) { .rdma = true };

FIXTURE_SETUP(kvm)
{
	self->g.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (self->g.kvm < 0)
		SKIP(return, "/dev/kvm: %s (load kvm_amd or kvm_intel)", strerror(errno));
	if (!kvm_tsc_khz(self->g.kvm))
		SKIP(return, "KVM knows no host TSC frequency (dmesg: tsc:): it cannot run guests");
	self->g.vm = -1;
	self->g.vcpu = -1;
	self->fd = -1;
	if (variant->rdma) {
		ASSERT_EQ(0, vt_rig_setup(true));
	} else {
		ASSERT_EQ(0, vt_netns_setup());
		ASSERT_EQ(0, vt_hosts_enable());
		ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	}
	self->dst = map_anon(GUEST_BYTES, MAP_SHARED);
	ASSERT_NE(NULL, self->dst);
	memset(self->dst, 0xee, GUEST_BYTES);
	self->res = map_anon(sizeof(*self->res), MAP_SHARED);
	ASSERT_NE(NULL, self->res);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(kvm)
{
	dest_kill(self->dest);
	if (self->fd >= 0)
		close(self->fd);
	guest_destroy(&self->g);
	if (self->g.mem)
		munmap(self->g.mem, GUEST_BYTES);
	munmap(self->dst, GUEST_BYTES);
	munmap(self->res, sizeof(*self->res));
	if (variant->rdma)
		vt_rig_teardown();
	else
		vt_netns_teardown();
}

/*
 * Round 0 sends all of guest RAM; each of rounds 1..ROUNDS runs the guest,
 * takes KVM's dirty log, which must be exactly the pages the guest wrote,
 * and sends that bitmap as it is. After FINISH the destination is equal.
 */
TEST_F_TIMEOUT(kvm, dirty_log_rounds_then_equal, 600)
{
	struct vt_dest a = {
		.mem = self->dst, .len = GUEST_BYTES, .gpa = GUEST_GPA,
		.port = variant->rdma ? 6635 : 6630, .netns = variant->rdma ? NULL : VT_NS_B,
		.res = self->res,
	};
	unsigned long map[GUEST_WORDS], want[GUEST_WORDS];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = map };
	__u64 sent = 0, zeros = 0;
	struct vmmig_dirty d;
	struct vmmig_stats st;
	unsigned int round, i, code_dirty = 0;
	size_t diff;
	int w;
	unsigned long p;
	pid_t pid;

	/* The destination first: it need not inherit guest RAM or the VM. */
	pid = dest_start(&a, &self->fd);
	ASSERT_LE(0, pid);
	self->dest = pid;
	self->g.mem = map_anon(GUEST_BYTES, MAP_PRIVATE);
	ASSERT_NE(NULL, self->g.mem);
	guest_create(_metadata, &self->g);

	/* Nothing ran yet: the host's own writes (the code) are not logged. */
	ASSERT_EQ(0, ioctl(self->g.vm, KVM_GET_DIRTY_LOG, &log));
	EXPECT_EQ(0, popcount_map(map, GUEST_WORDS));

	ASSERT_EQ(0, vt_add_region(self->fd, REGION_ID, self->g.mem, GUEST_BYTES, GUEST_GPA));
	if (variant->rdma) {
		ASSERT_EQ(0, vt_connect_rdma(self->fd, VT_RIG_ADDR_B, a.port, 2, 0, 0));
		/* Raw pages go by RDMA WRITE: the destination registered its RAM. */
		EXPECT_LT(0, vt_rdma_resources("mr"));
	} else {
		ASSERT_EQ(0, vt_connect_retry(self->fd, NULL, a.port, 2, 200));
	}

	/* Round 0: everything, i.e. the code page and 1023 zero pages. */
	ASSERT_EQ(0, vt_send_dirty(self->fd, REGION_ID, 0, GUEST_PAGES, NULL, &d));
	EXPECT_EQ(GUEST_PAGES, d.pages);
	EXPECT_EQ(GUEST_PAGES - 1, d.zero_pages);
	sent += d.pages;
	zeros += d.zero_pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));

	for (round = 1; round <= ROUNDS; round++) {
		ASSERT_EQ(round, guest_run_round(_metadata, &self->g));

		memset(want, 0, sizeof(want));
		for (p = 0; p < GUEST_PAGES; p++) {
			if (!guest_writes(p, round))
				continue;
			want[p / 64] |= 1UL << (p % 64);
			/* The guest did what we think it did. */
			for (i = 0; i < PG / 4; i += PG / 4 - 1)
				ASSERT_EQ(guest_word(p, round, i),
					  ((__u32 *)(self->g.mem + p * PG))[i])
					TH_LOG("round %u page %lu word %u", round, p, i);
		}

		memset(map, 0xa5, sizeof(map));
		ASSERT_EQ(0, ioctl(self->g.vm, KVM_GET_DIRTY_LOG, &log))
			TH_LOG("KVM_GET_DIRTY_LOG: %s", strerror(errno));
		/*
		 * The code page is only fetched, but KVM maps a page writable
		 * (and so logs it dirty) on its first fault of any kind: allow
		 * it. The data pages must be exactly the guest's.
		 */
		if (map[0] & 1) {
			want[0] |= 1;
			code_dirty++;
		}
		w = map_diff(want, map, GUEST_WORDS);
		EXPECT_EQ(-1, w)
			TH_LOG("round %u: dirty log word %d (pages %d..%d) is %#lx, want %#lx",
			       round, w, w * 64, w * 64 + 63, map[w], want[w]);

		/* KVM's bitmap as it is, for the whole slot. */
		ASSERT_EQ(0, vt_send_dirty(self->fd, REGION_ID, 0, GUEST_PAGES, map, &d));
		EXPECT_EQ(popcount_map(map, GUEST_WORDS), d.pages);
		EXPECT_EQ(0, d.zero_pages);
		sent += d.pages;
		zeros += d.zero_pages;
		ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	}
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	TH_LOG("%llu pages sent in %u rounds; code page logged dirty in %u of them",
	       (unsigned long long)sent, ROUNDS + 1, code_dirty);

	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_FINISHED, st.state);
	EXPECT_EQ(VMMIG_ROLE_SOURCE, st.role);
	EXPECT_EQ(sent, st.pages);
	EXPECT_EQ(zeros, st.zero_pages);
	EXPECT_EQ(ROUNDS + 2, st.rounds);	/* round 0, ROUNDS SYNCs, FINISH's */

	self->dest = 0;
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(0, self->res->wait_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(ROUNDS + 2, self->res->syncs);
	EXPECT_EQ(VMMIG_STATE_FINISHED, self->res->stats.state);
	EXPECT_EQ(VMMIG_ROLE_DESTINATION, self->res->stats.role);
	EXPECT_EQ(sent, self->res->stats.pages);
	EXPECT_EQ(zeros, self->res->stats.zero_pages);
	diff = vt_first_diff(self->g.mem, self->dst, GUEST_BYTES);
	EXPECT_EQ(SIZE_MAX, diff)
		TH_LOG("first differing page: %zu", diff);
}

/*
 * SEND_DIRTY with a bitmap that does not fit its range: longer or shorter
 * than ALIGN(num_pages, 64) / 8, bits set past num_pages (e.g. a dirty log
 * of a larger memslot), or a range past the region. Each is EINVAL, sends
 * nothing and leaves the session usable; a good bitmap then sends just its
 * pages. No KVM needed.
 */
#define BAD_PAGES	200UL	/* not a multiple of 64: the last word has a tail */
#define BAD_BYTES	(BAD_PAGES * PG)

FIXTURE(badmap) {
	int fd;
	pid_t dest;
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
};

FIXTURE_SETUP(badmap)
{
	size_t i;

	self->fd = -1;
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = map_anon(BAD_BYTES, MAP_PRIVATE);
	ASSERT_NE(NULL, self->src);
	self->dst = map_anon(BAD_BYTES, MAP_SHARED);
	ASSERT_NE(NULL, self->dst);
	self->res = map_anon(sizeof(*self->res), MAP_SHARED);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < BAD_PAGES; i++)
		memset(self->src + i * PG, (int)(i % 200) + 1, PG);
	memset(self->dst, 0xee, BAD_BYTES);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(badmap)
{
	dest_kill(self->dest);
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->src, BAD_BYTES);
	munmap(self->dst, BAD_BYTES);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

static int send_raw(int fd, __u64 first, __u64 num, const unsigned long *map, __u64 map_size)
{
	struct vmmig_dirty d = {
		.size = sizeof(d), .region_id = REGION_ID, .first_page = first,
		.num_pages = num, .bitmap = (unsigned long)map, .bitmap_size = map_size,
	};

	return vt_ioctl(fd, VMMIG_IOC_SEND_DIRTY, &d);
}

static bool in_list(unsigned long v, const unsigned long *list, size_t n)
{
	while (n--)
		if (list[n] == v)
			return true;
	return false;
}

static void set_page(unsigned long *map, unsigned long page)
{
	map[page / 64] |= 1UL << (page % 64);
}

TEST_F_TIMEOUT(badmap, oversized_bitmap_rejected, 300)
{
	struct vt_dest a = {
		.mem = self->dst, .len = BAD_BYTES, .gpa = GUEST_GPA,
		.port = 6631, .netns = VT_NS_B, .res = self->res,
	};
	/* As long as a dirty log of a 256-page slot, plus a spare word. */
	unsigned long map[5];
	static const unsigned long good[] = { 0, 63, 64, 199 };
	struct vmmig_stats before, st;
	unsigned char fill[PG];
	struct vmmig_dirty d;
	unsigned int i;
	pid_t pid;

	ASSERT_EQ(0, vt_add_region(self->fd, REGION_ID, self->src, BAD_BYTES, GUEST_GPA));
	pid = dest_start(&a, &self->fd);
	ASSERT_LE(0, pid);
	self->dest = pid;
	ASSERT_EQ(0, vt_connect_retry(self->fd, NULL, a.port, 2, 200));
	ASSERT_EQ(0, vt_stats(self->fd, &before));
	EXPECT_EQ(0, before.pages);

	/* Valid bits, bitmap one word longer than the range's 4. */
	memset(map, 0, sizeof(map));
	set_page(map, 1);
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 40));
	/* ... much longer. */
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 1ULL << 40));
	/* ... shorter, or none. */
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 24));
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 0));
	/* The right size, a bit past the region's last page. */
	set_page(map, BAD_PAGES);
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 32));
	map[3] = 1UL << 63;	/* page 255 only */
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES, map, 32));
	/* A 256-page slot's log, claiming its own length: past the region. */
	memset(map, 0xff, sizeof(map));
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, 256, map, 32));
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 0, BAD_PAGES + 1, map, 32));
	/* From page 64: 136 pages left, bit 136 is page 200. */
	memset(map, 0, sizeof(map));
	set_page(map, BAD_PAGES - 64);
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 64, BAD_PAGES - 64, map, 24));
	EXPECT_EQ(-EINVAL, send_raw(self->fd, 64, BAD_PAGES - 64 + 1, map, 24));

	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ACTIVE, st.state);
	EXPECT_EQ(before.pages, st.pages);
	EXPECT_EQ(before.bytes_wire, st.bytes_wire);

	/* The session is still good: a right bitmap sends just its pages. */
	memset(map, 0, sizeof(map));
	for (i = 0; i < ARRAY_SIZE(good); i++)
		set_page(map, good[i]);
	ASSERT_EQ(0, vt_send_dirty(self->fd, REGION_ID, 0, BAD_PAGES, map, &d));
	EXPECT_EQ(ARRAY_SIZE(good), d.pages);
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(ARRAY_SIZE(good), st.pages);

	self->dest = 0;
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(ARRAY_SIZE(good), self->res->stats.pages);
	memset(fill, 0xee, PG);
	for (i = 0; i < BAD_PAGES; i++) {
		bool sent = in_list(i, good, ARRAY_SIZE(good));

		EXPECT_EQ(0, memcmp(sent ? self->src + i * PG : fill, self->dst + i * PG, PG))
			TH_LOG("destination page %u (%s)", i, sent ? "sent" : "never sent");
	}
}

TEST_HARNESS_MAIN
