// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations between two "hosts" (network namespaces joined by veth): a
 * source process in netns A sends its patterned memory in rounds to a
 * destination process in netns B, which must end up equal byte for byte.
 * Also every ioctl-level bad input, and peers that go away.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/capability.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

/* TEST()s set up two hosts and pin memory: 30 s is short on a loaded TCG host. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define PG		4096UL
#define MIB		(1024UL * 1024)

/* The destination host B. */
static pid_t dest_start(struct vt_dest *d)
{
	d->netns = VT_NS_B;
	d->gpa = 0x100000;
	d->event_ms = 60000;
	return vt_dest_start(d);
}

FIXTURE(mig) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
	size_t len;
	int fd;
};

FIXTURE_VARIANT(mig) {
	size_t mib;
	unsigned int channels;
	const char *addr;
	__u16 port;
	__u32 compression;
	bool fresh;	/* the destination: zero memory, VMMIG_REGION_FRESH */
};

FIXTURE_VARIANT_ADD(mig, mib256_ch1) { .mib = 256, .channels = 1, .port = 6601 };
FIXTURE_VARIANT_ADD(mig, mib256_ch4) { .mib = 256, .channels = 4, .port = 6602 };
FIXTURE_VARIANT_ADD(mig, v6_ch3) { .mib = 16, .channels = 3, .addr = VT_ADDR6_B, .port = 6603 };
FIXTURE_VARIANT_ADD(mig, mib32_ch16_default_port) { .mib = 32, .channels = 16 };
FIXTURE_VARIANT_ADD(mig, mib256_ch2_lz4) {
	.mib = 256, .channels = 2, .port = 6604, .compression = VMMIG_COMP_LZ4,
};

FIXTURE_VARIANT_ADD(mig, mib256_ch2_zstd) {
	.mib = 256, .channels = 2, .port = 6605, .compression = VMMIG_COMP_ZSTD,
};

/* Pages that held data turn zero in later rounds: those must be cleared. */
FIXTURE_VARIANT_ADD(mig, mib64_ch2_fresh) { .mib = 64, .channels = 2, .port = 6606, .fresh = true };
FIXTURE_VARIANT_ADD(mig, mib64_ch2_lz4_fresh) {
	.mib = 64, .channels = 2, .port = 6607, .compression = VMMIG_COMP_LZ4, .fresh = true,
};

FIXTURE_SETUP(mig)
{
	size_t i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->len = variant->mib * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(self->len);
	ASSERT_NE(NULL, self->dst);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->res);
	/* Every page distinct, one in eight left zero. */
	for (i = 0; i < self->len / PG; i++)
		if (i % 8)
			vt_fill_page(self->src, i, 0);
	memset(self->dst, variant->fresh ? 0 : 0xee, self->len);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(mig)
{
	close(self->fd);
	munmap(self->src, self->len);
	munmap(self->dst, self->len);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

/*
 * Round 0 sends everything; rounds 1..3 re-dirty overlapping subsets (some
 * pages turn zero, some are written in every round) and send them as KVM
 * dirty bitmaps. After FINISH the destination equals the source.
 */
TEST_F_TIMEOUT(mig, rounds_then_equal, 600)
{
	size_t npages = self->len / PG, words = (npages + 63) / 64, i;
	struct vt_dest a = {
		.mem = self->dst, .len = self->len, .region = 1,
		.port = variant->port, .accept_ms = 30000, .res = self->res,
		.region_flags = variant->fresh ? VMMIG_REGION_FRESH : 0,
	};
	unsigned long *map = calloc(words, 8);
	static const char state[] = "vcpu state v1";
	struct vmmig_blob b = {
		.size = sizeof(b), .tag = 42, .data = (unsigned long)state,
		.length = sizeof(state),
	};
	struct vmmig_dirty d;
	struct vmmig_stats st;
	__u64 sent = 0, zeros = 0;
	unsigned int round;
	pid_t pid;

	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, vt_add_region(self->fd, 1, self->src, self->len, 0x100000));
	pid = dest_start(&a);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, vt_connect_comp_retry(self->fd, variant->addr, variant->port,
					   variant->channels, variant->compression, 200));

	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, NULL, &d));
	EXPECT_EQ(npages, d.pages);
	EXPECT_EQ(npages / 8, d.zero_pages);
	sent += d.pages;
	zeros += d.zero_pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));

	for (round = 1; round <= 3; round++) {
		size_t stride = round * 3 + 2;

		memset(map, 0, words * 8);
		for (i = round; i < npages; i += stride) {
			if (i % 16 == round)
				memset(self->src + i * PG, 0, PG);
			else
				vt_fill_page(self->src, i, round);
			map[i / 64] |= 1UL << (i % 64);
		}
		/* The same pages in every round: the newest copy must win. */
		for (i = 0; i < 8; i++) {
			vt_fill_page(self->src, i * 97 + 1, round);
			map[(i * 97 + 1) / 64] |= 1UL << ((i * 97 + 1) % 64);
		}
		ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, map, &d));
		sent += d.pages;
		zeros += d.zero_pages;
		ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	}
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));

	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_FINISHED, st.state);
	EXPECT_EQ(VMMIG_ROLE_SOURCE, st.role);
	EXPECT_EQ(variant->channels, st.channels);
	EXPECT_EQ(sent, st.pages);
	EXPECT_EQ(zeros, st.zero_pages);
	EXPECT_EQ(5, st.rounds);	/* four SYNCs and FINISH's */
	EXPECT_EQ(1, st.blobs);
	EXPECT_LT(0, st.bytes_per_sec);
	EXPECT_EQ(variant->compression, st.compression);
	if (variant->compression) {
		/* Every non-zero page went through the codec, one way or the other. */
		EXPECT_EQ(sent - zeros, st.comp_pages + st.incompressible_pages);
		EXPECT_EQ((sent - zeros) * PG, st.comp_bytes_in);
		EXPECT_LT(st.comp_bytes_out, st.bytes_wire);
	} else {
		EXPECT_LT((sent - zeros) * PG, st.bytes_wire);
		EXPECT_EQ(0, st.comp_pages + st.incompressible_pages + st.comp_bytes_in);
	}

	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(5, self->res->syncs);
	EXPECT_EQ(1, self->res->blobs);
	EXPECT_EQ(42, self->res->blob_tag);
	EXPECT_EQ(sizeof(state), self->res->blob_len);
	EXPECT_EQ(0, memcmp(state, self->res->blob, sizeof(state)));
	EXPECT_EQ(VMMIG_STATE_FINISHED, self->res->stats.state);
	EXPECT_EQ(VMMIG_ROLE_DESTINATION, self->res->stats.role);
	EXPECT_EQ(sent, self->res->stats.pages);
	EXPECT_EQ(zeros, self->res->stats.zero_pages);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(self->src, self->dst, self->len))
		TH_LOG("first differing page: %zu", vt_first_diff(self->src, self->dst, self->len));
	free(map);
}

