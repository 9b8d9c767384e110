// SPDX-License-Identifier: GPL-2.0
/*
 * Authentication and encryption between two "hosts" (network namespaces
 * joined by veth), with per-session settings (VMMIG_IOC_SET_AUTH) and
 * with host settings made through vmmigctl (the "host_" variants):
 * migrations that must work, settings that must be refused with the
 * documented errno while the destination's memory stays untouched and its
 * ACCEPT keeps waiting, hand-written peers that forge, replay and reflect
 * handshakes, the cap on handshakes in flight, and a capture on the veth
 * that must not show a page's plaintext once encryption is on (and must
 * show it when it is off).
 */
#include <assert.h>
#include <endian.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#include "vt_keys.h"
#include "wire_peer.h"
#include "kselftest_harness.h"

#define PG		4096UL
#define PAGES		512		/* 2 MiB per migration */
#define REGION_ID	1
#define FILL		0xee		/* the destination's memory before */

/* Every 32 bytes of source memory: this, the page index, the record index. */
static const char marker[16] = "<vmmig-secret!!>";

/*
 * One side's settings; mode NONE: no SET_AUTH at all. @host: not the
 * session's but its host's, set with vmmigctl before the test.
 */
struct spec {
	__u32 mode;
	__u32 flags;
	const __u8 *key;
	const __u8 *peer;
	__u32 allow;
	bool host;
};

#define NONE		{ .mode = VMMIG_AUTH_NONE }
#define PSK(k, f)	{ .mode = VMMIG_AUTH_PSK, .flags = (f), .key = (k) }
#define KP(k, p, a, f)	{ .mode = VMMIG_AUTH_KEYPAIR, .flags = (f), .key = (k), \
			  .peer = (p), .allow = (a) }
/* The usual pair: Alice (host A) sends to Bob (host B). */
#define SRC_KP(f)	KP(alice_priv, bob_pub, VMMIG_PEER_RECEIVE, f)
#define DST_KP(f)	KP(bob_priv, alice_pub, VMMIG_PEER_SEND, f)
/* The same as host settings. */
#define HOST_PSK(k, f)	{ .mode = VMMIG_AUTH_PSK, .flags = (f), .key = (k), .host = true }
#define HOST_KP(k, p, a, f) { .mode = VMMIG_AUTH_KEYPAIR, .flags = (f), .key = (k), \
			      .peer = (p), .allow = (a), .host = true }
#define HOST_SRC_KP(f)	HOST_KP(alice_priv, bob_pub, VMMIG_PEER_RECEIVE, f)
#define HOST_DST_KP(f)	HOST_KP(bob_priv, alice_pub, VMMIG_PEER_SEND, f)

static int apply(int fd, const struct spec *sp)
{
	if (sp->mode == VMMIG_AUTH_NONE || sp->host)
		return 0;
	return vt_set_auth(fd, sp->mode, sp->flags, sp->key, sp->peer, sp->allow);
}

