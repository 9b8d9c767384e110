// SPDX-License-Identifier: GPL-2.0
/*
 * The destination module against a hand-written peer: a userspace client
 * in netns A that speaks the wire protocol (Documentation/wire-protocol.md)
 * itself, to send what a correct source never would. Each bad frame must
 * abort the session with the documented reason and place nothing.
 */
#include <assert.h>
#include <endian.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>

#include "wire_peer.h"
#include "kselftest_harness.h"

/* The harness's 30 s is short for a first netns setup on a loaded TCG host. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define REGION_ID	7
#define REGION_PAGES	256
#define REGION_BYTES	(REGION_PAGES * 4096UL)
#define FILL		0x5a

struct hello {
	__u64 cookie;
	__u16 channel;
	__u16 channels;
	__u32 nregions;
	__u32 compression;
	__u32 hello_reserved;
	__u32 id;
	__u32 reserved;
	__u64 pages;
};

static_assert(sizeof(struct hello) == 40, "HELLO with one region is 40 bytes");

/* Connect from netns A and do the handshake as channel 0 of 1. */
static int fake_source_comp(__u32 region_pages, __u32 compression)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(6620) };
	struct hello hello = {
		.cookie = htobe64(0x1234), .channels = htobe16(1),
		.nregions = htobe32(1), .id = htobe32(REGION_ID),
		.pages = htobe64(region_pages), .compression = htobe32(compression),
	};
	struct vt_hdr h = vt_mkhdr(VT_F_HELLO, 0, 0, sizeof(hello), 0);
	__u32 status;
	int s, i;

	if (vt_enter_netns(VT_NS_A))
		return -1;
	inet_pton(AF_INET, VT_ADDR_B, &sin.sin_addr);
	for (i = 0; i < 100; i++) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(s, (void *)&sin, sizeof(sin)))
			break;
		close(s);
		s = -1;
		usleep(50000);
	}
	if (s < 0 || vt_send_all(s, &h, sizeof(h)) || vt_send_all(s, &hello, sizeof(hello)))
		return -1;
	if (recv(s, &h, sizeof(h), MSG_WAITALL) != sizeof(h) || h.type != VT_F_WELCOME ||
	    recv(s, &status, 4, MSG_WAITALL) != 4)
		return -1;
	if (status) {
		close(s);
		return -(int)be32toh(status);
	}
	return s;
}

static int fake_source(__u32 region_pages)
{
	return fake_source_comp(region_pages, VMMIG_COMP_NONE);
}

struct wire_env {
	int fd;
	unsigned char *mem;
};

static void env_setup(struct __test_metadata *_metadata, struct wire_env *self)
{
	ASSERT_EQ(0, vt_netns_setup());
	ASSERT_EQ(0, vt_hosts_enable());
	ASSERT_EQ(0, vt_enter_netns(VT_NS_B));
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	/* A guard page on each side: nothing may land outside the region. */
	self->mem = mmap(NULL, REGION_BYTES + 2 * 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, FILL, REGION_BYTES + 2 * 4096);
	ASSERT_EQ(0, vt_add_region(self->fd, REGION_ID, self->mem + 4096,
				   REGION_BYTES, 0));
}

static void env_teardown(struct wire_env *self)
{
	close(self->fd);
	munmap(self->mem, REGION_BYTES + 2 * 4096);
	vt_netns_teardown();
}

FIXTURE(wire) {
	struct wire_env env;
};