/* Bad arguments on a session that has not connected yet. */
FIXTURE(ioc) {
	int fd;
	unsigned char *mem;
};

#define IOC_PAGES 64

FIXTURE_SETUP(ioc)
{
	/* These sessions live in the namespace the tests run in. */
	ASSERT_EQ(0, vt_ctl(NULL, "enable"));
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	self->mem = mmap(NULL, IOC_PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(ioc)
{
	close(self->fd);
	munmap(self->mem, IOC_PAGES * PG);
}

static int add_region(int fd, __u32 id, void *addr, __u64 len, __u64 gpa)
{
	return vt_add_region(fd, id, addr, len, gpa);
}

TEST_F(ioc, region_checks)
{
	unsigned char *m = self->mem;
	struct vmmig_region r = {
		.size = sizeof(r), .id = 9, .uaddr = (unsigned long)m,
		.length = PG, .gpa = 0,
	};
	void *hole;

	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, m + 1, PG, 0));
	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, m, PG + 1, 0));
	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, m, PG, 512));
	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, m, 0, 0));
	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, m, 1ULL << 41, 0));
	EXPECT_EQ(-EINVAL, add_region(self->fd, 1, (void *)(~0UL & ~(PG - 1)), PG, 0));

	hole = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	munmap(hole, 4 * PG);
	EXPECT_EQ(-EFAULT, add_region(self->fd, 1, hole, 4 * PG, 0));
	/* Pages are pinned later, but what could not be is refused now. */
	hole = mmap(NULL, 8 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	EXPECT_EQ(-EFAULT, add_region(self->fd, 1, hole, 8 * PG, 0));
	ASSERT_EQ(0, mprotect(hole, 8 * PG, PROT_READ | PROT_WRITE));
	munmap((char *)hole + 4 * PG, 4 * PG);	/* runs off its mapping's end */
	EXPECT_EQ(-EFAULT, add_region(self->fd, 1, hole, 8 * PG, 0));
	munmap(hole, 4 * PG);

	r.flags = VMMIG_REGION_FRESH << 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_ADD_REGION, &r));
	r.flags = VMMIG_REGION_FRESH | 1U << 31;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_ADD_REGION, &r));
	r.flags = 0;
	r.reserved = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_ADD_REGION, &r));
	r.reserved = 0;
	r.size = 8;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_ADD_REGION, &r));

	/* The good region, then everything that collides with it. */
	ASSERT_EQ(0, add_region(self->fd, 1, m, 8 * PG, 0x10000));
	EXPECT_EQ(-EEXIST, add_region(self->fd, 1, m + 16 * PG, PG, 0x100000));
	EXPECT_EQ(-EEXIST, add_region(self->fd, 2, m + 7 * PG, 2 * PG, 0x100000));
	EXPECT_EQ(-EEXIST, add_region(self->fd, 2, m + 16 * PG, PG, 0x10000 + 7 * PG));
	EXPECT_EQ(0, add_region(self->fd, 2, m + 8 * PG, 8 * PG, 0x10000 + 8 * PG));
	EXPECT_EQ(0, vt_add_region_flags(self->fd, 3, m + 16 * PG, 8 * PG, 0x10000 + 16 * PG,
					 VMMIG_REGION_FRESH));
}