static void base64(char out[45], const __u8 key[32])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int i, o = 0;
	__u32 v;

	for (i = 0; i < 32; i += 3) {
		v = key[i] << 16 | (i + 1 < 32 ? key[i + 1] << 8 : 0) |
		    (i + 2 < 32 ? key[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < 32 ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < 32 ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

/*
 * Host @ns takes @sp through vmmigctl, as an admin would: the key in a
 * file, the peer (named "peer") on the command line.
 */
static int host_apply(const char *ns, const struct spec *sp)
{
	static const char *const allow[] = { "?", "send", "receive", "both" };
	const char *enc = sp->flags & VMMIG_AUTH_ENCRYPT ? "on" : "off";
	char path[64], args[256], text[45];
	FILE *f;
	int rc;

	if (sp->mode == VMMIG_AUTH_NONE)
		return vt_ctl(ns, "set encryption off auth none");
	snprintf(path, sizeof(path), "/tmp/vmmig-auth-test-%s.key", ns);
	f = fopen(path, "w");
	if (!f)
		return -1;
	base64(text, sp->key);
	fprintf(f, "%s\n", text);
	fclose(f);
	snprintf(args, sizeof(args), "set auth %s %s %s encryption %s",
		 sp->mode == VMMIG_AUTH_PSK ? "psk" : "keypair",
		 sp->mode == VMMIG_AUTH_PSK ? "key-file" : "private-key-file", path, enc);
	rc = vt_ctl(ns, args);
	unlink(path);
	if (rc || sp->mode != VMMIG_AUTH_KEYPAIR)
		return rc;
	base64(text, sp->peer);
	snprintf(args, sizeof(args), "peer add peer pubkey %s allow %s", text,
		 allow[sp->allow & 3]);
	return vt_ctl(ns, args);
}

/* Both hosts' settings, for the variants that have them. */
static int hosts_apply(const struct spec *src, const struct spec *dst)
{
	if (src->host && host_apply(VT_NS_A, src))
		return -1;
	return dst->host ? host_apply(VT_NS_B, dst) : 0;
}

static void fill_source(unsigned char *mem, size_t pages)
{
	size_t p, r;

	for (p = 0; p < pages; p++) {
		for (r = 0; r < PG / 32; r++) {
			unsigned char *rec = mem + p * PG + r * 32;
			__u64 idx[2] = { p, r };

			memcpy(rec, marker, 16);
			memcpy(rec + 16, idx, 16);
		}
	}
}

static bool all_fill(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

static int dest_apply(int fd, const void *spec)
{
	return apply(fd, spec);
}

/* Host B: set up as its spec (@d->priv) says, accept one session, place it. */
static pid_t dest_start(struct vt_dest *d)
{
	d->region = REGION_ID;
	d->gpa = 0x100000;
	d->netns = VT_NS_B;
	d->event_ms = 60000;
	d->setup = dest_apply;
	return vt_dest_start(d);
}

static int child_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* CONNECT with @sp, retrying while the destination is not accepting yet. */
static int connect_spec(int fd, const struct spec *sp, __u16 port, __u32 channels,
			__u32 compression)
{
	int rc = apply(fd, sp);

	if (rc)
		return rc;
	return vt_connect_comp_retry(fd, NULL, port, channels, compression, 200);
}

/* Send all of @mem, then a blob and FINISH. */
static int migrate(int fd)
{
	static const char state[] = "vcpu";
	struct vmmig_blob b = { .size = sizeof(b), .tag = 1, .data = (unsigned long)state,
				.length = sizeof(state) };
	int rc;

	rc = vt_send_dirty(fd, REGION_ID, 0, PAGES, NULL, NULL);
	if (!rc)
		rc = vt_ioctl(fd, VMMIG_IOC_SEND_BLOB, &b);
	if (!rc)
		rc = vt_ioctl(fd, VMMIG_IOC_FINISH, NULL);
	return rc;
}

FIXTURE(mig) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
	int fd;
};

FIXTURE_VARIANT(mig) {
	struct spec src;
	struct spec dst;
	__u32 channels;
	__u32 compression;
	__u16 port;
};

FIXTURE_VARIANT_ADD(mig, psk) {
	.src = PSK(psk_a, 0), .dst = PSK(psk_a, 0), .channels = 2, .port = 6630,
};

FIXTURE_VARIANT_ADD(mig, psk_encrypted) {
	.src = PSK(psk_a, VMMIG_AUTH_ENCRYPT), .dst = PSK(psk_a, VMMIG_AUTH_ENCRYPT),
	.channels = 2, .port = 6631,
};

FIXTURE_VARIANT_ADD(mig, keypair) {
	.src = SRC_KP(0), .dst = DST_KP(0), .channels = 2, .port = 6632,
};

FIXTURE_VARIANT_ADD(mig, keypair_both_ways_encrypted_lz4) {
	.src = KP(alice_priv, bob_pub, VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE,
		  VMMIG_AUTH_ENCRYPT),
	.dst = KP(bob_priv, alice_pub, VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE,
		  VMMIG_AUTH_ENCRYPT),
	.channels = 3, .compression = VMMIG_COMP_LZ4, .port = 6633,
};

FIXTURE_VARIANT_ADD(mig, host_psk_encrypted) {
	.src = HOST_PSK(psk_a, VMMIG_AUTH_ENCRYPT), .dst = HOST_PSK(psk_a, VMMIG_AUTH_ENCRYPT),
	.channels = 2, .port = 6638,
};

FIXTURE_VARIANT_ADD(mig, host_keypair_encrypted) {
	.src = HOST_SRC_KP(VMMIG_AUTH_ENCRYPT), .dst = HOST_DST_KP(VMMIG_AUTH_ENCRYPT),
	.channels = 2, .port = 6639,
};

FIXTURE_SETUP(mig)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, hosts_apply(&variant->src, &variant->dst));
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	fill_source(self->src, PAGES);
	memset(self->dst, FILL, PAGES * PG);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_add_region(self->fd, REGION_ID, self->src, PAGES * PG, 0x100000));
}

