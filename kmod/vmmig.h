/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal declarations shared by the files of the vmmig module.
 *
 * Objects and locking:
 * - struct vmmig_session: one per open /dev/vmmig. @lock serialises the
 *   ioctls that change it (GET_STATS takes no lock). @ev_lock guards
 *   @state once the session has left NEW, the event list and the
 *   per-channel sync/FIN progress; receive threads take it, never @lock.
 * - struct vmmig_channel: one connection. @tx_lock keeps frames whole on
 *   the wire when two contexts send on one channel.
 * - struct vmmig_listener (listen.c): one per (netns, port) while sessions
 *   wait in ACCEPT; vmmig_net.lock guards the list, each waiter list and
 *   the handshakes in flight.
 * - Every session is on its namespace's list from open to close;
 *   vmmig_net.cfg_lock guards the list and @admitted (netns.h). A dump
 *   reads a listed session under that lock, so it cannot be freed meanwhile.
 *   A netlink request that must sleep on a session (ABORT_SESSION) takes
 *   @nl_refs under that lock instead (vmmig_net_get_session()); the close
 *   waits for it once the session is off the list, before tearing down.
 * - Host settings, the host's authentication settings among them, have one
 *   writer at a time under vmmig_net.cfg_lock (netns.h). Authentication
 *   settings (auth.h) are immutable and reference-counted; a session's own
 *   (@auth) is set under @lock while NEW, read after.
 */
#ifndef _VMMIG_H
#define _VMMIG_H

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/vmmig.h>

#include "protocol.h"
#include "ratelimit.h"

struct net;
struct page;
struct sockaddr;
struct socket;
struct task_struct;
struct vmmig_channel;
struct vmmig_comp_ctx;
struct vmmig_auth_config;
struct vmmig_cidr;
struct vmmig_host;
struct vmmig_listener;
struct vmmig_net;
struct vmmig_traffic_key;

/*
 * A transport moves frames over one channel. The session core never says
 * which transport it is talking to.
 */
struct vmmig_transport_ops {
	const char *name;
	int (*connect)(struct vmmig_channel *ch, struct net *net,
		       struct sockaddr_storage *addr, int addrlen,
		       unsigned long timeout);
	/* Bytes copied from @buf; @more: another frame follows at once. */
	int (*send)(struct vmmig_channel *ch, const void *buf, size_t len, bool more);
	/*
	 * @n whole pages, without copying them: pages @page.. of region
	 * @region, for a transport that places them at the peer itself.
	 */
	int (*send_pages)(struct vmmig_channel *ch, u32 region, u64 page,
			  struct page **pages, unsigned int n);
	/* Exactly @len bytes; -ECONNRESET if the peer closed first. */
	int (*recv)(struct vmmig_channel *ch, void *buf, size_t len);
	/* Exactly @n whole pages, straight into them. */
	int (*recv_pages)(struct vmmig_channel *ch, struct page **pages, unsigned int n);
	/*
	 * Optional: after the handshake of every channel, before the session
	 * goes ACTIVE; both sides, the peer's start running at the same time.
	 */
	int (*start)(struct vmmig_channel *ch);
	void (*set_timeout)(struct vmmig_channel *ch, unsigned long timeout);
	/* Encrypt and authenticate every byte from now on (ktls.c for TCP). */
	int (*start_encryption)(struct vmmig_channel *ch, const struct vmmig_traffic_key *tx,
				const struct vmmig_traffic_key *rx);
	/*
	 * Optional: wait until @deadline (jiffies) at most for what was sent
	 * to have left, before a shutdown that would discard it (an RDMA
	 * disconnect flushes the SENDs still queued; TCP sends its FIN behind
	 * the data, and needs none).
	 */
	void (*flush)(struct vmmig_channel *ch, unsigned long deadline);
	/* Unblocks senders and receivers; safe from any context that may sleep. */
	void (*shutdown)(struct vmmig_channel *ch);
	void (*release)(struct vmmig_channel *ch);
};

extern const struct vmmig_transport_ops vmmig_tcp_ops;
void vmmig_tcp_sock_setup(struct socket *sock);

/*
 * RDMA (kmod/rdma/): built when the kernel has rdma_cm. Without it the
 * transport is missing and asking for it fails with -EOPNOTSUPP.
 */
