// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for page compression (kmod/compress/): every codec
 * round-trips every kind of page, gives up on pages that do not shrink
 * enough, and refuses damaged input without writing a byte outside the
 * destination page. Page contents come from a fixed seed, so a failure
 * repeats.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/prandom.h>
#include <linux/string.h>

#include "../compress/compress.h"
#include "../zero.h"

#define SEED		0x766d6d6967ULL
#define GUARD		0xa5
#define FRAME_PAGES	64

KUNIT_DEFINE_ACTION_WRAPPER(ctx_destroy_action, vmmig_comp_ctx_destroy,
			    struct vmmig_comp_ctx *);

static struct vmmig_comp_ctx *ctx_get(struct kunit *test, unsigned int alg,
				      int level, size_t max_src_bytes)
{
	struct vmmig_comp_ctx *ctx;

	ctx = vmmig_comp_ctx_create(alg, level, max_src_bytes);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy_action, ctx), 0);
	return ctx;
}

/*
 * A page with a guard page on either side, all GUARD: what a codec wrote
 * out of bounds shows up as a changed guard.
 */
static u8 *guarded_page(struct kunit *test)
{
	u8 *base = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, base);
	memset(base, GUARD, 3 * PAGE_SIZE);
	return base + PAGE_SIZE;
}

static void guarded_reset(u8 *page)
{
	memset(page - PAGE_SIZE, GUARD, 3 * PAGE_SIZE);
}

/* Nothing changed from @page + @len to the end of the guard after it. */
static bool untouched_from(const u8 *page, size_t len)
{
	return !memchr_inv(page + len, GUARD, 2 * PAGE_SIZE - len);
}

static bool guards_intact(const u8 *page)
{
	return !memchr_inv(page - PAGE_SIZE, GUARD, PAGE_SIZE) &&
	       untouched_from(page, PAGE_SIZE);
}

static void fill_zero(u8 *p, struct rnd_state *rnd)
{
	memset(p, 0, PAGE_SIZE);
}

static void fill_random(u8 *p, struct rnd_state *rnd)
{
	prandom_bytes_state(rnd, p, PAGE_SIZE);
}

/* Saves at most 1/16 of the page: less than the margin. */
static void fill_nearly_random(u8 *p, struct rnd_state *rnd)
{
	prandom_bytes_state(rnd, p, PAGE_SIZE);
	memset(p, 0, PAGE_SIZE / 16);
}

/* Like much of a guest's memory: zeroes with a few scattered words. */
static void fill_sparse(u8 *p, struct rnd_state *rnd)
{
	u64 *w = (u64 *)p;
	int i;

	memset(p, 0, PAGE_SIZE);
	for (i = 0; i < 32; i++)
		w[prandom_u32_state(rnd) % (PAGE_SIZE / sizeof(u64))] =
			(u64)prandom_u32_state(rnd) << 32 | prandom_u32_state(rnd);
}

static void fill_text(u8 *p, struct rnd_state *rnd)
{
	static const char *const words[] = {
		"the", "guest", "page", "is", "dirty", "again", "and", "so",
		"migration", "sends", "it", "over", "one", "channel", "of",
		"many", "struct", "int", "return", "0x7fff0000", "{", "}",
		"kernel", "memory", "frame", "to", "a", "receiver", "if",
	};
	size_t pos = 0, n;
	const char *w;

	while (pos < PAGE_SIZE) {
		w = words[prandom_u32_state(rnd) % ARRAY_SIZE(words)];
		n = min(strlen(w), PAGE_SIZE - pos);
		memcpy(p + pos, w, n);
		pos += n;
		if (pos < PAGE_SIZE)
			p[pos++] = prandom_u32_state(rnd) % 8 ? ' ' : '\n';
	}
}

struct page_kind {
	const char *name;
	void (*fill)(u8 *p, struct rnd_state *rnd);
	bool shrinks;		/* by the margin, with a real codec */
};