FIXTURE_TEARDOWN(mig)
{
	close(self->fd);
	munmap(self->src, PAGES * PG);
	munmap(self->dst, PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

/* Authenticated (and encrypted) migrations arrive whole; stats say how. */
TEST_F_TIMEOUT(mig, migrates, 300)
{
	struct vt_dest a = { .priv = &variant->dst, .mem = self->dst, .len = PAGES * PG,
			     .port = variant->port, .accept_ms = 60000, .res = self->res };
	struct vmmig_stats st;
	pid_t pid = dest_start(&a);

	ASSERT_LE(0, pid);
	ASSERT_EQ(0, connect_spec(self->fd, &variant->src, variant->port, variant->channels,
				  variant->compression));
	/* Settings belong to a NEW session. */
	EXPECT_EQ(-EBADFD, vt_set_auth(self->fd, VMMIG_AUTH_PSK, 0, psk_a, NULL, 0));
	ASSERT_EQ(0, migrate(self->fd));
	ASSERT_EQ(0, vt_stats(self->fd, &st));
	EXPECT_EQ(VMMIG_STATE_FINISHED, st.state);
	EXPECT_EQ(variant->src.mode, st.auth);
	EXPECT_EQ(!!(variant->src.flags & VMMIG_AUTH_ENCRYPT), st.encrypted);
	EXPECT_EQ(PAGES, st.pages);

	ASSERT_EQ(0, child_wait(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type)
		TH_LOG("destination: event %u error %d", self->res->end_type,
		       self->res->end_error);
	EXPECT_EQ(1, self->res->blobs);
	EXPECT_EQ(variant->dst.mode, self->res->stats.auth);
	EXPECT_EQ(st.encrypted, self->res->stats.encrypted);
	EXPECT_EQ(variant->channels, self->res->stats.channels);
	EXPECT_EQ(0, memcmp(self->src, self->dst, PAGES * PG));
}

/*
 * Settings that cannot work: CONNECT fails with the documented errno, the
 * session is still NEW, nothing lands on the destination, and its ACCEPT
 * keeps waiting: a source with the right settings then migrates (when
 * there is one).
 */
FIXTURE(refuse) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
};

FIXTURE_VARIANT(refuse) {
	struct spec dst;
	struct spec bad;
	struct spec good;		/* mode ~0: no source can pass */
	int error;
	const char *log;		/* what the destination logs */
};

#define NOBODY		{ .mode = ~0U }

FIXTURE_VARIANT_ADD(refuse, psk_wrong_key) {
	.dst = PSK(psk_a, 0), .bad = PSK(psk_b, 0), .good = PSK(psk_a, 0),
	.error = EKEYREJECTED,
	.log = "failed: bad proof",
};

FIXTURE_VARIANT_ADD(refuse, psk_to_host_without_auth) {
	.dst = NONE, .bad = PSK(psk_a, 0), .good = NONE, .error = EKEYREJECTED,
	.log = "failed: other authentication mode",
};

FIXTURE_VARIANT_ADD(refuse, no_auth_to_psk_host) {
	.dst = PSK(psk_a, 0), .bad = NONE, .good = PSK(psk_a, 0), .error = EKEYREJECTED,
	.log = "failed: other authentication mode",
};

FIXTURE_VARIANT_ADD(refuse, psk_to_keypair_host) {
	.dst = DST_KP(0), .bad = PSK(psk_a, 0), .good = SRC_KP(0), .error = EKEYREJECTED,
	.log = "failed: other authentication mode",
};

FIXTURE_VARIANT_ADD(refuse, unknown_source) {
	.dst = DST_KP(0), .bad = KP(carol_priv, bob_pub, VMMIG_PEER_RECEIVE, 0),
	.good = SRC_KP(0), .error = ENOKEY,
	.log = "failed: unknown peer key (-126), peer key 6ced7e1a82a63502",
};

FIXTURE_VARIANT_ADD(refuse, unknown_destination) {
	.dst = DST_KP(0), .bad = KP(alice_priv, carol_pub, VMMIG_PEER_RECEIVE, 0),
	.good = SRC_KP(0), .error = ENOKEY,
	.log = "failed: the source says unknown peer key (-126), peer key 300c9c9603b92a4b",
};

FIXTURE_VARIANT_ADD(refuse, source_allowed_only_to_receive) {
	.dst = KP(bob_priv, alice_pub, VMMIG_PEER_RECEIVE, 0), .bad = SRC_KP(0),
	.good = NOBODY, .error = EPERM,
	.log = "failed: peer not allowed (-1), peer key 300c9c9603b92a4b",
};

FIXTURE_VARIANT_ADD(refuse, destination_allowed_only_to_send) {
	.dst = DST_KP(0), .bad = KP(alice_priv, bob_pub, VMMIG_PEER_SEND, 0),
	.good = SRC_KP(0), .error = EPERM,
	.log = "failed: the source says peer not allowed (-1)",
};

FIXTURE_VARIANT_ADD(refuse, encryption_on_source_only) {
	.dst = PSK(psk_a, 0), .bad = PSK(psk_a, VMMIG_AUTH_ENCRYPT), .good = PSK(psk_a, 0),
	.error = ENOPROTOOPT,
	.log = "failed: encryption on one side only",
};

FIXTURE_VARIANT_ADD(refuse, encryption_on_destination_only) {
	.dst = DST_KP(VMMIG_AUTH_ENCRYPT), .bad = SRC_KP(0),
	.good = SRC_KP(VMMIG_AUTH_ENCRYPT), .error = ENOPROTOOPT,
	.log = "failed: encryption on one side only",
};

/* The same refusals with the hosts' settings, made through vmmigctl. */
FIXTURE_VARIANT_ADD(refuse, host_psk_wrong_key) {
	.dst = HOST_PSK(psk_a, 0), .bad = HOST_PSK(psk_b, 0), .good = HOST_PSK(psk_a, 0),
	.error = EKEYREJECTED, .log = "failed: bad proof",
};

FIXTURE_VARIANT_ADD(refuse, host_unknown_source) {
	.dst = HOST_DST_KP(0), .bad = HOST_KP(carol_priv, bob_pub, VMMIG_PEER_RECEIVE, 0),
	.good = HOST_SRC_KP(0), .error = ENOKEY,
	.log = "failed: unknown peer key (-126), peer key 6ced7e1a82a63502",
};

FIXTURE_VARIANT_ADD(refuse, host_source_allowed_only_to_receive) {
	.dst = HOST_KP(bob_priv, alice_pub, VMMIG_PEER_RECEIVE, 0), .bad = HOST_SRC_KP(0),
	.good = NOBODY, .error = EPERM,
	.log = "failed: peer not allowed (-1), peer key 300c9c9603b92a4b",
};

FIXTURE_VARIANT_ADD(refuse, host_encryption_on_destination_only) {
	.dst = HOST_DST_KP(VMMIG_AUTH_ENCRYPT), .bad = HOST_SRC_KP(0),
	.good = HOST_SRC_KP(VMMIG_AUTH_ENCRYPT), .error = ENOPROTOOPT,
	.log = "failed: encryption on one side only",
};

FIXTURE_SETUP(refuse)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, hosts_apply(&variant->bad, &variant->dst));
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	fill_source(self->src, PAGES);
	memset(self->dst, FILL, PAGES * PG);
}

FIXTURE_TEARDOWN(refuse)
{
	munmap(self->src, PAGES * PG);
	munmap(self->dst, PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	vt_netns_teardown();
}

/* The kernel log from @fd on: does a line hold both @a and @b? */
static bool kmsg_has(int fd, const char *a, const char *b)
{
	char rec[8192];
	bool found = false;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		found |= strstr(rec, a) && strstr(rec, b);
	}
	return found;
}

