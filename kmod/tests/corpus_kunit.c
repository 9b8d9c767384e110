// SPDX-License-Identifier: GPL-2.0
/*
 * A corpus of malformed network input for the parsers it reaches first:
 * the destination's HELLO and the source's AUTH as handshake.c reads them
 * (through a transport that replays bytes), and COMP frames whose codec
 * data lies about its size, read into a guarded page. The cases are the
 * fuzzers' mutation classes (Documentation/hardening.md) cut down to one
 * input each, plus the edges by hand: each must get its documented error,
 * never a read past the input or a write past the output.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "../vmmig.h"
#include "../auth.h"
#include "../compress/compress.h"

#define GUARD		0xa5
#define HELLO_LEN	((u32)sizeof(struct vmmig_wire_hello))
#define REGION_LEN	((u32)sizeof(struct vmmig_wire_region))
#define KEYS_LEN	((u32)sizeof(struct vmmig_wire_keys))
#define AUTH_V(mode)	(VMMIG_WIRE_AUTH_VERSION << 16 | (mode))

/* A channel whose peer "sent" @data: recv() replays it, then the peer is gone. */
struct replay_chan {
	struct vmmig_channel ch;
	const u8 *data;
	size_t len;
	size_t off;
	size_t biggest;		/* largest single read asked for */
};

static int replay_recv(struct vmmig_channel *ch, void *buf, size_t len)
{
	struct replay_chan *r = container_of(ch, struct replay_chan, ch);

	r->biggest = max(r->biggest, len);
	if (len > r->len - r->off) {
		r->off = r->len;
		return -ECONNRESET;
	}
	memcpy(buf, r->data + r->off, len);
	r->off += len;
	return 0;
}

static const struct vmmig_transport_ops replay_ops = {
	.name = "replay",
	.recv = replay_recv,
};

/* One HELLO as a source could send it: header fields, then the payload. */
struct hello_case {
	const char *name;
	u8 type;			/* of the frame header */
	u32 len;			/* the header's @len */
	u32 sent;			/* payload bytes actually sent */
	u32 nregions;
	u32 auth;
	bool static_key;		/* a non-zero static key in the keys */
	int expect;			/* vmmig_hs_recv_hello() */
	int offer;			/* then vmmig_hs_offer_check(hs, NULL) */
	bool hdr_cut;			/* only 10 bytes of the header sent */
};

#define H1		(HELLO_LEN + REGION_LEN)
#define H1K		(H1 + KEYS_LEN)

