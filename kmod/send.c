// SPDX-License-Identifier: GPL-2.0
/*
 * The source's page sender. A SEND_DIRTY call is split by chunk: chunk k
 * (VMMIG_RUN_PAGES pages, aligned) of a region always goes on the same
 * channel, so the newer copy of a page sent in two rounds can never be
 * overtaken by the older one. Each channel's tx work walks the bitmap for
 * its own chunks, in parallel; a zero page costs a bit of a frame's zero
 * map (or a header for a run of them), the others are spliced into the
 * socket.
 *
 * Every byte a source hands to its transport is paced first by the host's
 * and the session's bandwidth buckets (ratelimit.h): vmmig_send_throttle(),
 * called by the transports where they hand bytes to the network.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vmmig.h"
#include "netns.h"
#include "compress/compress.h"
#include "zero.h"

/*
 * Sleep until @rl lets @bytes go. Waits on the session's wait queue, which
 * vmmig_session_abort() wakes, as do a change of either cap (gen); the
 * hrtimer keeps a wait of a few hundred microseconds that short.
 */
static int vmmig_throttle_on(struct vmmig_session *s, struct vmmig_rl *rl, size_t bytes)
{
	u64 ns;
	u32 gen;
	int ret;

	while ((ns = vmmig_rl_take(rl, bytes, ktime_get()))) {
		gen = READ_ONCE(rl->gen);
		ret = wait_event_interruptible_hrtimeout(s->wq, !vmmig_active(s) ||
							 READ_ONCE(rl->gen) != gen,
							 ns_to_ktime(ns));
		if (ret == -ERESTARTSYS)
			return -EINTR;
		if (!vmmig_active(s))
			return -s->error ?: -ECONNABORTED;
	}
	return 0;
}

/**
 * vmmig_send_throttle - wait until the bandwidth caps let @bytes go
 * @s: the session; only an active source is paced
 * @bytes: what the caller hands to the network next, headers included
 *
 * The session's bucket first, then the host's: bytes taken from the first
 * while waiting for the second go later than they were counted, never
 * earlier, so neither cap is exceeded. Called without any lock but the
 * channel's tx_lock; a sleeping sender holds only its own channel.
 *
 * Return: 0; -EINTR on a signal (a frame cut short ends the session);
 * the session's error once it is no longer active.
 */
int vmmig_send_throttle(struct vmmig_session *s, size_t bytes)
{
	/* The handshake, and an ABORT frame after the end, are never held back. */
	if (s->role != VMMIG_ROLE_SOURCE || !vmmig_active(s))
		return 0;
	return vmmig_throttle_on(s, &s->rl, bytes) ?:
	       vmmig_throttle_on(s, &vmmig_net(s->net)->rl, bytes);
}

/*
 * The host's cap changed: wake the senders that sleep on the old one.
 * Caller holds vn->cfg_lock, which keeps the listed sessions alive.
 */
void vmmig_send_throttle_wake(struct vmmig_net *vn)
{
	struct vmmig_session *s;

	list_for_each_entry(s, &vn->sessions, net_node)
		if (READ_ONCE(s->role) == VMMIG_ROLE_SOURCE)
			wake_up_all(&s->wq);
}

unsigned int vmmig_chunk_channel(u32 region, u64 page, unsigned int nch)
{
	return (u32)((page / VMMIG_RUN_PAGES + region) % nch);
}

static bool vmmig_page_is_zero(struct page *page)
{
	void *addr;
	bool zero;

	if (is_zero_page(page))	/* never touched: read through the zero page */
		return true;
	addr = kmap_local_page(page);
	zero = vmmig_mem_page_zero(addr);

	kunmap_local(addr);
	return zero;
}

/*
 * A transport that places pages itself (RDMA WRITE) writes zero runs as well
 * (from the zero page), so that no CPU write on the destination can land
 * after a newer WRITE of the same page: one ZERO or PAGES frame per run of
 * @map (bit i: page @page + i is zero), each with its writes. The HCA reads
 * the data pages after the call returns: they stay pinned (region.c).
 */
