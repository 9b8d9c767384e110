// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations over the RDMA transport, on Soft-RoCE (rxe): memory equal
 * byte for byte, raw and compressed, per session and by the host's
 * performance setting; a host without an RDMA device refused with ENODEV;
 * faults abort cleanly; and no RDMA resource (QP, CQ, MR, PD) is left
 * behind.
 *
 * rxe in Linux 6.12 is not network-namespace aware: it routes and listens
 * (UDP 4791) in the initial namespace only, so two namespaces joined by
 * veth cannot talk RoCE. Source and destination therefore both live in
 * the initial namespace here, with two addresses on one veth end that
 * carries the rxe device; rxe loops the packets back inside the device.
 * The wire protocol, the rdma_cm connect/accept and every verb are the
 * same as between two machines.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

#include "vmmig_test.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define MIB		(1024UL * 1024)
#define RXE		"vmmig_rxe0"
#define RIG_DEV		"vmmig_r0"
#define RIG_ADDR_A	"10.78.0.1"
#define RIG_ADDR_B	"10.78.0.2"
#define RIG_ADDR6_B	"fd78::2"

/* What the destination child saw, in memory shared with the test. */
struct dest_result {
	int accept_rc;
	__u16 transport;
	int syncs;
	int blobs;
	__u32 end_type;
	int end_error;
	struct vmmig_stats stats;
};

struct dest_args {
	unsigned char *mem;	/* MAP_SHARED: the test reads it afterwards */
	size_t len;
	__u16 port;
	struct dest_result *res;
};

static void dest_child(const struct dest_args *a)
{
	struct vmmig_accept acc = { .size = sizeof(acc), .port = a->port, .timeout_ms = 30000 };
	struct dest_result *r = a->res;
	struct vmmig_event ev;
	unsigned char blob[256];
	int fd;

	fd = vt_open();
	if (fd < 0 || vt_add_region(fd, 1, a->mem, a->len, 0x100000))
		_exit(3);
	r->accept_rc = vt_ioctl(fd, VMMIG_IOC_ACCEPT, &acc);
	r->transport = acc.transport;
	if (r->accept_rc)
		_exit(0);
	while (!vt_wait_event(fd, &ev, blob, sizeof(blob), 120000)) {
		if (ev.type == VMMIG_EVENT_SYNC) {
			r->syncs++;
		} else if (ev.type == VMMIG_EVENT_BLOB) {
			r->blobs++;
		} else {
			r->end_type = ev.type;
			r->end_error = ev.error;
			break;
		}
	}
	vt_stats(fd, &r->stats);
	close(fd);
	_exit(0);
}

static pid_t dest_start(const struct dest_args *a)
{
	pid_t pid = fork();

	if (pid == 0)
		dest_child(a);
	return pid;
}

static int dest_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Each page's content names its page and round, so a stale copy shows. */
static void fill_page(unsigned char *mem, size_t page, unsigned int round)
{
	__u64 *w = (__u64 *)(mem + page * PG);
	__u64 v = (page + 1) * 0x9e3779b97f4a7c15ULL ^ ((__u64)round << 56);
	size_t i;

	for (i = 0; i < PG / 8; i++)
		w[i] = v + i;
}

static size_t first_diff(const unsigned char *a, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += PG)
		if (memcmp(a + i, b + i, PG))
			return i / PG;
	return SIZE_MAX;
}

static void rig_teardown(void)
{
	vt_sh("rdma link del " RXE " 2>/dev/null; ip link del " RIG_DEV " 2>/dev/null");
	vt_ctl(NULL, "disable >/dev/null");
	vt_ctl(NULL, "set performance compression networks any >/dev/null");
}

