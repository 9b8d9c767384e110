// SPDX-License-Identifier: GPL-2.0
/*
 * The RDMA transport's ops: the byte stream of frames over SENDs and
 * pre-posted receive buffers (rdma.h).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "../vmmig.h"
#include "rdma.h"

static int vmmig_rdma_error(struct vmmig_rdma_conn *conn)
{
	return READ_ONCE(conn->error);
}

/* Wait for @cond, the connection's failure or its timeout. */
static int vmmig_rdma_wait(struct vmmig_rdma_conn *conn,
			   bool (*cond)(struct vmmig_rdma_conn *conn))
{
	long left = wait_event_interruptible_timeout(conn->wq,
						     cond(conn) || vmmig_rdma_error(conn),
						     READ_ONCE(conn->timeout));

	return left < 0 ? -EINTR : !left ? -ETIMEDOUT : 0;
}

static int vmmig_rdma_post_send(struct vmmig_channel *ch)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct vmmig_rdma_buf *buf = conn->fill;
	struct ib_sge sge = {
		.addr = buf->dma,
		.length = buf->len,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &buf->cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	int ret;

	conn->fill = NULL;
	ret = ch->sess ? vmmig_send_throttle(ch->sess, buf->len) : 0;
	if (ret)
		goto err;
	ib_dma_sync_single_for_device(conn->id->device, buf->dma, buf->len, DMA_TO_DEVICE);
	ret = ib_post_send(conn->id->qp, &wr, NULL);
	if (ret)
		goto err;
	if (ch->sess)
		atomic64_add(buf->len, &ch->sess->bytes_wire);
	return 0;
err:
	spin_lock_bh(&conn->lock);
	list_add_tail(&buf->node, &conn->tx_free);
	spin_unlock_bh(&conn->lock);
	return ret;
}

static bool vmmig_rdma_tx_free(struct vmmig_rdma_conn *conn)
{
	bool ret;

	spin_lock_bh(&conn->lock);
	ret = !list_empty(&conn->tx_free);
	spin_unlock_bh(&conn->lock);
	return ret;
}

/* Copy @len bytes into send buffers, posting each one that fills up. */
static int vmmig_rdma_copy_out(struct vmmig_channel *ch, const void *data, size_t len)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	size_t k;
	int ret;

	while (len) {
		if (!conn->fill) {
			ret = vmmig_rdma_wait(conn, vmmig_rdma_tx_free);
			if (!ret)
				ret = vmmig_rdma_error(conn);
			if (ret)
				return ret;
			spin_lock_bh(&conn->lock);
			conn->fill = list_first_entry(&conn->tx_free, struct vmmig_rdma_buf, node);
			list_del(&conn->fill->node);
			spin_unlock_bh(&conn->lock);
			conn->fill->len = 0;
		}
		k = min_t(size_t, len, VMMIG_RDMA_BUF_SIZE - conn->fill->len);
		memcpy(conn->fill->data + conn->fill->len, data, k);
		conn->fill->len += k;
		data += k;
		len -= k;
		if (conn->fill->len == VMMIG_RDMA_BUF_SIZE) {
			ret = vmmig_rdma_post_send(ch);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int vmmig_rdma_send(struct vmmig_channel *ch, const void *buf, size_t len, bool more)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	int ret;

	ret = vmmig_rdma_error(conn) ?: vmmig_rdma_copy_out(ch, buf, len);
	if (!ret && !more && conn->fill)
		ret = vmmig_rdma_post_send(ch);
	return ret;
}

static bool vmmig_rdma_wr_free(struct vmmig_rdma_conn *conn)
{
	bool ret;

	spin_lock_bh(&conn->lock);
	ret = !list_empty(&conn->wr_free);
	spin_unlock_bh(&conn->lock);
	return ret;
}

/* One RDMA WRITE of @n pages (NULL: zero pages) to @addr at the peer. */
static int vmmig_rdma_write(struct vmmig_channel *ch, struct page **pages,
			    unsigned int n, u32 rkey, u64 addr)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct ib_device *dev = conn->id->device;
	struct ib_sge sge[VMMIG_RDMA_WRITE_SGES];
	struct ib_rdma_wr wr = {};
	struct vmmig_rdma_write *w;
	unsigned int i;
	int ret;

	/* Paced before a work request is taken: a sleeper holds none. */
	ret = vmmig_send_throttle(ch->sess, (size_t)n * PAGE_SIZE) ?:
	      vmmig_rdma_wait(conn, vmmig_rdma_wr_free) ?: vmmig_rdma_error(conn);
	if (ret)
		return ret;
	spin_lock_bh(&conn->lock);
	w = list_first_entry(&conn->wr_free, struct vmmig_rdma_write, node);
	list_del(&w->node);
	spin_unlock_bh(&conn->lock);

	for (w->n = 0; w->n < n; w->n++) {
		struct page *page = pages ? pages[w->n] : ZERO_PAGE(0);

		w->dma[w->n] = ib_dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
		if (ib_dma_mapping_error(dev, w->dma[w->n])) {
			ret = -ENOMEM;
			goto err;
		}
		sge[w->n].addr = w->dma[w->n];
		sge[w->n].length = PAGE_SIZE;
		sge[w->n].lkey = conn->pd->local_dma_lkey;
	}
	wr.wr.opcode = IB_WR_RDMA_WRITE;
	wr.wr.send_flags = IB_SEND_SIGNALED;
	wr.wr.wr_cqe = &w->cqe;
	wr.wr.sg_list = sge;
	wr.wr.num_sge = n;
	wr.remote_addr = addr;
	wr.rkey = rkey;
	ret = ib_post_send(conn->id->qp, &wr.wr, NULL);
	if (ret)
		goto err;
	atomic64_add((u64)n * PAGE_SIZE, &ch->sess->bytes_wire);
	return 0;
err:
	for (i = 0; i < w->n; i++)
		ib_dma_unmap_page(dev, w->dma[i], PAGE_SIZE, DMA_TO_DEVICE);
	spin_lock_bh(&conn->lock);
	list_add_tail(&w->node, &conn->wr_free);
	spin_unlock_bh(&conn->lock);
	return ret;
}

