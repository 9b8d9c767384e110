// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations over the RDMA transport, on Soft-RoCE (rxe): memory equal
 * byte for byte, raw and compressed (256 MiB), per session and by the
 * host's performance setting, authenticated; a wrong PSK, an unknown
 * peer key and a destination that wants encryption refused before any
 * memory is registered; encryption over RDMA refused, never run in the
 * clear; a flood of silent rdma_cm connections held to the handshake
 * cap while a real source gets through; a host without an RDMA device
 * refused with ENODEV; faults (device removed, peer killed, destination
 * closing its session) abort cleanly; and no RDMA resource (QP, CQ, MR,
 * PD) is left behind.
 *
 * Both hosts share the initial namespace and one rxe device: see the rig
 * in vmmig_test.h for why.
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <rdma/rdma_cma.h>

#include "vmmig_test.h"
#include "vt_keys.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define MIB		(1024UL * 1024)
#define RXE		VT_RXE
#define RIG_ADDR_B	VT_RIG_ADDR_B
#define RIG_ADDR6_B	VT_RIG_ADDR6_B

/* A 256 MiB round on Soft-RoCE in a loaded TCG VM takes minutes. */
static pid_t dest_start(struct vt_dest *d)
{
	d->region = 1;
	d->gpa = 0x100000;
	d->accept_ms = 30000;
	d->event_ms = 1200000;
	return vt_dest_start(d);
}

static bool all_bytes(const unsigned char *p, int c, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

FIXTURE(mig) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
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
	const __u8 *psk;	/* both sessions' own PSK */
	bool close_at_once;	/* the source closes as soon as FINISH returns */
};

FIXTURE_VARIANT_ADD(mig, raw_mib32_ch1) { .mib = 32, .channels = 1, .port = 6621 };
FIXTURE_VARIANT_ADD(mig, raw_mib256_ch3) { .mib = 256, .channels = 3, .port = 6622 };
FIXTURE_VARIANT_ADD(mig, lz4_mib256_ch2) {
	.mib = 256, .channels = 2, .port = 6623, .compression = VMMIG_COMP_LZ4,
};

FIXTURE_VARIANT_ADD(mig, psk_raw_mib32_ch2) {
	.mib = 32, .channels = 2, .port = 6627, .psk = psk_a,
};

FIXTURE_VARIANT_ADD(mig, psk_lz4_mib8_ch2) {
	.mib = 8, .channels = 2, .port = 6628, .compression = VMMIG_COMP_LZ4, .psk = psk_a,
};

FIXTURE_VARIANT_ADD(mig, v6_mib8_ch2) {
	.mib = 8, .channels = 2, .port = 6624, .addr = RIG_ADDR6_B,
};

FIXTURE_VARIANT_ADD(mig, host_default_mib8) { .mib = 8, .channels = 0, .host_default = true };

/*
 * The source's close disconnects each QP right behind its FIN: the
 * destination must still read every FIN and report FINISHED, not
 * ECONNRESET.
 */
FIXTURE_VARIANT_ADD(mig, close_at_once_mib8_ch2) {
	.mib = 8, .channels = 2, .port = 6625, .close_at_once = true,
};

FIXTURE_SETUP(mig)
{
	size_t i;

	ASSERT_EQ(0, vt_rig_setup(true));
	self->len = variant->mib * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(self->len);
	ASSERT_NE(NULL, self->dst);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < self->len / PG; i++)
		if (i % 8)
			vt_fill_page(self->src, i, 0);
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
	vt_rig_teardown();
}

/*
 * Everything, then one round of re-dirtied pages (some turned zero), a
 * blob and FINISH: the destination equals the source, and once both
 * sessions are closed vmmig holds no RDMA resource.
 */
