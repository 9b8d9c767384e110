// SPDX-License-Identifier: GPL-2.0
/*
 * Token bucket arithmetic for the bandwidth caps (ratelimit.h). Pure: the
 * caller hands in the time and does the sleeping (send.c).
 */
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <kunit/visibility.h>

#include "ratelimit.h"

/**
 * vmmig_rl_burst - what a bucket of @rate bytes per second saves up at most
 * @rate: bytes per second, not 0
 *
 * Return: VMMIG_RL_BURST_NS worth of @rate, at least VMMIG_RL_MIN_BURST.
 * At most U64_MAX / 200, so it always fits the s64 of the tokens.
 */
u64 vmmig_rl_burst(u64 rate)
{
	return max_t(u64, div_u64(rate, NSEC_PER_SEC / VMMIG_RL_BURST_NS),
		     VMMIG_RL_MIN_BURST);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_rl_burst);

/*
 * Bytes @rate earns in @ns, saturated: split in whole seconds (a product
 * that may overflow, checked) and the rest (under 2^32 ns, so that the
 * 96-bit product of mul_u64_u32_div() cannot).
 */
static u64 vmmig_rl_earned(u64 rate, u64 ns)
{
	u32 rem;
	u64 secs = div_u64_rem(ns, NSEC_PER_SEC, &rem);
	u64 whole, part = mul_u64_u32_div(rate, rem, NSEC_PER_SEC);

	if (check_mul_overflow(rate, secs, &whole) || check_add_overflow(whole, part, &whole))
		return U64_MAX;
	return whole;
}

/* Caller holds rl->lock; rl->rate is not 0. */
static void vmmig_rl_refill(struct vmmig_rl *rl, ktime_t now)
{
	s64 burst = vmmig_rl_burst(rl->rate);
	u64 earned;

	/* A clock read before @last (another CPU took the lock later): no time. */
	if (ktime_before(now, rl->last))
		return;
	earned = vmmig_rl_earned(rl->rate, ktime_to_ns(ktime_sub(now, rl->last)));
	rl->last = now;
	/* tokens <= burst and debt <= VMMIG_RL_MAX_DEBT: no overflow. */
	if (earned >= (u64)(burst - rl->tokens))
		rl->tokens = burst;
	else
		rl->tokens += earned;
}

void vmmig_rl_init(struct vmmig_rl *rl, u64 rate, ktime_t now)
{
	spin_lock_init(&rl->lock);
	rl->rate = rate;
	rl->tokens = rate ? vmmig_rl_burst(rate) : 0;
	rl->last = now;
	rl->gen = 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_rl_init);

/**
 * vmmig_rl_set_rate - change the rate, at once
 * @rl: the bucket
 * @rate: bytes per second; 0: unlimited
 * @now: the time
 *
 * The debt owed at the old rate is forgiven and the bucket starts with
 * one burst: a sender sleeping off a debt at a tiny rate must not keep
 * sleeping after the cap is raised. Sleepers see @gen change (send.c).
 */
void vmmig_rl_set_rate(struct vmmig_rl *rl, u64 rate, ktime_t now)
{
	spin_lock(&rl->lock);
	rl->rate = rate;
	rl->tokens = rate ? vmmig_rl_burst(rate) : 0;
	rl->last = now;
	WRITE_ONCE(rl->gen, rl->gen + 1);
	spin_unlock(&rl->lock);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_rl_set_rate);

u64 vmmig_rl_rate(struct vmmig_rl *rl)
{
	return READ_ONCE(rl->rate);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_rl_rate);

/**
 * vmmig_rl_take - take @bytes from the bucket, or say how long to wait
 * @rl: the bucket
 * @bytes: what the caller is about to hand to the network
 * @now: the time
 *
 * Return: 0 if the caller may send (the bytes are taken, the bucket may
 * go into debt by them); else the nanoseconds until the debt is paid,
 * at least 1, and nothing is taken: the caller sleeps and asks again.
 */
u64 vmmig_rl_take(struct vmmig_rl *rl, u64 bytes, ktime_t now)
{
	u64 wait = 0;

	if (!READ_ONCE(rl->rate))
		return 0;
	spin_lock(&rl->lock);
	if (!rl->rate)
		goto out;
	vmmig_rl_refill(rl, now);
	if (rl->tokens >= 0) {
		if (bytes > (u64)rl->tokens + VMMIG_RL_MAX_DEBT)
			rl->tokens = -VMMIG_RL_MAX_DEBT;
		else
			rl->tokens -= bytes;
		goto out;
	}
	/* Debt <= 2^32 bytes: at 1 byte/s, 2^32 s in ns still fits a u64. */
	wait = max_t(u64, mul_u64_u64_div_u64(-rl->tokens, NSEC_PER_SEC, rl->rate), 1);
out:
	spin_unlock(&rl->lock);
	return wait;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_rl_take);
