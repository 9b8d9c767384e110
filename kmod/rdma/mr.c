// SPDX-License-Identifier: GPL-2.0
/*
 * Memory keys for RDMA WRITE (rdma.h). The destination registers memory
 * for a peer only once the host's policy admitted its connection (at the
 * CONNECT_REQUEST) and the handshake bound it to a session in ACCEPT.
 * Each MR is fast-registered on the channel's own PD with remote write
 * access and nothing else, so its rkey is good for that one QP and that
 * one session; it is deregistered, which invalidates the rkey, when the
 * session releases the channel, after the QP is drained and destroyed.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "../vmmig.h"
#include "rdma.h"

/* A REG_MR may take a while on a loaded host; it never takes this long. */
#define VMMIG_RDMA_REG_TIMEOUT	(10 * HZ)

/* The first chunk of a region of id @region that channel @idx of @nch carries. */
static u64 vmmig_rdma_first_chunk(unsigned int nch, unsigned int idx, u32 region)
{
	return (idx + nch - region % nch) % nch;
}

/* Pages of a region of @npages pages in channel @idx's share. */
static u64 vmmig_rdma_share_pages(unsigned int nch, unsigned int idx, u32 region,
				  u64 npages)
{
	u64 nchunks = DIV_ROUND_UP(npages, VMMIG_RUN_PAGES);
	u64 k0 = vmmig_rdma_first_chunk(nch, idx, region), j, k;

	if (k0 >= nchunks)
		return 0;
	j = (nchunks - 1 - k0) / nch;	/* the share's last chunk */
	k = k0 + j * nch;
	return j * VMMIG_RUN_PAGES + min_t(u64, VMMIG_RUN_PAGES, npages - k * VMMIG_RUN_PAGES);
}

/* Page @page of a region, as an index into channel @ch's share of it. */
static u64 vmmig_rdma_share_index(struct vmmig_channel *ch, u64 page)
{
	return page / VMMIG_RUN_PAGES / ch->sess->nch * VMMIG_RUN_PAGES +
	       page % VMMIG_RUN_PAGES;
}

static void vmmig_rdma_reg_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vmmig_rdma_conn *conn = container_of(wc->wr_cqe, struct vmmig_rdma_conn,
						    reg_cqe);

	conn->reg_status = wc->status == IB_WC_SUCCESS ? 0 : -EIO;
	complete(&conn->reg_done);
}

/* Register pages [@first, @first + @pages) of @ch's share of @mem in @m. */
static int vmmig_rdma_reg_mr(struct vmmig_channel *ch, struct vmmig_mem *mem,
			     u32 first, u32 pages, struct vmmig_rdma_mr *m)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct ib_device *dev = conn->id->device;
	u64 k0 = vmmig_rdma_first_chunk(ch->sess->nch, ch->index, mem->id);
	struct ib_reg_wr wr = {};
	struct scatterlist *sg;
	unsigned int i;
	int ret, n;

	m->region = mem->id;
	m->first = first;
	m->pages = pages;
	ret = sg_alloc_table(&m->sgt, pages, GFP_KERNEL);
	if (ret)
		return ret;
	for_each_sg(m->sgt.sgl, sg, pages, i) {
		u64 q = first + i;
		u64 k = k0 + q / VMMIG_RUN_PAGES * ch->sess->nch;
		u64 page = k * VMMIG_RUN_PAGES + q % VMMIG_RUN_PAGES;

		/* The HCA writes any page of the share: all of it is pinned. */
		if (!i || !(q % VMMIG_RUN_PAGES)) {
			ret = vmmig_mem_pin(ch->sess, mem, page,
					    min_t(u64, VMMIG_RUN_PAGES - q % VMMIG_RUN_PAGES,
						  mem->npages - page));
			if (ret)
				return ret;
		}
		sg_set_page(sg, mem->pages[page], PAGE_SIZE, 0);
	}
	m->nents = ib_dma_map_sg(dev, m->sgt.sgl, pages, DMA_FROM_DEVICE);
	if (!m->nents)
		return -ENOMEM;
	m->mr = ib_alloc_mr(conn->pd, IB_MR_TYPE_MEM_REG, pages);
	if (IS_ERR(m->mr)) {
		ret = PTR_ERR(m->mr);
		m->mr = NULL;
		return ret;
	}
	n = ib_map_mr_sg(m->mr, m->sgt.sgl, m->nents, NULL, PAGE_SIZE);
	if (n != m->nents)
		return n < 0 ? n : -EINVAL;
	ib_update_fast_reg_key(m->mr, ib_inc_rkey(m->mr->rkey));

	conn->reg_cqe.done = vmmig_rdma_reg_done;
	wr.wr.opcode = IB_WR_REG_MR;
	wr.wr.wr_cqe = &conn->reg_cqe;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.mr = m->mr;
	wr.key = m->mr->rkey;
	wr.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;
	reinit_completion(&conn->reg_done);
	ret = ib_post_send(conn->id->qp, &wr.wr, NULL);
	if (ret)
		return ret;
	if (!wait_for_completion_timeout(&conn->reg_done, VMMIG_RDMA_REG_TIMEOUT))
		return -ETIMEDOUT;	/* the drain at release waits for it */
	return conn->reg_status;
}

