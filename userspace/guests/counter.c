// SPDX-License-Identifier: GPL-2.0
/*
 * counter: prints a counter to the serial port every interval, so that a
 * person watching both hosts sees it carry on where it was. With a disk,
 * each tick also goes to a journal block; after a move the last entries
 * are read back, so the disk's move shows too.
 *
 * Arguments: interval=MS (500), mig=N and after=TICKS (stop TICKS ticks
 * after the Nth move; after=0, the default, runs forever).
 * Exit status: 0, or 1 if the journal read back wrong.
 */
#include "rt.h"

#define JOURNAL_MAGIC	0x4c4e524a52544e43ULL	/* "CNTRJRNL" */
#define CHECK_BACK	64

static u64 block[GUEST_BLOCK_SIZE / 8] __aligned(4096);

static void journal_fill(u64 n, u64 uptime)
{
	unsigned int i;

	block[0] = JOURNAL_MAGIC;
	block[1] = n;
	block[2] = uptime;
	for (i = 3; i < GUEST_BLOCK_SIZE / 8; i++)
		block[i] = rt_mix(n, i);
}

/* Entry @n must be in its block: 0, or the first bad word + 1. */
static unsigned int journal_check(u32 blocks, u64 n)
{
	unsigned int i;

	if (rt_blk_io(GUEST_BLK_READ, n % blocks, 1, block))
		return 1;
	if (block[0] != JOURNAL_MAGIC)
		return 1;
	if (block[1] != n)
		return 2;
	for (i = 3; i < GUEST_BLOCK_SIZE / 8; i++)
		if (block[i] != rt_mix(n, i))
			return i + 1;
	return 0;
}

/* Say what the move looked like from in here; check the journal. */
static u64 report_move(const struct rt_clock *clock, u32 blocks, u64 n)
{
	u64 k, bad = 0;

	rt_printf("counter: moved (#%llu): my clock jumped %llu.%03llu ms\n",
		  clock->seen_migrations, clock->gap_us / 1000, clock->gap_us % 1000);
	if (!blocks)
		return 0;
	for (k = n > CHECK_BACK ? n - CHECK_BACK + 1 : 1; k <= n; k++)
		bad += !!journal_check(blocks, k);
	rt_printf("counter: journal on the disk: last %llu entries %s\n",
		  n < CHECK_BACK ? n : CHECK_BACK, bad ? "WRONG" : "intact");
	return bad;
}

int guest_main(unsigned int cpu)
{
	u64 interval = rt_arg("interval", 500) * 1000, next, now, n = 0, errors = 0;
	u32 blocks;
	struct rt_clock clock;
	struct rt_stop stop;

	if (cpu)
		return 0;	/* one vCPU counts; the others halt */
	blocks = rt_blk_blocks();
	rt_stop_init(&stop);
	rt_clock_init(&clock);
	rt_printf("counter: %u vCPU(s), %llu MiB RAM, %s, tick every %llu ms\n",
		  rt_info->ncpus, rt_info->ram_bytes >> 20,
		  blocks ? "journal on the disk" : "no disk", interval / 1000);
	next = rt_now_us();
	for (;;) {
		now = rt_now_us();
		n++;
		rt_printf("counter %llu  uptime %llu.%03llus  moves %llu\n", n,
			  now / 1000000, now / 1000 % 1000, rt_info->migrations);
		if (blocks) {
			unsigned int bad;

			journal_fill(n, now);
			if (rt_blk_io(GUEST_BLK_WRITE, n % blocks, 1, block))
				errors++;
			bad = n > 1 ? journal_check(blocks, n - 1) : 0;
			if (bad) {
				rt_printf("counter: journal entry %llu is wrong (word %u)\n",
					  n - 1, bad - 1);
				errors++;
			}
		}
		WRITE_ONCE(rt_info->progress, n);
		WRITE_ONCE(rt_info->passes, rt_info->passes + 1);
		WRITE_ONCE(rt_info->errors, errors);
		if (rt_stop_count(&stop))
			break;

		next += interval;
		for (;;) {
			/* Also right after the tick: a move may have come in it. */
			if (rt_clock_tick(&clock, cpu)) {
				errors += report_move(&clock, blocks, n);
				WRITE_ONCE(rt_info->errors, errors);
				/* Don't replay the ticks the move took. */
				if (next < rt_now_us())
					next = rt_now_us();
			}
			now = rt_now_us();
			if (now >= next)
				break;
			/* Short slices: the gap a move leaves shows to within 10 ms. */
			rt_sleep_us(next - now < 10000 ? next - now : 10000);
		}
	}
	rt_printf("counter: stopping at %llu, %llu error(s)\n", n, errors);
	return errors ? 1 : 0;
}
