// SPDX-License-Identifier: GPL-2.0
/*
 * One receive thread per channel. On the destination it places pages,
 * queues blobs and answers SYNCs; on the source it collects SYNC_ACKs and
 * notices the peer aborting or going away. Anything malformed aborts the
 * session before a byte of it is placed.
 */
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "vmmig.h"
#include "compress/compress.h"
#include "trace.h"
#include "zero.h"

/* Blobs received but not yet read by the VMM. */
#define VMMIG_MAX_QUEUED_BLOB_BYTES	(4 * VMMIG_MAX_BLOB)

/*
 * Pin what of pages [@page, @page + @n) of @mem this frame touches: all but
 * the ones it places as zero (bit i of @zero) where a FRESH region knows
 * they are zero already. A page never touched stays unpinned, unfaulted.
 */
static int vmmig_rx_pin(struct vmmig_channel *ch, struct vmmig_mem *mem, u64 page,
			unsigned int n, u64 zero)
{
	unsigned int i, j;
	bool skip;
	int ret;

	for (i = 0; i < n; i = j) {
		skip = zero & BIT_ULL(i) && vmmig_mem_known_zero(mem, page + i);
		for (j = i + 1; j < n; j++)
			if (skip != (zero & BIT_ULL(j) && vmmig_mem_known_zero(mem, page + j)))
				break;
		if (skip)
			continue;
		ret = vmmig_mem_pin(ch->sess, mem, page + i, j - i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * A destination page the source sent as zero, pinned by vmmig_rx_pin().
 * One that is zero already (every page of a fresh guest in the first
 * round) is only read: clearing it would dirty it for nothing; in a FRESH
 * region one the session has not written is not even read.
 */
static void vmmig_place_zero(struct vmmig_mem *mem, u64 page)
{
	void *addr;

	if (vmmig_mem_known_zero(mem, page))
		return;
	addr = kmap_local_page(mem->pages[page]);
	if (!vmmig_mem_page_zero(addr))
		clear_page(addr);
	kunmap_local(addr);
	vmmig_mem_mark(mem, page, 1, false);
}

/*
 * A COMP frame: the payload into the channel's buffer (the one copy out of
 * the skb), then each page decoded straight into its destination page. A
 * page that does not decode to exactly PAGE_SIZE bytes aborts the session;
 * nothing is written past it.
 */
static int vmmig_rx_comp(struct vmmig_channel *ch, const struct vmmig_frame *f,
			 struct vmmig_mem *mem)
{
	struct vmmig_comp_ctx *ctx = ch->comp;
	struct vmmig_comp_reader r;
	unsigned int i, zero = 0;
	u64 zero_map = 0;
	int ret;

	if (!ctx)
		return -EPROTO;		/* the HELLO announced no codec */
	if (f->len > ctx->buf_size)
		return -EBADMSG;
	ret = ch->ops->recv(ch, ctx->buf, f->len);
	if (ret)
		return ret;
	ret = vmmig_comp_reader_init(&r, ctx->buf, f->len, f->count);
	if (ret)
		return -EBADMSG;
	for (i = 0; i < f->count; i++)
		zero_map |= (u64)!vmmig_comp_frame_entry(r.table, i) << i;
	ret = vmmig_rx_pin(ch, mem, f->page, f->count, zero_map);
	if (ret)
		return ret;
	for (i = 0; !ret && i < f->count; i++) {
		u64 page = f->page + i;
		bool is_zero = zero_map & BIT_ULL(i);
		void *addr;

		zero += is_zero;
		if (is_zero && vmmig_mem_known_zero(mem, page)) {
			ret = vmmig_comp_reader_next(&r, ctx, NULL);
			continue;
		}
		addr = kmap_local_page(mem->pages[page]);
		ret = vmmig_comp_reader_next(&r, ctx, addr);
		kunmap_local(addr);
		flush_dcache_page(mem->pages[page]);
		vmmig_mem_mark(mem, page, 1, !is_zero);
	}
	if (ret)
		return -EBADMSG;
	atomic64_add(zero, &ch->sess->zero_pages);
	return 0;
}

/*
 * A SPARSE frame: the zero map is checked against the header before any
 * page is touched, then the data pages are received straight into theirs
 * and the others placed as zero pages.
 */
static int vmmig_rx_sparse(struct vmmig_channel *ch, const struct vmmig_frame *f,
			   struct vmmig_mem *mem)
{
	struct page *data[VMMIG_RUN_PAGES];
	unsigned int i, nz = 0;
	__be64 wire_map;
	u64 map;
	int ret;

	if (ch->placed)
		return -EPROTO;	/* pages come by RDMA WRITE, in ZERO/PAGES runs */
	ret = ch->ops->recv(ch, &wire_map, sizeof(wire_map));
	if (ret)
		return ret;
	map = be64_to_cpu(wire_map);
	if ((f->count < 64 && map >> f->count) ||
	    f->len != VMMIG_SPARSE_MAP_LEN + (f->count - hweight64(map)) * PAGE_SIZE)
		return -EBADMSG;

	ret = vmmig_rx_pin(ch, mem, f->page, f->count, map);
	if (ret)
		return ret;
	for (i = 0; i < f->count; i++)
		if (!(map & BIT_ULL(i)))
			data[nz++] = mem->pages[f->page + i];
	ret = ch->ops->recv_pages(ch, data, nz);
	if (ret)
		return ret;
	for (i = 0; i < f->count; i++) {
		if (map & BIT_ULL(i))
			vmmig_place_zero(mem, f->page + i);
		else
			vmmig_mem_mark(mem, f->page + i, 1, true);
	}
	atomic64_add(f->count - nz, &ch->sess->zero_pages);
	return 0;
}

static int vmmig_rx_pages(struct vmmig_channel *ch, const struct vmmig_frame *f)
{
	struct vmmig_session *s = ch->sess;
	struct vmmig_mem *mem = vmmig_mem_find(s, f->region);
	u64 end;
	u32 i;
	int ret = 0;

	if (!mem || check_add_overflow(f->page, (u64)f->count, &end) || end > mem->npages)
		return -EBADMSG;
	if (vmmig_chunk_channel(f->region, f->page, s->nch) != ch->index ||
	    f->page / VMMIG_RUN_PAGES != (end - 1) / VMMIG_RUN_PAGES)
		return -EBADMSG;	/* would break the ordering rule */

	if (f->type == VMMIG_FRAME_ZERO) {
		if (ch->placed) {	/* written from the zero page by RDMA WRITE */
			vmmig_mem_mark(mem, f->page, f->count, false);
		} else {
			ret = vmmig_rx_pin(ch, mem, f->page, f->count, U64_MAX);
			for (i = 0; !ret && i < f->count; i++)
				vmmig_place_zero(mem, f->page + i);
		}
		if (!ret)
			atomic64_add(f->count, &s->zero_pages);
	} else if (f->type == VMMIG_FRAME_COMP) {
		ret = vmmig_rx_comp(ch, f, mem);
	} else if (f->type == VMMIG_FRAME_SPARSE) {
		ret = vmmig_rx_sparse(ch, f, mem);
	} else {
		ret = vmmig_rx_pin(ch, mem, f->page, f->count, 0) ?:
		      ch->ops->recv_pages(ch, &mem->pages[f->page], f->count);
		vmmig_mem_mark(mem, f->page, f->count, true);
	}
	if (ret)
		return ret;
	atomic64_add(f->count, &s->pages);
	return 0;
}

static int vmmig_rx_blob(struct vmmig_channel *ch, const struct vmmig_frame *f)
{
	struct vmmig_session *s = ch->sess;
	struct vmmig_ev *ev;
	bool over;
	int ret;

	spin_lock_bh(&s->ev_lock);
	over = s->queued_blob_bytes + f->len > VMMIG_MAX_QUEUED_BLOB_BYTES;
	if (!over)
		s->queued_blob_bytes += f->len;
	spin_unlock_bh(&s->ev_lock);
	if (over)
		return -ENOBUFS;

	ret = -ENOMEM;
	ev = kzalloc(sizeof(*ev), GFP_KERNEL);
	if (!ev)
		goto err;
	ev->data = kvmalloc(max(f->len, 1U), GFP_KERNEL);
	if (!ev->data)
		goto err;
	ret = ch->ops->recv(ch, ev->data, f->len);
	if (ret)
		goto err;
	ev->type = VMMIG_EVENT_BLOB;
	ev->tag = (u32)f->page;
	ev->length = f->len;
	atomic64_inc(&s->blobs);
	vmmig_session_post(s, ev);
	return 0;
err:
	if (ev)
		kvfree(ev->data);
	kfree(ev);
	spin_lock_bh(&s->ev_lock);
	s->queued_blob_bytes -= f->len;
	spin_unlock_bh(&s->ev_lock);
	return ret;
}

/* Destination: SYNC n on this channel; once every channel is there, say so. */
static int vmmig_rx_sync(struct vmmig_channel *ch, const struct vmmig_frame *f)
{
	struct vmmig_session *s = ch->sess;
	struct vmmig_frame ack = { .type = VMMIG_FRAME_SYNC_ACK, .page = f->page };
	struct vmmig_ev *ev = NULL;
	struct vmmig_round done;
	u64 reached = U64_MAX, ns = 0;
	bool ended = false;
	unsigned int i;
	int ret;

	if (f->page <= ch->sync_seq)
		return -EBADMSG;
	mutex_lock(&ch->tx_lock);
	ret = vmmig_send_frame(ch, &ack, NULL, false);
	mutex_unlock(&ch->tx_lock);
	if (ret)
		return ret;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL);
	spin_lock_bh(&s->ev_lock);
	ch->sync_seq = f->page;
	for (i = 0; i < s->nch; i++)
		reached = min(reached, s->ch[i].sync_seq);
	if (reached > s->sync_posted && ev) {
		s->sync_posted = reached;
		ev->type = VMMIG_EVENT_SYNC;
		ev->seq = reached;
		list_add_tail(&ev->node, &s->events);
		ev = NULL;
		atomic64_inc(&s->rounds);
		ns = vmmig_round_next(s, &done);
		ended = true;
	}
	spin_unlock_bh(&s->ev_lock);
	if (ended)
		trace_vmmig_round_end(s, &done, reached, ns);
	kfree(ev);
	wake_up_all(&s->wq);
	return 0;
}

static int vmmig_rx_fin(struct vmmig_channel *ch)
{
	struct vmmig_session *s = ch->sess;
	bool all = true, done = false;
	unsigned int i;

	spin_lock_bh(&s->ev_lock);
	ch->fin = true;
	for (i = 0; i < s->nch; i++)
		all &= s->ch[i].fin;
	if (all && s->state == VMMIG_STATE_ACTIVE) {
		s->state = VMMIG_STATE_FINISHED;
		s->end = ktime_get();
		s->end_ev.type = VMMIG_EVENT_FINISHED;
		list_add_tail(&s->end_ev.node, &s->events);
		done = true;
	}
	spin_unlock_bh(&s->ev_lock);
	wake_up_all(&s->wq);
	if (done) {
		trace_vmmig_session_end(s);
		vmmig_nl_notify_session(s, VMMIG_NOTIFY_FINISHED, 0, NULL);
	}
	return 0;
}

/* Why a receive error ends the session, for the vmmig_abort tracepoint. */
static const char *vmmig_rx_why(int err)
{
	switch (err) {
	case -ECONNABORTED:
		return "the peer aborted";
	case -ECANCELED:
		return "the peer's administrator aborted";
	case -ECONNRESET:
		return "the peer closed the connection";
	case -EBADMSG:
	case -EPROTO:
		return "malformed or unexpected frame from the peer";
	case -ENOBUFS:
		return "too many blobs not yet read by the VMM";
	case -ENOMEM:
		return "out of memory";
	default:
		return "receiving failed";
	}
}

static int vmmig_rx_frame(struct vmmig_channel *ch, const struct vmmig_frame *f)
{
	struct vmmig_session *s = ch->sess;
	bool dest = s->role == VMMIG_ROLE_DESTINATION;

	/* Only an administrator's cancel is told apart (wire-protocol.md). */
	if (f->type == VMMIG_FRAME_ABORT)
		return f->count == ECANCELED ? -ECANCELED : -ECONNABORTED;
	if (dest && ch->fin)
		return -EPROTO;		/* nothing may follow FIN */

	switch (f->type) {
	case VMMIG_FRAME_PAGES:
	case VMMIG_FRAME_ZERO:
	case VMMIG_FRAME_COMP:
	case VMMIG_FRAME_SPARSE:
		return dest ? vmmig_rx_pages(ch, f) : -EPROTO;
	case VMMIG_FRAME_BLOB:
		return dest ? vmmig_rx_blob(ch, f) : -EPROTO;
	case VMMIG_FRAME_SYNC:
		return dest ? vmmig_rx_sync(ch, f) : -EPROTO;
	case VMMIG_FRAME_FIN:
		return dest ? vmmig_rx_fin(ch) : -EPROTO;
	case VMMIG_FRAME_SYNC_ACK:
		if (dest || f->page <= READ_ONCE(ch->sync_seq))
			return -EPROTO;
		WRITE_ONCE(ch->sync_seq, f->page);
		wake_up_all(&s->wq);
		return 0;
	default:
		return -EPROTO;	/* HELLO/WELCOME belong to the handshake */
	}
}

int vmmig_rx_thread(void *data)
{
	struct vmmig_channel *ch = data;
	struct vmmig_session *s = ch->sess;
	struct vmmig_frame f;
	int ret;

	for (;;) {
		ret = vmmig_recv_frame(ch, &f);
		if (!ret)
			ret = vmmig_rx_frame(ch, &f);
		if (ret)
			break;
	}
	/*
	 * The peer leaving after a complete migration is no error, nor after
	 * its FIN on this channel while other channels still carry theirs.
	 */
	if (READ_ONCE(s->state) == VMMIG_STATE_ACTIVE && !kthread_should_stop() &&
	    !(ch->fin && ret == -ECONNRESET))
		vmmig_session_abort(s, -ret, ret != -ECONNABORTED && ret != -ECONNRESET &&
				    ret != -ECANCELED, vmmig_rx_why(ret));

	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}