static const struct page_kind page_kinds[] = {
	{ "zero",		fill_zero,		true },
	{ "text",		fill_text,		true },
	{ "sparse",		fill_sparse,		true },
	{ "random",		fill_random,		false },
	{ "nearly_random",	fill_nearly_random,	false },
};

struct codec_case {
	const char *name;
	unsigned int alg;
	int level;
};

static const struct codec_case codec_cases[] = {
	{ "none",	VMMIG_COMP_NONE,	0 },
	{ "lz4",	VMMIG_COMP_LZ4,		0 },
	{ "lz4_accel8",	VMMIG_COMP_LZ4,		8 },
	{ "zstd",	VMMIG_COMP_ZSTD,	0 },
	{ "zstd_1",	VMMIG_COMP_ZSTD,	1 },
	{ "zstd_19",	VMMIG_COMP_ZSTD,	19 },
	{ "zstd_22",	VMMIG_COMP_ZSTD,	22 },
};

static void codec_case_desc(const struct codec_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(codec, codec_cases, codec_case_desc);

static bool compresses(const struct codec_case *c)
{
	return c->alg != VMMIG_COMP_NONE;
}

/* vmmig_comp_page() keeps what shrinks enough, and it decodes back. */
/* The zero-page scan: one non-zero byte anywhere, in any bit, is seen. */
static void page_zero_test(struct kunit *test)
{
	static const unsigned int at[] = { 0, 7, 8, 63, 64, 1000, 4032, 4095 };
	u8 *page = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int i, bit;

	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_TRUE(test, vmmig_mem_page_zero(page));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		for (bit = 0; bit < 8; bit++) {
			page[at[i]] = 1 << bit;
			KUNIT_EXPECT_FALSE_MSG(test, vmmig_mem_page_zero(page),
					       "byte %u bit %u", at[i], bit);
			page[at[i]] = 0;
		}
	}
	KUNIT_EXPECT_TRUE(test, vmmig_mem_page_zero(page));
}

static void comp_page_test(struct kunit *test)
{
	const struct codec_case *c = test->param_value;
	struct vmmig_comp_ctx *ctx = ctx_get(test, c->alg, c->level, 0);
	u8 *src = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	u8 *out = guarded_page(test), *dst = guarded_page(test);
	struct rnd_state rnd;
	unsigned int i;
	int n;

	KUNIT_ASSERT_NOT_NULL(test, src);
	prandom_seed_state(&rnd, SEED);
	for (i = 0; i < ARRAY_SIZE(page_kinds); i++) {
		const struct page_kind *k = &page_kinds[i];

		k->fill(src, &rnd);
		guarded_reset(out);
		n = vmmig_comp_page(ctx, src, out, PAGE_SIZE);
		KUNIT_EXPECT_TRUE_MSG(test, guards_intact(out), "%s", k->name);
		if (!compresses(c) || !k->shrinks) {
			KUNIT_EXPECT_EQ_MSG(test, n, 0, "%s", k->name);
			continue;
		}
		KUNIT_ASSERT_GT_MSG(test, n, 0, "%s", k->name);
		KUNIT_EXPECT_LE_MSG(test, n, (int)(PAGE_SIZE - VMMIG_COMP_MIN_SAVING),
				    "%s", k->name);
		kunit_info(test, "%s: %d bytes", k->name, n);

		guarded_reset(dst);
		KUNIT_EXPECT_EQ_MSG(test, vmmig_decomp_page(ctx, out, n, dst), 0,
				    "%s", k->name);
		KUNIT_EXPECT_TRUE_MSG(test, guards_intact(dst), "%s", k->name);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(src, dst, PAGE_SIZE), 0, "%s", k->name);

		/* One byte too little room: raw, and nothing past the room. */
		guarded_reset(out);
		KUNIT_EXPECT_EQ_MSG(test, vmmig_comp_page(ctx, src, out, n - 1), 0,
				    "%s", k->name);
		KUNIT_EXPECT_TRUE_MSG(test, untouched_from(out, n - 1), "%s", k->name);
	}
}

