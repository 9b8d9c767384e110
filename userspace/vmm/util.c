// SPDX-License-Identifier: GPL-2.0
/* Small helpers: logging, clocks, bitmaps, the digest. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmm.h"

const char *vmm_name = "vmmig-vm";

void vmm_log(const char *fmt, ...)
{
	static int stamps = -1;
	char buf[1024], when[32] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (stamps < 0)
		stamps = !!getenv("VMMIG_VM_TIMESTAMPS");
	if (stamps) {
		u64 t = wall_ns();

		snprintf(when, sizeof(when), " %llu.%06llu", t / 1000000000 % 1000,
			 t / 1000 % 1000000);
	}
	/* One write per line: the lines of several VMMs on one terminal stay whole. */
	fprintf(stderr, "%s%s: %s\n", vmm_name, when, buf);
}

static u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

u64 now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

u64 wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void bitmap_set_range_atomic(unsigned long *map, u64 first, u64 n)
{
	u64 bit = first, end = first + n;

	while (bit < end) {
		unsigned int off = bit % BITS_PER_LONG;
		u64 len = end - bit < BITS_PER_LONG - off ? end - bit : BITS_PER_LONG - off;
		unsigned long mask = len == BITS_PER_LONG ? ~0UL : ((1UL << len) - 1) << off;

		__atomic_fetch_or(&map[bit / BITS_PER_LONG], mask, __ATOMIC_RELEASE);
		bit += len;
	}
}

void bitmap_take(unsigned long *dst, unsigned long *src, size_t longs)
{
	size_t i;

	for (i = 0; i < longs; i++)
		if (src[i])
			dst[i] |= __atomic_exchange_n(&src[i], 0, __ATOMIC_ACQUIRE);
}

u64 bitmap_weight(const unsigned long *map, size_t longs)
{
	u64 n = 0;
	size_t i;

	for (i = 0; i < longs; i++)
		n += __builtin_popcountl(map[i]);
	return n;
}

static inline u64 rotl64(u64 x, unsigned int r)
{
	return x << r | x >> (64 - r);
}

/*
 * Four independent lanes of multiply-rotate over 32-byte steps, folded at
 * the end: fast enough to digest a VM's RAM during the move's last step.
 */
u64 digest64(const void *p, size_t len, u64 seed)
{
	const u64 k1 = 0x9e3779b185ebca87ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
	u64 h[4] = { seed + k1, seed ^ k2, seed - k1, ~seed };
	const unsigned char *b = p;
	u64 w[4], out, total = len;
	size_t i;

	for (; len >= 32; len -= 32, b += 32) {
		memcpy(w, b, 32);
		for (i = 0; i < 4; i++)
			h[i] = rotl64(h[i] + w[i] * k2, 31) * k1;
	}
	out = rotl64(h[0], 1) + rotl64(h[1], 7) + rotl64(h[2], 12) + rotl64(h[3], 18) + total;
	for (; len; len--, b++)
		out = rotl64(out ^ (*b * k1), 11) * k2;
	out ^= out >> 33;
	out *= k2;
	out ^= out >> 29;
	return out;
}