/* The veth end with both hosts' addresses; with @rxe, its rxe device. */
static int rig_setup(bool rxe)
{
	rig_teardown();
	if (vt_sh("set -e; ip link add " RIG_DEV " type veth peer name " RIG_DEV "p;"
		  "ip addr add " RIG_ADDR_A "/24 dev " RIG_DEV ";"
		  "ip addr add " RIG_ADDR_B "/24 dev " RIG_DEV ";"
		  "ip addr add fd78::1/64 dev " RIG_DEV " nodad;"
		  "ip addr add " RIG_ADDR6_B "/64 dev " RIG_DEV " nodad;"
		  "ip link set " RIG_DEV "p up; ip link set " RIG_DEV " up"))
		return -1;
	if (rxe && vt_sh("rdma link add " RXE " type rxe netdev " RIG_DEV))
		return -1;
	return vt_ctl(NULL, "enable");
}

/*
 * RDMA objects of one kind ("qp", "cq", "mr", "pd") the kernel holds for
 * vmmig (the QPs rdma_cm creates for it are rdma_cm's), at most 255.
 */
static int rdma_resources(const char *kind)
{
	const char *owner = strcmp(kind, "qp") ? "vmmig" : "rdma_cm";
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "n=$(rdma resource show %s | grep -c 'comm \\[%s\\]');"
		 "[ $n -gt 255 ] && n=255; exit $n", kind, owner);
	return vt_sh(cmd);
}

static int connect_rdma(int fd, const char *addr, __u16 port, __u32 channels,
			__u32 compression, __u32 flags)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .flags = flags, .family = AF_INET, .port = port,
		.channels = channels, .timeout_ms = 5000, .compression = compression,
		.transport = flags ? 0 : VMMIG_TRANSPORT_RDMA,
	};
	int tries = 200, rc;

	if (strchr(addr, ':')) {
		c.family = AF_INET6;
		inet_pton(AF_INET6, addr, c.addr);
	} else {
		inet_pton(AF_INET, addr, c.addr);
	}
	do {
		rc = vt_ioctl(fd, VMMIG_IOC_CONNECT, &c);
		if (rc != -ECONNREFUSED)
			return rc;
		usleep(50000);
	} while (--tries > 0);
	return rc;
}

FIXTURE(mig) {
	unsigned char *src;
	unsigned char *dst;
	struct dest_result *res;
	size_t len;
	int fd;
	pid_t pid;
};

FIXTURE_VARIANT(mig) {
	size_t mib;
	unsigned int channels;
	const char *addr;
	__u16 port;
	__u32 compression;
	bool host_default;	/* no transport asked for: `performance rdma` picks */
};

FIXTURE_VARIANT_ADD(mig, raw_mib32_ch1) { .mib = 32, .channels = 1, .port = 6621 };
FIXTURE_VARIANT_ADD(mig, raw_mib32_ch3) { .mib = 32, .channels = 3, .port = 6622 };
FIXTURE_VARIANT_ADD(mig, lz4_mib32_ch2) {
	.mib = 32, .channels = 2, .port = 6623, .compression = VMMIG_COMP_LZ4,
};

FIXTURE_VARIANT_ADD(mig, v6_mib8_ch2) {
	.mib = 8, .channels = 2, .port = 6624, .addr = RIG_ADDR6_B,
};

FIXTURE_VARIANT_ADD(mig, host_default_mib8) { .mib = 8, .channels = 0, .host_default = true };

FIXTURE_SETUP(mig)
{
	size_t i;

	ASSERT_EQ(0, rig_setup(true));
	self->len = variant->mib * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = map_shared(self->len);
	ASSERT_NE(NULL, self->dst);
	self->res = map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < self->len / PG; i++)
		if (i % 8)
			fill_page(self->src, i, 0);
	memset(self->dst, 0xee, self->len);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(mig)
{
	close(self->fd);
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	munmap(self->src, self->len);
	munmap(self->dst, self->len);
	munmap(self->res, sizeof(*self->res));
	rig_teardown();
}

/*
 * Everything, then one round of re-dirtied pages (some turned zero), a
 * blob and FINISH: the destination equals the source, and once both
 * sessions are closed vmmig holds no RDMA resource.
 */
