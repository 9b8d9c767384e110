// SPDX-License-Identifier: GPL-2.0
/*
 * KVM dirty-ring entries (struct kvm_dirty_gfn layout) turned into the
 * per-region bitmaps the sender already walks (send.c): SEND_DIRTY_RING
 * then costs one bitmap walk, as SEND_DIRTY does, and a page named twice
 * is sent once. Nothing here touches a session, so that KUnit can drive
 * it: the caller copies the arrays in and describes its regions.
 *
 * A region's bitmap covers only the pages between the lowest and highest
 * one named (from a multiple of 64, as SEND_DIRTY wants), so a ring of a
 * few entries never allocates a bitmap of a whole terabyte region.
 */
#include <linux/bsearch.h>
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <kunit/visibility.h>

#include "vmmig.h"

static int vmmig_ring_map_cmp(const void *a, const void *b)
{
	const struct vmmig_ring_map *x = a, *y = b;

	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/**
 * vmmig_ring_slots - check a slot map and index it
 * @u: the caller's slots
 * @n: how many
 * @spans: the session's regions (@id and @npages filled in)
 * @nspans: how many
 * @maps: @n entries, filled in sorted by slot
 *
 * Return: 0; -ENOENT if a slot names a region not in @spans; -EINVAL for
 * a reserved field set, a slot of no pages or past its region's end, or
 * a slot listed twice.
 */
int vmmig_ring_slots(const struct vmmig_ring_slot *u, unsigned int n,
		     const struct vmmig_ring_span *spans, unsigned int nspans,
		     struct vmmig_ring_map *maps)
{
	unsigned int i, r;
	u64 end;

	for (i = 0; i < n; i++) {
		if (u[i].reserved || !u[i].num_pages)
			return -EINVAL;
		for (r = 0; r < nspans && spans[r].id != u[i].region_id; r++)
			;
		if (r == nspans)
			return -ENOENT;
		if (check_add_overflow(u[i].first_page, u[i].num_pages, &end) ||
		    end > spans[r].npages)
			return -EINVAL;
		maps[i] = (struct vmmig_ring_map){ .slot = u[i].slot, .span = r,
						   .first_page = u[i].first_page,
						   .num_pages = u[i].num_pages };
	}
	sort(maps, n, sizeof(*maps), vmmig_ring_map_cmp, NULL);
	for (i = 1; i < n; i++)
		if (maps[i].slot == maps[i - 1].slot)
			return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_ring_slots);

/* The checked entry's page in its region, or -EINVAL. */
static int vmmig_ring_page(const struct vmmig_ring_map *maps, unsigned int nmaps,
			   const struct vmmig_dirty_gfn *e,
			   const struct vmmig_ring_map **hint, u64 *page)
{
	const struct vmmig_ring_map key = { .slot = e->slot };
	const struct vmmig_ring_map *m = *hint;

	if ((e->flags & ~VMMIG_RING_GFN_RESET) != VMMIG_RING_GFN_DIRTY)
		return -EINVAL;
	/* A vCPU's entries mostly come from one slot: try the last one first. */
	if (!m || m->slot != e->slot) {
		m = bsearch(&key, maps, nmaps, sizeof(*maps), vmmig_ring_map_cmp);
		if (!m)
			return -EINVAL;
		*hint = m;
	}
	if (e->offset >= m->num_pages)
		return -EINVAL;
	/* No overflow: vmmig_ring_slots() checked first_page + num_pages. */
	*page = m->first_page + e->offset;
	return 0;
}

/**
 * vmmig_ring_spans_free - free the bitmaps vmmig_ring_walk() made
 * @spans: the regions
 * @nspans: how many
 */
void vmmig_ring_spans_free(struct vmmig_ring_span *spans, unsigned int nspans)
{
	unsigned int r;

	for (r = 0; r < nspans; r++) {
		kvfree(spans[r].map);
		spans[r].map = NULL;
	}
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_ring_spans_free);

/**
 * vmmig_ring_walk - turn ring entries into per-region bitmaps
 * @maps: the slot map from vmmig_ring_slots()
 * @nmaps: its entries
 * @e: the ring entries, any order, duplicates allowed
 * @n: how many (0: nothing to send)
 * @spans: the regions; @lo, @hi and @map filled in
 * @nspans: how many
 *
 * Every entry is checked before any bitmap is allocated. A region no entry
 * names gets @lo == @hi and no @map; the others get the pages
 * [@lo, @hi) with @lo a multiple of 64 and bit (p - @lo) of @map set for
 * each page p named. Free with vmmig_ring_spans_free(), also on error.
 *
 * Return: 0; -EINVAL for an entry without DIRTY, with a flag other than
 * DIRTY and RESET, of a slot not in @maps or past its slot's end;
 * -ENOMEM.
 */
int vmmig_ring_walk(const struct vmmig_ring_map *maps, unsigned int nmaps,
		    const struct vmmig_dirty_gfn *e, size_t n,
		    struct vmmig_ring_span *spans, unsigned int nspans)
{
	const struct vmmig_ring_map *hint = NULL;
	struct vmmig_ring_span *sp;
	unsigned int r;
	size_t i;
	u64 page;
	int ret;

	for (r = 0; r < nspans; r++) {
		spans[r].lo = U64_MAX;
		spans[r].hi = 0;
		spans[r].map = NULL;
	}
	for (i = 0; i < n; i++) {
		ret = vmmig_ring_page(maps, nmaps, &e[i], &hint, &page);
		if (ret)
			goto err;
		sp = &spans[hint->span];
		sp->lo = min(sp->lo, page);
		sp->hi = max(sp->hi, page + 1);
	}
	for (r = 0; r < nspans; r++) {
		sp = &spans[r];
		if (sp->lo >= sp->hi) {
			sp->lo = 0;
			sp->hi = 0;
			continue;
		}
		sp->lo = round_down(sp->lo, VMMIG_RUN_PAGES);
		/* The caller's input decides the size: -ENOMEM, not a warning. */
		sp->map = kvcalloc(BITS_TO_LONGS(sp->hi - sp->lo), sizeof(long),
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!sp->map) {
			ret = -ENOMEM;
			goto err;
		}
	}
	hint = NULL;
	for (i = 0; i < n; i++) {
		vmmig_ring_page(maps, nmaps, &e[i], &hint, &page);
		sp = &spans[hint->span];
		__set_bit(page - sp->lo, sp->map);
	}
	return 0;

err:
	vmmig_ring_spans_free(spans, nspans);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_ring_walk);
