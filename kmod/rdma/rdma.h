/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The RDMA transport: one reliable-connected QP per channel, set up with
 * rdma_cm on the address and port the TCP transport would use.
 *
 * Frames travel by SEND into receive buffers the peer posted ahead; the
 * transport offers the session core the byte stream it expects from TCP
 * (a frame may span several SENDs, a SEND may carry several frames). Flow
 * control is the hardware's: receivers not ready answer RNR NAKs, which
 * the sender retries without limit (rnr_retry_count 7).
 *
 * In a session without compression the pages of PAGES and ZERO frames go
 * by RDMA WRITE straight into the destination's pinned region pages (the
 * channel is "placed"): before ACTIVE the destination fast-registers, on
 * each channel's own PD, MRs over that channel's share of every region
 * (the chunks vmmig_chunk_channel() gives it, in order) and sends their
 * keys in an RDMA_KEYS frame (mr.c). The frame header follows its WRITEs
 * on the same QP as a SEND, so it completes after their data is placed.
 * With compression nothing is registered and every page goes by SEND:
 * a CPU placing a page could otherwise overwrite a newer copy that a
 * WRITE placed meanwhile.
 *
 * Locking: vmmig_rdma_conn.lock (taken in softirq by the completion
 * handlers) guards the ready and free buffer lists and @error. One thread
 * sends (the core's tx_lock) and one receives on a connection at a time.
 */
#ifndef _VMMIG_RDMA_H
#define _VMMIG_RDMA_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

struct vmmig_channel;
struct vmmig_listener;

/* Receive and send buffers per connection, and their size. */
#define VMMIG_RDMA_RX_BUFS	16
#define VMMIG_RDMA_TX_BUFS	8
#define VMMIG_RDMA_BUF_SIZE	(32 * 1024)
/* RDMA WRITEs in flight per connection, and pages (SGEs) in each. */
#define VMMIG_RDMA_WRITES	8
#define VMMIG_RDMA_WRITE_SGES	16
/* Pages per MR at most: a whole number of chunks. */
#define VMMIG_RDMA_MR_PAGES	(8 * VMMIG_RUN_PAGES)

/* What an rdma_cm id's context points to: a listener or a connection. */
struct vmmig_rdma_ctx {
	bool listener;
};

struct vmmig_rdma_buf {
	struct vmmig_rdma_conn *conn;
	void *data;
	u64 dma;
	u32 len;			/* bytes filled (tx) or received (rx) */
	struct ib_cqe cqe;
	struct list_head node;		/* conn->ready or conn->tx_free */
};

/* Destination: a fast-registered MR over part of the channel's share. */
struct vmmig_rdma_mr {
	struct ib_mr *mr;
	struct sg_table sgt;
	int nents;			/* DMA-mapped entries; 0: not mapped */
	u32 region;
	u32 first;			/* in the channel's share, in pages */
	u32 pages;
};

/* Source: where part of the channel's share of a region is at the peer. */
struct vmmig_rdma_rkey {
	u32 region;
	u32 rkey;
	u64 addr;
	u32 first;
	u32 pages;
};

/* Source: an RDMA WRITE in flight, its pages DMA-mapped until it completes. */
struct vmmig_rdma_write {
	struct vmmig_rdma_conn *conn;
	struct ib_cqe cqe;
	struct list_head node;		/* conn->wr_free */
	unsigned int n;
	u64 dma[VMMIG_RDMA_WRITE_SGES];
};

struct vmmig_rdma_conn {
	struct vmmig_rdma_ctx ctx;
	struct rdma_cm_id *id;
	struct ib_pd *pd;
	struct ib_cq *cq;
	bool qp;			/* rdma_create_qp done */

	/* connection setup: each CM step completes @cm_done with @cm_status */
	struct completion cm_done;
	int cm_status;

	spinlock_t lock;		/* see the top of this file */
	wait_queue_head_t wq;
	int error;			/* first failure, then every call fails */
	unsigned long timeout;		/* jiffies a send or receive may wait */

	struct vmmig_rdma_buf rx[VMMIG_RDMA_RX_BUFS];
	struct list_head ready;		/* received, not yet read */
	struct vmmig_rdma_buf *cur;	/* being read, @cur_off bytes done */
	u32 cur_off;

	struct vmmig_rdma_buf tx[VMMIG_RDMA_TX_BUFS];
	struct list_head tx_free;
	struct vmmig_rdma_buf *fill;	/* being filled, not posted yet */

	struct vmmig_rdma_write wr[VMMIG_RDMA_WRITES];
	struct list_head wr_free;
	unsigned int max_sge;

	struct vmmig_rdma_mr *mrs;	/* destination, placed: registered MRs */
	unsigned int nmrs;
	struct vmmig_rdma_rkey *rkeys;	/* source, placed: the peer's MRs */
	unsigned int nrkeys;
	struct ib_cqe reg_cqe;		/* IB_WR_REG_MR, one at a time */
	struct completion reg_done;
	int reg_status;

	/* destination: accepted by a listener, then handed to a session */
	struct vmmig_rdma_listener *listener;
	struct work_struct accept_work;
	struct sockaddr_storage peer;
};

struct vmmig_rdma_listener {
	struct vmmig_rdma_ctx ctx;
	struct rdma_cm_id *id;
	struct net *net;
	struct vmmig_listener *owner;
	struct workqueue_struct *wq;	/* connections being accepted */
	atomic_t accepting;		/* of them, not yet handed to the handshake */
};

/* conn.c */
int vmmig_rdma_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev);
struct vmmig_rdma_conn *vmmig_rdma_conn_alloc(void);
int vmmig_rdma_conn_setup(struct vmmig_rdma_conn *conn);
void vmmig_rdma_conn_free(struct vmmig_rdma_conn *conn);
int vmmig_rdma_cm_wait(struct vmmig_rdma_conn *conn, unsigned long timeout);
int vmmig_rdma_post_recv(struct vmmig_rdma_conn *conn, struct vmmig_rdma_buf *buf);
void vmmig_rdma_conn_param(struct rdma_conn_param *p);
int vmmig_rdma_connect(struct vmmig_channel *ch, struct net *net,
		       struct sockaddr_storage *addr, int addrlen,
		       unsigned long timeout);

/* mr.c */
int vmmig_rdma_start(struct vmmig_channel *ch);
void vmmig_rdma_mr_release(struct vmmig_rdma_conn *conn);
int vmmig_rdma_rkey_find(struct vmmig_rdma_conn *conn, struct vmmig_channel *ch,
			 u32 region, u64 page, unsigned int n, u32 *rkey, u64 *addr);

/* listen.c */
int vmmig_rdma_connect_request(struct rdma_cm_id *id, struct rdma_cm_event *ev);

#endif /* _VMMIG_RDMA_H */
