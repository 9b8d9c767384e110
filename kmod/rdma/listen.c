// SPDX-License-Identifier: GPL-2.0
/*
 * The destination's RDMA listener: an rdma_cm id on the port of the TCP
 * listener it belongs to (kmod/listen.c), created and destroyed with it.
 * A connection request is checked against the host's policy before
 * anything is allocated for it. An accepted connection then goes through
 * the same handshake as a TCP one (kmod/listen.c, with authentication):
 * no memory is registered for the peer before the session's start, which
 * comes after every channel's handshake has proven the peer (mr.c). The
 * accepts run on the listener's own workqueue, drained before it goes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <net/net_namespace.h>

#include "../vmmig.h"
#include "rdma.h"

#define VMMIG_RDMA_BACKLOG		64
#define VMMIG_RDMA_ACCEPT_TIMEOUT	(5 * HZ)
/*
 * Requests being accepted, each with its QP and buffers (768 KiB), before
 * the handshake's own cap (kmod/listen.c) counts them: a flood of requests
 * from an admitted network is refused past this, not allocated for.
 */
#define VMMIG_RDMA_MAX_ACCEPTING	16

static void vmmig_rdma_accept_work(struct work_struct *work)
{
	struct vmmig_rdma_conn *conn = container_of(work, struct vmmig_rdma_conn,
						    accept_work);
	struct vmmig_rdma_listener *rl = conn->listener;
	struct vmmig_channel tmp = { .ops = &vmmig_rdma_ops, .conn = conn };
	struct rdma_conn_param param;
	int ret;

	ret = vmmig_rdma_conn_setup(conn);
	if (ret)
		goto err;
	vmmig_rdma_conn_param(&param);
	rdma_lock_handler(conn->id);
	ret = rdma_accept(conn->id, &param);
	rdma_unlock_handler(conn->id);
	if (!ret)
		ret = vmmig_rdma_cm_wait(conn, VMMIG_RDMA_ACCEPT_TIMEOUT);
	if (ret)
		goto err;
	if (vmmig_listen_incoming(rl->owner, &tmp, &conn->peer)) {
		atomic_dec(&rl->accepting);
		return;		/* the handshake owns it now */
	}
err:
	vmmig_rdma_conn_free(conn);
	atomic_dec(&rl->accepting);
}

/*
 * CONNECT_REQUEST, on the listener's handler: @id is the new connection's.
 * Returning an error rejects the request and destroys @id.
 */
int vmmig_rdma_connect_request(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct vmmig_rdma_ctx *ctx = id->context;
	struct vmmig_rdma_listener *rl = container_of(ctx, struct vmmig_rdma_listener, ctx);
	struct vmmig_rdma_conn *conn;

	if (!ctx->listener)
		return -EINVAL;
	if (vmmig_peer_check(rl->net, &id->route.addr.dst_addr))
		return -ECONNREFUSED;
	if (atomic_inc_return(&rl->accepting) > VMMIG_RDMA_MAX_ACCEPTING) {
		atomic_dec(&rl->accepting);
		return -EBUSY;
	}
	conn = vmmig_rdma_conn_alloc();
	if (!conn) {
		atomic_dec(&rl->accepting);
		return -ENOMEM;
	}
	conn->id = id;
	conn->listener = rl;
	conn->peer = id->route.addr.dst_addr;
	id->context = &conn->ctx;
	INIT_WORK(&conn->accept_work, vmmig_rdma_accept_work);
	queue_work(rl->wq, &conn->accept_work);
	return 0;
}

struct vmmig_rdma_listener *vmmig_rdma_listen(struct net *net, u16 port,
					      struct vmmig_listener *owner)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct vmmig_rdma_listener *rl;
	int ret;

	rl = kzalloc(sizeof(*rl), GFP_KERNEL);
	if (!rl)
		return ERR_PTR(-ENOMEM);
	rl->ctx.listener = true;
	rl->net = net;
	rl->owner = owner;
	rl->wq = alloc_workqueue("vmmig-rdma-accept", WQ_UNBOUND, 0);
	if (!rl->wq) {
		ret = -ENOMEM;
		goto err;
	}
	rl->id = rdma_create_id(net, vmmig_rdma_cm_handler, &rl->ctx, RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(rl->id)) {
		ret = PTR_ERR(rl->id);
		goto err_wq;
	}
	/* Like the TCP listener: IPv4 and IPv6 sources on one id. */
	ret = rdma_set_afonly(rl->id, 0);
	if (!ret)
		ret = rdma_bind_addr(rl->id, (struct sockaddr *)&sin6);
	if (!ret)
		ret = rdma_listen(rl->id, VMMIG_RDMA_BACKLOG);
	if (ret)
		goto err_id;
	return rl;

err_id:
	rdma_destroy_id(rl->id);
err_wq:
	destroy_workqueue(rl->wq);
err:
	kfree(rl);
	return ERR_PTR(ret);
}

/* No new requests once the id is gone; the ones in progress finish first. */
void vmmig_rdma_listen_stop(struct vmmig_rdma_listener *rl)
{
	if (!rl)
		return;
	rdma_destroy_id(rl->id);
	destroy_workqueue(rl->wq);
	kfree(rl);
}