/* The codec itself round-trips every page, even one that grows. */
static void comp_codec_roundtrip_test(struct kunit *test)
{
	const struct codec_case *c = test->param_value;
	struct vmmig_comp_ctx *ctx;
	u8 *src, *out, *dst;
	struct rnd_state rnd;
	size_t len;
	unsigned int i;

	if (!compresses(c))
		kunit_skip(test, "none has nothing to round-trip");
	ctx = ctx_get(test, c->alg, c->level, 0);
	src = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	out = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, out);
	dst = guarded_page(test);

	prandom_seed_state(&rnd, SEED);
	for (i = 0; i < ARRAY_SIZE(page_kinds); i++) {
		const struct page_kind *k = &page_kinds[i];

		k->fill(src, &rnd);
		len = 2 * PAGE_SIZE;
		KUNIT_ASSERT_EQ_MSG(test, ctx->ops->compress(ctx, src, PAGE_SIZE, out, &len),
				    0, "%s", k->name);
		guarded_reset(dst);
		KUNIT_EXPECT_EQ_MSG(test, ctx->ops->decompress(ctx, out, len, dst, PAGE_SIZE),
				    0, "%s", k->name);
		KUNIT_EXPECT_TRUE_MSG(test, guards_intact(dst), "%s", k->name);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(src, dst, PAGE_SIZE), 0, "%s", k->name);
	}
}

/* Decompress into a guarded page: must be refused, and stay in bounds. */
static void expect_rejected(struct kunit *test, struct vmmig_comp_ctx *ctx,
			    const void *src, size_t len, u8 *dst, const char *what)
{
	guarded_reset(dst);
	KUNIT_EXPECT_EQ_MSG(test, vmmig_decomp_page(ctx, src, len, dst), -EBADMSG,
			    "%s", what);
	KUNIT_EXPECT_TRUE_MSG(test, guards_intact(dst), "%s", what);
}

/* Compress @src_len bytes of text, up to two pages. */
static size_t compress_text(struct kunit *test, struct vmmig_comp_ctx *ctx,
			    size_t src_len, u8 *out, struct rnd_state *rnd)
{
	u8 *src = kunit_kmalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	size_t len = PAGE_SIZE;

	KUNIT_ASSERT_NOT_NULL(test, src);
	/* The second page repeats the first, so that two pages fit in one. */
	fill_text(src, rnd);
	memcpy(src + PAGE_SIZE, src, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, ctx->ops->compress(ctx, src, src_len, out, &len), 0);
	KUNIT_ASSERT_LT(test, len, PAGE_SIZE);
	return len;
}

/*
 * Damaged input never decodes out of bounds, and whatever does not come
 * out at exactly one page is refused.
 */
static void comp_bad_input_test(struct kunit *test)
{
	const struct codec_case *c = test->param_value;
	struct vmmig_comp_ctx *ctx = ctx_get(test, c->alg, c->level, 0);
	u8 *src = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	u8 *in = kunit_kzalloc(test, 2 * PAGE_SIZE, GFP_KERNEL);
	u8 *dst = guarded_page(test);
	unsigned int rejected = 0;
	struct rnd_state rnd;
	size_t i, len, n;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, in);
	prandom_seed_state(&rnd, SEED);

	expect_rejected(test, ctx, in, 0, dst, "empty");
	expect_rejected(test, ctx, in, PAGE_SIZE, dst, "page-long");
	for (len = 1; len < PAGE_SIZE; len = len * 3 + 1) {
		prandom_bytes_state(&rnd, in, len);
		expect_rejected(test, ctx, in, len, dst, "garbage");
	}
	if (!compresses(c))
		return;

	expect_rejected(test, ctx, in, compress_text(test, ctx, PAGE_SIZE / 2, in, &rnd),
			dst, "decodes short");
	expect_rejected(test, ctx, in, compress_text(test, ctx, 2 * PAGE_SIZE, in, &rnd),
			dst, "decodes long");

	fill_text(src, &rnd);
	ret = vmmig_comp_page(ctx, src, in, PAGE_SIZE);
	KUNIT_ASSERT_GT(test, ret, 0);
	n = ret;
	expect_rejected(test, ctx, in, n - 1, dst, "truncated by one");
	expect_rejected(test, ctx, in, n / 2, dst, "truncated to half");
	expect_rejected(test, ctx, in, 1, dst, "truncated to one byte");
	in[n] = 0x5a;
	expect_rejected(test, ctx, in, n + 1, dst, "trailing byte");

	/*
	 * A flipped byte that still decodes to one page (say, in a literal)
	 * cannot be caught without a checksum, which TCP already has; what
	 * matters is that nothing lands outside the page.
	 */
	for (i = 0; i < n; i++) {
		in[i] ^= 0xff;
		guarded_reset(dst);
		ret = vmmig_decomp_page(ctx, in, n, dst);
		KUNIT_EXPECT_TRUE_MSG(test, !ret || ret == -EBADMSG, "byte %zu: %d", i, ret);
		KUNIT_EXPECT_TRUE_MSG(test, guards_intact(dst), "byte %zu", i);
		rejected += ret == -EBADMSG;
		in[i] ^= 0xff;
	}
	KUNIT_EXPECT_GT(test, rejected, 0U);
	kunit_info(test, "%u of %zu flipped bytes refused", rejected, n);
}