/* A newer caller's larger struct: fine if its extra bytes are zero. */
TEST_F(ioc, extensible_struct)
{
	struct {
		struct vmmig_region r;
		__u64 future;
	} big = {
		.r = { .id = 1, .uaddr = (unsigned long)self->mem, .length = PG },
	};
	unsigned long cmd = _IOW(VMMIG_IOC_TYPE, 0x01, big);

	big.r.size = sizeof(big);
	big.future = 1;
	EXPECT_EQ(-E2BIG, vt_ioctl(self->fd, cmd, &big));
	big.future = 0;
	EXPECT_EQ(0, vt_ioctl(self->fd, cmd, &big));
	EXPECT_EQ(-EFAULT, vt_ioctl(self->fd, VMMIG_IOC_ADD_REGION, (void *)8));
}

TEST_F(ioc, too_many_regions)
{
	unsigned char *m = mmap(NULL, (VMMIG_MAX_REGIONS + 1) * PG, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i;

	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < VMMIG_MAX_REGIONS; i++)
		ASSERT_EQ(0, add_region(self->fd, i, m + i * PG, PG, i * PG));
	EXPECT_EQ(-ENOSPC, add_region(self->fd, i, m + i * PG, PG, i * PG));
	munmap(m, (VMMIG_MAX_REGIONS + 1) * PG);
}

/* Drop CAP_IPC_LOCK from the effective set, so that RLIMIT_MEMLOCK applies. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &h, d);
}

/* Pinned pages are charged to RLIMIT_MEMLOCK and given back on close. */
TEST_F(ioc, memlock_is_charged)
{
	struct rlimit rl = { .rlim_cur = 32 * PG, .rlim_max = 32 * PG };
	unsigned char *m = self->mem;
	int fd2;

	ASSERT_EQ(0, drop_ipc_lock());
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	EXPECT_EQ(-ENOMEM, add_region(self->fd, 1, m, 33 * PG, 0));
	ASSERT_EQ(0, add_region(self->fd, 1, m, 24 * PG, 0));
	EXPECT_EQ(-ENOMEM, add_region(self->fd, 2, m + 24 * PG, 9 * PG, 24 * PG));
	ASSERT_EQ(0, add_region(self->fd, 2, m + 24 * PG, 8 * PG, 24 * PG));

	/* A second session of the same process shares the budget... */
	fd2 = vt_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(-ENOMEM, add_region(fd2, 1, m + 32 * PG, PG, 0));
	/* ...until the first one closes and gives its pages back. */
	close(self->fd);
	self->fd = fd2;
	EXPECT_EQ(0, add_region(fd2, 1, m + 32 * PG, 32 * PG, 0));
}

TEST_F(ioc, wrong_state)
{
	struct vmmig_dirty d = { .size = sizeof(d), .flags = VMMIG_DIRTY_ALL,
				 .region_id = 1, .num_pages = 1 };
	struct vmmig_blob b = { .size = sizeof(b) };
	struct vmmig_event ev;
	struct vmmig_stats st;

	ASSERT_EQ(0, add_region(self->fd, 1, self->mem, PG, 0));
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &d));
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_ABORT, NULL));
	EXPECT_EQ(-EBADFD, vt_wait_event(self->fd, &ev, NULL, 0, 10));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_EQ(VMMIG_ROLE_NONE, st.role);
	EXPECT_EQ(0, st.pages);
}

TEST_F(ioc, connect_args)
{
	struct vmmig_connect c = { .size = sizeof(c), .family = AF_INET, .channels = 1,
				   .timeout_ms = 1000 };
	struct vmmig_stats st;

	inet_pton(AF_INET, "127.0.0.1", c.addr);
	c.channels = 0;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.channels = VMMIG_MAX_CHANNELS + 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.channels = ~0U;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.channels = 1;
	c.family = AF_UNIX;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.family = AF_INET;
	c.addr[5] = 1;		/* garbage past the IPv4 address */
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	memset(c.addr, 0, sizeof(c.addr));
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	inet_pton(AF_INET, "127.0.0.1", c.addr);
	c.flags = 0x80;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.flags = 0;
	c.compression = __VMMIG_COMP_MAX;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.compression = VMMIG_COMP_ZSTD;
	c.level = 23;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.level = -1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.compression = VMMIG_COMP_NONE;
	c.level = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	c.level = 0;
	c.port = 6699;		/* nobody listens: refused, and still NEW */
	EXPECT_EQ(-ECONNREFUSED, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_EQ(VMMIG_ROLE_NONE, st.role);
}

TEST_F(ioc, accept_times_out)
{
	struct vmmig_accept a = { .size = sizeof(a), .port = 6698, .timeout_ms = 200 };
	struct vmmig_stats st;

	EXPECT_EQ(-ETIMEDOUT, vt_ioctl(self->fd, VMMIG_IOC_ACCEPT, &a));
	a.transport = 1;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_ACCEPT, &a));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
}

/* An active source session and its destination, with small memory. */
FIXTURE(pair) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
	int fd;
	pid_t pid;
};