TEST_F_TIMEOUT(mig, rounds_then_equal, 1800)
{
	size_t npages = self->len / PG, words = (npages + 63) / 64, i;
	struct vt_dest a = {
		.mem = self->dst, .len = self->len, .port = variant->port,
		.psk = variant->psk, .res = self->res,
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
	if (variant->psk)
		ASSERT_EQ(0, vt_set_auth(self->fd, VMMIG_AUTH_PSK, 0, variant->psk, NULL, 0));
	self->pid = dest_start(&a);
	ASSERT_LE(0, self->pid);
	ASSERT_EQ(0, vt_connect_rdma(self->fd, variant->addr ?: RIG_ADDR_B, variant->port,
				     variant->channels, variant->compression,
				     variant->host_default ? VMMIG_CONNECT_HOST_DEFAULTS : 0));

	/*
	 * Connected: the queue pairs exist, and the destination registered
	 * its memory for RDMA WRITE only without compression.
	 */
	EXPECT_LT(0, vt_rdma_resources("qp"))
		vt_sh("rdma resource show >&2");
	EXPECT_EQ(!variant->compression, vt_rdma_resources("mr") > 0)
		vt_sh("rdma resource show mr >&2");

	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, NULL, &d));
	EXPECT_EQ(npages, d.pages);
	sent += d.pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL));

	for (i = 1; i < npages; i += 5) {
		if (i % 16 == 1)
			memset(self->src + i * PG, 0, PG);
		else
			vt_fill_page(self->src, i, 1);
		map[i / 64] |= 1UL << (i % 64);
	}
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, map, &d));
	sent += d.pages;
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_SEND_BLOB, &b));
	ASSERT_EQ(0, vt_ioctl(self->fd, VMMIG_IOC_FINISH, NULL));
	if (variant->close_at_once) {
		close(self->fd);
		self->fd = -1;
	} else {
		ASSERT_EQ(0, vt_stats(self->fd, &st));
		EXPECT_EQ(VMMIG_STATE_FINISHED, st.state);
		EXPECT_EQ(sent, st.pages);
		EXPECT_EQ(variant->compression, st.compression);
		EXPECT_EQ(variant->psk ? VMMIG_AUTH_PSK : VMMIG_AUTH_NONE, st.auth);
		EXPECT_EQ(0, st.encrypted);
		if (variant->compression)
			EXPECT_LT(0, st.comp_pages);
	}

	ASSERT_EQ(0, vt_wait_exit(self->pid));
	self->pid = 0;
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_TRANSPORT_RDMA, self->res->transport);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(2, self->res->syncs);
	EXPECT_EQ(1, self->res->blobs);
	EXPECT_EQ(sent, self->res->stats.pages);
	EXPECT_EQ(variant->psk ? VMMIG_AUTH_PSK : VMMIG_AUTH_NONE, self->res->stats.auth);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(self->src, self->dst, self->len))
		TH_LOG("first differing page: %zu", vt_first_diff(self->src, self->dst, self->len));

	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, vt_rdma_resources("qp"));
	EXPECT_EQ(0, vt_rdma_resources("cq"));
	EXPECT_EQ(0, vt_rdma_resources("pd"));
	EXPECT_EQ(0, vt_rdma_resources("mr"));
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
	struct vt_dest_result *res;
	size_t len;
	int fd;
	pid_t pid;
};

FIXTURE_VARIANT(fault) {
	bool remove_device;	/* the rxe link is deleted */
	/*
	 * The destination VMM closes its session, which deregisters its
	 * memory, and lives on with that memory mapped. The uapi has no way
	 * to remove one region from a session: this is the closest real
	 * event, and the one that shows an rkey outliving its session.
	 */
	bool dest_closes;
	__u32 compression;
	__u16 port;
};

/* Else: the destination process is killed. */
FIXTURE_VARIANT_ADD(fault, device_removed) { .remove_device = true, .port = 6631 };
FIXTURE_VARIANT_ADD(fault, peer_killed) { .port = 6632 };
FIXTURE_VARIANT_ADD(fault, peer_killed_lz4) { .compression = VMMIG_COMP_LZ4, .port = 6633 };
FIXTURE_VARIANT_ADD(fault, dest_closes_session) { .dest_closes = true, .port = 6634 };

FIXTURE_SETUP(fault)
{
	size_t i;

	ASSERT_EQ(0, vt_rig_setup(true));
	self->len = 16 * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->copy = malloc(self->len);
	self->dst = vt_map_shared(self->len);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(MAP_FAILED, self->src);
	ASSERT_NE(NULL, self->copy);
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < self->len / PG; i++)
		vt_fill_page(self->src, i, 0);
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
	vt_rig_teardown();
}

