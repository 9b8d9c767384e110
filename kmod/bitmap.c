// SPDX-License-Identifier: GPL-2.0
/*
 * Walking KVM dirty bitmaps (KVM_GET_DIRTY_LOG layout: one bit per page,
 * native unsigned long words, bit 0 = first page).
 *
 * The walk yields runs of consecutive dirty pages rather than single pages
 * so that the sender can put a run behind one frame header.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/find.h>
#include <linux/minmax.h>
#include <kunit/visibility.h>

#include "vmmig.h"

/**
 * vmmig_bitmap_check_tail - reject bits set past the end of a region
 * @map: bitmap of BITS_TO_LONGS(@nbits) words
 * @nbits: pages in the region
 *
 * KVM never sets them; a caller that does handed in a bitmap for some
 * other, larger region.
 *
 * Return: 0, or -EINVAL if a bit at or past @nbits is set.
 */
int vmmig_bitmap_check_tail(const unsigned long *map, unsigned long nbits)
{
	unsigned int tail = nbits % BITS_PER_LONG;

	if (tail && (map[nbits / BITS_PER_LONG] & ~BITMAP_LAST_WORD_MASK(nbits)))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_bitmap_check_tail);

/**
 * vmmig_bitmap_next_run - find the next run of set bits
 * @map: the bitmap
 * @nbits: bits in @map that count
 * @start: first bit to look at
 * @max_run: longest run to return (> 0); a longer run is returned in pieces
 * @run_start: first bit of the run found
 * @run_len: its length, 1..@max_run
 *
 * Return: true if a run was found at or after @start.
 */
bool vmmig_bitmap_next_run(const unsigned long *map, unsigned long nbits,
			   unsigned long start, unsigned long max_run,
			   unsigned long *run_start, unsigned long *run_len)
{
	unsigned long first, end;

	if (start >= nbits || !max_run)
		return false;
	first = find_next_bit(map, nbits, start);
	if (first >= nbits)
		return false;
	end = find_next_zero_bit(map, min(nbits, first + max_run), first);
	*run_start = first;
	*run_len = end - first;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_bitmap_next_run);