#define VMMIG_HAVE_RDMA	IS_ENABLED(CONFIG_INFINIBAND_ADDR_TRANS)
struct vmmig_rdma_listener;
#if VMMIG_HAVE_RDMA
extern const struct vmmig_transport_ops vmmig_rdma_ops;
int vmmig_rdma_init(void);
void vmmig_rdma_exit(void);
int vmmig_rdma_check(void);
struct vmmig_rdma_listener *vmmig_rdma_listen(struct net *net, u16 port,
					      struct vmmig_listener *owner);
void vmmig_rdma_listen_stop(struct vmmig_rdma_listener *rl);
#else
static inline int vmmig_rdma_init(void) { return 0; }
static inline void vmmig_rdma_exit(void) {}
static inline int vmmig_rdma_check(void) { return -EOPNOTSUPP; }
static inline struct vmmig_rdma_listener *vmmig_rdma_listen(struct net *net, u16 port,
							    struct vmmig_listener *owner)
{
	return NULL;
}

static inline void vmmig_rdma_listen_stop(struct vmmig_rdma_listener *rl) {}
#endif

/* A registered guest RAM region. */
struct vmmig_mem {
	u32 id;
	u64 uaddr;
	u64 gpa;
	unsigned long npages;
	struct page **pages;	/* NULL: not pinned (yet); see region.c */
	/*
	 * Destination, VMMIG_REGION_FRESH: bit i set if page i may hold data
	 * (this session placed some there), clear if it is zero. NULL: every
	 * page may hold data.
	 */
	unsigned long *maybe_data;
};

struct vmmig_channel {
	struct vmmig_session *sess;
	unsigned int index;
	const struct vmmig_transport_ops *ops;
	struct socket *sock;		/* TCP */
	/* TCP, once started: the socket's own error_report, and its error */
	void (*sk_error_report)(struct sock *sk);
	int sock_err;
	void *conn;			/* RDMA: struct vmmig_rdma_conn */
	struct mutex tx_lock;		/* one frame at a time */
	struct task_struct *rx_thread;
	struct work_struct tx_work;
	struct vmmig_comp_ctx *comp;	/* NULL: no compression */
	u64 sync_seq;		/* source: last SYNC_ACK; dest: last SYNC */
	bool fin;		/* dest: FIN received */
	/*
	 * The transport places the pages of PAGES and ZERO frames at the
	 * peer itself (RDMA WRITE): zero runs go through send_pages() too,
	 * with NULL pages, and the destination finds them in place.
	 */
	bool placed;
};

/* A destination event, queued for VMMIG_IOC_WAIT_EVENT. */
struct vmmig_ev {
	struct list_head node;
	u32 type;
	u32 tag;
	u64 length;
	u64 seq;
	int error;
	void *data;
};

/*
 * Where the counters of a session stood when the current round began
 * (tracepoints, trace.h); or, handed to the round_end tracepoint, what
 * the round moved. The source's is guarded by @lock, the destination's
 * by @ev_lock.
 */
struct vmmig_round {
	u64 pages;
	u64 zero_pages;
	u64 bytes;
	ktime_t start;
	bool open;		/* source: a send since the last SYNC */
};

/* The SEND_DIRTY call being worked on by the channels' tx works. */
struct vmmig_send_job {
	struct vmmig_mem *mem;
	const unsigned long *map;	/* NULL: every page */
	u64 first;
	u64 npages;
	atomic_t pending;
	struct completion done;
	atomic64_t pages;
	atomic64_t zero_pages;
	int error;
};

struct vmmig_session {
	struct mutex lock;		/* serialises the ioctls */
	struct net *net;
	enum vmmig_role role;
	enum vmmig_state state;
	int error;			/* positive errno once ABORTED */

	struct vmmig_mem mems[VMMIG_MAX_REGIONS];
	unsigned int nmems;
	struct mm_struct *mm;		/* charged for the pinned pages */
	unsigned long locked_pages;

	unsigned int nch;
	struct vmmig_channel ch[VMMIG_MAX_CHANNELS];
	u64 cookie;
	u32 compression;		/* enum vmmig_comp */
	int comp_level;

	spinlock_t ev_lock;		/* state, events, sync/FIN progress */
	wait_queue_head_t wq;
	struct list_head events;
	size_t queued_blob_bytes;
	u64 sync_posted;
	struct vmmig_ev end_ev;	/* FINISHED or ABORTED: preallocated, cannot fail */