/* A frame of mixed pages comes back page by page, each one in place. */
static void comp_frame_test(struct kunit *test)
{
	const struct codec_case *c = test->param_value;
	struct vmmig_comp_ctx *ctx;
	u8 *pages, *dst = guarded_page(test);
	struct vmmig_comp_writer w;
	struct vmmig_comp_reader r;
	const void *payload;
	struct rnd_state rnd;
	unsigned int i;
	size_t len;
	int ret;

	ctx = ctx_get(test, c->alg, c->level, FRAME_PAGES * PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, ctx->max_pages, FRAME_PAGES);
	pages = kunit_kmalloc_array(test, FRAME_PAGES, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	prandom_seed_state(&rnd, SEED);

	/* A quarter zero, half text, a quarter random. */
	vmmig_comp_writer_init(&w, ctx);
	for (i = 0; i < FRAME_PAGES; i++) {
		u8 *p = pages + i * PAGE_SIZE;

		if (i % 4 == 0) {
			fill_zero(p, &rnd);
			KUNIT_ASSERT_EQ(test, vmmig_comp_writer_add_zero(&w), 0);
			continue;
		}
		if (i % 4 == 3)
			fill_random(p, &rnd);
		else
			fill_text(p, &rnd);
		ret = vmmig_comp_writer_add(&w, p);
		KUNIT_ASSERT_GT(test, ret, 0);
		KUNIT_EXPECT_EQ(test, ret == PAGE_SIZE, !compresses(c) || i % 4 == 3);
	}
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_add_zero(&w), -ENOSPC);
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_add(&w, pages), -ENOSPC);
	len = vmmig_comp_writer_finish(&w, &payload);
	if (!compresses(c)) {
		/* Zero pages save what they would save anyway: send it raw. */
		KUNIT_EXPECT_EQ(test, len, 0);
		return;
	}
	KUNIT_ASSERT_GT(test, len, 0);
	KUNIT_EXPECT_LE(test, len, vmmig_comp_frame_bound(FRAME_PAGES));
	kunit_info(test, "mixed frame: %zu of %lu bytes", len, FRAME_PAGES * PAGE_SIZE);

	KUNIT_ASSERT_EQ(test, vmmig_comp_reader_init(&r, payload, len, FRAME_PAGES), 0);
	for (i = 0; i < FRAME_PAGES; i++) {
		guarded_reset(dst);
		KUNIT_EXPECT_EQ_MSG(test, vmmig_comp_reader_next(&r, ctx, dst), 0, "page %u", i);
		KUNIT_EXPECT_TRUE_MSG(test, guards_intact(dst), "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(pages + i * PAGE_SIZE, dst, PAGE_SIZE), 0,
				    "page %u", i);
	}
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&r, ctx, dst), -ENODATA);

	/* A zero page known to be zero at the destination is skipped (NULL)... */
	KUNIT_ASSERT_EQ(test, vmmig_comp_reader_init(&r, payload, len, FRAME_PAGES), 0);
	for (i = 0; i < FRAME_PAGES; i++) {
		if (i % 4 == 0) {
			KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&r, ctx, NULL), 0);
			continue;
		}
		guarded_reset(dst);
		KUNIT_EXPECT_EQ_MSG(test, vmmig_comp_reader_next(&r, ctx, dst), 0, "page %u", i);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(pages + i * PAGE_SIZE, dst, PAGE_SIZE), 0,
				    "page %u after skipped zero pages", i);
	}
	/* ...but a page with data has to go somewhere. */
	KUNIT_ASSERT_EQ(test, vmmig_comp_reader_init(&r, payload, len, FRAME_PAGES), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&r, ctx, NULL), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_next(&r, ctx, NULL), -EINVAL);

	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_init(&r, payload, len - 1, FRAME_PAGES),
			-EBADMSG);
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_init(&r, payload, len, FRAME_PAGES - 1),
			-EBADMSG);

	/* finish emptied the writer; random pages alone do not pay... */
	for (i = 0; i < 8; i++) {
		fill_random(pages, &rnd);
		KUNIT_EXPECT_EQ(test, vmmig_comp_writer_add(&w, pages), (int)PAGE_SIZE);
	}
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_finish(&w, &payload), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_finish(&w, &payload), 0);

	/* ...nor zero pages alone: a ZERO frame says it for less. */
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, vmmig_comp_writer_add_zero(&w), 0);
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_finish(&w, &payload), 0);
}

