// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the dirty-ring entry walk (kmod/ring.c): which slot maps
 * and entries are refused, and that the bitmaps name exactly the pages of
 * the entries, each once.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "../vmmig.h"

#define D	VMMIG_RING_GFN_DIRTY
#define R	VMMIG_RING_GFN_RESET
#define AS1(id)	((1U << 16) | (id))	/* slot @id of address space 1 */

/* Region 1 (span 0): 1024 pages, KVM slots 0 and 1; region 2 (span 1): 300. */
static const struct vmmig_ring_slot good_slots[] = {
	{ .slot = 1, .region_id = 1, .first_page = 512, .num_pages = 512 },
	{ .slot = 0, .region_id = 1, .first_page = 0, .num_pages = 512 },
	{ .slot = AS1(0), .region_id = 2, .first_page = 100, .num_pages = 200 },
};

static void spans_init(struct vmmig_ring_span *spans)
{
	memset(spans, 0, 2 * sizeof(*spans));
	spans[0].id = 1;
	spans[0].npages = 1024;
	spans[1].id = 2;
	spans[1].npages = 300;
}

struct slots_case {
	const char *name;
	struct vmmig_ring_slot slots[3];
	unsigned int n;
	int ret;
};

static const struct slots_case slots_cases[] = {
	{ "good", { good_slots[0], good_slots[1], good_slots[2] }, 3, 0 },
	{ "to_region_end", { { .slot = 3, .region_id = 1, .first_page = 1000,
			       .num_pages = 24 } }, 1, 0 },
	{ "past_region_end", { { .slot = 3, .region_id = 1, .first_page = 1000,
				 .num_pages = 25 } }, 1, -EINVAL },
	{ "first_page_past_end", { { .slot = 3, .region_id = 2, .first_page = 300,
				     .num_pages = 1 } }, 1, -EINVAL },
	{ "base_plus_pages_wraps", { { .slot = 3, .region_id = 1,
				       .first_page = ~0ULL - 10, .num_pages = 20 } }, 1, -EINVAL },
	{ "no_pages", { { .slot = 3, .region_id = 1 } }, 1, -EINVAL },
	{ "reserved", { { .slot = 3, .region_id = 1, .num_pages = 1, .reserved = 1 } },
	  1, -EINVAL },
	{ "unknown_region", { { .slot = 3, .region_id = 7, .num_pages = 1 } }, 1, -ENOENT },
	{ "slot_twice", { good_slots[0], good_slots[2],
			  { .slot = 1, .region_id = 2, .num_pages = 1 } }, 3, -EINVAL },
	{ "same_id_other_as", { { .slot = 5, .region_id = 1, .num_pages = 1 },
				{ .slot = AS1(5), .region_id = 2, .num_pages = 1 } }, 2, 0 },
};