	u64 sync_seq;
	struct vmmig_send_job job;

	/* ACCEPT: a waiter on a listener until every channel has joined */
	struct list_head accept_node;
	unsigned int joined;
	bool accepted;
	struct sockaddr_storage peer;

	/* Authentication (auth.h) */
	struct vmmig_auth_config *auth;	/* SET_AUTH's; NULL: the host's */
	u32 auth_mode;			/* what the handshake used */
	bool encrypted;
	u8 peer_key[VMMIG_KEY_LEN];	/* dest, KEYPAIR: the source's key */

	atomic64_t pages;
	atomic64_t zero_pages;
	atomic64_t bytes_wire;
	atomic64_t blobs;
	atomic64_t rounds;
	atomic64_t comp_pages;
	atomic64_t incompressible_pages;
	atomic64_t comp_bytes_in;
	atomic64_t comp_bytes_out;
	ktime_t start;
	ktime_t end;
	struct vmmig_round round;

	/* SET_BANDWIDTH's cap; the source's sends take from it (send.c) */
	struct vmmig_rl rl;

	/* The namespace's session list (netns.c) and max-migrations (policy.c) */
	struct list_head net_node;
	u32 id;
	bool admitted;
	atomic_t nl_refs;		/* netlink requests holding it (netns.c) */
};

/* A VMMIG_CMD_SESSION_EVENT notification. */
struct vmmig_notice {
	u32 event;			/* enum vmmig_notify */
	u32 id;				/* the session; 0: none */
	u32 role;			/* the direction */
	const struct sockaddr_storage *peer;	/* NULL: not known */
	int error;			/* positive errno, or 0 */
	const char *msg;		/* NULL, or why it was refused */
};

static inline bool vmmig_active(struct vmmig_session *s)
{
	return READ_ONCE(s->state) == VMMIG_STATE_ACTIVE;
}

/* device.c */
int vmmig_device_init(void);
void vmmig_device_exit(void);

/* session.c */
struct vmmig_session *vmmig_session_create(void);
void vmmig_session_destroy(struct vmmig_session *s);
bool vmmig_session_abort(struct vmmig_session *s, int err, bool tell_peer,
			 const char *why);
void vmmig_round_begin(struct vmmig_session *s);
u64 vmmig_round_next(struct vmmig_session *s, struct vmmig_round *done);
void vmmig_session_post(struct vmmig_session *s, struct vmmig_ev *ev);
int vmmig_session_start(struct vmmig_session *s);
int vmmig_session_connect(struct vmmig_session *s, const struct vmmig_connect *c);
int vmmig_session_accept(struct vmmig_session *s, struct vmmig_accept *a);
int vmmig_session_send_blob(struct vmmig_session *s, const struct vmmig_blob *b);
int vmmig_session_sync(struct vmmig_session *s);
int vmmig_session_finish(struct vmmig_session *s);
int vmmig_session_wait_event(struct vmmig_session *s, struct vmmig_event *e);
void vmmig_session_stats(struct vmmig_session *s, struct vmmig_stats *st);
int vmmig_session_set_bandwidth(struct vmmig_session *s, const struct vmmig_bandwidth *b);
u64 vmmig_session_bandwidth(struct vmmig_session *s);
int vmmig_send_frame(struct vmmig_channel *ch, const struct vmmig_frame *f,
		     const void *payload, bool more);
int vmmig_recv_frame(struct vmmig_channel *ch, struct vmmig_frame *f);

/* region.c */
int vmmig_mem_add(struct vmmig_session *s, const struct vmmig_region *r);
void vmmig_mem_release_all(struct vmmig_session *s);
struct vmmig_mem *vmmig_mem_find(struct vmmig_session *s, u32 id);
int vmmig_mem_pin(struct vmmig_session *s, struct vmmig_mem *m, u64 page, unsigned long n);
int vmmig_mem_pin_run(struct vmmig_session *s, struct vmmig_mem *m, u64 page,
		      unsigned int n, struct page **pages);

/*
 * Destination bookkeeping of a FRESH region. A bitmap word covers whole
 * 64-page chunks, and a chunk is only ever placed by its one channel's
 * receive thread, so the non-atomic bitmap ops are safe.
 */
static inline bool vmmig_mem_known_zero(const struct vmmig_mem *m, u64 page)
{
	return m->maybe_data && !test_bit(page, m->maybe_data);
}