FIXTURE_SETUP(wire)
{
	env_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(wire)
{
	env_teardown(&self->env);
}

/*
 * Fork a fake source that sends @frames (raw bytes) after the handshake,
 * then closes (@hold false) or stays connected; accept it here; return the
 * ABORTED event's errno (0 if FINISHED).
 */
static int run_fake_comp(struct __test_metadata *_metadata, struct wire_env *self,
			 const void *frames, size_t len, __u32 compression, bool hold,
			 int *handshake)
{
	struct vmmig_event ev;
	int status, ret = -1, pipefd[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int s = fake_source_comp(REGION_PAGES, compression);

		if (write(pipefd[1], &s, sizeof(s)) != sizeof(s))
			_exit(2);
		if (s < 0)
			_exit(0);
		vt_send_all(s, frames, len);
		/* A bad frame must be caught as such, not as the peer leaving. */
		while (hold && recv(s, &status, 1, 0) > 0)
			;
		_exit(0);
	}
	close(pipefd[1]);
	if (vt_accept(self->fd, 6620, 10000) == 0) {
		ret = vt_wait_event(self->fd, &ev, NULL, 0, 10000);
		if (!ret)
			ret = ev.type == VMMIG_EVENT_FINISHED ? 0 :
			      ev.type == VMMIG_EVENT_ABORTED ? ev.error : -1000 - ev.type;
	}
	if (read(pipefd[0], handshake, sizeof(*handshake)) != sizeof(*handshake))
		*handshake = -1;
	close(pipefd[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return ret;
}

static int run_fake(struct __test_metadata *_metadata, struct wire_env *self,
		    const void *frames, size_t len, int *handshake)
{
	return run_fake_comp(_metadata, self, frames, len, VMMIG_COMP_NONE, true, handshake);
}

static bool untouched(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != FILL)
			return false;
	return true;
}

/* One good PAGES frame and FIN: the fake speaks the protocol right. */
TEST_F(wire, good_frames_are_placed)
{
	struct {
		struct vt_hdr h;
		unsigned char page[4096];
		struct vt_hdr fin;
	} f;
	int hs;

	f.h = vt_mkhdr(VT_F_PAGES, REGION_ID, 1, 4096, 3 * 64);	/* chunk 3: channel 0 */
	memset(f.page, 0xab, sizeof(f.page));
	f.fin = vt_mkhdr(VT_F_FIN, 0, 0, 0, 0);
	EXPECT_EQ(0, run_fake(_metadata, &self->env, &f, sizeof(f), &hs));
	EXPECT_LE(0, hs);
	EXPECT_EQ(0xab, self->env.mem[4096 + 3 * 64 * 4096]);
	EXPECT_EQ(0xab, self->env.mem[4096 + 3 * 64 * 4096 + 4095]);
	EXPECT_TRUE(untouched(self->env.mem, 4096));
}

/*
 * A SPARSE frame: pages 0 and 2 of the run zero (they held FILL), 1 and 3
 * data, each placed where the map says.
 */
TEST_F(wire, sparse_frame_is_placed)
{
	struct {
		struct vt_hdr h;
		__be64 map;
		unsigned char page[2][4096];
		struct vt_hdr fin;
	} f;
	unsigned char *run = self->env.mem + 4096 + 3 * 64 * 4096;
	int hs, i;

	static_assert(sizeof(f) == 32 + 8 + 2 * 4096 + 32, "no padding in the frames");
	f.h = vt_mkhdr(VT_F_SPARSE, REGION_ID, 4, 8 + 2 * 4096, 3 * 64);
	f.map = htobe64(0x5);
	memset(f.page[0], 0xab, 4096);
	memset(f.page[1], 0xac, 4096);
	f.fin = vt_mkhdr(VT_F_FIN, 0, 0, 0, 0);
	EXPECT_EQ(0, run_fake(_metadata, &self->env, &f, sizeof(f), &hs));
	EXPECT_LE(0, hs);
	for (i = 0; i < 4096; i += 1024) {
		EXPECT_EQ(0, run[i]);
		EXPECT_EQ(0xab, run[4096 + i]);
		EXPECT_EQ(0, run[2 * 4096 + i]);
		EXPECT_EQ(0xac, run[3 * 4096 + i]);
	}
	EXPECT_EQ(FILL, run[4 * 4096]);
	EXPECT_TRUE(untouched(self->env.mem, 4096 + 3 * 64 * 4096));
}

FIXTURE(bad) {
	struct wire_env env;
};

FIXTURE_VARIANT(bad) {
	const char *name;
	int error;
};

FIXTURE_SETUP(bad)
{
	env_setup(_metadata, &self->env);
}

FIXTURE_TEARDOWN(bad)
{
	env_teardown(&self->env);
}

FIXTURE_VARIANT_ADD(bad, page_past_region) { .name = "page_past_region", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, run_past_region) { .name = "run_past_region", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, unknown_region) { .name = "unknown_region", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, page_index_huge) { .name = "page_index_huge", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, bad_magic) { .name = "bad_magic", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, bad_version) { .name = "bad_version", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, unknown_type) { .name = "unknown_type", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, flags_set) { .name = "flags_set", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, count_zero) { .name = "count_zero", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, count_too_big) { .name = "count_too_big", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, len_not_count_pages) { .name = "len_not_count_pages", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, zero_with_payload) { .name = "zero_with_payload", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, blob_too_big) { .name = "blob_too_big", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, sync_ack_from_source) { .name = "sync_ack_from_source", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, hello_again) { .name = "hello_again", .error = EPROTO };
FIXTURE_VARIANT_ADD(bad, abort) { .name = "abort", .error = ECONNABORTED };
/* Any errno but ECANCELED is the peer's own business: ECONNABORTED here. */
FIXTURE_VARIANT_ADD(bad, abort_timed_out) { .name = "abort_timed_out", .error = ECONNABORTED };
/* The peer's administrator cancelled: this end says so too. */
FIXTURE_VARIANT_ADD(bad, abort_canceled) { .name = "abort_canceled", .error = ECANCELED };
FIXTURE_VARIANT_ADD(bad, sparse_map_past_count) {
	.name = "sparse_map_past_count", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, sparse_map_len_mismatch) {
	.name = "sparse_map_len_mismatch", .error = EBADMSG };
FIXTURE_VARIANT_ADD(bad, sparse_no_zero_page) { .name = "sparse_no_zero_page", .error = EBADMSG };

static struct vt_hdr bad_hdr(const char *name)
{
	struct vt_hdr h = vt_mkhdr(VT_F_PAGES, REGION_ID, 1, 4096, 0);

	if (!strcmp(name, "page_past_region"))
		h.page = htobe64(REGION_PAGES);
	else if (!strcmp(name, "run_past_region"))
		h = vt_mkhdr(VT_F_ZERO, REGION_ID, 64, 0, REGION_PAGES - 64 + 1);
	else if (!strcmp(name, "unknown_region"))
		h.region = htobe32(REGION_ID + 1);
	else if (!strcmp(name, "page_index_huge"))
		h.page = htobe64(~0ULL - 1);
	else if (!strcmp(name, "bad_magic"))
		h.magic = 0;
	else if (!strcmp(name, "bad_version"))
		h.version = 2;
	else if (!strcmp(name, "unknown_type"))
		h.type = 42;
	else if (!strcmp(name, "flags_set"))
		h.flags = htobe16(1);
	else if (!strcmp(name, "count_zero"))
		h.count = 0;
	else if (!strcmp(name, "count_too_big"))
		h = vt_mkhdr(VT_F_PAGES, REGION_ID, 65, 65 * 4096, 0);
	else if (!strcmp(name, "len_not_count_pages"))
		h.len = htobe32(4095);
	else if (!strcmp(name, "zero_with_payload"))
		h = vt_mkhdr(VT_F_ZERO, REGION_ID, 1, 4096, 0);
	else if (!strcmp(name, "blob_too_big"))
		h = vt_mkhdr(VT_F_BLOB, 0, 0, (16 << 20) + 1, 0);
	else if (!strcmp(name, "sync_ack_from_source"))
		h = vt_mkhdr(VT_F_SYNC_ACK, 0, 0, 0, 1);
	else if (!strcmp(name, "hello_again"))
		h = vt_mkhdr(VT_F_HELLO, 0, 0, 32, 0);
	else if (!strcmp(name, "abort"))
		h = vt_mkhdr(VT_F_ABORT, 0, ECONNABORTED, 0, 0);
	else if (!strcmp(name, "abort_timed_out"))
		h = vt_mkhdr(VT_F_ABORT, 0, ETIMEDOUT, 0, 0);
	else if (!strcmp(name, "abort_canceled"))
		h = vt_mkhdr(VT_F_ABORT, 0, ECANCELED, 0, 0);
	else if (!strncmp(name, "sparse_map_", 11))
		h = vt_mkhdr(VT_F_SPARSE, REGION_ID, 4, 8 + 4096, 0);
	else if (!strcmp(name, "sparse_no_zero_page"))
		h = vt_mkhdr(VT_F_SPARSE, REGION_ID, 1, 8 + 4096, 0);
	return h;
}

/* Each bad header aborts the session with its errno; memory stays as it was. */
TEST_F(bad, frame_aborts_and_places_nothing)
{
	struct vt_hdr h = bad_hdr(variant->name);
	unsigned char buf[sizeof(h) + 4096];
	int hs;

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0xcd, 4096);
	/*
	 * SPARSE: the map (0xcdcd... has bits past the count), then 4088 of
	 * the 4096 data bytes announced: a map wrongly taken would leave the
	 * receiver waiting for the rest, and the test would time out.
	 */
	if (!strcmp(variant->name, "sparse_map_len_mismatch")) {
		__be64 map = htobe64(0x1);	/* 3 data pages, not the 1 of len */

		memcpy(buf + sizeof(h), &map, sizeof(map));
	}
	EXPECT_EQ(variant->error, run_fake(_metadata, &self->env, buf, sizeof(buf), &hs));
	EXPECT_LE(0, hs);
	EXPECT_TRUE(untouched(self->env.mem, REGION_BYTES + 2 * 4096));
}

/* The peer closing mid-stream (no FIN) aborts with ECONNRESET. */
TEST_F(wire, peer_closes_mid_stream)
{
	struct vt_hdr h = vt_mkhdr(VT_F_PAGES, REGION_ID, 2, 2 * 4096, 0);
	unsigned char buf[sizeof(h) + 4096];	/* half of the frame */
	int hs;

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0xee, 4096);
	EXPECT_EQ(ECONNRESET, run_fake_comp(_metadata, &self->env, buf, sizeof(buf),
					    VMMIG_COMP_NONE, false, &hs));
	EXPECT_LE(0, hs);
}