#define PAIR_PAGES	512
#define PAIR_PORT	6610

FIXTURE_SETUP(pair)
{
	struct vt_dest a;
	size_t i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAIR_PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(PAIR_PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < PAIR_PAGES; i++)
		vt_fill_page(self->src, i, 0);
	memset(self->dst, 0xee, PAIR_PAGES * PG);
	a = (struct vt_dest){ .mem = self->dst, .len = PAIR_PAGES * PG, .region = 1,
			      .port = PAIR_PORT, .accept_ms = 20000, .res = self->res };
	self->pid = dest_start(&a);
	ASSERT_LE(0, self->pid);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_add_region(self->fd, 1, self->src, PAIR_PAGES * PG, 0x100000));
	ASSERT_EQ(0, vt_connect_retry(self->fd, NULL, PAIR_PORT, 2, 200));
}

FIXTURE_TEARDOWN(pair)
{
	close(self->fd);
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	munmap(self->src, PAIR_PAGES * PG);
	munmap(self->dst, PAIR_PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

static __u64 pages_sent(int fd)
{
	struct vmmig_stats st;

	return vt_stats(fd, &st) ? ~0ULL : st.pages;
}

/* Every bad SEND_DIRTY is refused, sends nothing, and the session lives on. */
TEST_F(pair, bad_dirty_sends_nothing)
{
	unsigned long map[PAIR_PAGES / 64 + 2] = { 0 };
	struct vmmig_dirty d = {
		.size = sizeof(d), .region_id = 1, .num_pages = PAIR_PAGES,
		.bitmap = (unsigned long)map, .bitmap_size = PAIR_PAGES / 8,
	};
	struct vmmig_dirty bad;
	struct vmmig_connect c = { .size = sizeof(c) };

	map[0] = 1;
	bad = d;
	bad.num_pages = PAIR_PAGES + 64;	/* a bitmap longer than the region */
	bad.bitmap_size = (PAIR_PAGES + 64) / 8;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.bitmap_size += 8;			/* size that does not match */
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.num_pages = 100;			/* bits set past num_pages */
	bad.bitmap_size = 16;
	map[1] = 1UL << 40;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	map[1] = 0;
	bad = d;
	bad.first_page = 1;			/* not a multiple of 64 */
	bad.num_pages = 64;
	bad.bitmap_size = 8;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.first_page = ~0ULL - 63;		/* wraps around */
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.num_pages = 0;
	bad.bitmap_size = 0;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.region_id = 2;
	EXPECT_EQ(-ENOENT, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.bitmap = 16;
	EXPECT_EQ(-EFAULT, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.flags = 0x100;
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	bad = d;
	bad.flags = VMMIG_DIRTY_ALL;		/* ALL with a bitmap */
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &bad));
	EXPECT_EQ(0, pages_sent(self->fd));

	/* Calls of the wrong state or role, on an active source. */
	EXPECT_EQ(-EBADFD, vt_ioctl(self->fd, VMMIG_IOC_CONNECT, &c));
	EXPECT_EQ(-EBADFD, vt_add_region(self->fd, 5, self->src, PG, 1ULL << 40));
	EXPECT_EQ(-EBADFD, vt_wait_event(self->fd, &(struct vmmig_event){}, NULL, 0, 10));

	/* Still usable: one page, placed. */
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY, &d));
	EXPECT_EQ(1, d.pages);
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(self->src, self->dst, PG));
	EXPECT_EQ(0xee, self->dst[PG]);
}

/* KVM's memory slots over region 1 of the pair: slot 0 (address space 1) and 1. */
#define RING_SLOT0	((1U << 16) | 0)
#define RING_SLOT1	1

static void ring_slots(struct vmmig_ring_slot *sl)
{
	sl[0] = (struct vmmig_ring_slot){ .slot = RING_SLOT0, .region_id = 1,
					  .first_page = 0, .num_pages = PAIR_PAGES / 2 };
	sl[1] = (struct vmmig_ring_slot){ .slot = RING_SLOT1, .region_id = 1,
					  .first_page = PAIR_PAGES / 2,
					  .num_pages = PAIR_PAGES / 2 };
}