/*
 * Placed: RDMA WRITEs into the destination's pages, then the frame header
 * already in the send buffer goes as a SEND behind them. Otherwise the
 * pages are copied into the stream.
 */
static int vmmig_rdma_send_pages(struct vmmig_channel *ch, u32 region, u64 page,
				 struct page **pages, unsigned int n)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	unsigned int i, k;
	int ret = 0;
	u32 rkey;
	u64 addr;

	if (ch->placed) {
		ret = vmmig_rdma_rkey_find(conn, ch, region, page, n, &rkey, &addr);
		for (i = 0; i < n && !ret; i += k) {
			k = min(n - i, conn->max_sge);
			ret = vmmig_rdma_write(ch, pages ? pages + i : NULL, k, rkey,
					       addr + (u64)i * PAGE_SIZE);
		}
		n = 0;
	}
	for (i = 0; i < n && !ret; i++) {
		void *addr = kmap_local_page(pages[i]);

		ret = vmmig_rdma_copy_out(ch, addr, PAGE_SIZE);
		kunmap_local(addr);
	}
	/* The pages end their frame: they go now, not with the next one. */
	if (!ret && conn->fill)
		ret = vmmig_rdma_post_send(ch);
	return ret;
}

static bool vmmig_rdma_ready(struct vmmig_rdma_conn *conn)
{
	bool ret;

	spin_lock_bh(&conn->lock);
	ret = !list_empty(&conn->ready);
	spin_unlock_bh(&conn->lock);
	return ret;
}