/* A region table that differs from ours is refused in the handshake. */
TEST_F(wire, region_size_mismatch_refused)
{
	struct vmmig_accept a = { .size = sizeof(a), .port = 6620, .timeout_ms = 1500 };
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fake_source(REGION_PAGES + 1) == -ENXIO ? 0 : 1);
	EXPECT_EQ(-1, ioctl(self->env.fd, VMMIG_IOC_ACCEPT, &a));
	EXPECT_EQ(ETIMEDOUT, errno);
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the fake source was not refused with ENXIO");
}

/*
 * An LZ4 block that decodes to @n bytes of 'A' (n >= 22): one literal, a
 * match of offset 1 repeating it, and the five literals a block must end
 * with. Returns its length.
 */
static size_t lz4_block(unsigned char *b, size_t n)
{
	size_t len = 0, ext = n - 6 - 4 - 15;

	b[len++] = 0x1f;		/* one literal, match length 15 + ext + 4 */
	b[len++] = 'A';
	b[len++] = 1;			/* offset 1, little-endian */
	b[len++] = 0;
	for (; ext >= 255; ext -= 255)
		b[len++] = 255;
	b[len++] = ext;
	b[len++] = 0x50;		/* five literals, the end */
	memset(b + len, 'A', 5);
	return len + 5;
}