/* Every bad SEND_DIRTY_RING is refused whole, though its first entry is good. */
TEST_F(pair, bad_ring_sends_nothing)
{
	struct vmmig_dirty_gfn e[2] = {
		{ .flags = VMMIG_RING_GFN_DIRTY, .slot = RING_SLOT1, .offset = 3 },
		{ .flags = VMMIG_RING_GFN_DIRTY, .slot = RING_SLOT0, .offset = 5 },
	};
	struct vmmig_ring_slot sl[3];
	struct vmmig_dirty_ring d = {
		.size = sizeof(d), .nr_slots = 2, .slots = (unsigned long)sl,
		.entries = (unsigned long)e, .nr_entries = 2,
	};
	struct vmmig_dirty_ring bad;
	void *big;

	ring_slots(sl);
#define EXPECT_RING(err) EXPECT_EQ(err, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY_RING, &bad))
	/* The entries. */
	bad = d;
	e[1].offset = PAIR_PAGES / 2;		/* past its slot */
	EXPECT_RING(-EINVAL);
	e[1].offset = ~0ULL;			/* wraps with the slot's base */
	EXPECT_RING(-EINVAL);
	e[1].offset = 5;
	e[1].slot = 2;				/* no such slot */
	EXPECT_RING(-EINVAL);
	e[1].slot = 0;				/* slot 0 of address space 0 */
	EXPECT_RING(-EINVAL);
	e[1].slot = RING_SLOT0;
	e[1].flags = 0;				/* never harvested */
	EXPECT_RING(-EINVAL);
	e[1].flags = VMMIG_RING_GFN_RESET;
	EXPECT_RING(-EINVAL);
	e[1].flags = VMMIG_RING_GFN_DIRTY | 0x4;
	EXPECT_RING(-EINVAL);
	e[1].flags = VMMIG_RING_GFN_DIRTY;
	/* The slot map. */
	sl[1].num_pages++;			/* a slot past its region's end */
	EXPECT_RING(-EINVAL);
	sl[1].num_pages--;
	sl[1].first_page = ~0ULL - 8;		/* base + pages wraps */
	EXPECT_RING(-EINVAL);
	sl[1].first_page = PAIR_PAGES / 2;
	sl[1].num_pages = 0;
	EXPECT_RING(-EINVAL);
	sl[1].num_pages = PAIR_PAGES / 2;
	sl[1].reserved = 1;
	EXPECT_RING(-EINVAL);
	sl[1].reserved = 0;
	sl[1].region_id = 2;
	EXPECT_RING(-ENOENT);
	sl[1].region_id = 1;
	sl[2] = sl[1];				/* a slot listed twice */
	bad.nr_slots = 3;
	EXPECT_RING(-EINVAL);
	/* The call. */
	bad = d;
	bad.flags = 1;
	EXPECT_RING(-EINVAL);
	bad = d;
	bad.reserved = 1;
	EXPECT_RING(-EINVAL);
	bad = d;
	bad.nr_slots = 0;
	EXPECT_RING(-EINVAL);
	bad.nr_slots = VMMIG_RING_MAX_SLOTS + 1;
	EXPECT_RING(-EINVAL);
	bad = d;
	bad.nr_entries = VMMIG_RING_MAX_ENTRIES + 1;
	EXPECT_RING(-EINVAL);
	bad.nr_entries = ~0ULL;
	EXPECT_RING(-EINVAL);
	bad = d;
	bad.entries = 16;
	EXPECT_RING(-EFAULT);
	bad = d;
	bad.slots = 16;
	EXPECT_RING(-EFAULT);
	/* Entries readable only in part: the last one unmapped. */
	big = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	memcpy((char *)big + PG - sizeof(e[0]), e, sizeof(e[0]));
	ASSERT_EQ(0, munmap((char *)big + PG, PG));
	bad = d;
	bad.entries = (unsigned long)big + PG - sizeof(e[0]);
	EXPECT_RING(-EFAULT);
	munmap(big, PG);
#undef EXPECT_RING
	EXPECT_EQ(0, pages_sent(self->fd));

	/* Still usable: both pages, placed; no entries at all is no page. */
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY_RING, &d));
	EXPECT_EQ(2, d.pages);
	EXPECT_EQ(0, d.zero_pages);
	d.nr_entries = 0;
	d.entries = 0;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY_RING, &d));
	EXPECT_EQ(0, d.pages);
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(self->src + 5 * PG, self->dst + 5 * PG, PG));
	EXPECT_EQ(0, memcmp(self->src + (PAIR_PAGES / 2 + 3) * PG,
			    self->dst + (PAIR_PAGES / 2 + 3) * PG, PG));
	EXPECT_EQ(0xee, self->dst[0]);
}

/*
 * Rounds from ring entries as KVM leaves them (RESET set or not, repeated,
 * any order, some zero pages): each page once, and the destination equal.
 */
TEST_F(pair, ring_rounds)
{
	struct vmmig_dirty_gfn e[3 * PAIR_PAGES];
	struct vmmig_ring_slot sl[2];
	struct vmmig_dirty_ring d = {
		.size = sizeof(d), .nr_slots = 2, .slots = (unsigned long)sl,
		.entries = (unsigned long)e,
	};
	unsigned int round, i, n, dirty, zero;
	__u64 page;

	ring_slots(sl);
	for (round = 0; round < 3; round++) {
		/* Round 0: every page, from the end backwards; then every 3rd/5th. */
		n = 0;
		dirty = 0;
		zero = 0;
		for (i = 0; i < PAIR_PAGES; i++) {
			page = round ? i : PAIR_PAGES - 1 - i;
			if (round && page % (round == 1 ? 3 : 5))
				continue;
			if (round && page % 7 == 0) {
				memset(self->src + page * PG, 0, PG);
				zero++;
			} else if (round) {
				vt_fill_page(self->src, page, round);
			}
			dirty++;
			e[n++] = (struct vmmig_dirty_gfn){
				.flags = VMMIG_RING_GFN_DIRTY | (i % 2 ? VMMIG_RING_GFN_RESET : 0),
				.slot = page < PAIR_PAGES / 2 ? RING_SLOT0 : RING_SLOT1,
				.offset = page % (PAIR_PAGES / 2),
			};
			if (page % 4 == 0) {	/* dirtied again before the harvest */
				e[n] = e[n - 1];
				n++;
			}
		}
		d.nr_entries = n;
		ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_DIRTY_RING, &d));
		EXPECT_EQ(dirty, d.pages);
		EXPECT_EQ(zero, d.zero_pages);
		ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	}
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(self->src, self->dst, PAIR_PAGES * PG));
}