TEST_F_TIMEOUT(refuse, fails_and_destination_keeps_waiting, 300)
{
	bool nobody = variant->good.mode == ~0U;
	struct vt_dest a = { .priv = &variant->dst, .mem = self->dst, .len = PAGES * PG,
			     .port = 6634, .accept_ms = nobody ? 4000 : 60000,
			     .res = self->res };
	unsigned char *copy = malloc(PAGES * PG);
	int kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct vmmig_stats st;
	pid_t pid;
	int fd, i;

	ASSERT_NE(NULL, copy);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);
	memcpy(copy, self->src, PAGES * PG);
	pid = dest_start(&a);
	ASSERT_LE(0, pid);

	/* Twice: a refusal leaves both sides as they were. */
	for (i = 0; i < 2; i++) {
		fd = vt_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, vt_add_region(fd, REGION_ID, self->src, PAGES * PG, 0x100000));
		EXPECT_EQ(-variant->error, connect_spec(fd, &variant->bad, 6634, 2, 0));
		ASSERT_EQ(0, vt_stats(fd, &st));
		EXPECT_EQ(VMMIG_STATE_NEW, st.state);
		EXPECT_EQ(VMMIG_ROLE_NONE, st.role);
		EXPECT_EQ(0, st.pages);
		EXPECT_EQ(-EBADFD, vt_ioctl(fd, VMMIG_IOC_SYNC, NULL));
		close(fd);
	}
	EXPECT_TRUE(all_fill(self->dst, PAGES * PG));
	EXPECT_EQ(0, memcmp(copy, self->src, PAGES * PG));
	free(copy);
	/* The destination tells its admin who failed and why (rate-limited). */
	EXPECT_TRUE(kmsg_has(kmsg, "vmmig: handshake from " VT_ADDR_A ":", variant->log))
		TH_LOG("no log line with \"%s\"", variant->log);
	close(kmsg);

	if (nobody) {
		ASSERT_EQ(0, child_wait(pid));
		EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
		EXPECT_TRUE(all_fill(self->dst, PAGES * PG));
		return;
	}
	if (variant->good.host)
		ASSERT_EQ(0, host_apply(VT_NS_A, &variant->good));
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, REGION_ID, self->src, PAGES * PG, 0x100000));
	ASSERT_EQ(0, connect_spec(fd, &variant->good, 6634, 2, 0));
	ASSERT_EQ(0, migrate(fd));
	close(fd);
	ASSERT_EQ(0, child_wait(pid));
	EXPECT_EQ(0, self->res->accept_rc);
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(self->src, self->dst, PAGES * PG));
}

/*
 * Two destination sessions wait on one port with different settings
 * (per-VM keys): each source lands in the session whose keys it holds,
 * whichever waited first.
 */
FIXTURE(two) {
	unsigned char *src;
	unsigned char *dst[2];
	struct vt_dest_result *res[2];
};

FIXTURE_VARIANT(two) {
	struct spec dst[2];
	struct spec src[2];
};

FIXTURE_VARIANT_ADD(two, psk) {
	.dst = { PSK(psk_a, 0), PSK(psk_b, 0) },
	.src = { PSK(psk_b, 0), PSK(psk_a, 0) },
};

FIXTURE_VARIANT_ADD(two, keypair) {
	.dst = { KP(bob_priv, carol_pub, VMMIG_PEER_SEND, 0),
		 KP(carol_priv, alice_pub, VMMIG_PEER_SEND, 0) },
	.src = { KP(alice_priv, carol_pub, VMMIG_PEER_RECEIVE, 0),
		 KP(carol_priv, bob_pub, VMMIG_PEER_RECEIVE, 0) },
};

FIXTURE_SETUP(two)
{
	int i;

	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	fill_source(self->src, PAGES);
	for (i = 0; i < 2; i++) {
		self->dst[i] = vt_map_shared(PAGES * PG);
		self->res[i] = vt_map_shared(sizeof(*self->res[i]));
		ASSERT_NE(NULL, self->dst[i]);
		ASSERT_NE(NULL, self->res[i]);
		memset(self->dst[i], FILL, PAGES * PG);
	}
}

FIXTURE_TEARDOWN(two)
{
	int i;

	munmap(self->src, PAGES * PG);
	for (i = 0; i < 2; i++) {
		munmap(self->dst[i], PAGES * PG);
		munmap(self->res[i], sizeof(*self->res[i]));
	}
	vt_netns_teardown();
}

TEST_F_TIMEOUT(two, each_source_finds_its_session, 300)
{
	pid_t pid[2];
	int i, fd;

	for (i = 0; i < 2; i++) {
		struct vt_dest a = { .priv = &variant->dst[i], .mem = self->dst[i],
				     .len = PAGES * PG, .port = 6635, .accept_ms = 60000,
				     .res = self->res[i] };

		pid[i] = dest_start(&a);
		ASSERT_LE(0, pid[i]);
		usleep(300000);		/* dst[0] waits first */
	}
	/* src[0] holds dst[1]'s keys, src[1] dst[0]'s. */
	for (i = 0; i < 2; i++) {
		fd = vt_open();
		ASSERT_LE(0, fd);
		self->src[0] = i;	/* tells the two migrations apart */
		ASSERT_EQ(0, vt_add_region(fd, REGION_ID, self->src, PAGES * PG, 0x100000));
		ASSERT_EQ(0, connect_spec(fd, &variant->src[i], 6635, 1, 0));
		ASSERT_EQ(0, migrate(fd));
		close(fd);
		ASSERT_EQ(0, child_wait(pid[1 - i]));
		EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res[1 - i]->end_type);
		EXPECT_EQ(0, memcmp(self->src, self->dst[1 - i], PAGES * PG));
	}
}

/*
 * A capture on host B's end of the veth while a migration runs: with
 * encryption, no frame holds the pages' marker; without, frames do.
 */
/* @ready and @stop cross processes: __atomic loads and stores. */
struct capture {
	int ready;
	int stop;
	__u64 bytes;
	__u64 frames;
	__u64 hits;
	__u64 truncated;
};

static void capture_child(struct capture *c)
{
	static unsigned char buf[256 * 1024];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_usec = 100000 };
	int s, size = 8 << 20;
	ssize_t n;

	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex("vb");
	if (s < 0 || !sll.sll_ifindex || bind(s, (void *)&sll, sizeof(sll)))
		_exit(3);
	setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		n = recv(s, buf, sizeof(buf), MSG_TRUNC);
		if (n <= 0)
			continue;
		c->frames++;
		c->bytes += n;
		if ((size_t)n > sizeof(buf)) {
			c->truncated++;
			n = sizeof(buf);
		}
		if (memmem(buf, n, marker, sizeof(marker)))
			c->hits++;
	}
	_exit(0);
}