TEST_F_TIMEOUT(mig, rounds_then_equal, 900)
{
	size_t npages = self->len / PG, words = (npages + 63) / 64, i;
	struct dest_args a = {
		.mem = self->dst, .len = self->len, .port = variant->port, .res = self->res,
	};
	unsigned long *map = calloc(words, 8);
	static const char state[] = "vcpu state v1";
	struct vmmig_blob b = {
		.size = sizeof(b), .tag = 7, .data = (unsigned long)state,
		.length = sizeof(state),
	};
	struct vmmig_dirty d;
	struct vmmig_stats st;
	__u64 sent = 0;

	ASSERT_NE(NULL, map);
	if (variant->host_default)
		ASSERT_EQ(0, vt_ctl(NULL, "set performance rdma"));
	ASSERT_EQ(0, vt_add_region(self->fd, 1, self->src, self->len, 0x100000));
	self->pid = dest_start(&a);
	ASSERT_LE(0, self->pid);
	ASSERT_EQ(0, connect_rdma(self->fd, variant->addr ?: RIG_ADDR_B, variant->port,
				  variant->channels, variant->compression,
				  variant->host_default ? VMMIG_CONNECT_HOST_DEFAULTS : 0));

	/*
	 * Connected: the queue pairs exist, and the destination registered
	 * its memory for RDMA WRITE only without compression.
	 */
	EXPECT_LT(0, rdma_resources("qp"))
		vt_sh("rdma resource show >&2");
	EXPECT_EQ(!variant->compression, rdma_resources("mr") > 0)
		vt_sh("rdma resource show mr >&2");

	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, NULL, &d));
	EXPECT_EQ(npages, d.pages);
	sent += d.pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));

	for (i = 1; i < npages; i += 5) {
		if (i % 16 == 1)
			memset(self->src + i * PG, 0, PG);
		else
			fill_page(self->src, i, 1);
		map[i / 64] |= 1UL << (i % 64);
	}
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, map, &d));
	sent += d.pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));

	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_FINISHED, st.state);
	EXPECT_EQ(sent, st.pages);
	EXPECT_EQ(variant->compression, st.compression);
	if (variant->compression)
		EXPECT_LT(0, st.comp_pages);

	ASSERT_EQ(0, dest_wait(self->pid));
	self->pid = 0;
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_TRANSPORT_RDMA, self->res->transport);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(2, self->res->syncs);
	EXPECT_EQ(1, self->res->blobs);
	EXPECT_EQ(sent, self->res->stats.pages);
	EXPECT_EQ(SIZE_MAX, first_diff(self->src, self->dst, self->len))
		TH_LOG("first differing page: %zu", first_diff(self->src, self->dst, self->len));

	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, rdma_resources("qp"));
	EXPECT_EQ(0, rdma_resources("cq"));
	EXPECT_EQ(0, rdma_resources("pd"));
	EXPECT_EQ(0, rdma_resources("mr"));
	free(map);
}

/*
 * Faults in the middle of a migration: the session aborts on both sides,
 * the source's memory is untouched, and nothing of vmmig stays on the
 * device.
 */
FIXTURE(fault) {
	unsigned char *src;
	unsigned char *copy;
	unsigned char *dst;
	struct dest_result *res;
	size_t len;
	int fd;
	pid_t pid;
};

FIXTURE_VARIANT(fault) {
	bool remove_device;	/* else: the destination process is killed */
	__u32 compression;
	__u16 port;
};

FIXTURE_VARIANT_ADD(fault, device_removed) { .remove_device = true, .port = 6631 };
FIXTURE_VARIANT_ADD(fault, peer_killed) { .port = 6632 };
FIXTURE_VARIANT_ADD(fault, peer_killed_lz4) { .compression = VMMIG_COMP_LZ4, .port = 6633 };

FIXTURE_SETUP(fault)
{
	size_t i;

	ASSERT_EQ(0, rig_setup(true));
	self->len = 16 * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->copy = malloc(self->len);
	self->dst = map_shared(self->len);
	self->res = map_shared(sizeof(*self->res));
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(NULL, self->copy);
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < self->len / PG; i++)
		fill_page(self->src, i, 0);
	memcpy(self->copy, self->src, self->len);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(fault)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	munmap(self->src, self->len);
	free(self->copy);
	munmap(self->dst, self->len);
	munmap(self->res, sizeof(*self->res));
	rig_teardown();
}