TEST_F(pair, blob_limits)
{
	size_t big = VMMIG_MAX_BLOB + 1;
	void *p = malloc(big);
	struct vmmig_blob b = { .size = sizeof(b), .tag = 1, .data = (unsigned long)p,
				.length = big };

	ASSERT_NE(NULL, p);
	EXPECT_EQ(-EINVAL, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	b.length = 16;
	b.data = 8;
	EXPECT_EQ(-EFAULT, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	free(p);
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(0, self->res->blobs);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
}

/* ABORT on the source: the destination hears ECONNABORTED. */
TEST_F(pair, source_abort_reaches_destination)
{
	struct vmmig_stats st;

	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAIR_PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_ABORT, NULL));
	EXPECT_EQ(-ECONNABORTED, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));
	EXPECT_EQ(-ECONNABORTED, vt_ioctl(self->fd, VMMIG_IOC_ABORT, NULL));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_EQ(ECONNABORTED, st.error);
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(VMMIG_EVENT_ABORTED, self->res->end_type);
	EXPECT_EQ(ECONNABORTED, self->res->end_error);
	EXPECT_EQ(VMMIG_STATE_ABORTED, self->res->stats.state);
}

/* Closing the source fd mid-migration is an abort too. */
TEST_F(pair, source_close_aborts_destination)
{
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAIR_PAGES, NULL, NULL));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(VMMIG_EVENT_ABORTED, self->res->end_type);
	EXPECT_NE(0, self->res->end_error);
}

/* The destination process dies mid-stream: the source fails, cleanly. */
TEST_F(pair, destination_killed)
{
	struct vmmig_stats st;
	int rc = 0, i;

	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, PAIR_PAGES, NULL, NULL));
	kill(self->pid, SIGKILL);
	waitpid(self->pid, NULL, 0);
	self->pid = 0;
	for (i = 0; i < 100 && !rc; i++) {
		rc = vt_send_dirty(self->fd, 1, 0, PAIR_PAGES, NULL, NULL);
		if (!rc)
			rc = vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL);
	}
	EXPECT_TRUE(rc == -ECONNABORTED || rc == -ECONNRESET || rc == -EPIPE)
		TH_LOG("source saw %d", rc);
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_EQ(-rc, st.error);
}

/*
 * Source pages are pinned only as they are sent: memory that stopped being
 * readable after ADD_REGION fails the send with EFAULT and aborts the
 * session. It is not taken for a page the guest never touched (a zero page).
 */
static void unreadable_source_fails(struct __test_metadata *_metadata, int fd,
				    pid_t *dest, const struct vt_dest_result *res)
{
	struct vmmig_stats st;

	EXPECT_EQ(-EFAULT, vt_send_dirty(fd, 1, 0, PAIR_PAGES, NULL, NULL));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	EXPECT_EQ(EFAULT, st.error);
	ASSERT_EQ(0, vt_wait_exit(*dest));
	*dest = 0;
	EXPECT_EQ(VMMIG_EVENT_ABORTED, res->end_type);
}

TEST_F(pair, protected_source_page_fails_the_send)
{
	ASSERT_EQ(0, mprotect(self->src + 64 * PG, PG, PROT_NONE));
	unreadable_source_fails(_metadata, self->fd, &self->pid, self->res);
}

TEST_F(pair, unmapped_source_page_fails_the_send)
{
	ASSERT_EQ(0, munmap(self->src + 130 * PG, PG));
	unreadable_source_fails(_metadata, self->fd, &self->pid, self->res);
}

/* Words from a small vocabulary: compresses the way text and code do. */
static void fill_text(unsigned char *p, unsigned int seed)
{
	static const char *const words[] = {
		"migrate ", "guest ", "page ", "dirty ", "round ", "vcpu ", "kernel ",
		"memory ", "the ", "of ", "and ", "0x1000 ", "struct ", "return ",
	};
	size_t off = 0, n;

	while (off < PG) {
		seed = seed * 1103515245 + 12345;
		n = strlen(words[(seed >> 16) % 14]);
		memcpy(p + off, words[(seed >> 16) % 14], off + n > PG ? PG - off : n);
		off += n;
	}
}