/* A context without a frame buffer can still do single pages. */
static void comp_frame_no_buffer_test(struct kunit *test)
{
	struct vmmig_comp_ctx *ctx = ctx_get(test, VMMIG_COMP_LZ4, 0, 0);
	struct vmmig_comp_writer w;

	KUNIT_EXPECT_NULL(test, ctx->buf);
	vmmig_comp_writer_init(&w, ctx);
	KUNIT_EXPECT_EQ(test, vmmig_comp_writer_add_zero(&w), -ENOSPC);
}

struct table_case {
	const char *name;
	unsigned int npages;
	u16 len[4];
	size_t payload_len;
	int expect;
};

/* The table: one __be16 per page. */
#define T(n)	((n) * sizeof(__be16))

static const struct table_case table_cases[] = {
	{ "one_raw",		1, { PAGE_SIZE },	T(1) + PAGE_SIZE,	0 },
	{ "one_zero",		1, { 0 },		T(1),			0 },
	{ "mixed",		4, { 0, 1, 100, PAGE_SIZE },
				T(4) + 101 + PAGE_SIZE,				0 },
	{ "no_pages",		0, { },			0,			-EBADMSG },
	{ "shorter_than_table",	2, { 0, 0 },		T(2) - 1,		-EBADMSG },
	{ "entry_past_page",	1, { PAGE_SIZE + 1 },	T(1) + PAGE_SIZE + 1,	-EBADMSG },
	{ "entry_max",		1, { 0xffff },		T(1) + 0xffff,		-EBADMSG },
	{ "sum_short",		2, { 10, 20 },		T(2) + 29,		-EBADMSG },
	{ "sum_long",		2, { 10, 20 },		T(2) + 31,		-EBADMSG },
	{ "four_raw",		4, { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE },
				T(4) + 4 * PAGE_SIZE,				0 },
};

static void table_case_desc(const struct table_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(table, table_cases, table_case_desc);

/* The receiver trusts no table that does not add up to the payload. */
static void comp_frame_check_test(struct kunit *test)
{
	const struct table_case *c = test->param_value;
	struct vmmig_comp_reader r;
	__be16 table[4];
	u8 *payload;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(table); i++)
		table[i] = cpu_to_be16(c->len[i]);
	KUNIT_EXPECT_EQ(test, vmmig_comp_frame_check(table, c->npages, c->payload_len),
			c->expect);

	/* The same through the reader, with the table at the payload's head. */
	payload = kunit_kzalloc(test, max(c->payload_len, sizeof(table)), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, payload);
	memcpy(payload, table, T(c->npages));
	KUNIT_EXPECT_EQ(test, vmmig_comp_reader_init(&r, payload, c->payload_len, c->npages),
			c->expect);
}