TEST_F_TIMEOUT(fault, aborts_cleanly, 600)
{
	struct vt_dest a = {
		.mem = self->dst, .len = self->len, .port = variant->port, .res = self->res,
		.close_after_sync = variant->dest_closes,
	};
	size_t npages = self->len / PG, i;
	struct vmmig_stats st;
	pid_t remover = 0;
	int rc = 0, round;

	ASSERT_EQ(0, vt_add_region(self->fd, 1, self->src, self->len, 0x100000));
	self->pid = dest_start(&a);
	ASSERT_LE(0, self->pid);
	ASSERT_EQ(0, vt_connect_rdma(self->fd, RIG_ADDR_B, variant->port, 2,
				     variant->compression, 0));
	ASSERT_EQ(0, vt_send_dirty(self->fd, 1, 0, npages, NULL, NULL));
	rc = vt_ioctl(self->fd, VMMIG_IOC_SYNC, NULL);
	/*
	 * A destination that closes at its SYNC event sends ABORT right behind
	 * its SYNC_ACKs, and that may end our SYNC before it returns.
	 */
	if (!variant->dest_closes || rc != -ECONNABORTED)
		ASSERT_EQ(0, rc);

	/* The fault strikes while rounds are on the wire. */
	if (variant->remove_device) {
		remover = fork();
		ASSERT_LE(0, remover);
		if (!remover) {
			/* Our copy of the session would keep the device busy. */
			close(self->fd);
			_exit(vt_sh("sleep 0.3; rdma link del " RXE));
		}
	} else if (variant->dest_closes) {
		for (i = 0; i < 1200 && !__atomic_load_n(&self->res->closed, __ATOMIC_SEQ_CST); i++)
			usleep(50000);
		ASSERT_EQ(1, self->res->closed);
		/* Whatever lands from now on would overwrite this. */
		memset(self->dst, 0x5a, self->len);
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
	if (variant->dest_closes) {
		EXPECT_TRUE(all_bytes(self->dst, 0x5a, self->len))
			TH_LOG("a page landed after the destination closed its session");
	}

	close(self->fd);
	self->fd = -1;
	if (variant->remove_device) {
		/* The destination sees the abort, then the removal can finish. */
		ASSERT_EQ(0, vt_wait_exit(self->pid));
		self->pid = 0;
		EXPECT_EQ(VMMIG_EVENT_ABORTED, self->res->end_type);
		ASSERT_EQ(remover, waitpid(remover, &rc, 0));
		EXPECT_TRUE(WIFEXITED(rc) && !WEXITSTATUS(rc));
	} else {
		if (variant->dest_closes)
			kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
		self->pid = 0;
	}
	EXPECT_EQ(0, vt_rdma_resources("qp"));
	EXPECT_EQ(0, vt_rdma_resources("cq"));
	EXPECT_EQ(0, vt_rdma_resources("pd"));
	EXPECT_EQ(0, vt_rdma_resources("mr"));
}

/* The rig without its rxe device: a host with no RDMA device. */
FIXTURE(bare) {
	int unused;
};

FIXTURE_SETUP(bare)
{
	ASSERT_EQ(0, vt_rig_setup(false));
}

FIXTURE_TEARDOWN(bare)
{
	vt_rig_teardown();
}

/* No RDMA device on the host: CONNECT says so, and the session stays NEW. */
TEST_F_TIMEOUT(bare, no_device_enodev, 300)
{
	unsigned char *mem = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vmmig_stats st;
	int fd;

	ASSERT_NE(MAP_FAILED, mem);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, mem, 16 * PG, 0x100000));
	EXPECT_EQ(-ENODEV, vt_connect_rdma(fd, RIG_ADDR_B, 6625, 1, 0, 0));
	ASSERT_EQ(0, vt_ctl(NULL, "set performance rdma"));
	EXPECT_EQ(-ENODEV, vt_connect_rdma(fd, RIG_ADDR_B, 6625, 0, 0,
					   VMMIG_CONNECT_HOST_DEFAULTS));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	close(fd);
	munmap(mem, 16 * PG);
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

/* Just the rig, for tests that build their sessions themselves. */
FIXTURE(rig) {
	int unused;
};

FIXTURE_SETUP(rig)
{
	ASSERT_EQ(0, vt_rig_setup(true));
}

FIXTURE_TEARDOWN(rig)
{
	vt_rig_teardown();
}