static void slots_case_desc(const struct slots_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(slots, slots_cases, slots_case_desc);

static void ring_slots_test(struct kunit *test)
{
	const struct slots_case *c = test->param_value;
	struct vmmig_ring_span spans[2];
	struct vmmig_ring_map maps[3];
	unsigned int i;

	spans_init(spans);
	KUNIT_ASSERT_EQ(test, vmmig_ring_slots(c->slots, c->n, spans, 2, maps), c->ret);
	if (c->ret)
		return;
	for (i = 1; i < c->n; i++)
		KUNIT_EXPECT_LT(test, maps[i - 1].slot, maps[i].slot);
}

struct page_ref {
	unsigned int span;
	u64 page;
};

struct walk_case {
	const char *name;
	struct vmmig_dirty_gfn e[6];
	unsigned int n;
	int ret;
	struct page_ref want[6];	/* each page once */
	unsigned int nwant;
};

static const struct walk_case walk_cases[] = {
	{ "empty", {}, 0, 0, {}, 0 },
	{ "one", { { D, 0, 5 } }, 1, 0, { { 0, 5 } }, 1 },
	{ "reset_set", { { D | R, 1, 0 } }, 1, 0, { { 0, 512 } }, 1 },
	{ "duplicates", { { D, 0, 7 }, { D | R, 0, 7 }, { D, 0, 7 } }, 3, 0, { { 0, 7 } }, 1 },
	{ "unsorted", { { D, 1, 10 }, { D, 0, 3 }, { D, AS1(0), 0 }, { D, 0, 200 },
			{ D, 1, 10 } }, 5, 0,
	  { { 0, 522 }, { 0, 3 }, { 1, 100 }, { 0, 200 } }, 4 },
	{ "slot_boundaries", { { D, 0, 511 }, { D, 1, 0 }, { D, 1, 511 }, { D, AS1(0), 199 },
			       { D, 0, 0 } }, 5, 0,
	  { { 0, 511 }, { 0, 512 }, { 0, 1023 }, { 1, 299 }, { 0, 0 } }, 5 },
	{ "offset_past_slot", { { D, 0, 512 } }, 1, -EINVAL },
	{ "offset_past_last_slot", { { D, AS1(0), 200 } }, 1, -EINVAL },
	{ "offset_plus_base_wraps", { { D, AS1(0), ~0ULL - 99 } }, 1, -EINVAL },
	{ "offset_huge", { { D, 1, ~0ULL } }, 1, -EINVAL },
	{ "unmapped_slot", { { D, 2, 0 } }, 1, -EINVAL },
	{ "unmapped_address_space", { { D, AS1(1), 0 } }, 1, -EINVAL },
	{ "not_dirty", { { 0, 0, 0 } }, 1, -EINVAL },
	{ "reset_only", { { R, 0, 0 } }, 1, -EINVAL },
	{ "unknown_flag", { { D | 4, 0, 0 } }, 1, -EINVAL },
	{ "bad_after_good", { { D, 0, 1 }, { D, 1, 2 }, { D, 0, 9999 } }, 3, -EINVAL },
};

static void walk_case_desc(const struct walk_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(walk, walk_cases, walk_case_desc);

static void ring_walk_test(struct kunit *test)
{
	const struct walk_case *c = test->param_value;
	struct vmmig_ring_span spans[2];
	struct vmmig_ring_map maps[3];
	unsigned int i, r, want[2] = { 0, 0 };

	spans_init(spans);
	KUNIT_ASSERT_EQ(test, vmmig_ring_slots(good_slots, 3, spans, 2, maps), 0);
	KUNIT_ASSERT_EQ(test, vmmig_ring_walk(maps, 3, c->e, c->n, spans, 2), c->ret);
	if (c->ret) {
		/* Refused: nothing allocated, nothing to send. */
		KUNIT_EXPECT_NULL(test, spans[0].map);
		KUNIT_EXPECT_NULL(test, spans[1].map);
		return;
	}
	for (i = 0; i < c->nwant; i++) {
		const struct page_ref *p = &c->want[i];
		struct vmmig_ring_span *sp = &spans[p->span];

		KUNIT_ASSERT_NOT_NULL(test, sp->map);
		KUNIT_ASSERT_GE(test, p->page, sp->lo);
		KUNIT_ASSERT_LT(test, p->page, sp->hi);
		KUNIT_EXPECT_TRUE(test, test_bit(p->page - sp->lo, sp->map));
		want[p->span]++;
	}
	for (r = 0; r < 2; r++) {
		struct vmmig_ring_span *sp = &spans[r];

		KUNIT_EXPECT_EQ(test, sp->lo % VMMIG_RUN_PAGES, 0ULL);
		KUNIT_EXPECT_LE(test, sp->hi, sp->npages);
		if (!want[r]) {
			KUNIT_EXPECT_NULL(test, sp->map);
			KUNIT_EXPECT_EQ(test, sp->lo, sp->hi);
			continue;
		}
		/* No other page, and none twice. */
		KUNIT_EXPECT_EQ(test, bitmap_weight(sp->map, sp->hi - sp->lo), want[r]);
	}
	vmmig_ring_spans_free(spans, 2);
	KUNIT_EXPECT_NULL(test, spans[0].map);
}

/* A whole slot, every page twice, backwards: a dense ring. */
static void ring_walk_dense_test(struct kunit *test)
{
	const unsigned int n = 2 * 512;
	struct vmmig_ring_span spans[2];
	struct vmmig_ring_map maps[3];
	struct vmmig_dirty_gfn *e;
	unsigned int i;

	e = kunit_kcalloc(test, n, sizeof(*e), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	for (i = 0; i < n; i++)
		e[i] = (struct vmmig_dirty_gfn){ .flags = D, .slot = 1,
						 .offset = 511 - i % 512 };
	spans_init(spans);
	KUNIT_ASSERT_EQ(test, vmmig_ring_slots(good_slots, 3, spans, 2, maps), 0);
	KUNIT_ASSERT_EQ(test, vmmig_ring_walk(maps, 3, e, n, spans, 2), 0);
	KUNIT_EXPECT_EQ(test, spans[0].lo, 512ULL);
	KUNIT_EXPECT_EQ(test, spans[0].hi, 1024ULL);
	KUNIT_EXPECT_EQ(test, bitmap_weight(spans[0].map, 512), 512U);
	KUNIT_EXPECT_NULL(test, spans[1].map);
	vmmig_ring_spans_free(spans, 2);
}

/* A few entries at both ends of a big region: the bitmap spans them, not more. */
static void ring_walk_span_test(struct kunit *test)
{
	const struct vmmig_ring_slot slot = { .slot = 9, .region_id = 1,
					      .num_pages = 1ULL << 28 };
	const struct vmmig_dirty_gfn e[] = { { D, 9, 200 }, { D, 9, 130 } };
	struct vmmig_ring_span spans[2];
	struct vmmig_ring_map map;

	spans_init(spans);
	spans[0].npages = 1ULL << 28;	/* 1 TiB */
	KUNIT_ASSERT_EQ(test, vmmig_ring_slots(&slot, 1, spans, 2, &map), 0);
	KUNIT_ASSERT_EQ(test, vmmig_ring_walk(&map, 1, e, 2, spans, 2), 0);
	KUNIT_EXPECT_EQ(test, spans[0].lo, 128ULL);
	KUNIT_EXPECT_EQ(test, spans[0].hi, 201ULL);
	KUNIT_EXPECT_TRUE(test, test_bit(2, spans[0].map));
	KUNIT_EXPECT_TRUE(test, test_bit(72, spans[0].map));
	KUNIT_EXPECT_EQ(test, bitmap_weight(spans[0].map, 73), 2U);
	vmmig_ring_spans_free(spans, 2);
}

static struct kunit_case vmmig_ring_cases[] = {
	KUNIT_CASE_PARAM(ring_slots_test, slots_gen_params),
	KUNIT_CASE_PARAM(ring_walk_test, walk_gen_params),
	KUNIT_CASE(ring_walk_dense_test),
	KUNIT_CASE(ring_walk_span_test),
	{}
};

static struct kunit_suite vmmig_ring_suite = {
	.name = "vmmig_ring",
	.test_cases = vmmig_ring_cases,
};

kunit_test_suite(vmmig_ring_suite);