/* Copy @len received bytes out, giving each emptied buffer back to the HCA. */
static int vmmig_rdma_copy_in(struct vmmig_channel *ch, void *data, size_t len)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	struct vmmig_rdma_buf *buf;
	size_t k;
	int ret;

	while (len) {
		if (!conn->cur) {
			/* What arrived before a failure is still read. */
			ret = vmmig_rdma_wait(conn, vmmig_rdma_ready);
			if (ret)
				return ret;
			spin_lock_bh(&conn->lock);
			buf = list_first_entry_or_null(&conn->ready, struct vmmig_rdma_buf, node);
			if (buf)
				list_del(&buf->node);
			spin_unlock_bh(&conn->lock);
			if (!buf)
				return vmmig_rdma_error(conn);
			conn->cur = buf;
			conn->cur_off = 0;
			if (ch->sess)
				atomic64_add(buf->len, &ch->sess->bytes_wire);
		}
		buf = conn->cur;
		k = min_t(size_t, len, buf->len - conn->cur_off);
		memcpy(data, buf->data + conn->cur_off, k);
		conn->cur_off += k;
		data += k;
		len -= k;
		if (conn->cur_off == buf->len) {
			conn->cur = NULL;
			/* A failed connection takes no more, but what it got is read. */
			if (!vmmig_rdma_error(conn)) {
				ret = vmmig_rdma_post_recv(conn, buf);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static int vmmig_rdma_recv(struct vmmig_channel *ch, void *buf, size_t len)
{
	return vmmig_rdma_copy_in(ch, buf, len);
}

static int vmmig_rdma_recv_pages(struct vmmig_channel *ch, struct page **pages,
				 unsigned int n)
{
	unsigned int i;
	int ret = 0;

	if (ch->placed) {
		/* The WRITEs before this frame's SEND have placed them. */
		atomic64_add((u64)n * PAGE_SIZE, &ch->sess->bytes_wire);
		return 0;
	}

	for (i = 0; i < n && !ret; i++) {
		void *addr = kmap_local_page(pages[i]);

		ret = vmmig_rdma_copy_in(ch, addr, PAGE_SIZE);
		kunmap_local(addr);
		flush_dcache_page(pages[i]);
	}
	return ret;
}

static void vmmig_rdma_set_timeout(struct vmmig_channel *ch, unsigned long timeout)
{
	struct vmmig_rdma_conn *conn = ch->conn;

	WRITE_ONCE(conn->timeout, timeout);
	wake_up_all(&conn->wq);
}

static void vmmig_rdma_shutdown(struct vmmig_channel *ch)
{
	struct vmmig_rdma_conn *conn = ch->conn;

	if (!conn)
		return;
	spin_lock_bh(&conn->lock);
	if (!conn->error)
		conn->error = -ECONNRESET;
	spin_unlock_bh(&conn->lock);
	wake_up_all(&conn->wq);
	rdma_disconnect(conn->id);
}

/* Every SEND and WRITE posted has completed: nothing is left to flush. */
static bool vmmig_rdma_idle(struct vmmig_rdma_conn *conn)
{
	unsigned int sends = conn->fill ? 1 : 0;
	struct vmmig_rdma_buf *buf;
	bool ret;

	spin_lock_bh(&conn->lock);
	list_for_each_entry(buf, &conn->tx_free, node)
		sends++;
	ret = sends == VMMIG_RDMA_TX_BUFS &&
	      list_count_nodes(&conn->wr_free) == VMMIG_RDMA_WRITES;
	spin_unlock_bh(&conn->lock);
	return ret;
}

/*
 * The disconnect in shutdown would flush the SENDs still queued, such as
 * the ABORT frame just posted: let them go first, until @deadline.
 */
static void vmmig_rdma_flush(struct vmmig_channel *ch, unsigned long deadline)
{
	struct vmmig_rdma_conn *conn = ch->conn;
	long left = (long)(deadline - jiffies);

	if (!conn || !conn->qp || left <= 0)
		return;
	wait_event_timeout(conn->wq, vmmig_rdma_idle(conn) || vmmig_rdma_error(conn), left);
}

/* Lingering for the last SENDs: a second is plenty on any link. */
#define VMMIG_RDMA_LINGER	HZ

static void vmmig_rdma_release(struct vmmig_channel *ch)
{
	struct vmmig_rdma_conn *conn = ch->conn;

	if (!conn)
		return;
	/*
	 * As a TCP close delivers what was sent, let the last frames (a
	 * handshake refusal, FIN) reach the peer: the disconnect in
	 * conn_free() flushes every SEND still queued, unsent.
	 */
	if (conn->qp && !vmmig_rdma_error(conn))
		wait_event_timeout(conn->wq, vmmig_rdma_idle(conn) || vmmig_rdma_error(conn),
				   VMMIG_RDMA_LINGER);
	vmmig_rdma_conn_free(conn);
	ch->conn = NULL;
}

const struct vmmig_transport_ops vmmig_rdma_ops = {
	.name		= "rdma",
	.connect	= vmmig_rdma_connect,
	.send		= vmmig_rdma_send,
	.send_pages	= vmmig_rdma_send_pages,
	.recv		= vmmig_rdma_recv,
	.recv_pages	= vmmig_rdma_recv_pages,
	.start		= vmmig_rdma_start,
	.set_timeout	= vmmig_rdma_set_timeout,
	.flush		= vmmig_rdma_flush,
	.shutdown	= vmmig_rdma_shutdown,
	.release	= vmmig_rdma_release,
};