static void fill_random(unsigned char *p, unsigned int seed)
{
	__u64 x = seed * 0x9e3779b97f4a7c15ULL + 1, *w = (__u64 *)p;
	size_t i;

	for (i = 0; i < PG / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

/*
 * The adaptive path on a mixed workload, 1/4 zero, 1/2 text-like, 1/4
 * random pages, with each codec: the random pages go as they are, the
 * text pages compressed, and the memory arrives equal.
 */
FIXTURE(mixed) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
};

FIXTURE_VARIANT(mixed) {
	__u32 compression;
	__u16 port;
};

FIXTURE_VARIANT_ADD(mixed, lz4) { .compression = VMMIG_COMP_LZ4, .port = 6612 };
FIXTURE_VARIANT_ADD(mixed, zstd) { .compression = VMMIG_COMP_ZSTD, .port = 6613 };

#define MIXED_PAGES	8192

FIXTURE_SETUP(mixed)
{
	size_t i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, MIXED_PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(MIXED_PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < MIXED_PAGES; i++) {
		if (i % 4 == 1)
			fill_random(self->src + i * PG, i);
		else if (i % 4 >= 2)
			fill_text(self->src + i * PG, i);
	}
	memset(self->dst, 0xee, MIXED_PAGES * PG);
}

FIXTURE_TEARDOWN(mixed)
{
	munmap(self->src, MIXED_PAGES * PG);
	munmap(self->dst, MIXED_PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

/* All @npages of @src to destination @a in one round, FINISH; the source's stats. */
static void move_all(struct __test_metadata *_metadata, struct vt_dest *a,
		     unsigned char *src, size_t npages, __u32 compression,
		     struct vmmig_stats *st)
{
	pid_t pid = dest_start(a);
	int fd;

	ASSERT_LE(0, pid);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, src, npages * PG, 0x100000));
	ASSERT_EQ(0, vt_connect_comp_retry(fd, NULL, a->port, 2, compression, 200));
	ASSERT_EQ(0, vt_send_dirty(fd, 1, 0, npages, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_stats(fd, st));
	close(fd);
	ASSERT_EQ(0, vt_wait_exit(pid));
}

TEST_F(mixed, random_pages_go_raw)
{
	struct vt_dest a = { .mem = self->dst, .len = MIXED_PAGES * PG, .region = 1,
			     .port = variant->port, .accept_ms = 20000, .res = self->res };
	struct vmmig_stats st;

	move_all(_metadata, &a, self->src, MIXED_PAGES, variant->compression, &st);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type)
		TH_LOG("destination: event %u, error %d, wait %d", self->res->end_type,
		       self->res->end_error, self->res->wait_rc);

	EXPECT_EQ(MIXED_PAGES, st.pages);
	EXPECT_EQ(MIXED_PAGES / 4, st.zero_pages);
	EXPECT_EQ(MIXED_PAGES / 4, st.incompressible_pages);
	EXPECT_EQ(MIXED_PAGES / 2, st.comp_pages);
	EXPECT_EQ(MIXED_PAGES * 3 / 4 * PG, st.comp_bytes_in);
	/* the text half shrinks by more than half: well under 3/4 overall */
	EXPECT_GT(st.comp_bytes_in * 3 / 4, st.comp_bytes_out);
	EXPECT_EQ(MIXED_PAGES, self->res->stats.pages);
	EXPECT_EQ(MIXED_PAGES / 4, self->res->stats.zero_pages);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(self->src, self->dst, MIXED_PAGES * PG));
	TH_LOG("codec %u: %llu bytes in, %llu out (%.1f%%), %llu bytes on the wire",
	       variant->compression, st.comp_bytes_in, st.comp_bytes_out,
	       100.0 * st.comp_bytes_out / st.comp_bytes_in, st.bytes_wire);
}

/*
 * Pages are pinned as they move, not at ADD_REGION: a guest page never
 * touched goes as a zero page read through the shared zero page (the
 * source's anonymous memory does not grow), and a FRESH destination never
 * faults in a page that only ever received zero. Pinning whole regions
 * made both sides resident in full.
 */
FIXTURE(lazy) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
};

FIXTURE_VARIANT(lazy) {
	__u32 compression;
	__u16 port;
};

FIXTURE_VARIANT_ADD(lazy, none) { .port = 6614 };
FIXTURE_VARIANT_ADD(lazy, lz4) { .compression = VMMIG_COMP_LZ4, .port = 6615 };

#define LAZY_PAGES	16384UL	/* 64 MiB, one page in 64 written */

FIXTURE_SETUP(lazy)
{
	size_t i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, LAZY_PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(LAZY_PAGES * PG);	/* not touched: FRESH */
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < LAZY_PAGES; i += 64)
		vt_fill_page(self->src, i, 0);
}

