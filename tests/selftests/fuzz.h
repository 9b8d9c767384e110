/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the vmmig fuzzers share: a seeded PRNG and the run's budget.
 *
 * Every fuzzer prints its seed first; VMMIG_FUZZ_SEED=<seed> replays the
 * same inputs (the kernel's answers may still differ where timing decides
 * them, e.g. which of two racing calls wins). VMMIG_FUZZ_ITERS scales the
 * number of inputs per test; `make fuzz` sets it high, the normal test run
 * leaves the short default. Each test derives its own stream from the seed
 * and its name, so one test can be replayed alone.
 */
#ifndef _VMMIG_FUZZ_H
#define _VMMIG_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/types.h>

#include "kselftest.h"

struct fz {
	__u64 s;
};

static inline __u64 fz_next(struct fz *r)
{
	/* splitmix64: good enough to fuzz with, trivial to replay. */
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value in [0, n); n > 0. */
static inline __u64 fz_below(struct fz *r, __u64 n)
{
	return fz_next(r) % n;
}

/* True with probability 1/n. */
static inline int fz_one_in(struct fz *r, __u64 n)
{
	return fz_below(r, n) == 0;
}

static inline void fz_bytes(struct fz *r, void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len--)
		*p++ = fz_next(r);
}

/* The seed of the run: VMMIG_FUZZ_SEED, else the clock; printed once. */
static inline __u64 fz_seed(void)
{
	static __u64 seed;
	static int have;
	const char *env;

	if (have)
		return seed;
	env = getenv("VMMIG_FUZZ_SEED");
	if (env && *env) {
		seed = strtoull(env, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (__u64)ts.tv_sec * 1000000007ULL ^ ts.tv_nsec;
	}
	have = 1;
	/* Line by line: nothing left in the buffer for a fork to print twice. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# fuzz seed %llu (replay: VMMIG_FUZZ_SEED=%llu)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	fflush(stdout);
	return seed;
}

/* A test's own stream: the seed mixed with the test's name. */
static inline void fz_init(struct fz *r, const char *name)
{
	__u64 h = 1469598103934665603ULL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	r->s = fz_seed() ^ h;
	fz_next(r);
}

/* @base inputs, times VMMIG_FUZZ_ITERS / 100 when that is set (percent). */
static inline unsigned long fz_iters(unsigned long base)
{
	const char *env = getenv("VMMIG_FUZZ_ITERS");
	unsigned long pct = env && *env ? strtoul(env, NULL, 0) : 100;

	return base * pct / 100 ?: 1;
}

/* An integer the way fuzzers like them: edges more often than not. */
static inline __u64 fz_u64(struct fz *r)
{
	static const __u64 edges[] = {
		0, 1, 2, 63, 64, 65, 4095, 4096, 4097, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 0x10000000000ULL, 0x10000001000ULL,
		0x7ffffffff000ULL, 0x800000000000ULL, 0xffff888000000000ULL,
		0xffffffffff600000ULL, 0x7fffffffffffffffULL, ~0ULL, ~0ULL - 4095,
	};

	switch (fz_below(r, 4)) {
	case 0:
		return edges[fz_below(r, ARRAY_SIZE(edges))];
	case 1:
		return fz_below(r, 300);
	case 2:
		return edges[fz_below(r, ARRAY_SIZE(edges))] +
		       (__s64)fz_below(r, 9) - 4;
	default:
		return fz_next(r);
	}
}

#endif /* _VMMIG_FUZZ_H */