FIXTURE(capture) {
	unsigned char *src;
	unsigned char *dst;
	struct vt_dest_result *res;
	struct capture *cap;
};

FIXTURE_VARIANT(capture) {
	struct spec src;
	struct spec dst;
	bool plaintext;			/* the capture must find the marker */
};

FIXTURE_VARIANT_ADD(capture, psk_not_encrypted) {
	.src = PSK(psk_a, 0), .dst = PSK(psk_a, 0), .plaintext = true,
};

FIXTURE_VARIANT_ADD(capture, psk_encrypted) {
	.src = PSK(psk_a, VMMIG_AUTH_ENCRYPT), .dst = PSK(psk_a, VMMIG_AUTH_ENCRYPT),
};

FIXTURE_VARIANT_ADD(capture, keypair_encrypted) {
	.src = SRC_KP(VMMIG_AUTH_ENCRYPT), .dst = DST_KP(VMMIG_AUTH_ENCRYPT),
};

FIXTURE_VARIANT_ADD(capture, host_psk_not_encrypted) {
	.src = HOST_PSK(psk_a, 0), .dst = HOST_PSK(psk_a, 0), .plaintext = true,
};

FIXTURE_VARIANT_ADD(capture, host_keypair_encrypted) {
	.src = HOST_SRC_KP(VMMIG_AUTH_ENCRYPT), .dst = HOST_DST_KP(VMMIG_AUTH_ENCRYPT),
};

FIXTURE_SETUP(capture)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, hosts_apply(&variant->src, &variant->dst));
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->src);
	self->dst = vt_map_shared(PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	self->cap = vt_map_shared(sizeof(*self->cap));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	ASSERT_NE(NULL, self->cap);
	fill_source(self->src, PAGES);
	memset(self->dst, FILL, PAGES * PG);
}

FIXTURE_TEARDOWN(capture)
{
	munmap(self->src, PAGES * PG);
	munmap(self->dst, PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	munmap(self->cap, sizeof(*self->cap));
	vt_netns_teardown();
}

TEST_F_TIMEOUT(capture, pages_on_the_wire, 300)
{
	struct vt_dest a = { .priv = &variant->dst, .mem = self->dst, .len = PAGES * PG,
			     .port = 6636, .accept_ms = 60000, .res = self->res };
	pid_t pid, cap;
	int fd, i;

	cap = fork();
	ASSERT_LE(0, cap);
	if (cap == 0)
		capture_child(self->cap);
	for (i = 0; i < 500 && !__atomic_load_n(&self->cap->ready, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ASSERT_TRUE(self->cap->ready);

	pid = dest_start(&a);
	ASSERT_LE(0, pid);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, REGION_ID, self->src, PAGES * PG, 0x100000));
	ASSERT_EQ(0, connect_spec(fd, &variant->src, 6636, 2, 0));
	ASSERT_EQ(0, migrate(fd));
	close(fd);
	ASSERT_EQ(0, child_wait(pid));
	usleep(300000);
	__atomic_store_n(&self->cap->stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, child_wait(cap));

	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(self->src, self->dst, PAGES * PG));
	/* The capture saw the migration go by, not just its first packets. */
	EXPECT_LE(PAGES * PG, self->cap->bytes);
	EXPECT_EQ(0, self->cap->truncated);
	EXPECT_EQ(variant->plaintext, self->cap->hits > 0);
	TH_LOG("%llu frames, %llu bytes, %llu with the marker", self->cap->frames,
	       self->cap->bytes, self->cap->hits);
}

/* Hand-written peers speak the wire protocol (Documentation/wire-protocol.md). */
struct keys {
	__u8 nonce[32];
	__u8 ephemeral[32];
	__u8 static_key[32];
};

/* HELLO with one region and the auth block. */
struct hello {
	__u64 cookie;
	__u16 channel;
	__u16 channels;
	__u32 nregions;
	__u32 compression;
	__u32 auth;
	__u32 id;
	__u32 reserved;
	__u64 pages;
	struct keys keys;
};

struct welcome {
	__u32 status;
	struct keys keys;
};

struct auth {
	__u32 status;
	__u8 mac[32];
};

static_assert(sizeof(struct hello) == 24 + 16 + 96, "HELLO: fields, a region, keys");
static_assert(sizeof(struct welcome) == 100, "WELCOME with keys is 100 bytes");
static_assert(sizeof(struct auth) == 36, "AUTH is 36 bytes");

static int send_frame(int s, __u8 type, const void *payload, __u32 len)
{
	struct vt_hdr h = vt_mkhdr(type, 0, 0, len, 0);

	return vt_send_all(s, &h, sizeof(h)) || vt_send_all(s, payload, len) ? -1 : 0;
}

static int tcp_listen(__u16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (void *)&sin, sizeof(sin)) || listen(s, 4))
		return -1;
	return s;
}

static struct hello mkhello(__u32 mode, const __u8 *static_key)
{
	struct hello h = {
		.cookie = htobe64(0x1234), .channels = htobe16(1), .nregions = htobe32(1),
		.auth = htobe32(1 << 16 | mode), .id = htobe32(REGION_ID),
		.pages = htobe64(PAGES),
	};

	memset(h.keys.nonce, 0x6e, 32);
	memcpy(h.keys.ephemeral, carol_pub, 32);	/* any valid point */
	if (static_key)
		memcpy(h.keys.static_key, static_key, 32);
	return h;
}

/* What a fake source saw, for the test to check. */
struct fake_result {
	int step;			/* how far it got */
	int welcome_status;
	int answer_status;		/* -1: the connection closed instead */
	struct welcome welcome;
	unsigned char hello[32 + sizeof(struct hello)];	/* recorded frames */
	unsigned char auth[32 + sizeof(struct auth)];
	int hello_len;
	int auth_len;
};