TEST_F_TIMEOUT(fault, aborts_cleanly, 600)
{
	struct dest_args a = {
		.mem = self->dst, .len = self->len, .port = variant->port, .res = self->res,
	};
	size_t npages = self->len / PG;
	struct vmmig_stats st;
	pid_t remover = 0;
	int rc = 0, round;

	ASSERT_EQ(0, vt_add_region(self->fd, 1, self->src, self->len, 0x100000));
	self->pid = dest_start(&a);
	ASSERT_LE(0, self->pid);
	ASSERT_EQ(0, connect_rdma(self->fd, RIG_ADDR_B, variant->port, 2,
				  variant->compression, 0));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));

	/* The fault strikes while rounds are on the wire. */
	if (variant->remove_device) {
		remover = fork();
		ASSERT_LE(0, remover);
		if (!remover) {
			/* Our copy of the session would keep the device busy. */
			close(self->fd);
			_exit(vt_sh("sleep 0.3; rdma link del " RXE));
		}
	} else {
		usleep(300000);
		kill(self->pid, SIGKILL);
	}
	for (round = 0; round < 200 && !rc; round++) {
		rc = vt_send_dirty(self->fd, 1, 0, npages, NULL, NULL);
		if (!rc)
			rc = vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL);
	}
	EXPECT_NE(0, rc);
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_ABORTED, st.state);
	/* Whichever comes first: our DEVICE_REMOVAL, or the peer's disconnect. */
	if (variant->remove_device)
		EXPECT_TRUE(st.error == ENODEV || st.error == ECONNRESET)
			TH_LOG("error %d", st.error);
	EXPECT_EQ(0, memcmp(self->src, self->copy, self->len));

	close(self->fd);
	self->fd = -1;
	if (variant->remove_device) {
		/* The destination sees the abort, then the removal can finish. */
		ASSERT_EQ(0, dest_wait(self->pid));
		self->pid = 0;
		EXPECT_EQ(VMMIG_EVENT_ABORTED, self->res->end_type);
		ASSERT_EQ(remover, waitpid(remover, &rc, 0));
		EXPECT_TRUE(WIFEXITED(rc) && !WEXITSTATUS(rc));
	} else {
		waitpid(self->pid, NULL, 0);
		self->pid = 0;
	}
	EXPECT_EQ(0, rdma_resources("qp"));
	EXPECT_EQ(0, rdma_resources("cq"));
	EXPECT_EQ(0, rdma_resources("pd"));
	EXPECT_EQ(0, rdma_resources("mr"));
}

/* No RDMA device on the host: CONNECT says so, and the session stays NEW. */
TEST(no_device_enodev)
{
	unsigned char *mem = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vmmig_stats st;
	int fd;

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, rig_setup(false));
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, mem, 16 * PG, 0x100000));
	EXPECT_EQ(-ENODEV, connect_rdma(fd, RIG_ADDR_B, 6625, 1, 0, 0));
	ASSERT_EQ(0, vt_ctl(NULL, "set performance rdma"));
	EXPECT_EQ(-ENODEV, connect_rdma(fd, RIG_ADDR_B, 6625, 0, 0,
					VMMIG_CONNECT_HOST_DEFAULTS));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	close(fd);
	rig_teardown();
}

/* An unknown transport is bad input, whatever the devices. */
TEST(bad_transport_einval)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .family = AF_INET, .port = 6626, .channels = 1,
		.transport = 2,
	};
	int fd = vt_open();

	ASSERT_LE(0, fd);
	inet_pton(AF_INET, RIG_ADDR_B, c.addr);
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_CONNECT, &c));
	c.transport = VMMIG_TRANSPORT_RDMA;
	c.flags = VMMIG_CONNECT_HOST_DEFAULTS;
	c.channels = 0;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_CONNECT, &c));
	close(fd);
}

TEST_HARNESS_MAIN