FIXTURE_TEARDOWN(lazy)
{
	munmap(self->src, LAZY_PAGES * PG);
	munmap(self->dst, LAZY_PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

/* This process's resident anonymous memory, in pages. */
static long rss_anon_pages(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb / 4;
}

static size_t resident_pages(void *addr, size_t npages)
{
	unsigned char *vec = malloc(npages);
	size_t i, n = 0;

	if (!vec || mincore(addr, npages * PG, vec)) {
		free(vec);
		return SIZE_MAX;
	}
	for (i = 0; i < npages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

TEST_F(lazy, untouched_pages_stay_unfaulted)
{
	struct vt_dest a = { .mem = self->dst, .len = LAZY_PAGES * PG, .region = 1,
			     .port = variant->port, .accept_ms = 20000, .res = self->res,
			     .region_flags = VMMIG_REGION_FRESH };
	long rss0 = rss_anon_pages(), rss1;
	size_t dst_resident;
	struct vmmig_stats st;

	ASSERT_LT(0, rss0);
	move_all(_metadata, &a, self->src, LAZY_PAGES, variant->compression, &st);
	rss1 = rss_anon_pages();
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(LAZY_PAGES, st.pages);
	EXPECT_EQ(LAZY_PAGES - LAZY_PAGES / 64, st.zero_pages);

	/* Before anything reads the destination's memory (a read faults it in). */
	dst_resident = resident_pages(self->dst, LAZY_PAGES);
	TH_LOG("source: %ld anonymous pages faulted in; destination: %zu of %lu resident",
	       rss1 - rss0, dst_resident, LAZY_PAGES);
	EXPECT_GT(LAZY_PAGES / 16, rss1 - rss0);
	EXPECT_GE(LAZY_PAGES / 16, dst_resident);
	EXPECT_LE(LAZY_PAGES / 64, dst_resident);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(self->src, self->dst, LAZY_PAGES * PG));
}

/* A destination without the source's region id refuses it in the handshake. */
TEST(unknown_region_id_refused)
{
	unsigned char *src, *dst;
	struct vt_dest_result *res;
	struct vt_dest a;
	int fd;
	pid_t pid;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	src = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = vt_map_shared(64 * PG);
	res = vt_map_shared(sizeof(*res));
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, res);
	a = (struct vt_dest){ .mem = dst, .len = 64 * PG, .region = 2, .port = 6611,
			      .accept_ms = 20000, .res = res };
	pid = dest_start(&a);
	ASSERT_LE(0, pid);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, src, 64 * PG, 0));
	EXPECT_EQ(-ENXIO, vt_connect_retry(fd, NULL, 6611, 1, 300));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(-ETIMEDOUT, res->accept_rc);
	close(fd);
	vt_netns_teardown();
}

struct blocked_wait {
	int fd;
	int rc;
	struct vmmig_event ev;
};

static void *wait_event_thread(void *arg)
{
	struct blocked_wait *w = arg;

	w->rc = vt_wait_event(w->fd, &w->ev, NULL, 0, 0);
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * ABORT from a second thread ends a session another thread is blocked in
 * (QEMU's migrate_cancel while its migration thread waits in the module):
 * it does not wait for that ioctl, and the blocked one returns.
 */
TEST(abort_from_another_thread)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct blocked_wait w = { .rc = 1 };
	unsigned char *src, *dst;
	struct timespec t0, t1;
	long ms;
	pthread_t thr;
	int fd, pipefd[2], rc;
	pid_t pid;
	char c = 0;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, pipe(pipefd));
	src = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(MAP_FAILED, dst);

	/* The source connects, then sends nothing until told to exit. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int sfd;

		close(pipefd[1]);
		if (vt_enter_netns(VT_NS_A))
			_exit(10);
		sfd = vt_open();
		if (sfd < 0 || vt_add_region(sfd, 1, src, 64 * PG, 0))
			_exit(11);
		if (vt_connect_retry(sfd, VT_ADDR_B, 6612, 1, 300))
			_exit(12);
		if (read(pipefd[0], &c, 1) < 0)
			_exit(13);
		_exit(0);
	}
	close(pipefd[0]);

	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, dst, 64 * PG, 0));
	ASSERT_EQ(0, vt_accept(fd, 6612, 20000));
	w.fd = fd;
	ASSERT_EQ(0, pthread_create(&thr, NULL, wait_event_thread, &w));
	usleep(200 * 1000);	/* in WAIT_EVENT, holding the session */

	/* Old modules queue ABORT behind WAIT_EVENT: the alarm ends the test. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(5);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = vt_ioctl(fd, VMMIG_IOC_ABORT, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	EXPECT_EQ(0, rc);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	TH_LOG("ABORT returned %d after %ld ms", rc, ms);
	/* Not the seconds' difference: 6 ms across a second's edge is 1 s. */
	EXPECT_GT(1000, ms);
	if (rc)
		pthread_cancel(thr);
	pthread_join(thr, NULL);
	if (!rc) {
		EXPECT_EQ(0, w.rc);
		EXPECT_EQ(VMMIG_EVENT_ABORTED, w.ev.type);
		EXPECT_EQ(ECONNABORTED, w.ev.error);
	}
	EXPECT_EQ(-ECONNABORTED, vt_ioctl(fd, VMMIG_IOC_ABORT, NULL));

	ASSERT_EQ(1, write(pipefd[1], &c, 1));
	EXPECT_EQ(0, vt_wait_exit(pid));
	close(pipefd[1]);
	close(fd);
	munmap(src, 64 * PG);
	munmap(dst, 64 * PG);
	vt_netns_teardown();
}

TEST_HARNESS_MAIN