/* One session's own authentication settings (SET_AUTH). */
struct auth {
	__u32 mode;
	__u32 flags;
	const __u8 *key;
	const __u8 *peer;
	__u32 allow;
};

#define PSK(k, f)	{ .mode = VMMIG_AUTH_PSK, .flags = (f), .key = (k) }
#define KP(k, p, a)	{ .mode = VMMIG_AUTH_KEYPAIR, .key = (k), .peer = (p), .allow = (a) }
/* Alice (the source) sends to Bob (the destination). */
#define SRC_KP		KP(alice_priv, bob_pub, VMMIG_PEER_RECEIVE)
#define DST_KP		KP(bob_priv, alice_pub, VMMIG_PEER_SEND)

static int auth_apply(int fd, const void *priv)
{
	const struct auth *a = priv;

	return vt_set_auth(fd, a->mode, a->flags, a->key, a->peer, a->allow);
}

FIXTURE(refuse) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
	size_t len;
};

FIXTURE_VARIANT(refuse) {
	struct auth dst;
	struct auth bad;
	struct auth good;	/* mode 0: no source can pass */
	int error;
	__u16 port;
};

FIXTURE_VARIANT_ADD(refuse, psk_wrong_key) {
	.dst = PSK(psk_a, 0), .bad = PSK(psk_b, 0), .good = PSK(psk_a, 0),
	.error = EKEYREJECTED, .port = 6642,
};

FIXTURE_VARIANT_ADD(refuse, keypair_unknown_source) {
	.dst = DST_KP, .bad = KP(carol_priv, bob_pub, VMMIG_PEER_RECEIVE), .good = SRC_KP,
	.error = ENOKEY, .port = 6643,
};

FIXTURE_VARIANT_ADD(refuse, keypair_unknown_destination) {
	.dst = DST_KP, .bad = KP(alice_priv, carol_pub, VMMIG_PEER_RECEIVE), .good = SRC_KP,
	.error = ENOKEY, .port = 6644,
};

/* Encryption cannot be had over RDMA: a destination asking for it takes no source. */
FIXTURE_VARIANT_ADD(refuse, encryption_on_destination_only) {
	.dst = PSK(psk_a, VMMIG_AUTH_ENCRYPT), .bad = PSK(psk_a, 0), .error = ENOPROTOOPT,
	.port = 6645,
};

FIXTURE_SETUP(refuse)
{
	size_t i;

	ASSERT_EQ(0, vt_rig_setup(true));
	self->len = 8 * MIB;
	self->src = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(self->len);
	ASSERT_NE(NULL, self->dst);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->res);
	for (i = 0; i < self->len / PG; i++)
		vt_fill_page(self->src, i, 0);
	memset(self->dst, 0xee, self->len);
}

FIXTURE_TEARDOWN(refuse)
{
	munmap(self->src, self->len);
	munmap(self->dst, self->len);
	munmap(self->res, sizeof(*self->res));
	vt_rig_teardown();
}

/*
 * A source the destination's settings refuse gets the documented errno
 * from every channel's handshake, before the destination registers any
 * memory for it: no MR of vmmig exists meanwhile, the destination's
 * memory is untouched, the source's session is still NEW, and once the
 * refused connections are gone no QP is left. The destination keeps
 * waiting: the right settings then get through (when there are any).
 */
