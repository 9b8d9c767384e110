// SPDX-License-Identifier: GPL-2.0
/*
 * memdirty: rewrites pages of a working set at a set rate and keeps a
 * running checksum of what it wrote, so that a page lost or stale after a
 * move shows. Every vCPU works on its own slice.
 *
 * Each page p holds words base + i with base = rt_mix(p, gen[p]), where
 * gen[] (in guest RAM too) counts the page's rewrites. The running
 * checksum is the sum of rt_mix(p, gen[p]) over the slice, kept up to date
 * on every rewrite. A check pass reads every page and compares it with
 * gen[], and the sum over gen[] with the running checksum.
 *
 * Arguments: wss=MIB working set (8), rate=PAGES per second over all vCPUs
 * (0: as fast as it can), pass=PAGES rewritten per vCPU between two check
 * passes (the slice's size), mig=N after=PASSES (stop PASSES check passes
 * after the Nth move; after=0 runs forever), seed=N.
 * Exit status: 0; 1 if a check failed; 2 if the working set does not fit.
 */
#include "rt.h"

#define BATCH		64
#define WORDS		(PAGE_SIZE / 8)

struct slice {
	u64 first, npages;
	u64 sum;			/* the running checksum */
	u64 rng;
	u64 errors;
	u64 dirtied;
} __aligned(64);

static struct slice slices[GUEST_MAX_VCPUS];
static struct rt_clock clocks[GUEST_MAX_VCPUS];
static u64 *mem;			/* the working set */
static u32 *gen;
static u32 stopping, stopped;

/*
 * Called often, in the checks too: the gap a move leaves in the guest's
 * clock is measured between two calls.
 */
static void tick(unsigned int cpu)
{
	struct rt_clock *c = &clocks[cpu];

	if (rt_clock_tick(c, cpu) && cpu == 0)
		rt_printf("memdirty: moved (#%llu): my clock jumped %llu.%03llu ms\n",
			  c->seen_migrations, c->gap_us / 1000, c->gap_us % 1000);
}

static u64 *page(u64 p)
{
	return mem + p * WORDS;
}

static void write_page(struct slice *s, u64 p)
{
	u32 g = ++gen[p];
	u64 base = rt_mix(p, g), *w = page(p);
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		w[i] = base + i;
	s->sum += rt_mix(base, p) - (g > 1 ? rt_mix(rt_mix(p, g - 1), p) : 0);
}

/* Every page of the slice against gen[], and gen[] against the sum. */
static u64 check_slice(struct slice *s, unsigned int cpu)
{
	u64 p, sum = 0, bad = 0;

	for (p = s->first; p < s->first + s->npages; p++) {
		u64 base = rt_mix(p, gen[p]), *w = page(p);
		unsigned int i;

		sum += rt_mix(base, p);
		if (!(p % 64))
			tick(cpu);
		for (i = 0; i < WORDS; i++)
			if (w[i] != base + i)
				break;
		if (i < WORDS) {
			if (bad++ < 4)
				rt_printf("memdirty: cpu %u: page %llu word %u: %#llx, not %#llx\n",
					  cpu, p, i, w[i], base + i);
		}
	}
	if (sum != s->sum) {
		rt_printf("memdirty: cpu %u: checksum %#llx, running checksum %#llx\n",
			  cpu, sum, s->sum);
		bad++;
	}
	return bad;
}

int guest_main(unsigned int cpu)
{
	u64 ncpus = rt_info->ncpus, wss = rt_arg("wss", 8) << 20;
	u64 npages = wss / PAGE_SIZE, rate = rt_arg("rate", 0);
	u64 heap = ((u64)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	u64 table = (npages * 4 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	struct slice *s = &slices[cpu];
	u64 pass, start, next_report = 0, passes = 0;
	struct rt_stop stop;

	if (heap + table + wss > rt_info->ram_bytes || npages < ncpus) {
		if (cpu == 0)
			rt_printf("memdirty: a %llu MiB working set won't fit in %llu MiB\n",
				  wss >> 20, rt_info->ram_bytes >> 20);
		return 2;
	}
	gen = (u32 *)heap;
	mem = (u64 *)(heap + table);
	s->first = npages * cpu / ncpus;
	s->npages = npages * (cpu + 1) / ncpus - s->first;
	s->rng = rt_arg("seed", 1) * 0x9e3779b97f4a7c15ULL + cpu + 1;
	pass = rt_arg("pass", s->npages);
	rate = (rate + ncpus - 1) / ncpus;
	rt_stop_init(&stop);

	for (u64 p = s->first; p < s->first + s->npages; p++)
		write_page(s, p);
	if (cpu == 0)
		rt_printf("memdirty: %llu vCPU(s), %llu MiB, %s%llu pages/s, check every %llu\n",
			  ncpus, wss >> 20, rate ? "" : "unlimited: ",
			  rate * ncpus, pass);

	rt_clock_init(&clocks[cpu]);
	start = rt_now_us();
	for (;;) {
		unsigned int i;

		for (i = 0; i < BATCH; i++)
			write_page(s, s->first + rt_rand(&s->rng) % s->npages);
		s->dirtied += BATCH;
		__atomic_fetch_add(&rt_info->progress, BATCH, __ATOMIC_RELAXED);
		if (rate)
			rt_sleep_until(start + s->dirtied * 1000000 / rate, 10000);
		tick(cpu);
		if (s->dirtied < (passes + 1) * pass && !READ_ONCE(stopping))
			continue;

		passes++;
		if (check_slice(s, cpu)) {
			s->errors++;
			__atomic_fetch_add(&rt_info->errors, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&rt_info->passes, 1, __ATOMIC_RELAXED);
		if (cpu == 0 && rt_now_us() >= next_report) {
			u64 t = rt_now_us() - start;

			rt_printf("memdirty: pass %llu %s, %llu writes (%llu/s), moves %llu\n",
				  passes, s->errors ? "FAILED" : "ok", s->dirtied,
				  t ? s->dirtied * 1000000 / t * ncpus : 0, rt_info->migrations);
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
	rt_printf("memdirty: stopping after %llu passes: %s\n", passes,
		  rt_info->errors ? "ERRORS" : "every check passed");
	return rt_info->errors ? 1 : 0;
}