static const struct hello_case hello_cases[] = {
	{ "valid_none", VMMIG_FRAME_HELLO, H1, H1, 1, 0, false, 0, 0 },
	{ "valid_psk", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(VMMIG_AUTH_PSK), false, 0, 0 },
	{ "valid_keypair", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(VMMIG_AUTH_KEYPAIR),
	  true, 0, 0 },
	{ "valid_no_region", VMMIG_FRAME_HELLO, HELLO_LEN, HELLO_LEN, 0, 0, false, 0, 0 },
	/* frames out of order: something else where HELLO belongs */
	{ "welcome_first", VMMIG_FRAME_WELCOME, 4, 4, 0, 0, false, -EPROTO },
	{ "sync_first", VMMIG_FRAME_SYNC, 0, 0, 0, 0, false, -EPROTO },
	{ "auth_first", VMMIG_FRAME_AUTH, 36, 36, 0, 0, false, -EPROTO },
	{ "type_unknown", 200, H1, H1, 1, 0, false, -EPROTO },
	/* lengths that lie */
	{ "len_short_of_fields", VMMIG_FRAME_HELLO, HELLO_LEN - 1, HELLO_LEN - 1, 0, 0, false,
	  -EBADMSG },
	{ "len_past_max", VMMIG_FRAME_HELLO, VMMIG_HELLO_MAX_LEN + 1, H1, 1, 0, false, -EBADMSG },
	{ "len_u32_max", VMMIG_FRAME_HELLO, U32_MAX, H1, 1, 0, false, -EBADMSG },
	{ "payload_cut", VMMIG_FRAME_HELLO, H1, H1 - 1, 1, 0, false, -ECONNRESET },
	{ "header_cut", VMMIG_FRAME_HELLO, H1, 0, 1, 0, false, -ECONNRESET, 0, true },
	{ "regions_more_than_sent", VMMIG_FRAME_HELLO, H1, H1, 2, 0, false, -EPROTO },
	{ "regions_fewer_than_sent", VMMIG_FRAME_HELLO, H1 + REGION_LEN, H1 + REGION_LEN, 1, 0,
	  false, -EPROTO },
	{ "regions_u32_max", VMMIG_FRAME_HELLO, H1, H1, U32_MAX, 0, false, -EPROTO },
	{ "regions_wrap_to_one", VMMIG_FRAME_HELLO, H1, H1, 0x10000001, 0, false, -EPROTO },
	{ "regions_past_max", VMMIG_FRAME_HELLO, VMMIG_HELLO_MAX_LEN, VMMIG_HELLO_MAX_LEN,
	  VMMIG_MAX_REGIONS + 1, 0, false, -EPROTO },
	{ "auth_without_keys", VMMIG_FRAME_HELLO, H1, H1, 1, AUTH_V(VMMIG_AUTH_PSK), false,
	  -EPROTO },
	{ "keys_without_auth", VMMIG_FRAME_HELLO, H1K, H1K, 1, 0, false, -EPROTO },
	/* an auth field to refuse once read: the answer is a WELCOME with an errno */
	{ "auth_unknown_bits", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(VMMIG_AUTH_PSK) | 0x200,
	  false, 0, -EPROTO },
	{ "auth_version_2", VMMIG_FRAME_HELLO, H1K, H1K, 1, 2 << 16 | VMMIG_AUTH_PSK, false, 0,
	  -EPROTONOSUPPORT },
	{ "auth_version_0", VMMIG_FRAME_HELLO, H1K, H1K, 1, VMMIG_AUTH_PSK, false, 0,
	  -EPROTONOSUPPORT },
	{ "auth_mode_none", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(VMMIG_AUTH_NONE), false, 0,
	  -EPROTO },
	{ "auth_mode_unknown", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(__VMMIG_AUTH_MAX), false,
	  0, -EPROTONOSUPPORT },
	{ "keypair_without_static", VMMIG_FRAME_HELLO, H1K, H1K, 1,
	  AUTH_V(VMMIG_AUTH_KEYPAIR), false, 0, -EPROTO },
	{ "psk_with_static", VMMIG_FRAME_HELLO, H1K, H1K, 1, AUTH_V(VMMIG_AUTH_PSK), true, 0,
	  -EPROTO },
};

static void hello_case_desc(const struct hello_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hello, hello_cases, hello_case_desc);

KUNIT_DEFINE_ACTION_WRAPPER(hs_free_action, vmmig_hs_free, struct vmmig_hs *);

static struct vmmig_hs *hs_get(struct kunit *test)
{
	struct vmmig_hs *hs = vmmig_hs_alloc();

	KUNIT_ASSERT_NOT_NULL(test, hs);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, hs_free_action, hs), 0);
	return hs;
}

/* Header and payload of @c in a buffer; its length, header included. */
static size_t hello_bytes(const struct hello_case *c, u8 *buf)
{
	struct vmmig_frame f = { .type = c->type, .len = c->len };
	struct vmmig_wire_hello *h = (void *)(buf + sizeof(struct vmmig_wire_hdr));
	struct vmmig_wire_keys *k;

	vmmig_frame_encode((void *)buf, &f);
	memset(h, 0x11, VMMIG_HELLO_MAX_LEN);
	if (c->sent >= HELLO_LEN) {
		memset(h, 0, HELLO_LEN);
		h->cookie = cpu_to_be64(0x1234);
		h->channels = cpu_to_be16(1);
		h->nregions = cpu_to_be32(c->nregions);
		h->auth = cpu_to_be32(c->auth);
	}
	if (c->sent >= H1K && c->len == c->sent) {
		k = (void *)((u8 *)h + c->sent - KEYS_LEN);
		memset(k->static_key, c->static_key ? 0x42 : 0, VMMIG_KEY_LEN);
	}
	return sizeof(struct vmmig_wire_hdr) + c->sent;
}