TEST_F_TIMEOUT(refuse, before_registration, 900)
{
	bool nobody = !variant->good.mode;
	struct vt_dest a = {
		.mem = self->dst, .len = self->len, .port = variant->port,
		.setup = auth_apply, .priv = &variant->dst, .res = self->res,
	};
	size_t npages = self->len / PG, i;
	struct vmmig_stats st;
	pid_t pid;
	int fd, fd2;

	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, self->src, self->len, 0x100000));
	ASSERT_EQ(0, auth_apply(fd, &variant->bad));
	pid = dest_start(&a);
	ASSERT_LE(0, pid);

	EXPECT_EQ(-variant->error, vt_connect_rdma(fd, RIG_ADDR_B, a.port, 2, 0, 0));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_EQ(0, st.pages);
	EXPECT_EQ(0, vt_rdma_resources("mr"))
		vt_sh("rdma resource show mr >&2");
	/* The destination releases a refused connection when its handshake ends. */
	for (i = 0; i < 200 && vt_rdma_resources("qp"); i++)
		usleep(50000);
	EXPECT_EQ(0, vt_rdma_resources("qp"))
		vt_sh("rdma resource show qp >&2");
	EXPECT_TRUE(all_bytes(self->dst, 0xee, self->len));
	close(fd);

	if (nobody) {
		ASSERT_EQ(0, vt_wait_exit(pid));
		EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
		EXPECT_TRUE(all_bytes(self->dst, 0xee, self->len));
		return;
	}
	/* The right settings, from a new session: the destination is still waiting. */
	fd2 = vt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, vt_add_region(fd2, 1, self->src, self->len, 0x100000));
	ASSERT_EQ(0, auth_apply(fd2, &variant->good));
	ASSERT_EQ(0, vt_connect_rdma(fd2, RIG_ADDR_B, a.port, 2, 0, 0));
	EXPECT_LT(0, vt_rdma_resources("mr"));
	ASSERT_EQ(0, vt_send_dirty(fd2, 1, 0, npages, NULL, NULL));
	ASSERT_EQ(0, vt_ioctl(fd2, VMMIG_IOC_FINISH, NULL));
	ASSERT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_TRANSPORT_RDMA, self->res->transport);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(variant->dst.mode, self->res->stats.auth);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(self->src, self->dst, self->len));
	close(fd2);
	EXPECT_EQ(0, vt_rdma_resources("qp"));
	EXPECT_EQ(0, vt_rdma_resources("mr"));
}

/*
 * Silent RDMA connections, made with librdmacm as any host on an admitted
 * network could: each connects to the destination's port and never sends
 * a HELLO.
 */
#define FLOOD	48
enum { FL_PENDING, FL_UP, FL_REFUSED, FL_DOWN };

