// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the dirty bitmap walker (kmod/bitmap.c).
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/slab.h>

#include "../vmmig.h"

/* Collect every page the walker yields into a fresh bitmap. */
static unsigned long walk_all(struct kunit *test, const unsigned long *map,
			      unsigned long nbits, unsigned long max_run,
			      unsigned long *out)
{
	unsigned long pos = 0, rs, rl, runs = 0;

	bitmap_zero(out, nbits);
	while (vmmig_bitmap_next_run(map, nbits, pos, max_run, &rs, &rl)) {
		KUNIT_ASSERT_GE(test, rs, pos);
		KUNIT_ASSERT_GT(test, rl, 0UL);
		KUNIT_ASSERT_LE(test, rl, max_run);
		KUNIT_ASSERT_LE(test, rs + rl, nbits);
		/* A run covers set bits only, and no set bit was skipped. */
		KUNIT_ASSERT_EQ(test, find_next_bit(map, nbits, pos), rs);
		KUNIT_ASSERT_EQ(test, find_next_zero_bit(map, rs + rl, rs), rs + rl);
		bitmap_set(out, rs, rl);
		pos = rs + rl;
		runs++;
	}
	return runs;
}

struct walk_case {
	const char *name;
	unsigned long nbits;
	unsigned long max_run;
	void (*fill)(unsigned long *map, unsigned long nbits);
	long expect_runs;	/* -1: don't check */
};

static void fill_empty(unsigned long *map, unsigned long nbits)
{
	bitmap_zero(map, nbits);
}

static void fill_full(unsigned long *map, unsigned long nbits)
{
	/* not bitmap_fill(): that sets the tail bits past nbits too */
	bitmap_zero(map, nbits);
	bitmap_set(map, 0, nbits);
}

static void fill_sparse(unsigned long *map, unsigned long nbits)
{
	unsigned long i;

	bitmap_zero(map, nbits);
	for (i = 0; i < nbits; i += 7)
		__set_bit(i, map);
}

static void fill_last(unsigned long *map, unsigned long nbits)
{
	bitmap_zero(map, nbits);
	__set_bit(nbits - 1, map);
}

static void fill_pattern(unsigned long *map, unsigned long nbits)
{
	unsigned long i;

	/* runs of 1..5 set bits separated by gaps of 1..3, across word edges */
	bitmap_zero(map, nbits);
	for (i = 0; i < nbits; i += (i % 5) + 1 + (i % 3) + 1)
		bitmap_set(map, i, min((i % 5) + 1, nbits - i));
}

static const struct walk_case walk_cases[] = {
	{ "empty",		4096,	   512, fill_empty,   0 },
	{ "full",		4096,	   512, fill_full,    8 },
	{ "full_run_1",		130,	   1,	fill_full,    130 },
	{ "sparse",		4096,	   512, fill_sparse,  (4096 + 6) / 7 },
	{ "last_partial_word",	100,	   512, fill_last,    1 },
	{ "one_bit_region",	1,	   512, fill_last,    1 },
	{ "pattern_odd_size",	1000,	   3,	fill_pattern, -1 },
	{ "huge_64GiB_full",	16777216,  512, fill_full,    32768 },
	{ "huge_64GiB_sparse",	16777216,  512, fill_sparse,  (16777216 + 6) / 7 },
};

static void walk_case_desc(const struct walk_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(walk, walk_cases, walk_case_desc);

static void bitmap_walk_test(struct kunit *test)
{
	const struct walk_case *c = test->param_value;
	unsigned long *map, *out, runs;

	map = kunit_kcalloc(test, BITS_TO_LONGS(c->nbits), sizeof(long), GFP_KERNEL);
	out = kunit_kcalloc(test, BITS_TO_LONGS(c->nbits), sizeof(long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, map);
	KUNIT_ASSERT_NOT_NULL(test, out);

	c->fill(map, c->nbits);
	runs = walk_all(test, map, c->nbits, c->max_run, out);
	KUNIT_EXPECT_TRUE(test, bitmap_equal(map, out, c->nbits));
	if (c->expect_runs >= 0)
		KUNIT_EXPECT_EQ(test, runs, (unsigned long)c->expect_runs);
	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, c->nbits), 0);
}

static void bitmap_walk_bounds_test(struct kunit *test)
{
	unsigned long map[2] = { ~0UL, ~0UL };
	unsigned long rs = 0xdead, rl = 0xdead;

	/* Bits past nbits are never yielded, even when set. */
	KUNIT_EXPECT_TRUE(test, vmmig_bitmap_next_run(map, 70, 64, 512, &rs, &rl));
	KUNIT_EXPECT_EQ(test, rs, 64UL);
	KUNIT_EXPECT_EQ(test, rl, 6UL);
	KUNIT_EXPECT_FALSE(test, vmmig_bitmap_next_run(map, 70, 70, 512, &rs, &rl));
	KUNIT_EXPECT_FALSE(test, vmmig_bitmap_next_run(map, 70, 1000, 512, &rs, &rl));
	KUNIT_EXPECT_FALSE(test, vmmig_bitmap_next_run(map, 70, 0, 0, &rs, &rl));
	KUNIT_EXPECT_FALSE(test, vmmig_bitmap_next_run(map, 0, 0, 512, &rs, &rl));
}

static void bitmap_tail_test(struct kunit *test)
{
	unsigned long map[2] = { 0, 0 };

	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, 70), 0);
	map[1] = BIT(5);	/* page 69: inside */
	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, 70), 0);
	map[1] = BIT(6);	/* page 70: one past the end */
	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, 70), -EINVAL);
	map[1] = BIT(BITS_PER_LONG - 1);
	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, 70), -EINVAL);
	/* A region that fills its last word has no tail to check. */
	map[1] = ~0UL;
	KUNIT_EXPECT_EQ(test, vmmig_bitmap_check_tail(map, 128), 0);
}

static struct kunit_case vmmig_bitmap_cases[] = {
	KUNIT_CASE_PARAM(bitmap_walk_test, walk_gen_params),
	KUNIT_CASE(bitmap_walk_bounds_test),
	KUNIT_CASE(bitmap_tail_test),
	{}
};

static struct kunit_suite vmmig_bitmap_suite = {
	.name = "vmmig_bitmap",
	.test_cases = vmmig_bitmap_cases,
};

kunit_test_suite(vmmig_bitmap_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for vmmig");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
