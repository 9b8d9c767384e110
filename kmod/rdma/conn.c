// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA connections: rdma_cm events, the verbs resources of one channel
 * (PD, CQ, QP, DMA-mapped buffers) and the source's connect. The buffers
 * are kernel memory mapped once and used with the PD's local DMA lkey;
 * nothing here gives the peer any access to memory (see rdma.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "../vmmig.h"
#include "rdma.h"

static void vmmig_rdma_fail(struct vmmig_rdma_conn *conn, int err)
{
	unsigned long flags;

	spin_lock_irqsave(&conn->lock, flags);
	if (!conn->error)
		conn->error = err;
	spin_unlock_irqrestore(&conn->lock, flags);
	wake_up_all(&conn->wq);
}

static void vmmig_rdma_cm_step(struct vmmig_rdma_conn *conn, int status)
{
	conn->cm_status = status;
	complete(&conn->cm_done);
}

/* One handler for every id: the listener's and each connection's. */
int vmmig_rdma_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct vmmig_rdma_ctx *ctx = id->context;
	struct vmmig_rdma_conn *conn;

	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
		return vmmig_rdma_connect_request(id, ev);
	if (ctx->listener)
		return 0;	/* a wildcard listener is bound to no device */
	conn = container_of(ctx, struct vmmig_rdma_conn, ctx);

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
	case RDMA_CM_EVENT_ESTABLISHED:
		vmmig_rdma_cm_step(conn, 0);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
	case RDMA_CM_EVENT_ROUTE_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		vmmig_rdma_cm_step(conn, -EHOSTUNREACH);
		break;
	case RDMA_CM_EVENT_REJECTED:
		/* No listener, or the destination's policy said no. */
		vmmig_rdma_cm_step(conn, -ECONNREFUSED);
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		vmmig_rdma_cm_step(conn, -ECONNRESET);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		/*
		 * What the peer sent before it left (FIN, after FINISH) may not
		 * be polled yet: flush the receive queue first, so that every
		 * SEND that arrived is on the ready list before the error is
		 * seen, and the reader takes them before it (copy_in).
		 */
		if (conn->qp)	/* under the handler lock: see conn_free() */
			ib_drain_rq(conn->id->qp);
		vmmig_rdma_fail(conn, -ECONNRESET);
		vmmig_rdma_cm_step(conn, -ECONNRESET);
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/*
		 * The session aborts; its release frees what we hold on the
		 * device, which the removal waits for.
		 */
		vmmig_rdma_fail(conn, -ENODEV);
		vmmig_rdma_cm_step(conn, -ENODEV);
		break;
	default:
		break;
	}
	return 0;
}

/* Wait for the CM step in progress; its status. */
int vmmig_rdma_cm_wait(struct vmmig_rdma_conn *conn, unsigned long timeout)
{
	long left = wait_for_completion_interruptible_timeout(&conn->cm_done, timeout);

	if (left < 0)
		return -EINTR;
	if (!left)
		return -ETIMEDOUT;
	reinit_completion(&conn->cm_done);
	return conn->cm_status;
}

struct vmmig_rdma_conn *vmmig_rdma_conn_alloc(void)
{
	struct vmmig_rdma_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return NULL;
	init_completion(&conn->cm_done);
	spin_lock_init(&conn->lock);
	init_waitqueue_head(&conn->wq);
	INIT_LIST_HEAD(&conn->ready);
	INIT_LIST_HEAD(&conn->tx_free);
	INIT_LIST_HEAD(&conn->wr_free);
	init_completion(&conn->reg_done);
	conn->timeout = MAX_SCHEDULE_TIMEOUT;
	return conn;
}

static void vmmig_rdma_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vmmig_rdma_buf *buf = container_of(wc->wr_cqe, struct vmmig_rdma_buf, cqe);
	struct vmmig_rdma_conn *conn = buf->conn;
	unsigned long flags;

	if (wc->status != IB_WC_SUCCESS) {
		vmmig_rdma_fail(conn, -ECONNRESET);
		return;
	}
	ib_dma_sync_single_for_cpu(conn->id->device, buf->dma, VMMIG_RDMA_BUF_SIZE,
				   DMA_FROM_DEVICE);
	buf->len = wc->byte_len;
	spin_lock_irqsave(&conn->lock, flags);
	list_add_tail(&buf->node, &conn->ready);
	spin_unlock_irqrestore(&conn->lock, flags);
	wake_up_all(&conn->wq);
}