struct flood {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id[FLOOD];
	int state[FLOOD];
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int flood_count(const struct flood *f, int state)
{
	int i, n = 0;

	for (i = 0; i < FLOOD; i++)
		n += f->state[i] == state;
	return n;
}

/* The next step of connection @i after @ev; its state. */
static void flood_step(struct flood *f, int i, struct rdma_cm_event *ev)
{
	struct rdma_cm_id *id = f->id[i];
	struct rdma_conn_param param = {
		.responder_resources = 1, .initiator_depth = 1,
		.retry_count = 7, .rnr_retry_count = 7,
	};
	struct ibv_qp_init_attr qa = {
		.cap = { .max_send_wr = 1, .max_recv_wr = 1,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		if (rdma_resolve_route(id, 5000))
			f->state[i] = FL_REFUSED;
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		if (rdma_create_qp(id, NULL, &qa) || rdma_connect(id, &param))
			f->state[i] = FL_REFUSED;
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		f->state[i] = FL_UP;
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		f->state[i] = FL_DOWN;
		break;
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		break;
	default:	/* rejected, unreachable, errors */
		if (f->state[i] == FL_PENDING)
			f->state[i] = FL_REFUSED;
		break;
	}
}

/* Handle events until @done says so or @ms pass; false on timeout. */
static bool flood_run(struct flood *f, bool (*done)(const struct flood *f), int ms)
{
	double end = now_s() + ms / 1000.0;
	struct pollfd p = { .fd = f->ec->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	while (!done(f)) {
		int left = (end - now_s()) * 1000;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return done(f);
		while (!rdma_get_cm_event(f->ec, &ev)) {
			flood_step(f, (long)ev->id->context, ev);
			rdma_ack_cm_event(ev);
		}
	}
	return true;
}

static bool flood_settled(const struct flood *f)
{
	return !flood_count(f, FL_PENDING);
}

static bool flood_all_down(const struct flood *f)
{
	return !flood_count(f, FL_PENDING) && !flood_count(f, FL_UP);
}

static int flood_start(struct flood *f, const char *addr, __u16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	long i;

	memset(f, 0, sizeof(*f));
	inet_pton(AF_INET, addr, &sin.sin_addr);
	f->ec = rdma_create_event_channel();
	if (!f->ec)
		return -1;
	/* Non-blocking, so that flood_run() drains what poll() announced. */
	if (fcntl(f->ec->fd, F_SETFL, fcntl(f->ec->fd, F_GETFL) | O_NONBLOCK))
		return -1;
	for (i = 0; i < FLOOD; i++) {
		if (rdma_create_id(f->ec, &f->id[i], (void *)i, RDMA_PS_TCP))
			return -1;
		if (rdma_resolve_addr(f->id[i], NULL, (struct sockaddr *)&sin, 5000))
			f->state[i] = FL_REFUSED;
	}
	return 0;
}

static void flood_stop(struct flood *f)
{
	int i;

	for (i = 0; i < FLOOD; i++) {
		if (!f->id[i])
			continue;
		if (f->id[i]->qp)
			rdma_destroy_qp(f->id[i]);
		rdma_destroy_id(f->id[i]);
	}
	if (f->ec)
		rdma_destroy_event_channel(f->ec);
}

/* What the flood's process saw: after it settled, and at its end. */
struct flood_report {
	int up, down, refused;
	double settle_s;
	bool settled, all_down;
};

static void flood_report(const struct flood *f, struct flood_report *r)
{
	r->up = flood_count(f, FL_UP);
	r->down = flood_count(f, FL_DOWN);
	r->refused = flood_count(f, FL_REFUSED);
}

/*
 * The flood, in a process of its own: librdmacm keeps the device open
 * until the process exits, and removing the rxe device at teardown waits
 * for that. It connects, reports, holds its connections without a word
 * until @go says so, then waits for them to be cut and reports again.
 */
static pid_t flood_child(__u16 port, struct flood_report *settled,
			 struct flood_report *end, int ready, int go)
{
	struct flood f;
	double t0;
	pid_t pid = fork();
	char c;

	if (pid)
		return pid;
	t0 = now_s();
	if (flood_start(&f, RIG_ADDR_B, port))
		_exit(1);
	settled->settled = flood_run(&f, flood_settled, 60000);
	flood_run(&f, flood_all_down, 1000);	/* the cuts arrive */
	settled->settle_s = now_s() - t0;
	flood_report(&f, settled);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(1);
	end->all_down = flood_run(&f, flood_all_down, 20000);
	flood_report(&f, end);
	flood_stop(&f);
	_exit(0);
}

/*
 * A flood of silent RDMA connections costs the destination little: it
 * holds at most its 16 handshakes in flight (requests past 16 being
 * accepted are rejected, a newer connection takes the oldest one's
 * place), and a real source gets through in the middle of it. Once its
 * session has started no session waits on the port: the listener goes
 * and the silent connections are cut. Nothing is left once they are gone.
 */
TEST_F_TIMEOUT(rig, silent_connection_flood, 600)
{
	size_t len = 8 * MIB, npages = len / PG, i;
	unsigned char *src = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *dst = vt_map_shared(len);
	struct vt_dest_result *res = vt_map_shared(sizeof(*res));
	struct flood_report *rep = vt_map_shared(2 * sizeof(*rep));
	struct vt_dest a = { .mem = dst, .len = len, .port = 6646, .res = res };
	int ready[2], go[2], fd, qps;
	pid_t pid, fpid;
	char c;

	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(NULL, dst);
	ASSERT_NE(NULL, res);
	ASSERT_NE(NULL, rep);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < npages; i++)
		vt_fill_page(src, i, 0);
	memset(dst, 0xee, len);
	pid = dest_start(&a);
	ASSERT_LE(0, pid);
	usleep(500000);		/* the destination listens */

	fpid = flood_child(a.port, &rep[0], &rep[1], ready[1], go[0]);
	ASSERT_LE(0, fpid);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	qps = vt_rdma_resources("qp");
	TH_LOG("%d connections: %d held, %d cut, %d refused after %.1f s; %d QPs of vmmig",
	       FLOOD, rep[0].up, rep[0].down, rep[0].refused, rep[0].settle_s, qps);
	EXPECT_TRUE(rep[0].settled);
	EXPECT_GE(16, rep[0].up);
	EXPECT_LT(0, rep[0].up + rep[0].down);
	EXPECT_GE(2 * 16 + 16, qps);

	/* A real source, while the flood holds its connections. */
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, src, len, 0x100000));
	EXPECT_EQ(0, vt_connect_rdma(fd, RIG_ADDR_B, a.port, 2, 0, 0));
	EXPECT_EQ(0, vt_send_dirty(fd, 1, 0, npages, NULL, NULL));
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_FINISH, NULL));
	EXPECT_EQ(0, vt_wait_exit(pid));
	EXPECT_EQ(0, res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, res->end_type);
	EXPECT_EQ(SIZE_MAX, vt_first_diff(src, dst, len));
	close(fd);

	/* The silent ones are cut, not left holding resources. */
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(0, vt_wait_exit(fpid));
	EXPECT_TRUE(rep[1].all_down)
		TH_LOG("%d still connected", rep[1].up);
	for (i = 0; i < 200 && vt_rdma_resources("qp"); i++)
		usleep(50000);
	EXPECT_EQ(0, vt_rdma_resources("qp"))
		vt_sh("rdma resource show qp >&2");
	EXPECT_EQ(0, vt_rdma_resources("mr"));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	munmap(src, len);
	munmap(dst, len);
	munmap(res, sizeof(*res));
	munmap(rep, 2 * sizeof(*rep));
}