static int vmmig_send_placed(struct vmmig_channel *ch, struct vmmig_mem *mem,
			     u64 page, unsigned int n, u64 map)
{
	struct vmmig_frame f = { .region = mem->id };
	unsigned int i, j;
	bool zero;
	int ret;

	for (i = 0; i < n; i = j) {
		zero = map & BIT_ULL(i);
		for (j = i + 1; j < n && !!(map & BIT_ULL(j)) == zero; j++)
			;
		f.type = zero ? VMMIG_FRAME_ZERO : VMMIG_FRAME_PAGES;
		f.page = page + i;
		f.count = j - i;
		f.len = zero ? 0 : f.count * PAGE_SIZE;
		ret = zero ? 0 : vmmig_mem_pin(ch->sess, mem, f.page, f.count);
		if (ret)
			return ret;

		mutex_lock(&ch->tx_lock);
		ret = vmmig_send_frame(ch, &f, NULL, true);
		if (!ret)
			ret = ch->ops->send_pages(ch, mem->id, f.page,
						  zero ? NULL : &mem->pages[f.page], f.count);
		mutex_unlock(&ch->tx_lock);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Send pages [@page, @page + @n) of @mem, pinned in @run. Over a byte
 * stream, one frame: ZERO if they are all zero, PAGES if none is, else
 * SPARSE (the zero map, then the others). The data pages are spliced, not
 * copied: the socket takes its own references.
 */
static int vmmig_send_plain(struct vmmig_channel *ch, struct vmmig_mem *mem,
			    u64 page, unsigned int n, struct page **run)
{
	struct vmmig_frame f = { .region = mem->id, .page = page, .count = n };
	struct page *data[VMMIG_RUN_PAGES];
	struct vmmig_session *s = ch->sess;
	unsigned int i, nz = 0;
	__be64 wire_map;
	u64 map = 0;
	int ret;

	BUILD_BUG_ON(VMMIG_RUN_PAGES > 64);
	for (i = 0; i < n; i++) {
		if (vmmig_page_is_zero(run[i]))
			map |= BIT_ULL(i);
		else
			data[nz++] = run[i];
	}

	if (ch->placed) {
		ret = vmmig_send_placed(ch, mem, page, n, map);
	} else {
		if (!nz)
			f.type = VMMIG_FRAME_ZERO;
		else if (nz == n)
			f.type = VMMIG_FRAME_PAGES;
		else
			f.type = VMMIG_FRAME_SPARSE;
		f.len = nz * PAGE_SIZE;
		if (f.type == VMMIG_FRAME_SPARSE)
			f.len += VMMIG_SPARSE_MAP_LEN;
		wire_map = cpu_to_be64(map);

		mutex_lock(&ch->tx_lock);
		ret = vmmig_send_frame(ch, &f, NULL, true);
		if (!ret && f.type == VMMIG_FRAME_SPARSE)
			ret = ch->ops->send(ch, &wire_map, sizeof(wire_map), true);
		if (!ret && nz)	/* not placed: @page is not where they go */
			ret = ch->ops->send_pages(ch, mem->id, page, data, nz);
		mutex_unlock(&ch->tx_lock);
	}
	if (ret)
		return ret;

	atomic64_add(n, &s->job.pages);
	atomic64_add(n - nz, &s->job.zero_pages);
	return 0;
}

static void vmmig_comp_account(struct vmmig_session *s, unsigned int comp,
			       unsigned int raw, size_t out)
{
	atomic64_add(comp, &s->comp_pages);
	atomic64_add(raw, &s->incompressible_pages);
	atomic64_add((u64)(comp + raw) * PAGE_SIZE, &s->comp_bytes_in);
	atomic64_add(out, &s->comp_bytes_out);
}

/*
 * Send pages [@page, @page + @n) of @mem, pinned in @run, as one COMP
 * frame, compressed page by page; or, when the frame does not pay
 * (compress.h), the plain way.
 */
static int vmmig_send_comp(struct vmmig_channel *ch, struct vmmig_mem *mem,
			   u64 page, unsigned int n, struct page **run)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_COMP, .region = mem->id,
				 .page = page, .count = n };
	struct vmmig_session *s = ch->sess;
	unsigned int i, zero = 0, raw = 0;
	struct vmmig_comp_writer w;
	const void *payload;
	int ret = 0;

	vmmig_comp_writer_init(&w, ch->comp);
	for (i = 0; i < n && ret >= 0; i++) {
		void *addr;

		if (is_zero_page(run[i])) {
			ret = vmmig_comp_writer_add_zero(&w);
			zero++;
			continue;
		}
		addr = kmap_local_page(run[i]);
		if (vmmig_mem_page_zero(addr)) {
			ret = vmmig_comp_writer_add_zero(&w);
			zero++;
		} else {
			ret = vmmig_comp_writer_add(&w, addr);
			raw += ret == PAGE_SIZE;
		}
		kunmap_local(addr);
	}
	if (ret < 0)
		return ret;

	f.len = vmmig_comp_writer_finish(&w, &payload);
	if (!f.len) {
		/* Zero-copy beats a copy that saves too little. */
		vmmig_comp_account(s, 0, n - zero, (size_t)(n - zero) * PAGE_SIZE);
		return vmmig_send_plain(ch, mem, page, n, run);
	}
	mutex_lock(&ch->tx_lock);
	ret = vmmig_send_frame(ch, &f, payload, true);
	mutex_unlock(&ch->tx_lock);
	if (ret)
		return ret;
	vmmig_comp_account(s, n - zero - raw, raw, f.len);
	atomic64_add(n, &s->job.pages);
	atomic64_add(zero, &s->job.zero_pages);
	return 0;
}