static void hello_test(struct kunit *test)
{
	const struct hello_case *c = test->param_value;
	struct replay_chan r = { .ch.ops = &replay_ops };
	struct vmmig_hs *hs = hs_get(test);
	u8 *buf;
	int ret;

	buf = kunit_kzalloc(test, sizeof(struct vmmig_wire_hdr) + VMMIG_HELLO_MAX_LEN,
			    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	r.data = buf;
	r.len = c->hdr_cut ? 10 : hello_bytes(c, buf);
	ret = vmmig_hs_recv_hello(hs, &r.ch);
	KUNIT_EXPECT_EQ(test, ret, c->expect);
	KUNIT_EXPECT_LE(test, r.biggest, VMMIG_HELLO_MAX_LEN);
	if (ret)
		return;
	KUNIT_EXPECT_EQ(test, r.off, r.len);
	KUNIT_EXPECT_EQ(test, vmmig_hs_offer_check(hs, NULL), c->offer);
	KUNIT_EXPECT_EQ(test, be32_to_cpu(vmmig_hs_hello(hs)->nregions), c->nregions);
}

/* The source's AUTH frame, as the destination reads it after WELCOME. */
struct proof_case {
	const char *name;
	u8 type;
	u32 len;
	u32 sent;
	u32 status;
	int expect;
};

#define AUTH_LEN	((u32)sizeof(struct vmmig_wire_auth))

static const struct proof_case proof_cases[] = {
	{ "valid", VMMIG_FRAME_AUTH, AUTH_LEN, AUTH_LEN, 0, 0 },
	{ "refused_by_source", VMMIG_FRAME_AUTH, AUTH_LEN, AUTH_LEN, EKEYREJECTED,
	  -EKEYREJECTED },
	{ "status_past_max_errno", VMMIG_FRAME_AUTH, AUTH_LEN, AUTH_LEN, MAX_ERRNO + 1,
	  -EPROTO },
	{ "status_u32_max", VMMIG_FRAME_AUTH, AUTH_LEN, AUTH_LEN, U32_MAX, -EPROTO },
	{ "blob_before_proof", VMMIG_FRAME_BLOB, 16, 16, 0, -EPROTO },
	{ "second_hello", VMMIG_FRAME_HELLO, H1, H1, 0, -EPROTO },
	{ "len_short", VMMIG_FRAME_AUTH, AUTH_LEN - 1, AUTH_LEN - 1, 0, -EBADMSG },
	{ "len_long", VMMIG_FRAME_AUTH, AUTH_LEN + 1, AUTH_LEN + 1, 0, -EBADMSG },
	{ "cut", VMMIG_FRAME_AUTH, AUTH_LEN, AUTH_LEN - 5, 0, -ECONNRESET },
};

static void proof_case_desc(const struct proof_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(proof, proof_cases, proof_case_desc);

static void proof_test(struct kunit *test)
{
	const struct proof_case *c = test->param_value;
	struct replay_chan r = { .ch.ops = &replay_ops };
	struct vmmig_frame f = { .type = c->type, .len = c->len };
	struct vmmig_hs *hs = hs_get(test);
	struct vmmig_wire_auth *a;
	u8 *buf;

	buf = kunit_kzalloc(test, sizeof(struct vmmig_wire_hdr) + 4096, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	vmmig_frame_encode((void *)buf, &f);
	a = (void *)(buf + sizeof(struct vmmig_wire_hdr));
	a->status = cpu_to_be32(c->status);
	r.data = buf;
	r.len = sizeof(struct vmmig_wire_hdr) + c->sent;
	KUNIT_EXPECT_EQ(test, vmmig_hs_recv_proof(hs, &r.ch), c->expect);
	KUNIT_EXPECT_LE(test, r.biggest, (size_t)AUTH_LEN + sizeof(struct vmmig_wire_hdr));
}

/*
 * COMP frames whose codec data lies: a page entry that decodes to less
 * or more than a page, several concatenated frames, a cut block. Each is
 * read into a page with a guard page either side.
 */
struct comp_case {
	const char *name;
	unsigned int alg;
	size_t decoded;		/* bytes the entry's data really decodes to */
	unsigned int frames;	/* concatenated codec frames of @decoded each */
	int cut;		/* bytes cut off the end of the data */
	int expect;		/* vmmig_comp_reader_next() */
};

static const struct comp_case comp_cases[] = {
	{ "lz4_page", VMMIG_COMP_LZ4, PAGE_SIZE, 1, 0, 0 },
	{ "lz4_short", VMMIG_COMP_LZ4, 100, 1, 0, -EBADMSG },
	{ "lz4_page_less_one", VMMIG_COMP_LZ4, PAGE_SIZE - 1, 1, 0, -EBADMSG },
	{ "lz4_page_and_one", VMMIG_COMP_LZ4, PAGE_SIZE + 1, 1, 0, -EBADMSG },
	{ "lz4_two_pages", VMMIG_COMP_LZ4, 2 * PAGE_SIZE, 1, 0, -EBADMSG },
	{ "lz4_sixteen_pages", VMMIG_COMP_LZ4, 16 * PAGE_SIZE, 1, 0, -EBADMSG },
	{ "lz4_cut", VMMIG_COMP_LZ4, PAGE_SIZE, 1, 3, -EBADMSG },
	{ "zstd_page", VMMIG_COMP_ZSTD, PAGE_SIZE, 1, 0, 0 },
	{ "zstd_short", VMMIG_COMP_ZSTD, 100, 1, 0, -EBADMSG },
	{ "zstd_page_and_one", VMMIG_COMP_ZSTD, PAGE_SIZE + 1, 1, 0, -EBADMSG },
	{ "zstd_two_pages", VMMIG_COMP_ZSTD, 2 * PAGE_SIZE, 1, 0, -EBADMSG },
	{ "zstd_cut", VMMIG_COMP_ZSTD, PAGE_SIZE, 1, 3, -EBADMSG },
	/* concatenated frames are one page's worth together: harmless */
	{ "zstd_two_halves", VMMIG_COMP_ZSTD, PAGE_SIZE / 2, 2, 0, 0 },
	{ "zstd_two_pages_in_two", VMMIG_COMP_ZSTD, PAGE_SIZE, 2, 0, -EBADMSG },
};

static void comp_case_desc(const struct comp_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(comp, comp_cases, comp_case_desc);

KUNIT_DEFINE_ACTION_WRAPPER(ctx_destroy_action, vmmig_comp_ctx_destroy,
			    struct vmmig_comp_ctx *);

static void comp_test(struct kunit *test)
{
	const struct comp_case *c = test->param_value;
	size_t src_len = c->decoded, data = 0, cap = 32 * PAGE_SIZE, n;
	struct vmmig_comp_reader rd;
	struct vmmig_comp_ctx *ctx;
	u8 *src, *payload, *base, *dst;
	unsigned int i;

	ctx = vmmig_comp_ctx_create(c->alg, 0, 16 * PAGE_SIZE + 1);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy_action, ctx), 0);
	src = kunit_kmalloc(test, src_len, GFP_KERNEL);
	payload = kunit_kzalloc(test, 2 + cap, GFP_KERNEL);
	base = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, payload);
	KUNIT_ASSERT_NOT_NULL(test, base);
	for (i = 0; i < src_len; i++)
		src[i] = "vmmig corpus"[i % 12] + i / 4096;
	for (i = 0; i < c->frames; i++) {
		n = cap - data;
		KUNIT_ASSERT_EQ(test, ctx->ops->compress(ctx, src, src_len, payload + 2 + data,
							 &n), 0);
		data += n;
	}
	data -= c->cut;
	KUNIT_ASSERT_LT(test, data, PAGE_SIZE);
	payload[0] = data >> 8;
	payload[1] = data;
	memset(base, GUARD, 3 * PAGE_SIZE);
	dst = base + PAGE_SIZE;

	KUNIT_ASSERT_EQ(test, vmmig_comp_reader_init(&rd, payload, 2 + data, 1), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&rd, ctx, dst), c->expect);
	KUNIT_EXPECT_FALSE(test, memchr_inv(base, GUARD, PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, memchr_inv(dst + PAGE_SIZE, GUARD, PAGE_SIZE));
	if (!c->expect)
		KUNIT_EXPECT_EQ(test, memcmp(dst, src, min_t(size_t, src_len, PAGE_SIZE)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&rd, ctx, dst), -ENODATA);
}

static struct kunit_case corpus_test_cases[] = {
	KUNIT_CASE_PARAM(hello_test, hello_gen_params),
	KUNIT_CASE_PARAM(proof_test, proof_gen_params),
	KUNIT_CASE_PARAM(comp_test, comp_gen_params),
	{}
};

static struct kunit_suite corpus_suite = {
	.name = "vmmig_corpus",
	.test_cases = corpus_test_cases,
};

kunit_test_suite(corpus_suite);