struct comp_frame {
	struct vt_hdr h;
	__u16 table[1];
	unsigned char data[128];	/* the block, then a FIN header */
};

static_assert(offsetof(struct comp_frame, data) == 34, "no padding in a COMP frame");

/* A COMP frame of one page at chunk 3, its page decoding to @out bytes. */
static size_t comp_frame(struct comp_frame *f, size_t out)
{
	size_t n = lz4_block(f->data, out);
	struct vt_hdr fin = vt_mkhdr(VT_F_FIN, 0, 0, 0, 0);

	f->h = vt_mkhdr(VT_F_COMP, REGION_ID, 1, 2 + n, 3 * 64);
	f->table[0] = htobe16(n);
	memcpy(f->data + n, &fin, sizeof(fin));
	return sizeof(f->h) + 2 + n + sizeof(fin);
}

#define TARGET	(4096 + 3 * 64 * 4096)	/* the page the frames name */

static bool untouched_but_target(const unsigned char *mem)
{
	return untouched(mem, TARGET) &&
	       untouched(mem + TARGET + 4096, REGION_BYTES + 2 * 4096 - TARGET - 4096);
}

/* A fresh session on fresh memory, for the next fake peer. */
static void reopen(struct __test_metadata *_metadata, struct wire_env *self)
{
	close(self->fd);
	memset(self->mem, FILL, REGION_BYTES + 2 * 4096);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_add_region(self->fd, REGION_ID, self->mem + 4096, REGION_BYTES, 0));
}