void vmmig_rdma_mr_release(struct vmmig_rdma_conn *conn)
{
	unsigned int i;

	for (i = 0; i < conn->nmrs; i++) {
		struct vmmig_rdma_mr *m = &conn->mrs[i];

		if (m->mr)
			ib_dereg_mr(m->mr);
		if (m->nents)
			ib_dma_unmap_sg(conn->id->device, m->sgt.sgl, m->pages, DMA_FROM_DEVICE);
		sg_free_table(&m->sgt);
	}
	kvfree(conn->mrs);
	conn->mrs = NULL;
	conn->nmrs = 0;
	kvfree(conn->rkeys);
	conn->rkeys = NULL;
	conn->nrkeys = 0;
}

/* Destination: register the channel's share of every region, send the keys. */
static int vmmig_rdma_start_dest(struct vmmig_channel *ch)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct vmmig_session *s = ch->sess;
	struct ib_device *dev = conn->id->device;
	struct vmmig_frame f = { .type = VMMIG_FRAME_RDMA_KEYS };
	struct vmmig_wire_rkey *keys = NULL;
	unsigned int i, n = 0, per;
	u64 share, first;
	int ret;

	per = min_t(u32, VMMIG_RDMA_MR_PAGES,
		    rounddown(dev->attrs.max_fast_reg_page_list_len, VMMIG_RUN_PAGES));
	if (ch->placed && (!per || !(dev->attrs.device_cap_flags & IB_DEVICE_MEM_MGT_EXTENSIONS)))
		return -EOPNOTSUPP;	/* no fast registration on this device */
	for (i = 0; ch->placed && i < s->nmems; i++)
		n += DIV_ROUND_UP(vmmig_rdma_share_pages(s->nch, ch->index, s->mems[i].id,
							 s->mems[i].npages), per);
	if (n) {
		conn->mrs = kvcalloc(n, sizeof(*conn->mrs), GFP_KERNEL);
		keys = kvcalloc(n, sizeof(*keys), GFP_KERNEL);
		if (!conn->mrs || !keys) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; ch->placed && i < s->nmems; i++) {
		struct vmmig_mem *mem = &s->mems[i];

		share = vmmig_rdma_share_pages(s->nch, ch->index, mem->id, mem->npages);
		for (first = 0; first < share; first += per) {
			struct vmmig_rdma_mr *m = &conn->mrs[conn->nmrs++];
			struct vmmig_wire_rkey *key = &keys[conn->nmrs - 1];

			ret = vmmig_rdma_reg_mr(ch, mem, first, min_t(u64, per, share - first), m);
			if (ret)
				goto out;
			key->region = cpu_to_be32(mem->id);
			key->rkey = cpu_to_be32(m->mr->rkey);
			key->addr = cpu_to_be64(m->mr->iova);
			key->first = cpu_to_be32(m->first);
			key->pages = cpu_to_be32(m->pages);
		}
	}
	f.count = n;
	f.len = n * sizeof(*keys);
	ret = vmmig_send_frame(ch, &f, keys, false);