static int vmmig_send_run(struct vmmig_channel *ch, struct vmmig_mem *mem,
			  u64 page, unsigned int n)
{
	struct page *run[VMMIG_RUN_PAGES];
	int ret;

	ret = vmmig_mem_pin_run(ch->sess, mem, page, n, run);
	if (ret)
		return ret;
	ret = ch->comp ? vmmig_send_comp(ch, mem, page, n, run) :
			 vmmig_send_plain(ch, mem, page, n, run);
	unpin_user_pages(run, n);
	return ret;
}

void vmmig_tx_work(struct work_struct *work)
{
	struct vmmig_channel *ch = container_of(work, struct vmmig_channel, tx_work);
	struct vmmig_session *s = ch->sess;
	struct vmmig_send_job *job = &s->job;
	unsigned long nbits = job->npages, chunk, start, end, rs, rl;
	int ret = 0;

	for (chunk = 0; chunk * VMMIG_RUN_PAGES < nbits && !ret; chunk++) {
		start = chunk * VMMIG_RUN_PAGES;
		if (vmmig_chunk_channel(job->mem->id, job->first + start, s->nch) != ch->index)
			continue;
		end = min(nbits, start + VMMIG_RUN_PAGES);
		if (!job->map) {
			ret = vmmig_send_run(ch, job->mem, job->first + start, end - start);
			continue;
		}
		while (!ret && vmmig_bitmap_next_run(job->map, end, start,
						     VMMIG_RUN_PAGES, &rs, &rl)) {
			ret = vmmig_send_run(ch, job->mem, job->first + rs, rl);
			start = rs + rl;
		}
		if (!vmmig_active(s) && !ret)
			ret = -s->error ?: -ECONNABORTED;
		cond_resched();
	}

	if (ret)
		cmpxchg(&job->error, 0, ret);
	if (atomic_dec_and_test(&job->pending))
		complete(&job->done);
}

static int vmmig_dirty_check(struct vmmig_session *s, const struct vmmig_dirty *d,
			     struct vmmig_mem **memp)
{
	struct vmmig_mem *mem;
	u64 end;

	if (d->flags & ~VMMIG_DIRTY_ALL || d->reserved)
		return -EINVAL;
	mem = vmmig_mem_find(s, d->region_id);
	if (!mem)
		return -ENOENT;
	if (d->first_page % VMMIG_RUN_PAGES || !d->num_pages ||
	    check_add_overflow(d->first_page, d->num_pages, &end) || end > mem->npages)
		return -EINVAL;
	if (d->flags & VMMIG_DIRTY_ALL) {
		if (d->bitmap || d->bitmap_size)
			return -EINVAL;
	} else if (d->bitmap_size != ALIGN(d->num_pages, 64) / 8) {
		return -EINVAL;
	}
	*memp = mem;
	return 0;
}

/*
 * Send pages [@first, @first + @npages) of @mem whose bit is set in @map
 * (NULL: all), on every channel; add what went to @pages and @zero_pages.
 * Caller holds s->lock; the session is an ACTIVE source.
 */
static int vmmig_send_map(struct vmmig_session *s, struct vmmig_mem *mem,
			  const unsigned long *map, u64 first, u64 npages,
			  u64 *pages, u64 *zero_pages)
{
	struct vmmig_send_job *job = &s->job;
	unsigned int i;
	u64 sent, zero;
	int ret;

	vmmig_round_begin(s);

	job->mem = mem;
	job->map = map;
	job->first = first;
	job->npages = npages;
	job->error = 0;
	atomic64_set(&job->pages, 0);
	atomic64_set(&job->zero_pages, 0);
	atomic_set(&job->pending, s->nch);
	reinit_completion(&job->done);
	for (i = 0; i < s->nch; i++)
		queue_work(system_unbound_wq, &s->ch[i].tx_work);
	/*
	 * Idle, not uninterruptible: under a bandwidth cap a SEND_DIRTY may
	 * rightly take minutes, which is no hung task. ABORT ends it.
	 */
	wait_for_completion_state(&job->done, TASK_IDLE);

	sent = atomic64_read(&job->pages);
	zero = atomic64_read(&job->zero_pages);
	*pages += sent;
	*zero_pages += zero;
	atomic64_add(sent, &s->pages);
	atomic64_add(zero, &s->zero_pages);
	ret = job->error;
	if (ret) {
		vmmig_session_abort(s, -ret, true, "sending pages failed");
		/* Whoever ended it first says why, not the send it broke. */
		ret = -READ_ONCE(s->error) ?: ret;
	}
	return ret;
}