/*
 * VMMIG_REGION_FRESH: a page the session never wrote is taken to be zero and
 * not touched by a zero page; one it wrote is cleared. To see which pages
 * are skipped, the region is registered FRESH though it holds FILL (a VMM
 * breaking the promise keeps what it left there).
 */
static void reopen_fresh(struct __test_metadata *_metadata, struct wire_env *self)
{
	close(self->fd);
	self->fd = vt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, vt_add_region_flags(self->fd, REGION_ID, self->mem + 4096, REGION_BYTES, 0,
					 VMMIG_REGION_FRESH));
}

TEST_F(wire, fresh_region_clears_only_written_pages)
{
	struct {
		struct vt_hdr zero;		/* pages 192-193, never written */
		struct vt_hdr pages;		/* page 194 */
		unsigned char p194[4096];
		struct vt_hdr zero194;
		struct vt_hdr sparse1;		/* 128 zero, 129 data */
		__be64 map1;
		unsigned char p129[4096];
		struct vt_hdr sparse2;		/* 128 data, 129 zero */
		__be64 map2;
		unsigned char p128[4096];
		struct vt_hdr fin;
	} f;
	unsigned char *page = self->env.mem + 4096;
	int hs;

	static_assert(sizeof(f) == 6 * 32 + 2 * 8 + 3 * 4096, "no padding in the frames");
	reopen_fresh(_metadata, &self->env);
	f.zero = vt_mkhdr(VT_F_ZERO, REGION_ID, 2, 0, 192);
	f.pages = vt_mkhdr(VT_F_PAGES, REGION_ID, 1, 4096, 194);
	memset(f.p194, 0xab, 4096);
	f.zero194 = vt_mkhdr(VT_F_ZERO, REGION_ID, 1, 0, 194);
	f.sparse1 = vt_mkhdr(VT_F_SPARSE, REGION_ID, 2, 8 + 4096, 128);
	f.map1 = htobe64(0x1);
	memset(f.p129, 0xac, 4096);
	f.sparse2 = vt_mkhdr(VT_F_SPARSE, REGION_ID, 2, 8 + 4096, 128);
	f.map2 = htobe64(0x2);
	memset(f.p128, 0xad, 4096);
	f.fin = vt_mkhdr(VT_F_FIN, 0, 0, 0, 0);
	EXPECT_EQ(0, run_fake(_metadata, &self->env, &f, sizeof(f), &hs));
	EXPECT_LE(0, hs);
	EXPECT_TRUE(untouched(page + 192 * 4096, 2 * 4096));
	EXPECT_EQ(0, page[194 * 4096]);
	EXPECT_EQ(0, page[194 * 4096 + 4095]);
	EXPECT_EQ(0xad, page[128 * 4096 + 4095]);
	EXPECT_EQ(0, page[129 * 4096]);
	EXPECT_EQ(0, page[129 * 4096 + 4095]);
	EXPECT_TRUE(untouched(self->env.mem, 4096 + 128 * 4096));
	EXPECT_TRUE(untouched(page + 195 * 4096, (REGION_PAGES - 195) * 4096));
}

TEST_F(wire, comp_page_is_placed)
{
	struct comp_frame f;
	size_t len = comp_frame(&f, 4096);
	int hs;

	EXPECT_EQ(0, run_fake_comp(_metadata, &self->env, &f, len, VMMIG_COMP_LZ4, true, &hs));
	EXPECT_LE(0, hs);
	EXPECT_EQ('A', self->env.mem[TARGET]);
	EXPECT_EQ('A', self->env.mem[TARGET + 4095]);
	EXPECT_TRUE(untouched_but_target(self->env.mem));
}

