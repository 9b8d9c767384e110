// SPDX-License-Identifier: GPL-2.0
/*
 * diskrw: writes disk blocks and reads them back, so that a block lost or
 * stale after a move (of the disk, or of the RAM that remembers what was
 * written) shows. Every vCPU works on its own range of blocks.
 *
 * Block b holds words base + i with base = rt_mix(b, gen[b]), gen[] in
 * guest RAM counting its writes; the running checksum is the sum of
 * rt_mix(base, b) over the range. First every block of the range is
 * written; then each step writes a random block and reads back another.
 * A check pass reads the whole range, 64 blocks per request.
 *
 * Arguments: blocks=N to use (the whole disk), rate=WRITES per second over
 * all vCPUs (200; 0: as fast as it can), pass=WRITES per vCPU between two
 * check passes (256), mig=N after=PASSES (stop PASSES check passes after
 * the Nth move; after=0 runs forever), ro=N (from the Nth move on only
 * read, so that the disk stays as that move left it), seed=N.
 * Exit status: 0; 1 if a check failed; 2 no disk or no room.
 */
#include "rt.h"

#define WORDS		(GUEST_BLOCK_SIZE / 8)
#define BATCH		64

struct range {
	u64 first, nblocks;
	u64 sum;
	u64 rng;
	u64 errors;
	u64 written;
	u64 *buf;			/* BATCH blocks */
} __aligned(64);

static struct range ranges[GUEST_MAX_VCPUS];
static struct rt_clock clocks[GUEST_MAX_VCPUS];
static u32 *gen;
static u32 stopping, stopped;

/* Called often, in the checks too (see memdirty.c). */
static void tick(unsigned int cpu)
{
	struct rt_clock *c = &clocks[cpu];

	if (rt_clock_tick(c, cpu) && cpu == 0)
		rt_printf("diskrw: moved (#%llu): my clock jumped %llu.%03llu ms\n",
			  c->seen_migrations, c->gap_us / 1000, c->gap_us % 1000);
}

static void fill(u64 *w, u64 b)
{
	u64 base = rt_mix(b, gen[b]);
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		w[i] = base + i;
}

/* Is block @b's content in @w what gen[] says? Counts and reports it. */
static int good(struct range *r, const u64 *w, u64 b, unsigned int cpu)
{
	u64 base = rt_mix(b, gen[b]);
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		if (w[i] != base + i)
			break;
	if (i == WORDS)
		return 1;
	if (r->errors++ < 4)
		rt_printf("diskrw: cpu %u: block %llu word %u is %#llx, want %#llx (gen %u)\n",
			  cpu, b, i, w[i], base + i, gen[b]);
	return 0;
}

static int write_block(struct range *r, u64 b)
{
	u32 g = ++gen[b];

	fill(r->buf, b);
	r->sum += rt_mix(rt_mix(b, g), b) - (g > 1 ? rt_mix(rt_mix(b, g - 1), b) : 0);
	return rt_blk_io(GUEST_BLK_WRITE, b, 1, r->buf);
}

/* The first write of every block, BATCH at a time. */
static int format(struct range *r)
{
	u64 b, i, n;

	for (b = r->first; b < r->first + r->nblocks; b += n) {
		n = r->first + r->nblocks - b < BATCH ? r->first + r->nblocks - b : BATCH;
		for (i = 0; i < n; i++) {
			gen[b + i] = 1;
			fill(r->buf + i * WORDS, b + i);
			r->sum += rt_mix(rt_mix(b + i, 1), b + i);
		}
		if (rt_blk_io(GUEST_BLK_WRITE, b, n, r->buf))
			return -1;
	}
	return 0;
}

static u64 check_range(struct range *r, unsigned int cpu)
{
	u64 b, i, n, sum = 0, before = r->errors;

	for (b = r->first; b < r->first + r->nblocks; b += n) {
		n = r->first + r->nblocks - b < BATCH ? r->first + r->nblocks - b : BATCH;
		tick(cpu);
		if (rt_blk_io(GUEST_BLK_READ, b, n, r->buf)) {
			rt_printf("diskrw: cpu %u: reading blocks %llu+%llu failed\n", cpu, b, n);
			return ++r->errors - before;
		}
		for (i = 0; i < n; i++) {
			good(r, r->buf + i * WORDS, b + i, cpu);
			sum += rt_mix(rt_mix(b + i, gen[b + i]), b + i);
		}
	}
	if (sum != r->sum) {
		rt_printf("diskrw: cpu %u: checksum %#llx, running checksum %#llx\n",
			  cpu, sum, r->sum);
		r->errors++;
	}
	return r->errors - before;
}