/* Caller holds s->lock; the session is an ACTIVE source. */
int vmmig_send_dirty(struct vmmig_session *s, struct vmmig_dirty *d)
{
	unsigned long *map = NULL;
	struct vmmig_mem *mem;
	int ret;

	ret = vmmig_dirty_check(s, d, &mem);
	if (ret)
		return ret;
	if (!(d->flags & VMMIG_DIRTY_ALL)) {
		map = kvzalloc(ALIGN(d->bitmap_size, sizeof(long)), GFP_KERNEL_ACCOUNT);
		if (!map)
			return -ENOMEM;
		if (copy_from_user(map, u64_to_user_ptr(d->bitmap), d->bitmap_size)) {
			ret = -EFAULT;
			goto out;
		}
		ret = vmmig_bitmap_check_tail(map, d->num_pages);
		if (ret)
			goto out;
	}
	d->pages = 0;
	d->zero_pages = 0;
	ret = vmmig_send_map(s, mem, map, d->first_page, d->num_pages, &d->pages,
			     &d->zero_pages);
out:
	kvfree(map);
	return ret;
}

/* Copy in @n elements of @size bytes from @uptr; NULL with *@err set on failure. */
static void *vmmig_copy_array(u64 uptr, size_t n, size_t size, int *err)
{
	void *p;

	/* The limits keep this far below INT_MAX; __GFP_NOWARN as for a bitmap. */
	p = kvmalloc_array(n ?: 1, size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	if (copy_from_user(p, u64_to_user_ptr(uptr), n * size)) {
		kvfree(p);
		*err = -EFAULT;
		return NULL;
	}
	return p;
}

/*
 * Caller holds s->lock; the session is an ACTIVE source. Every slot and
 * entry is checked (ring.c) before the first page is sent; then each
 * region named goes through the same job as a SEND_DIRTY bitmap.
 */
int vmmig_send_dirty_ring(struct vmmig_session *s, struct vmmig_dirty_ring *d)
{
	struct vmmig_ring_slot *uslots = NULL;
	struct vmmig_dirty_gfn *entries = NULL;
	struct vmmig_ring_span *spans = NULL;
	struct vmmig_ring_map *maps = NULL;
	unsigned int r;
	int ret = 0;

	if (d->flags || d->reserved || !d->nr_slots || d->nr_slots > VMMIG_RING_MAX_SLOTS ||
	    d->nr_entries > VMMIG_RING_MAX_ENTRIES)
		return -EINVAL;
	uslots = vmmig_copy_array(d->slots, d->nr_slots, sizeof(*uslots), &ret);
	if (!uslots)
		return ret;
	entries = vmmig_copy_array(d->entries, d->nr_entries, sizeof(*entries), &ret);
	if (!entries)
		goto out;
	maps = kcalloc(d->nr_slots, sizeof(*maps), GFP_KERNEL_ACCOUNT);
	spans = kcalloc(s->nmems, sizeof(*spans), GFP_KERNEL_ACCOUNT);
	if (!maps || !spans) {
		ret = -ENOMEM;
		goto out;
	}
	for (r = 0; r < s->nmems; r++) {
		spans[r].id = s->mems[r].id;
		spans[r].npages = s->mems[r].npages;
	}
	ret = vmmig_ring_slots(uslots, d->nr_slots, spans, s->nmems, maps) ?:
	      vmmig_ring_walk(maps, d->nr_slots, entries, d->nr_entries, spans, s->nmems);
	if (ret)
		goto out;

	d->pages = 0;
	d->zero_pages = 0;
	for (r = 0; r < s->nmems && !ret; r++)
		if (spans[r].map)
			ret = vmmig_send_map(s, &s->mems[r], spans[r].map, spans[r].lo,
					     spans[r].hi - spans[r].lo, &d->pages,
					     &d->zero_pages);
	vmmig_ring_spans_free(spans, s->nmems);
out:
	kfree(spans);
	kfree(maps);
	kvfree(entries);
	kvfree(uslots);
	return ret;
}