out:
	kvfree(keys);
	return ret;
}

/*
 * Source: the destination's keys. They must cover the channel's share of
 * every region exactly, in order; anything else is a protocol error.
 */
static int vmmig_rdma_start_source(struct vmmig_channel *ch)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct vmmig_session *s = ch->sess;
	struct vmmig_wire_rkey *keys = NULL;
	struct vmmig_frame f;
	unsigned int i, k;
	u64 share, next;
	int ret;

	ret = vmmig_recv_frame(ch, &f);
	if (ret)
		return ret;
	if (f.type != VMMIG_FRAME_RDMA_KEYS || (!ch->placed && f.count))
		return -EPROTO;
	if (f.count) {
		keys = kvmalloc(f.len, GFP_KERNEL);
		conn->rkeys = kvcalloc(f.count, sizeof(*conn->rkeys), GFP_KERNEL);
		if (!keys || !conn->rkeys) {
			ret = -ENOMEM;
			goto out;
		}
		ret = ch->ops->recv(ch, keys, f.len);
		if (ret)
			goto out;
	}
	for (i = 0; i < f.count; i++) {
		struct vmmig_rdma_rkey *r = &conn->rkeys[i];

		r->region = be32_to_cpu(keys[i].region);
		r->rkey = be32_to_cpu(keys[i].rkey);
		r->addr = be64_to_cpu(keys[i].addr);
		r->first = be32_to_cpu(keys[i].first);
		r->pages = be32_to_cpu(keys[i].pages);
	}
	conn->nrkeys = f.count;
	/* Each region's entries are consecutive, adjacent, and end with its share. */
	ret = -EPROTO;
	for (i = 0, k = 0; ch->placed && i < s->nmems; i++) {
		struct vmmig_mem *mem = &s->mems[i];

		share = vmmig_rdma_share_pages(s->nch, ch->index, mem->id, mem->npages);
		for (next = 0; next < share; next += conn->rkeys[k++].pages)
			if (k >= conn->nrkeys || conn->rkeys[k].region != mem->id ||
			    conn->rkeys[k].first != next || !conn->rkeys[k].pages)
				goto out;
		if (next != share)
			goto out;
	}
	ret = k == conn->nrkeys ? 0 : -EPROTO;
out:
	kvfree(keys);
	return ret;
}

int vmmig_rdma_start(struct vmmig_channel *ch)
{
	/* See rdma.h for why compression keeps every page in SENDs. */
	ch->placed = ch->sess->compression == VMMIG_COMP_NONE;
	if (ch->sess->role == VMMIG_ROLE_DESTINATION)
		return vmmig_rdma_start_dest(ch);
	return vmmig_rdma_start_source(ch);
}

/*
 * Source: the rkey and remote address of pages [@page, @page + @n) of
 * region @region, which lie in one chunk.
 */
int vmmig_rdma_rkey_find(struct vmmig_rdma_conn *conn, struct vmmig_channel *ch,
			 u32 region, u64 page, unsigned int n, u32 *rkey, u64 *addr)
{
	u64 q = vmmig_rdma_share_index(ch, page);
	unsigned int i;

	for (i = 0; i < conn->nrkeys; i++) {
		struct vmmig_rdma_rkey *r = &conn->rkeys[i];

		if (r->region != region || q < r->first || q >= (u64)r->first + r->pages)
			continue;
		if (q + n > (u64)r->first + r->pages)
			return -EPROTO;
		*rkey = r->rkey;
		*addr = r->addr + (q - r->first) * PAGE_SIZE;
		return 0;
	}
	return -EPROTO;
}