/* One destination session on port 6637, for fake sources. */
FIXTURE(fake) {
	unsigned char *dst;
	struct vt_dest_result *res;
	struct fake_result *fr;
};

FIXTURE_SETUP(fake)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_A));
	self->dst = vt_map_shared(PAGES * PG);
	self->res = vt_map_shared(sizeof(*self->res));
	self->fr = vt_map_shared(sizeof(*self->fr));
	ASSERT_NE(NULL, self->dst);
	ASSERT_NE(NULL, self->res);
	ASSERT_NE(NULL, self->fr);
	memset(self->dst, FILL, PAGES * PG);
}

FIXTURE_TEARDOWN(fake)
{
	munmap(self->dst, PAGES * PG);
	munmap(self->res, sizeof(*self->res));
	munmap(self->fr, sizeof(*self->fr));
	vt_netns_teardown();
}

static pid_t fake_dest(struct __test_metadata *_metadata, unsigned char *dst,
		       struct vt_dest_result *res, const struct spec *sp, __u16 port,
		       __u32 accept_ms)
{
	struct vt_dest a = { .priv = sp, .mem = dst, .len = PAGES * PG,
			     .port = port, .accept_ms = accept_ms, .res = res };
	pid_t pid = dest_start(&a);

	EXPECT_LE(0, pid);
	return pid;
}

/*
 * A source that sends @hello, reads WELCOME, then sends @after (an AUTH or
 * anything else) and reads the answer; all it saw goes to @r.
 */
static void fake_source(struct fake_result *r, const void *hello, size_t hello_len,
			const void *after, size_t after_len)
{
	unsigned char buf[256];
	__u8 type;
	int s, len;

	s = vt_dial(VT_ADDR_B, 6637, 500);
	if (s < 0 || vt_send_all(s, hello, hello_len))
		_exit(1);
	r->step = 1;
	len = vt_recv_frame(s, buf, sizeof(buf), &type);
	if (len < 4 || type != VT_F_WELCOME)
		_exit(1);
	memcpy(&r->welcome, buf + 32, len < 100 ? len : 100);
	r->welcome_status = be32toh(r->welcome.status);
	r->step = 2;
	if (r->welcome_status)
		_exit(0);
	r->step = 3;
	r->answer_status = -1;
	/* A destination that hangs up early may cut this short: no matter. */
	vt_send_all(s, after, after_len);
	len = vt_recv_frame(s, buf, sizeof(buf), &type);
	if (len == sizeof(struct auth) && type == VT_F_AUTH)
		r->answer_status = be32toh(((struct auth *)(buf + 32))->status);
	r->step = 4;
	_exit(0);
}

static void fake_source_start(const void *hello, size_t hello_len, const void *after,
			      size_t after_len, struct fake_result *r, pid_t *pid)
{
	*pid = fork();
	if (*pid == 0)
		fake_source(r, hello, hello_len, after, after_len);
}

/* HELLO as a frame in one buffer. */
struct hello_frame {
	struct vt_hdr h;
	struct hello p;
};

struct auth_frame {
	struct vt_hdr h;
	struct auth p;
};

static struct hello_frame hello_frame(__u32 mode, const __u8 *static_key)
{
	struct hello_frame f = { .h = vt_mkhdr(VT_F_HELLO, 0, 0, sizeof(struct hello), 0),
				 .p = mkhello(mode, static_key) };

	return f;
}