/* "vmmigctl ARGS" in our namespace: its exit status, its stderr in @err. */
static int ctl_err(const char *args, char *err, size_t len)
{
	char cmd[PATH_MAX + 512];
	FILE *f;
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s %s 2>/tmp/vmmig-rdma-ctl.err", vt_ctl_path(), args);
	rc = vt_sh(cmd);
	err[0] = '\0';
	f = fopen("/tmp/vmmig-rdma-ctl.err", "r");
	if (f) {
		n = fread(err, 1, len - 1, f);
		err[n] = '\0';
		fclose(f);
	}
	return rc;
}

/*
 * kTLS needs TCP, so RDMA would carry an encrypted session in the clear:
 * it is refused instead. CONNECT over RDMA with the session's or the
 * host's encryption on fails with EPROTONOSUPPORT before connecting (the
 * session stays NEW, no QP is made); the host settings refuse encryption
 * together with performance rdma, whichever comes second, with a message,
 * and keep what they had.
 */
TEST_F_TIMEOUT(rig, encryption_over_rdma_refused, 300)
{
	static const char *const msg = "encryption is not available with performance rdma";
	unsigned char *mem = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vmmig_stats st;
	char err[512];
	FILE *f;
	int fd;

	ASSERT_NE(MAP_FAILED, mem);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, mem, 16 * PG, 0x100000));

	/* The session's own settings. */
	ASSERT_EQ(0, vt_set_auth(fd, VMMIG_AUTH_PSK, VMMIG_AUTH_ENCRYPT, psk_a, NULL, 0));
	EXPECT_EQ(-EPROTONOSUPPORT, vt_connect_rdma(fd, RIG_ADDR_B, 6641, 1, 0, 0));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	EXPECT_EQ(0, vt_rdma_resources("qp"));
	close(fd);

	/* The host's: encryption on, then performance rdma. */
	f = fopen("/tmp/vmmig-rdma-psk.key", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%s\n", PSK_A_BASE64);
	fclose(f);
	ASSERT_EQ(0, vt_ctl(NULL, "set auth psk key-file /tmp/vmmig-rdma-psk.key encryption on"));
	unlink("/tmp/vmmig-rdma-psk.key");
	EXPECT_NE(0, ctl_err("set performance rdma", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, msg)) TH_LOG("stderr: %s", err);
	/* All or nothing: the performance setting is what it was. */
	EXPECT_EQ(0, vt_ctl(NULL, "show | grep -qx 'performance: compression'"));

	/* A session with the host's settings, RDMA asked for explicitly. */
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, 1, mem, 16 * PG, 0x100000));
	EXPECT_EQ(-EPROTONOSUPPORT, vt_connect_rdma(fd, RIG_ADDR_B, 6641, 1, 0, 0));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	close(fd);

	/* Performance rdma first, then encryption on. */
	ASSERT_EQ(0, vt_ctl(NULL, "set encryption off"));
	ASSERT_EQ(0, vt_ctl(NULL, "set performance rdma"));
	EXPECT_NE(0, ctl_err("set encryption on", err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, msg)) TH_LOG("stderr: %s", err);
	EXPECT_EQ(0, vt_ctl(NULL, "show | grep -qx 'encryption: off'"));

	EXPECT_EQ(0, vt_rdma_resources("qp"));
	EXPECT_EQ(0, vt_rdma_resources("mr"));
	munmap(mem, 16 * PG);
}

TEST_HARNESS_MAIN