int guest_main(unsigned int cpu)
{
	u64 ncpus = rt_info->ncpus, blocks = rt_blk_blocks();
	u64 rate = rt_arg("rate", 200), pass = rt_arg("pass", 256), ro = rt_arg("ro", 0);
	u64 heap = ((u64)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1), table, start;
	u64 passes = 0, next_report = 0;
	struct range *r = &ranges[cpu];
	int reading;
	struct rt_stop stop;

	if (rt_arg("blocks", 0) && rt_arg("blocks", 0) < blocks)
		blocks = rt_arg("blocks", 0);
	table = (blocks * 4 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (!blocks || blocks < ncpus ||
	    heap + table + ncpus * BATCH * GUEST_BLOCK_SIZE > rt_info->ram_bytes) {
		if (cpu == 0)
			rt_printf("diskrw: needs a disk of %llu+ blocks and RAM for its table\n",
				  ncpus);
		return 2;
	}
	gen = (u32 *)heap;
	r->buf = (u64 *)(heap + table + cpu * BATCH * GUEST_BLOCK_SIZE);
	r->first = blocks * cpu / ncpus;
	r->nblocks = blocks * (cpu + 1) / ncpus - r->first;
	r->rng = rt_arg("seed", 1) * 0x9e3779b97f4a7c15ULL + cpu + 1;
	rate = (rate + ncpus - 1) / ncpus;
	rt_stop_init(&stop);

	if (format(r)) {
		rt_printf("diskrw: cpu %u: writing the disk failed\n", cpu);
		return 1;
	}
	if (cpu == 0)
		rt_printf("diskrw: %llu vCPU(s), %llu blocks, %s%llu writes/s, check every %llu\n",
			  ncpus, blocks, rate ? "" : "unlimited: ", rate * ncpus, pass);
	rt_clock_init(&clocks[cpu]);
	start = rt_now_us();
	for (;;) {
		u64 b;

		/*
		 * With ro=N, from the Nth move on only check passes remain. A
		 * write that began just before a move can still end after it,
		 * on the destination: so a test that wants the disk as move N
		 * left it compares it after a later move.
		 */
		reading = ro && READ_ONCE(rt_info->migrations) >= ro;
		if (!READ_ONCE(stopping) && !reading) {
			b = r->first + rt_rand(&r->rng) % r->nblocks;
			if (write_block(r, b))
				r->errors++;
			r->written++;
			b = r->first + rt_rand(&r->rng) % r->nblocks;
			if (rt_blk_io(GUEST_BLK_READ, b, 1, r->buf))
				r->errors++;
			else
				good(r, r->buf, b, cpu);
			__atomic_fetch_add(&rt_info->progress, 1, __ATOMIC_RELAXED);
			if (rate)
				rt_sleep_until(start + r->written * 1000000 / rate, 10000);
		}
		tick(cpu);
		if (r->written < (passes + 1) * pass && !READ_ONCE(stopping) && !reading)
			continue;

		passes++;
		if (check_range(r, cpu))
			__atomic_fetch_add(&rt_info->errors, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&rt_info->passes, 1, __ATOMIC_RELAXED);
		if (cpu == 0 && (rt_now_us() >= next_report || READ_ONCE(stopping))) {
			rt_printf("diskrw: pass %llu %s, %llu blocks written, moves %llu\n", passes,
				  rt_info->errors ? "FAILED" : "ok", r->written,
				  rt_info->migrations);
			next_report = rt_now_us() + 1000000;
		}
		if (READ_ONCE(stopping))
			break;
		if (cpu == 0 && rt_stop_count(&stop)) {
			WRITE_ONCE(stopping, 1);	/* the others finish with one more pass */
			break;
		}
	}
	__atomic_fetch_add(&stopped, 1, __ATOMIC_ACQ_REL);
	if (cpu)
		return 0;
	while (READ_ONCE(stopped) < ncpus)
		rt_sleep_us(1000);
	rt_printf("diskrw: stopping after %llu passes: %s\n", passes,
		  rt_info->errors ? "ERRORS" : "every check passed");
	return rt_info->errors ? 1 : 0;
}