/* KEYPAIR: a source that names a listed key but cannot prove it holds it. */
TEST_F_TIMEOUT(fake, forged_proof_is_refused, 120)
{
	struct hello_frame hf = hello_frame(VMMIG_AUTH_KEYPAIR, alice_pub);
	struct auth_frame af = { .h = vt_mkhdr(VT_F_AUTH, 0, 0, sizeof(struct auth), 0) };
	struct spec dst = DST_KP(0);
	pid_t dpid, spid;

	memset(af.p.mac, 0x3c, sizeof(af.p.mac));
	dpid = fake_dest(_metadata, self->dst, self->res, &dst, 6637, 4000);
	fake_source_start(&hf, sizeof(hf), &af, sizeof(af), self->fr, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(4, self->fr->step);
	EXPECT_EQ(0, self->fr->welcome_status);
	EXPECT_EQ(EKEYREJECTED, self->fr->answer_status);
	EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
	EXPECT_TRUE(all_fill(self->dst, PAGES * PG));
}

/* Pages instead of the proof: the destination hangs up and places nothing. */
TEST_F_TIMEOUT(fake, pages_before_proof_are_refused, 120)
{
	struct hello_frame hf = hello_frame(VMMIG_AUTH_PSK, NULL);
	struct {
		struct vt_hdr h;
		unsigned char page[4096];
	} pf = { .h = vt_mkhdr(VT_F_PAGES, 0, 0, 4096, 0) };
	struct spec dst = PSK(psk_a, 0);
	pid_t dpid, spid;

	pf.h.region = htobe32(REGION_ID);
	pf.h.count = htobe32(1);
	memset(pf.page, 0xab, sizeof(pf.page));
	dpid = fake_dest(_metadata, self->dst, self->res, &dst, 6637, 4000);
	fake_source_start(&hf, sizeof(hf), &pf, sizeof(pf), self->fr, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(4, self->fr->step);
	EXPECT_EQ(0, self->fr->welcome_status);
	EXPECT_EQ(-1, self->fr->answer_status);
	EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
	EXPECT_TRUE(all_fill(self->dst, PAGES * PG));
}

/* A HELLO whose auth field the destination does not know. */
TEST_F_TIMEOUT(fake, unknown_auth_version_or_bits_refused, 120)
{
	struct hello_frame hf = hello_frame(VMMIG_AUTH_PSK, NULL);
	struct spec dst = PSK(psk_a, 0);
	pid_t dpid, spid;

	hf.p.auth = htobe32(2 << 16 | VMMIG_AUTH_PSK);
	dpid = fake_dest(_metadata, self->dst, self->res, &dst, 6637, 6000);
	fake_source_start(&hf, sizeof(hf), NULL, 0, self->fr, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	EXPECT_EQ(EPROTONOSUPPORT, self->fr->welcome_status);

	hf.p.auth = htobe32(1 << 16 | 0x8000 | VMMIG_AUTH_PSK);
	fake_source_start(&hf, sizeof(hf), NULL, 0, self->fr, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	EXPECT_EQ(EPROTO, self->fr->welcome_status);

	/* PSK mode with a static key: malformed. */
	hf = hello_frame(VMMIG_AUTH_PSK, alice_pub);
	fake_source_start(&hf, sizeof(hf), NULL, 0, self->fr, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	EXPECT_EQ(EPROTO, self->fr->welcome_status);
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
}

/*
 * Between a real source and a real destination: relays the handshake,
 * keeping a copy of the source's HELLO and AUTH frames, then everything.
 */
static void proxy(struct fake_result *r, __u16 listen_port, __u16 dst_port)
{
	unsigned char buf[65536];
	struct pollfd p[2];
	int l, a, b, i, len;
	__u8 type;

	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	l = tcp_listen(listen_port);
	if (l < 0)
		_exit(3);
	a = accept(l, NULL, NULL);
	b = vt_dial("127.0.0.1", dst_port, 500);
	if (a < 0 || b < 0)
		_exit(4);
	for (i = 0; i < 4; i++) {
		int from = i % 2 ? b : a, to = i % 2 ? a : b;

		len = vt_recv_frame(from, buf, sizeof(buf), &type);
		if (len < 0 || vt_send_all(to, buf, 32 + len))
			_exit(5);
		if (i == 0 && 32 + len <= (int)sizeof(r->hello)) {
			memcpy(r->hello, buf, 32 + len);
			r->hello_len = 32 + len;
		}
		if (i == 1 && len == sizeof(struct welcome))
			memcpy(&r->welcome, buf + 32, len);
		if (i == 2 && 32 + len == (int)sizeof(r->auth)) {
			memcpy(r->auth, buf, 32 + len);
			r->auth_len = 32 + len;
		}
	}
	p[0] = (struct pollfd){ .fd = a, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = b, .events = POLLIN };
	while (poll(p, 2, 20000) > 0) {
		for (i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			len = recv(p[i].fd, buf, sizeof(buf), 0);
			if (len <= 0 || vt_send_all(p[1 - i].fd, buf, len))
				_exit(0);
		}
	}
	_exit(0);
}

/*
 * A handshake recorded from a real source, which the destination accepted,
 * replayed to the same destination later: the destination's fresh nonce
 * and ephemeral key make the recorded proof worthless.
 */
TEST_F_TIMEOUT(fake, replayed_handshake_is_refused, 180)
{
	struct spec sp = PSK(psk_a, 0);
	unsigned char *src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct fake_result *rec = self->fr;
	struct fake_result *replay = vt_map_shared(sizeof(*replay));
	struct welcome first;
	pid_t dpid, ppid, spid;
	int fd;

	ASSERT_NE(MAP_FAILED, src);
	ASSERT_NE(NULL, replay);
	fill_source(src, PAGES);

	/* A real migration, through the recording proxy on port 6638. */
	dpid = fake_dest(_metadata, self->dst, self->res, &sp, 6637, 60000);
	ppid = fork();
	ASSERT_LE(0, ppid);
	if (ppid == 0)
		proxy(rec, 6638, 6637);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, REGION_ID, src, PAGES * PG, 0x100000));
	ASSERT_EQ(0, connect_spec(fd, &sp, 6638, 1, 0));
	ASSERT_EQ(0, migrate(fd));
	close(fd);
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(src, self->dst, PAGES * PG));
	kill(ppid, SIGKILL);
	child_wait(ppid);
	ASSERT_EQ(32 + sizeof(struct hello), rec->hello_len);
	ASSERT_EQ(32 + sizeof(struct auth), rec->auth_len);
	first = rec->welcome;

	/* The same destination settings, a new session: replay. */
	memset(self->dst, FILL, PAGES * PG);
	memset(self->res, 0, sizeof(*self->res));
	dpid = fake_dest(_metadata, self->dst, self->res, &sp, 6637, 4000);
	fake_source_start(rec->hello, rec->hello_len, rec->auth, rec->auth_len, replay, &spid);
	ASSERT_LE(0, spid);
	EXPECT_EQ(0, child_wait(spid));
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(4, replay->step);
	EXPECT_EQ(0, replay->welcome_status);
	EXPECT_NE(0, memcmp(first.keys.nonce, replay->welcome.keys.nonce, 32));
	EXPECT_NE(0, memcmp(first.keys.ephemeral, replay->welcome.keys.ephemeral, 32));
	EXPECT_EQ(EKEYREJECTED, replay->answer_status);
	EXPECT_EQ(-ETIMEDOUT, self->res->accept_rc);
	EXPECT_TRUE(all_fill(self->dst, PAGES * PG));
	munmap(replay, sizeof(*replay));
	munmap(src, PAGES * PG);
}

/*
 * A fake destination that knows no key: it mirrors the source's nonce and
 * keys in WELCOME (so that both sides' transcripts are the same bytes),
 * then answers the source's proof with that very proof.
 */
static void reflecting_dest(__u16 port)
{
	unsigned char buf[2048];
	struct welcome w = {};
	struct auth back;
	int l, s, len;
	__u8 type;

	if (vt_enter_netns(VT_NS_B))
		_exit(2);
	l = tcp_listen(port);
	s = l < 0 ? -1 : accept(l, NULL, NULL);
	if (s < 0)
		_exit(3);
	len = vt_recv_frame(s, buf, sizeof(buf), &type);
	if (type != VT_F_HELLO || len < (int)sizeof(struct keys))
		_exit(4);
	memcpy(&w.keys, buf + 32 + len - sizeof(w.keys), sizeof(w.keys));
	if (send_frame(s, VT_F_WELCOME, &w, sizeof(w)))
		_exit(5);
	len = vt_recv_frame(s, buf, sizeof(buf), &type);
	if (type != VT_F_AUTH || len != sizeof(back))
		_exit(6);
	memcpy(&back, buf + 32, sizeof(back));
	if (back.status || send_frame(s, VT_F_AUTH, &back, sizeof(back)))
		_exit(7);
	recv(s, buf, 1, 0);
	_exit(0);
}

TEST_F_TIMEOUT(fake, reflected_proof_is_refused, 120)
{
	unsigned char *src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct spec sp = PSK(psk_a, 0);
	struct vmmig_stats st;
	pid_t pid;
	int fd;

	ASSERT_NE(MAP_FAILED, src);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		reflecting_dest(6639);
	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, REGION_ID, src, PAGES * PG, 0x100000));
	EXPECT_EQ(-EKEYREJECTED, connect_spec(fd, &sp, 6639, 1, 0));
	ASSERT_EQ(0, vt_stats(fd, &st));
	EXPECT_EQ(VMMIG_STATE_NEW, st.state);
	close(fd);
	/* It got as far as returning the proof: the reflection was tried. */
	EXPECT_EQ(0, child_wait(pid));
	munmap(src, PAGES * PG);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 0: closed by the peer within @ms; 1: still open. */
static int still_open(int s, int ms)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) <= 0)
		return 1;
	return recv(s, &c, 1, MSG_DONTWAIT) > 0;
}