static inline void vmmig_mem_mark(struct vmmig_mem *m, u64 page, unsigned int n,
				  bool data)
{
	BUILD_BUG_ON(VMMIG_RUN_PAGES % BITS_PER_LONG);
	if (!m->maybe_data)
		return;
	if (data)
		bitmap_set(m->maybe_data, page, n);
	else
		bitmap_clear(m->maybe_data, page, n);
}

/* send.c */
int vmmig_send_throttle(struct vmmig_session *s, size_t bytes);
void vmmig_send_throttle_wake(struct vmmig_net *vn);
void vmmig_tx_work(struct work_struct *work);
int vmmig_send_dirty(struct vmmig_session *s, struct vmmig_dirty *d);
unsigned int vmmig_chunk_channel(u32 region, u64 page, unsigned int nch);

int vmmig_send_dirty_ring(struct vmmig_session *s, struct vmmig_dirty_ring *d);

/* ring.c: a KVM slot of a SEND_DIRTY_RING call, checked. */
struct vmmig_ring_map {
	u32 slot;
	unsigned int span;	/* index of its region in the caller's spans */
	u64 first_page;
	u64 num_pages;
};

/* What a SEND_DIRTY_RING call sends of one region. */
struct vmmig_ring_span {
	u32 id;			/* in: the region */
	u64 npages;		/* in: its size */
	u64 lo, hi;		/* out: pages [lo, hi) (lo % 64 == 0); none if lo == hi */
	unsigned long *map;	/* out: bit p - lo set for page p */
};

int vmmig_ring_slots(const struct vmmig_ring_slot *u, unsigned int n,
		     const struct vmmig_ring_span *spans, unsigned int nspans,
		     struct vmmig_ring_map *maps);
int vmmig_ring_walk(const struct vmmig_ring_map *maps, unsigned int nmaps,
		    const struct vmmig_dirty_gfn *e, size_t n,
		    struct vmmig_ring_span *spans, unsigned int nspans);
void vmmig_ring_spans_free(struct vmmig_ring_span *spans, unsigned int nspans);

/* receive.c */
int vmmig_rx_thread(void *data);

/* listen.c */
int vmmig_listen_wait(struct vmmig_session *s, u16 port, unsigned long timeout);
void vmmig_listen_undo(struct vmmig_session *s);
bool vmmig_listen_incoming(struct vmmig_listener *l, const struct vmmig_channel *ch,
			   const struct sockaddr_storage *from);

/* netns.c */
int vmmig_netns_init(void);
void vmmig_netns_exit(void);
struct vmmig_net *vmmig_net(struct net *net);
void vmmig_net_add_session(struct vmmig_session *s);
void vmmig_net_del_session(struct vmmig_session *s);
struct vmmig_session *vmmig_net_get_session(struct net *net, u32 id);
void vmmig_net_put_session(struct vmmig_session *s);

/* policy.c */
void vmmig_host_defaults(struct vmmig_host *h);
int vmmig_cidr_init(struct vmmig_cidr *c, u16 family, const void *addr,
		    unsigned int prefix);
bool vmmig_cidr_equal(const struct vmmig_cidr *a, const struct vmmig_cidr *b);
bool vmmig_cidr_match(const struct vmmig_cidr *c, const struct sockaddr *sa);
bool vmmig_cidr_list_match(const struct vmmig_cidr *list, unsigned int n,
			   const struct sockaddr *sa);
unsigned int vmmig_active_migrations(struct vmmig_net *vn);
int vmmig_admit(struct vmmig_session *s, enum vmmig_role role, struct vmmig_host *h);
void vmmig_unadmit(struct vmmig_session *s);
int vmmig_peer_check(struct net *net, const struct sockaddr_storage *peer);

/* netlink.c */
int vmmig_nl_init(void);
void vmmig_nl_exit(void);
void vmmig_nl_notify(struct net *net, const struct vmmig_notice *n);
void vmmig_nl_notify_session(struct vmmig_session *s, u32 event, int error,
			     const char *msg);

/* bitmap.c */
int vmmig_bitmap_check_tail(const unsigned long *map, unsigned long nbits);
bool vmmig_bitmap_next_run(const unsigned long *map, unsigned long nbits,
			   unsigned long start, unsigned long max_run,
			   unsigned long *run_start, unsigned long *run_len);

#endif /* _VMMIG_H */