struct level_case {
	const char *name;
	unsigned int alg;
	int level;
	size_t max_src_bytes;
	int expect;
	int level_used;
};

static const struct level_case level_cases[] = {
	{ "none_default",	VMMIG_COMP_NONE, 0,	  0,	0,	 0 },
	{ "none_1",		VMMIG_COMP_NONE, 1,	  0,	-EINVAL },
	{ "lz4_default",	VMMIG_COMP_LZ4,	 0,	  0,	0,	 1 },
	{ "lz4_max",		VMMIG_COMP_LZ4,	 65537,	  0,	0,	 65537 },
	{ "lz4_past_max",	VMMIG_COMP_LZ4,	 65538,	  0,	-EINVAL },
	{ "lz4_negative",	VMMIG_COMP_LZ4,	 -1,	  0,	-EINVAL },
	{ "zstd_default",	VMMIG_COMP_ZSTD, 0,	  0,	0,	 3 },
	{ "zstd_1",		VMMIG_COMP_ZSTD, 1,	  0,	0,	 1 },
	{ "zstd_22",		VMMIG_COMP_ZSTD, 22,	  0,	0,	 22 },
	{ "zstd_23",		VMMIG_COMP_ZSTD, 23,	  0,	-EINVAL },
	{ "zstd_negative",	VMMIG_COMP_ZSTD, -1,	  0,	-EINVAL },
	{ "zstd_int_min",	VMMIG_COMP_ZSTD, INT_MIN, 0,	-EINVAL },
	{ "zstd_int_max",	VMMIG_COMP_ZSTD, INT_MAX, 0,	-EINVAL },
	{ "unknown_codec",	__VMMIG_COMP_MAX, 0,	  0,	-EINVAL },
	{ "codec_u32_max",	U32_MAX,	 0,	  0,	-EINVAL },
	{ "frame_max",		VMMIG_COMP_ZSTD, 0,	  VMMIG_COMP_MAX_PAGES * PAGE_SIZE,
								0,	 3 },
	{ "frame_too_big",	VMMIG_COMP_ZSTD, 0,	  VMMIG_COMP_MAX_PAGES * PAGE_SIZE + 1,
								-EINVAL },
};

static void level_case_desc(const struct level_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(level, level_cases, level_case_desc);

/* Levels outside the documented ranges are refused when creating. */
static void comp_level_test(struct kunit *test)
{
	const struct level_case *c = test->param_value;
	struct vmmig_comp_ctx *ctx;

	if (c->max_src_bytes <= VMMIG_COMP_MAX_PAGES * PAGE_SIZE)
		KUNIT_EXPECT_EQ(test, vmmig_comp_check(c->alg, c->level), c->expect);
	ctx = vmmig_comp_ctx_create(c->alg, c->level, c->max_src_bytes);
	if (c->expect) {
		KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(ctx), c->expect);
		return;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx);
	KUNIT_EXPECT_EQ(test, ctx->level, c->level_used);
	vmmig_comp_ctx_destroy(ctx);
}

static struct kunit_case comp_test_cases[] = {
	KUNIT_CASE(page_zero_test),
	KUNIT_CASE_PARAM(comp_page_test, codec_gen_params),
	KUNIT_CASE_PARAM(comp_codec_roundtrip_test, codec_gen_params),
	KUNIT_CASE_PARAM(comp_bad_input_test, codec_gen_params),
	KUNIT_CASE_PARAM(comp_frame_test, codec_gen_params),
	KUNIT_CASE(comp_frame_no_buffer_test),
	KUNIT_CASE_PARAM(comp_frame_check_test, table_gen_params),
	KUNIT_CASE_PARAM(comp_level_test, level_gen_params),
	{}
};

static struct kunit_suite comp_suite = {
	.name = "vmmig_compress",
	.test_cases = comp_test_cases,
};

kunit_test_suite(comp_suite);