/*
 * At most 16 handshakes in flight per listener (the default): the 17th
 * connection takes the place of the oldest, which is closed at once;
 * silent ones are closed after the 5 s handshake timeout; then a real
 * source still gets through.
 */
TEST_F_TIMEOUT(fake, handshake_cap_and_timeout, 180)
{
	unsigned char *src = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct spec none = NONE;
	int idle[16], extra, fd, i;
	double t0, t;
	pid_t dpid;

	ASSERT_NE(MAP_FAILED, src);
	fill_source(src, PAGES);
	dpid = fake_dest(_metadata, self->dst, self->res, &none, 6637, 60000);
	t0 = now();
	for (i = 0; i < 16; i++) {
		idle[i] = vt_dial(VT_ADDR_B, 6637, 500);
		ASSERT_LE(0, idle[i]);
	}
	usleep(500000);
	extra = vt_dial(VT_ADDR_B, 6637, 500);
	ASSERT_LE(0, extra);
	EXPECT_EQ(0, still_open(idle[0], 2000));
	t = now() - t0;
	ASSERT_GT(4.0, t)
		TH_LOG("too slow to tell the cut from the timeout: %.1f s", t);
	EXPECT_EQ(1, still_open(extra, 0));
	EXPECT_EQ(1, still_open(idle[15], 0));

	EXPECT_EQ(0, still_open(idle[1], 15000));
	t = now() - t0;
	EXPECT_LE(4.5, t);
	EXPECT_GE(12.0, t);
	TH_LOG("silent connection closed after %.1f s", t);
	for (i = 0; i < 16; i++)
		close(idle[i]);
	close(extra);

	fd = vt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vt_add_region(fd, REGION_ID, src, PAGES * PG, 0x100000));
	ASSERT_EQ(0, connect_spec(fd, &none, 6637, 2, 0));
	ASSERT_EQ(0, migrate(fd));
	close(fd);
	ASSERT_EQ(0, child_wait(dpid));
	EXPECT_EQ(VMMIG_EVENT_FINISHED, self->res->end_type);
	EXPECT_EQ(0, memcmp(src, self->dst, PAGES * PG));
	munmap(src, PAGES * PG);
}

/* VMMIG_IOC_SET_AUTH's argument checks; a refused call changes nothing. */
TEST(set_auth_args)
{
	struct vmmig_auth a = { .size = sizeof(a), .mode = VMMIG_AUTH_KEYPAIR,
				.peer_allow = VMMIG_PEER_SEND };
	struct vmmig_auth b;
	struct {
		struct vmmig_auth a;
		__u64 future;
	} big;
	int fd = vt_open();

	ASSERT_LE(0, fd);
	memcpy(a.key, alice_priv, 32);
	memcpy(a.peer_key, bob_pub, 32);

	b = a;
	b.mode = VMMIG_AUTH_NONE;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b.mode = 3;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	b.flags = 2;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	memset(b.key, 0, 32);
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	memset(b.peer_key, 0, 32);
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	memcpy(b.peer_key, alice_pub, 32);	/* ourselves */
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	b.peer_allow = 0;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b.peer_allow = 4;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	b.mode = VMMIG_AUTH_PSK;		/* with a peer key and allow */
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b.peer_allow = 0;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	b = a;
	b.size = 8;
	EXPECT_EQ(-EINVAL, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));
	memset(&big, 0, sizeof(big));
	big.a = a;
	big.a.size = sizeof(big);
	big.future = 1;
	EXPECT_EQ(-E2BIG, vt_ioctl(fd, _IOW(VMMIG_IOC_TYPE, 0x0b, big), &big));
	EXPECT_EQ(-EFAULT, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, (void *)8));

	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &a));
	b = a;
	b.mode = VMMIG_AUTH_PSK;
	b.peer_allow = 0;
	memset(b.peer_key, 0, 32);
	b.flags = VMMIG_AUTH_ENCRYPT;
	EXPECT_EQ(0, vt_ioctl(fd, VMMIG_IOC_SET_AUTH, &b));	/* replaces */
	big.future = 0;
	EXPECT_EQ(0, vt_ioctl(fd, _IOW(VMMIG_IOC_TYPE, 0x0b, big), &big));
	close(fd);
}

TEST_HARNESS_MAIN
