// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the bandwidth token bucket (kmod/ratelimit.c): refill,
 * burst, debt and its wait, a rate change, 0 = unlimited and rates so
 * large that the arithmetic would overflow if it were not saturated.
 */
#include <kunit/test.h>
#include <linux/limits.h>

#include <linux/vmmig.h>

#include "../ratelimit.h"

#define MS(n)	((n) * NSEC_PER_MSEC)

/* A bucket at @rate whose clock starts at 1 s. */
static void mk(struct vmmig_rl *rl, u64 rate)
{
	vmmig_rl_init(rl, rate, ns_to_ktime(NSEC_PER_SEC));
}

static ktime_t at(u64 ns)
{
	return ns_to_ktime(NSEC_PER_SEC + ns);
}

/* 0 is no cap: anything goes, at any time, and the bucket never fills. */
static void rl_unlimited_test(struct kunit *test)
{
	struct vmmig_rl rl;
	int i;

	mk(&rl, 0);
	for (i = 0; i < 100; i++)
		KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, U64_MAX, at(0)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_rate(&rl), 0);
}

struct burst_case {
	u64 rate;
	u64 burst;
};

static const struct burst_case burst_cases[] = {
	{ VMMIG_MIN_BANDWIDTH, VMMIG_RL_MIN_BURST },
	{ 1000000, VMMIG_RL_MIN_BURST },		/* 5 ms: 5000 bytes */
	{ 125000000, 625000 },				/* 1 Gbit/s: 5 ms */
	{ 12500000000ULL, 62500000 },			/* 100 Gbit/s */
	{ U64_MAX, U64_MAX / 200 },
};

static void burst_desc(const struct burst_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "rate %llu", c->rate);
}

KUNIT_ARRAY_PARAM(burst, burst_cases, burst_desc);

/*
 * A full bucket lets one burst go at once and no more: the take that
 * empties it succeeds (debt), the next waits.
 */
static void rl_burst_test(struct kunit *test)
{
	const struct burst_case *c = test->param_value;
	struct vmmig_rl rl;

	KUNIT_EXPECT_EQ(test, vmmig_rl_burst(c->rate), c->burst);
	mk(&rl, c->rate);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, c->burst, at(0)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(0)), 0);	/* 0 left: not in debt */
	KUNIT_EXPECT_GT(test, vmmig_rl_take(&rl, 1, at(0)), 0);
}

/* An idle bucket saves up one burst, not more, however long it idles. */
static void rl_refill_test(struct kunit *test)
{
	struct vmmig_rl rl;

	mk(&rl, 1000000);	/* 1 MB/s: 1000 bytes per ms, burst 64 KiB */
	KUNIT_ASSERT_EQ(test, vmmig_rl_take(&rl, VMMIG_RL_MIN_BURST + 5000, at(0)), 0);
	/* 5000 bytes of debt: 5 ms */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(0)), MS(5));
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(MS(2))), MS(3));
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1000, at(MS(5))), 0);
	/* Now 1000 in debt: 1 ms */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(MS(5))), MS(1));
	/* An hour idle: one burst, then 1 byte of debt */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, VMMIG_RL_MIN_BURST + 1,
					    at(3600ULL * NSEC_PER_SEC)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(3600ULL * NSEC_PER_SEC)), 1000);
}

/* Over a long run of small takes, the bytes let through follow the rate. */
static void rl_rate_test(struct kunit *test)
{
	const u64 rate = 10000000;	/* 10 MB/s */
	u64 t = 0, sent = 0, wait;
	struct vmmig_rl rl;

	mk(&rl, rate);
	while (t < NSEC_PER_SEC) {
		wait = vmmig_rl_take(&rl, 65536, at(t));
		if (wait)
			t += wait;
		else
			sent += 65536;
	}
	/* One second's worth, plus the first burst and one take of debt. */
	KUNIT_EXPECT_GE(test, sent, rate - 65536);
	KUNIT_EXPECT_LE(test, sent, rate + vmmig_rl_burst(rate) + 65536);
}

/*
 * A new rate applies at once: the debt owed at the old one is forgiven
 * (a sender would otherwise sleep it off at 1000 bytes/s), the bucket
 * starts with the new burst, the generation tells sleepers.
 */
static void rl_set_rate_test(struct kunit *test)
{
	struct vmmig_rl rl;
	u32 gen;

	mk(&rl, VMMIG_MIN_BANDWIDTH);
	KUNIT_ASSERT_EQ(test, vmmig_rl_take(&rl, 16 << 20, at(0)), 0);
	/* 16 MiB - 64 KiB owed at 1000 bytes/s: hours */
	KUNIT_EXPECT_GT(test, vmmig_rl_take(&rl, 1, at(0)), 3600ULL * NSEC_PER_SEC);
	gen = rl.gen;
	vmmig_rl_set_rate(&rl, 125000000, at(MS(1)));
	KUNIT_EXPECT_NE(test, rl.gen, gen);
	KUNIT_EXPECT_EQ(test, vmmig_rl_rate(&rl), 125000000);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 625000, at(MS(1))), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(MS(1))), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(MS(1))), 8);	/* 1 byte: 8 ns */
	/* And to unlimited: anything goes. */
	vmmig_rl_set_rate(&rl, 0, at(MS(2)));
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, U64_MAX, at(MS(2))), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(MS(2))), 0);
}

/*
 * Huge rates and huge takes neither overflow nor trap (mul_u64_u64_div_u64
 * traps on x86 when the quotient does not fit): the refill saturates at a
 * burst, the debt at VMMIG_RL_MAX_DEBT.
 */
static void rl_overflow_test(struct kunit *test)
{
	struct vmmig_rl rl;

	mk(&rl, U64_MAX);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, U64_MAX, at(0)), 0);
	/* VMMIG_RL_MAX_DEBT in debt at U64_MAX bytes/s: 0 ns, rounded up to 1 */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(0)), 1);
	/* Years of refill at U64_MAX saturate to one burst. */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, U64_MAX / 200, at(S64_MAX / 2)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(S64_MAX / 2)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(S64_MAX / 2)), 1);

	/* The slowest rate, the deepest debt: 2^32 s, in ns, fits. */
	mk(&rl, 1);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, U64_MAX, at(0)), 0);
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, at(0)), VMMIG_RL_MAX_DEBT * NSEC_PER_SEC);
	/* A clock that goes back earns nothing, and does not underflow. */
	KUNIT_EXPECT_EQ(test, vmmig_rl_take(&rl, 1, ns_to_ktime(0)),
			VMMIG_RL_MAX_DEBT * NSEC_PER_SEC);
}

static struct kunit_case vmmig_ratelimit_cases[] = {
	KUNIT_CASE(rl_unlimited_test),
	KUNIT_CASE_PARAM(rl_burst_test, burst_gen_params),
	KUNIT_CASE(rl_refill_test),
	KUNIT_CASE(rl_rate_test),
	KUNIT_CASE(rl_set_rate_test),
	KUNIT_CASE(rl_overflow_test),
	{}
};

static struct kunit_suite vmmig_ratelimit_suite = {
	.name = "vmmig_ratelimit",
	.test_cases = vmmig_ratelimit_cases,
};

kunit_test_suite(vmmig_ratelimit_suite);