static void vmmig_rdma_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vmmig_rdma_buf *buf = container_of(wc->wr_cqe, struct vmmig_rdma_buf, cqe);
	struct vmmig_rdma_conn *conn = buf->conn;
	unsigned long flags;

	spin_lock_irqsave(&conn->lock, flags);
	list_add_tail(&buf->node, &conn->tx_free);
	if (wc->status != IB_WC_SUCCESS && !conn->error)
		conn->error = -ECONNRESET;
	spin_unlock_irqrestore(&conn->lock, flags);
	wake_up_all(&conn->wq);
}

static void vmmig_rdma_write_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct vmmig_rdma_write *w = container_of(wc->wr_cqe, struct vmmig_rdma_write, cqe);
	struct vmmig_rdma_conn *conn = w->conn;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < w->n; i++)
		ib_dma_unmap_page(conn->id->device, w->dma[i], PAGE_SIZE, DMA_TO_DEVICE);
	spin_lock_irqsave(&conn->lock, flags);
	list_add_tail(&w->node, &conn->wr_free);
	if (wc->status != IB_WC_SUCCESS && !conn->error)
		conn->error = -ECONNRESET;
	spin_unlock_irqrestore(&conn->lock, flags);
	wake_up_all(&conn->wq);
}

int vmmig_rdma_post_recv(struct vmmig_rdma_conn *conn, struct vmmig_rdma_buf *buf)
{
	struct ib_sge sge = {
		.addr = buf->dma,
		.length = VMMIG_RDMA_BUF_SIZE,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = { .wr_cqe = &buf->cqe, .sg_list = &sge, .num_sge = 1 };

	ib_dma_sync_single_for_device(conn->id->device, buf->dma, VMMIG_RDMA_BUF_SIZE,
				      DMA_FROM_DEVICE);
	return ib_post_recv(conn->id->qp, &wr, NULL);
}

static int vmmig_rdma_map(struct vmmig_rdma_conn *conn, struct vmmig_rdma_buf *buf,
			  enum dma_data_direction dir)
{
	struct ib_device *dev = conn->id->device;

	buf->conn = conn;
	buf->data = kmalloc(VMMIG_RDMA_BUF_SIZE, GFP_KERNEL);
	if (!buf->data)
		return -ENOMEM;
	buf->dma = ib_dma_map_single(dev, buf->data, VMMIG_RDMA_BUF_SIZE, dir);
	if (ib_dma_mapping_error(dev, buf->dma)) {
		kfree(buf->data);
		buf->data = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void vmmig_rdma_unmap(struct vmmig_rdma_conn *conn, struct vmmig_rdma_buf *buf,
			     enum dma_data_direction dir)
{
	if (!buf->data)
		return;
	ib_dma_unmap_single(conn->id->device, buf->dma, VMMIG_RDMA_BUF_SIZE, dir);
	kfree(buf->data);
	buf->data = NULL;
}

/*
 * The verbs resources on the device the id resolved to, every receive
 * buffer posted: the connection can then be accepted or connected.
 */
int vmmig_rdma_conn_setup(struct vmmig_rdma_conn *conn)
{
	struct ib_device *dev = conn->id->device;
	struct ib_qp_init_attr attr = {};
	unsigned int i;
	int ret;

	conn->pd = ib_alloc_pd(dev, 0);
	if (IS_ERR(conn->pd)) {
		ret = PTR_ERR(conn->pd);
		conn->pd = NULL;
		return ret;
	}
	/* +3: a REG_MR and the drain's marker completions (ib_drain_qp) */
	conn->cq = ib_alloc_cq_any(dev, conn, VMMIG_RDMA_RX_BUFS + VMMIG_RDMA_TX_BUFS +
				   VMMIG_RDMA_WRITES + 3, IB_POLL_SOFTIRQ);
	if (IS_ERR(conn->cq)) {
		ret = PTR_ERR(conn->cq);
		conn->cq = NULL;
		return ret;
	}
	attr.send_cq = conn->cq;
	attr.recv_cq = conn->cq;
	attr.qp_type = IB_QPT_RC;
	attr.sq_sig_type = IB_SIGNAL_ALL_WR;
	conn->max_sge = min_t(u32, VMMIG_RDMA_WRITE_SGES, dev->attrs.max_send_sge);
	attr.cap.max_send_wr = VMMIG_RDMA_TX_BUFS + VMMIG_RDMA_WRITES + 2;
	attr.cap.max_recv_wr = VMMIG_RDMA_RX_BUFS + 1;
	attr.cap.max_send_sge = conn->max_sge;
	attr.cap.max_recv_sge = 1;
	ret = rdma_create_qp(conn->id, conn->pd, &attr);
	if (ret)
		return ret;
	conn->qp = true;

	for (i = 0; i < VMMIG_RDMA_WRITES; i++) {
		conn->wr[i].conn = conn;
		conn->wr[i].cqe.done = vmmig_rdma_write_done;
		list_add_tail(&conn->wr[i].node, &conn->wr_free);
	}
	for (i = 0; i < VMMIG_RDMA_TX_BUFS; i++) {
		ret = vmmig_rdma_map(conn, &conn->tx[i], DMA_TO_DEVICE);
		if (ret)
			return ret;
		conn->tx[i].cqe.done = vmmig_rdma_send_done;
		list_add_tail(&conn->tx[i].node, &conn->tx_free);
	}
	for (i = 0; i < VMMIG_RDMA_RX_BUFS; i++) {
		ret = vmmig_rdma_map(conn, &conn->rx[i], DMA_FROM_DEVICE);
		if (ret)
			return ret;
		conn->rx[i].cqe.done = vmmig_rdma_recv_done;
		ret = vmmig_rdma_post_recv(conn, &conn->rx[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Undo vmmig_rdma_conn_setup() and free @conn; the id goes too. */
void vmmig_rdma_conn_free(struct vmmig_rdma_conn *conn)
{
	unsigned int i;

	if (conn->qp) {
		rdma_disconnect(conn->id);
		/*
		 * The DISCONNECTED handler drains the receive queue too: wait
		 * for one that runs, and keep later ones off the QP.
		 */
		rdma_lock_handler(conn->id);
		conn->qp = false;
		rdma_unlock_handler(conn->id);
		/* Every posted buffer comes back (flushed) before it is freed. */
		ib_drain_qp(conn->id->qp);
		rdma_destroy_qp(conn->id);
	}
	vmmig_rdma_mr_release(conn);
	for (i = 0; i < VMMIG_RDMA_TX_BUFS; i++)
		vmmig_rdma_unmap(conn, &conn->tx[i], DMA_TO_DEVICE);
	for (i = 0; i < VMMIG_RDMA_RX_BUFS; i++)
		vmmig_rdma_unmap(conn, &conn->rx[i], DMA_FROM_DEVICE);
	if (conn->cq)
		ib_free_cq(conn->cq);
	if (conn->pd)
		ib_dealloc_pd(conn->pd);
	if (conn->id)
		rdma_destroy_id(conn->id);
	kfree(conn);
}

/* The parameters both sides connect with: SENDs only, RNR retried forever. */
void vmmig_rdma_conn_param(struct rdma_conn_param *p)
{
	memset(p, 0, sizeof(*p));
	p->retry_count = 7;
	p->rnr_retry_count = 7;
}

int vmmig_rdma_connect(struct vmmig_channel *ch, struct net *net,
		       struct sockaddr_storage *addr, int addrlen,
		       unsigned long timeout)
{
	unsigned int ms = jiffies_to_msecs(timeout);
	struct rdma_conn_param param;
	struct vmmig_rdma_conn *conn;
	int ret;

	conn = vmmig_rdma_conn_alloc();
	if (!conn)
		return -ENOMEM;
	conn->id = rdma_create_id(net, vmmig_rdma_cm_handler, &conn->ctx, RDMA_PS_TCP,
				  IB_QPT_RC);
	if (IS_ERR(conn->id)) {
		ret = PTR_ERR(conn->id);
		conn->id = NULL;
		goto err;
	}
	ret = rdma_resolve_addr(conn->id, NULL, (struct sockaddr *)addr, ms);
	if (!ret)
		ret = vmmig_rdma_cm_wait(conn, timeout);
	if (!ret)
		ret = rdma_resolve_route(conn->id, ms);
	if (!ret)
		ret = vmmig_rdma_cm_wait(conn, timeout);
	if (!ret)
		ret = vmmig_rdma_conn_setup(conn);
	if (ret)
		goto err;
	vmmig_rdma_conn_param(&param);
	ret = rdma_connect(conn->id, &param);
	if (!ret)
		ret = vmmig_rdma_cm_wait(conn, timeout);
	if (ret)
		goto err;
	conn->timeout = timeout;
	ch->conn = conn;
	return 0;
err:
	vmmig_rdma_conn_free(conn);
	return ret;
}
