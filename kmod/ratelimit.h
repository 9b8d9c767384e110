/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A token bucket in bytes per second: the host's bandwidth cap (one per
 * network namespace) and each source session's own (VMMIG_IOC_SET_BANDWIDTH).
 *
 * The bucket may go into debt: a sender takes what it sends as soon as the
 * bucket is not negative, however large the send, and the next sender waits
 * until the debt is paid. So one bucket never needs to hold a whole frame,
 * and the burst (what an idle bucket saves up) can stay a few milliseconds'
 * worth, which keeps the rate smooth.
 *
 * Locking: @lock, a leaf spinlock, guards every field; the functions take
 * the time as an argument, for KUnit (kmod/tests/ratelimit_kunit.c).
 */
#ifndef _VMMIG_RATELIMIT_H
#define _VMMIG_RATELIMIT_H

#include <linux/bits.h>
#include <linux/ktime.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/* What an idle bucket saves up: this long at its rate ... */
#define VMMIG_RL_BURST_NS	(5 * NSEC_PER_MSEC)
/* ... but at least one send of 16 pages (tcp.c), so that slow caps work. */
#define VMMIG_RL_MIN_BURST	(64 * 1024)

/*
 * The deepest a bucket goes into debt. Any send is far smaller (a blob,
 * VMMIG_MAX_BLOB, is the largest); the bound keeps the wait in
 * nanoseconds from overflowing at 1 byte per second.
 */
#define VMMIG_RL_MAX_DEBT	BIT_ULL(32)

struct vmmig_rl {
	spinlock_t lock;	/* guards the fields below */
	u64 rate;		/* bytes per second; 0: unlimited */
	s64 tokens;		/* bytes that may go now; negative: debt */
	ktime_t last;		/* when @tokens was last brought up to date */
	u32 gen;		/* bumped by every rate change, for sleepers */
};

void vmmig_rl_init(struct vmmig_rl *rl, u64 rate, ktime_t now);
void vmmig_rl_set_rate(struct vmmig_rl *rl, u64 rate, ktime_t now);
u64 vmmig_rl_rate(struct vmmig_rl *rl);
u64 vmmig_rl_burst(u64 rate);
u64 vmmig_rl_take(struct vmmig_rl *rl, u64 bytes, ktime_t now);

#endif /* _VMMIG_RATELIMIT_H */