/* The same in COMP frames: zero entries skip unwritten pages only. */
TEST_F(wire, fresh_region_comp_zero_entries)
{
	struct vt_hdr c1 = vt_mkhdr(VT_F_COMP, REGION_ID, 2, 0, 192);	/* 192 zero, 193 'A's */
	struct vt_hdr c2 = vt_mkhdr(VT_F_COMP, REGION_ID, 1, 2, 193);	/* 193 zero */
	struct vt_hdr fin = vt_mkhdr(VT_F_FIN, 0, 0, 0, 0);
	unsigned char frames[256], block[64], *p = frames;
	unsigned char *page = self->env.mem + 4096;
	__be16 table[2] = { 0 };
	size_t n = lz4_block(block, 4096);
	int hs;

	reopen_fresh(_metadata, &self->env);
	c1.len = htobe32(sizeof(table) + n);
	table[1] = htobe16(n);
	memcpy(p, &c1, sizeof(c1));
	p += sizeof(c1);
	memcpy(p, table, sizeof(table));
	p += sizeof(table);
	memcpy(p, block, n);
	p += n;
	memcpy(p, &c2, sizeof(c2));
	p += sizeof(c2);
	memset(p, 0, 2);		/* its table: one zero page */
	p += 2;
	memcpy(p, &fin, sizeof(fin));
	p += sizeof(fin);
	EXPECT_EQ(0, run_fake_comp(_metadata, &self->env, frames, p - frames,
				   VMMIG_COMP_LZ4, true, &hs));
	EXPECT_LE(0, hs);
	EXPECT_TRUE(untouched(page + 192 * 4096, 4096));
	EXPECT_EQ(0, page[193 * 4096]);
	EXPECT_EQ(0, page[193 * 4096 + 4095]);
	EXPECT_TRUE(untouched(self->env.mem, 4096 + 192 * 4096));
	EXPECT_TRUE(untouched(page + 194 * 4096, (REGION_PAGES - 194) * 4096));
}

/* A page that decodes one byte short or one byte long is refused. */
TEST_F(wire, comp_wrong_size_aborts)
{
	static const size_t sizes[] = { 4095, 4097, 8192 };
	struct comp_frame f;
	unsigned int i;
	int hs;

	for (i = 0; i < 3; i++) {
		size_t len = comp_frame(&f, sizes[i]);

		EXPECT_EQ(EBADMSG, run_fake_comp(_metadata, &self->env, &f, len,
						 VMMIG_COMP_LZ4, true, &hs))
			TH_LOG("page decoding to %zu bytes", sizes[i]);
		EXPECT_TRUE(untouched_but_target(self->env.mem));
		reopen(_metadata, &self->env);
	}
}

TEST_F(wire, comp_garbage_and_bad_table_abort)
{
	struct comp_frame f;
	size_t len;
	int hs;

	len = comp_frame(&f, 4096);
	memset(f.data, 0xff, 8);		/* garbage where the block was */
	EXPECT_EQ(EBADMSG, run_fake_comp(_metadata, &self->env, &f, len,
					 VMMIG_COMP_LZ4, true, &hs));
	EXPECT_TRUE(untouched_but_target(self->env.mem));
	reopen(_metadata, &self->env);

	len = comp_frame(&f, 4096);
	f.table[0] = htobe16(be16toh(f.table[0]) - 1);	/* table and length disagree */
	EXPECT_EQ(EBADMSG, run_fake_comp(_metadata, &self->env, &f, len,
					 VMMIG_COMP_LZ4, true, &hs));
	EXPECT_TRUE(untouched(self->env.mem, REGION_BYTES + 2 * 4096));
}

/* COMP frames on a session whose HELLO announced no codec. */
TEST_F(wire, comp_without_codec_aborts)
{
	struct comp_frame f;
	size_t len = comp_frame(&f, 4096);
	int hs;

	EXPECT_EQ(EPROTO, run_fake(_metadata, &self->env, &f, len, &hs));
	EXPECT_TRUE(untouched(self->env.mem, REGION_BYTES + 2 * 4096));
}

/* A codec the destination does not know is refused in the handshake. */
TEST_F(wire, unknown_codec_refused)
{
	struct vmmig_accept a = { .size = sizeof(a), .port = 6620, .timeout_ms = 1500 };
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fake_source_comp(REGION_PAGES, 99) == -EPROTONOSUPPORT ? 0 : 1);
	EXPECT_EQ(-1, ioctl(self->env.fd, VMMIG_IOC_ACCEPT, &a));
	EXPECT_EQ(ETIMEDOUT, errno);
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the fake source was not refused with EPROTONOSUPPORT");
}

TEST_HARNESS_MAIN
