// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions: the state machine of one migration, seen from one side, and
 * the calls the VMM makes on it (see the locking rules in vmmig.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/nsproxy.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "vmmig.h"
#include "auth.h"
#include "netns.h"
#include "compress/compress.h"
#include "trace.h"

#define VMMIG_CONNECT_TIMEOUT_MS	10000
/* A SYNC the peer does not answer in this time ends the session. */
#define VMMIG_SYNC_TIMEOUT		(60 * HZ)
/*
 * Once a session is ABORTED, a channel's sender stops at the end of its
 * frame (send.c): worth waiting that long for its tx_lock, so that the
 * ABORT frame, rather than a bare reset, tells the peer why.
 */
#define VMMIG_ABORT_TX_WAIT		(HZ / 10)

struct vmmig_session *vmmig_session_create(void)
{
	struct vmmig_session *s;
	unsigned int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	mutex_init(&s->lock);
	spin_lock_init(&s->ev_lock);
	init_waitqueue_head(&s->wq);
	INIT_LIST_HEAD(&s->events);
	INIT_LIST_HEAD(&s->accept_node);
	init_completion(&s->job.done);
	vmmig_rl_init(&s->rl, 0, ktime_get());
	for (i = 0; i < VMMIG_MAX_CHANNELS; i++) {
		s->ch[i].sess = s;
		s->ch[i].index = i;
		s->ch[i].ops = &vmmig_tcp_ops;
		mutex_init(&s->ch[i].tx_lock);
		INIT_WORK(&s->ch[i].tx_work, vmmig_tx_work);
	}
	s->net = get_net(current->nsproxy->net_ns);
	vmmig_net_add_session(s);
	return s;
}

static void vmmig_free_ev(struct vmmig_session *s, struct vmmig_ev *ev)
{
	if (ev == &s->end_ev)
		return;
	kvfree(ev->data);
	kfree(ev);
}

void vmmig_session_destroy(struct vmmig_session *s)
{
	struct vmmig_ev *ev, *tmp;
	unsigned int i;

	vmmig_net_del_session(s);
	/* A netlink request that found it before may still be using it. */
	wait_var_event(&s->nl_refs, !atomic_read(&s->nl_refs));
	vmmig_session_abort(s, ECONNABORTED, true, "/dev/vmmig closed before the session ended");
	for (i = 0; i < VMMIG_MAX_CHANNELS; i++)
		s->ch[i].ops->shutdown(&s->ch[i]);
	for (i = 0; i < VMMIG_MAX_CHANNELS; i++) {
		struct vmmig_channel *ch = &s->ch[i];

		if (ch->rx_thread)
			kthread_stop(ch->rx_thread);
		flush_work(&ch->tx_work);
		ch->ops->release(ch);
		vmmig_comp_ctx_destroy(ch->comp);
		mutex_destroy(&ch->tx_lock);
	}
	list_for_each_entry_safe(ev, tmp, &s->events, node)
		vmmig_free_ev(s, ev);
	vmmig_mem_release_all(s);
	vmmig_auth_put(s->auth);
	put_net(s->net);
	mutex_destroy(&s->lock);
	kfree(s);
}

/* Queue an event for the destination VMM. */
void vmmig_session_post(struct vmmig_session *s, struct vmmig_ev *ev)
{
	spin_lock_bh(&s->ev_lock);
	list_add_tail(&ev->node, &s->events);
	spin_unlock_bh(&s->ev_lock);
	wake_up_all(&s->wq);
}

int vmmig_send_frame(struct vmmig_channel *ch, const struct vmmig_frame *f,
		     const void *payload, bool more)
{
	struct vmmig_wire_hdr hdr;
	int ret;

	vmmig_frame_encode(&hdr, f);
	ret = ch->ops->send(ch, &hdr, sizeof(hdr), more || (payload && f->len));
	if (!ret && payload && f->len)
		ret = ch->ops->send(ch, payload, f->len, more);
	return ret;
}

/* The next frame's header, decoded; its payload is left for the caller. */
int vmmig_recv_frame(struct vmmig_channel *ch, struct vmmig_frame *f)
{
	struct vmmig_wire_hdr hdr;
	int ret;

	ret = ch->ops->recv(ch, &hdr, sizeof(hdr));
	if (ret)
		return ret;
	return vmmig_frame_decode(&hdr, f);
}

/* @ch's tx_lock, waiting until @deadline at most; false if not had. */
static bool vmmig_abort_tx_lock(struct vmmig_channel *ch, unsigned long deadline)
{
	while (!mutex_trylock(&ch->tx_lock)) {
		if (time_after(jiffies, deadline))
			return false;
		usleep_range(500, 1000);
	}
	return true;
}

/**
 * vmmig_session_abort - end an active session
 * @s: the session
 * @err: why, a positive errno
 * @tell_peer: send the peer an ABORT frame first (best effort)
 * @why: the reason for a person, in the vmmig_abort tracepoint and the
 *	ABORTED event's MESSAGE
 *
 * Callable from any thread of the session, or holding it with
 * vmmig_net_get_session(); only the first call counts. Every channel is
 * shut down, which wakes whoever waits on it.
 *
 * Return: true if this call ended the session, false if it was not ACTIVE.
 */
bool vmmig_session_abort(struct vmmig_session *s, int err, bool tell_peer,
			 const char *why)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_ABORT, .count = err };
	unsigned long deadline = jiffies + VMMIG_ABORT_TX_WAIT;
	unsigned int i;

	spin_lock_bh(&s->ev_lock);
	if (s->state != VMMIG_STATE_ACTIVE) {
		spin_unlock_bh(&s->ev_lock);
		return false;
	}
	s->state = VMMIG_STATE_ABORTED;
	s->error = err;
	s->end = ktime_get();
	if (s->role == VMMIG_ROLE_DESTINATION) {
		s->end_ev.type = VMMIG_EVENT_ABORTED;
		s->end_ev.error = err;
		list_add_tail(&s->end_ev.node, &s->events);
	}
	spin_unlock_bh(&s->ev_lock);
	wake_up_all(&s->wq);
	pr_info_ratelimited("%s session aborted: error %d\n",
			    s->role == VMMIG_ROLE_SOURCE ? "source" : "destination", -err);
	trace_vmmig_abort(s, err, why);
	trace_vmmig_session_end(s);

	/*
	 * ABORT on every channel, so that whichever the peer reads first ends
	 * with it rather than with the bare close. A sender stuck on a full
	 * socket holds tx_lock past the wait: there the reset has to say it.
	 */
	for (i = 0; tell_peer && i < s->nch; i++) {
		if (!vmmig_abort_tx_lock(&s->ch[i], deadline))
			continue;
		s->ch[i].ops->set_timeout(&s->ch[i], HZ / 10);
		vmmig_send_frame(&s->ch[i], &f, NULL, false);
		mutex_unlock(&s->ch[i].tx_lock);
	}
	/* The shutdown must not discard the ABORT frames just sent. */
	deadline = jiffies + VMMIG_ABORT_TX_WAIT;
	for (i = 0; tell_peer && i < s->nch; i++)
		if (s->ch[i].ops->flush)
			s->ch[i].ops->flush(&s->ch[i], deadline);
	for (i = 0; i < s->nch; i++)
		s->ch[i].ops->shutdown(&s->ch[i]);
	vmmig_nl_notify_session(s, VMMIG_NOTIFY_ABORTED, err, why);
	return true;
}

/* One codec context per channel, allocated before any page moves. */
static int vmmig_session_comp_init(struct vmmig_session *s)
{
	struct vmmig_comp_ctx *ctx;
	unsigned int i;

	if (s->compression == VMMIG_COMP_NONE)
		return 0;
	for (i = 0; i < s->nch; i++) {
		ctx = vmmig_comp_ctx_create(s->compression, s->comp_level,
					    VMMIG_RUN_PAGES * PAGE_SIZE);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		s->ch[i].comp = ctx;
	}
	return 0;
}

/*
 * Every channel is past the handshake: what the transport does before
 * ACTIVE (RDMA: the destination's memory keys). Nothing is undone here.
 */
static int vmmig_session_ch_start(struct vmmig_session *s)
{
	unsigned int i;
	int ret;

	for (i = 0; i < s->nch; i++) {
		if (!s->ch[i].ops->start)
			continue;
		ret = s->ch[i].ops->start(&s->ch[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Every channel is connected and past the handshake: go ACTIVE. */
int vmmig_session_start(struct vmmig_session *s)
{
	unsigned int i;
	int ret;

	for (i = 0; i < s->nch; i++)
		s->ch[i].ops->set_timeout(&s->ch[i], MAX_SCHEDULE_TIMEOUT);
	s->start = ktime_get();
	/* The handshake's bytes belong to no round. */
	s->round.bytes = atomic64_read(&s->bytes_wire);
	s->round.start = s->start;
	/* Publishes the peer to lockless readers (netlink.c). */
	smp_store_release(&s->state, VMMIG_STATE_ACTIVE);
	trace_vmmig_session_start(s);
	/* The source made its contexts before connecting. */
	ret = s->role == VMMIG_ROLE_DESTINATION ? vmmig_session_comp_init(s) : 0;
	if (ret) {
		vmmig_session_abort(s, -ret, true, "no memory for the codec contexts");
		return ret;
	}
	for (i = 0; i < s->nch; i++) {
		struct task_struct *t;

		t = kthread_run(vmmig_rx_thread, &s->ch[i], "vmmig-rx/%u", i);
		if (IS_ERR(t)) {
			vmmig_session_abort(s, -PTR_ERR(t), true, "cannot start a receive thread");
			return PTR_ERR(t);
		}
		s->ch[i].rx_thread = t;
	}
	vmmig_nl_notify_session(s, VMMIG_NOTIFY_STARTED, 0, NULL);
	return 0;
}

static int vmmig_fill_addr(const struct vmmig_connect *c, u16 port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (c->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, c->addr, 4);
		if (memchr_inv(c->addr + 4, 0, sizeof(c->addr) - 4) ||
		    !sin->sin_addr.s_addr)
			return -EINVAL;
		return sizeof(*sin);
	}
	if (c->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, c->addr, 16);
		if (ipv6_addr_any(&sin6->sin6_addr))
			return -EINVAL;
		return sizeof(*sin6);
	}
	return -EINVAL;
}

/* The ops of @transport, or why this host cannot use it with @auth. */
static int vmmig_session_transport(u32 transport, const struct vmmig_auth_config *auth,
				   const struct vmmig_transport_ops **ops)
{
	int ret;

	if (transport == VMMIG_TRANSPORT_TCP)
		return 0;
	ret = vmmig_rdma_check();
	if (ret)
		return ret;
	/* kTLS needs a socket: refuse rather than carry the session in the clear. */
	if (auth->encrypt)
		return -EPROTONOSUPPORT;
#if VMMIG_HAVE_RDMA
	*ops = &vmmig_rdma_ops;
#endif
	return 0;
}

/*
 * Caller holds s->lock; the session is NEW. Bad arguments fail before the
 * host's policy is asked, so that EINVAL never depends on the settings.
 */
int vmmig_session_connect(struct vmmig_session *s, const struct vmmig_connect *c)
{
	unsigned long timeout = msecs_to_jiffies(c->timeout_ms ?: VMMIG_CONNECT_TIMEOUT_MS);
	bool host_defaults = c->flags & VMMIG_CONNECT_HOST_DEFAULTS;
	struct vmmig_auth_config *auth;
	struct sockaddr_storage ss;
	struct vmmig_host h;
	const struct vmmig_transport_ops *ops = &vmmig_tcp_ops;
	u32 transport = c->transport;
	unsigned int i;
	int ret, len;

	if ((c->flags & ~VMMIG_CONNECT_HOST_DEFAULTS) || transport >= __VMMIG_TRANSPORT_MAX ||
	    c->channels > VMMIG_MAX_CHANNELS || (!c->channels && !host_defaults) ||
	    (host_defaults && (c->compression || c->level || transport)) ||
	    vmmig_comp_check(c->compression, c->level))
		return -EINVAL;
	len = vmmig_fill_addr(c, c->port, &ss);
	if (len < 0)
		return len;
	ret = vmmig_admit(s, VMMIG_ROLE_SOURCE, &h);
	if (ret)
		return ret;
	if (!c->port)
		vmmig_fill_addr(c, h.port, &ss);

	s->role = VMMIG_ROLE_SOURCE;
	s->nch = c->channels ?: h.channels;
	s->cookie = get_random_u64();
	s->compression = c->compression;
	s->comp_level = c->level;
	if (host_defaults && h.perf == VMMIG_PERF_COMPRESSION)
		s->compression = h.compression;
	/* One set of settings for every channel, even if the host's change. */
	auth = s->auth ? vmmig_auth_hold(s->auth) : vmmig_auth_get(&vmmig_net(s->net)->auth);
	if (host_defaults && h.perf == VMMIG_PERF_RDMA)
		transport = VMMIG_TRANSPORT_RDMA;
	ret = vmmig_session_transport(transport, auth, &ops);
	if (ret)
		goto err;
	for (i = 0; i < s->nch; i++)
		s->ch[i].ops = ops;
	ret = vmmig_session_comp_init(s);
	if (ret)
		goto err;
	for (i = 0; i < s->nch; i++) {
		ret = s->ch[i].ops->connect(&s->ch[i], s->net, &ss, len, timeout);
		if (!ret)
			ret = vmmig_hs_connect(s, &s->ch[i], auth, &ss);
		if (ret)
			goto err;
	}
	ret = vmmig_session_ch_start(s);
	if (ret)
		goto err;
	s->peer = ss;
	s->auth_mode = auth->mode;
	s->encrypted = auth->encrypt;
	vmmig_auth_put(auth);
	return vmmig_session_start(s);
err:
	vmmig_auth_put(auth);
	for (i = 0; i < s->nch; i++) {
		s->ch[i].ops->release(&s->ch[i]);
		s->ch[i].ops = &vmmig_tcp_ops;
		vmmig_comp_ctx_destroy(s->ch[i].comp);
		s->ch[i].comp = NULL;
	}
	s->compression = VMMIG_COMP_NONE;
	s->role = VMMIG_ROLE_NONE;
	s->nch = 0;
	vmmig_unadmit(s);
	return ret;
}

/* Caller holds s->lock; the session is NEW. */
int vmmig_session_accept(struct vmmig_session *s, struct vmmig_accept *a)
{
	unsigned long timeout = a->timeout_ms ? msecs_to_jiffies(a->timeout_ms)
					      : MAX_SCHEDULE_TIMEOUT;
	struct vmmig_host h;
	int ret;

	if (a->flags || a->transport)
		return -EINVAL;
	ret = vmmig_admit(s, VMMIG_ROLE_DESTINATION, &h);
	if (ret)
		return ret;
	s->role = VMMIG_ROLE_DESTINATION;
	ret = vmmig_listen_wait(s, a->port ?: h.port, timeout);
	if (!ret) {
		ret = vmmig_session_ch_start(s);
		if (ret)
			vmmig_listen_undo(s);
	}
	if (ret) {
		s->role = VMMIG_ROLE_NONE;
		vmmig_unadmit(s);
		return ret;
	}

	a->channels = s->nch;
	a->transport = s->ch[0].ops == &vmmig_tcp_ops ? VMMIG_TRANSPORT_TCP
						      : VMMIG_TRANSPORT_RDMA;
	a->peer_family = s->peer.ss_family;
	if (s->peer.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&s->peer;

		a->peer_port = ntohs(sin->sin_port);
		memcpy(a->peer_addr, &sin->sin_addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->peer;

		a->peer_port = ntohs(sin6->sin6_port);
		memcpy(a->peer_addr, &sin6->sin6_addr, 16);
	}
	return vmmig_session_start(s);
}

/* The error an ioctl on a session that is no longer ACTIVE returns. */
static int vmmig_session_err(struct vmmig_session *s)
{
	return s->state == VMMIG_STATE_ABORTED ? -s->error : -EBADFD;
}

int vmmig_session_send_blob(struct vmmig_session *s, const struct vmmig_blob *b)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_BLOB, .page = b->tag, .len = b->length };
	struct vmmig_channel *ch = &s->ch[0];
	void *data;
	int ret;

	if (b->flags || b->reserved || b->length > VMMIG_MAX_BLOB)
		return -EINVAL;
	data = kvmalloc(max_t(u64, b->length, 1), GFP_KERNEL_ACCOUNT);
	if (!data)
		return -ENOMEM;
	if (copy_from_user(data, u64_to_user_ptr(b->data), b->length)) {
		kvfree(data);
		return -EFAULT;
	}
	vmmig_round_begin(s);
	mutex_lock(&ch->tx_lock);
	ret = vmmig_send_frame(ch, &f, data, false);
	mutex_unlock(&ch->tx_lock);
	kvfree(data);
	if (ret) {
		vmmig_session_abort(s, -ret, true, "sending a blob failed");
		return vmmig_session_err(s);
	}
	atomic64_inc(&s->blobs);
	return 0;
}

static bool vmmig_synced(struct vmmig_session *s, u64 seq)
{
	unsigned int i;

	if (!vmmig_active(s))
		return true;
	for (i = 0; i < s->nch; i++)
		if (READ_ONCE(s->ch[i].sync_seq) < seq)
			return false;
	return true;
}

/**
 * vmmig_round_begin - the source sends the first thing of a round
 * @s: the session, an active source; caller holds s->lock
 */
void vmmig_round_begin(struct vmmig_session *s)
{
	if (s->round.open)
		return;
	s->round.open = true;
	trace_vmmig_round_start(s, atomic64_read(&s->rounds) + 1);
}

/**
 * vmmig_round_next - a round ended: what it moved, and count the next from here
 * @s: the session; caller holds s->lock (source) or s->ev_lock (destination)
 * @done: filled in with the pages, zero pages and bytes of the round
 *
 * Return: how long the round took, in nanoseconds.
 */
u64 vmmig_round_next(struct vmmig_session *s, struct vmmig_round *done)
{
	struct vmmig_round *r = &s->round;
	struct vmmig_round now = {
		.pages = atomic64_read(&s->pages),
		.zero_pages = atomic64_read(&s->zero_pages),
		.bytes = atomic64_read(&s->bytes_wire),
		.start = ktime_get(),
	};

	done->pages = now.pages - r->pages;
	done->zero_pages = now.zero_pages - r->zero_pages;
	done->bytes = now.bytes - r->bytes;
	done->start = r->start;
	*r = now;
	return ktime_to_ns(ktime_sub(now.start, done->start));
}

int vmmig_session_sync(struct vmmig_session *s)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_SYNC, .page = ++s->sync_seq };
	struct vmmig_round done;
	unsigned int i;
	long left;
	u64 ns;
	int ret;

	/* A SYNC with nothing sent before it is a round of its own. */
	vmmig_round_begin(s);
	for (i = 0; i < s->nch; i++) {
		mutex_lock(&s->ch[i].tx_lock);
		ret = vmmig_send_frame(&s->ch[i], &f, NULL, false);
		mutex_unlock(&s->ch[i].tx_lock);
		if (ret) {
			vmmig_session_abort(s, -ret, true, "sending a SYNC failed");
			return vmmig_session_err(s);
		}
	}
	left = wait_event_interruptible_timeout(s->wq, vmmig_synced(s, f.page),
						VMMIG_SYNC_TIMEOUT);
	if (left < 0)
		return left;
	if (!left)
		vmmig_session_abort(s, ETIMEDOUT, true,
				    "the peer did not acknowledge a SYNC in 60 s");
	if (!vmmig_active(s))
		return vmmig_session_err(s);
	ns = vmmig_round_next(s, &done);
	s->round.open = false;
	trace_vmmig_round_end(s, &done, atomic64_inc_return(&s->rounds), ns);
	return 0;
}

int vmmig_session_finish(struct vmmig_session *s)
{
	struct vmmig_frame f = { .type = VMMIG_FRAME_FIN };
	unsigned int i;
	int ret;

	ret = vmmig_session_sync(s);
	if (ret)
		return ret;
	/* FINISHED first: the peer may close as soon as it has our FINs. */
	spin_lock_bh(&s->ev_lock);
	s->state = VMMIG_STATE_FINISHED;
	s->end = ktime_get();
	spin_unlock_bh(&s->ev_lock);
	for (i = 0; i < s->nch; i++) {
		mutex_lock(&s->ch[i].tx_lock);
		ret = vmmig_send_frame(&s->ch[i], &f, NULL, false);
		mutex_unlock(&s->ch[i].tx_lock);
		if (ret) {
			spin_lock_bh(&s->ev_lock);
			s->state = VMMIG_STATE_ABORTED;
			s->error = -ret;
			spin_unlock_bh(&s->ev_lock);
			trace_vmmig_abort(s, -ret, "sending FIN failed");
			trace_vmmig_session_end(s);
			vmmig_nl_notify_session(s, VMMIG_NOTIFY_ABORTED, -ret,
						"sending FIN failed");
			return ret;
		}
	}
	trace_vmmig_session_end(s);
	vmmig_nl_notify_session(s, VMMIG_NOTIFY_FINISHED, 0, NULL);
	return 0;
}

static bool vmmig_has_event(struct vmmig_session *s)
{
	bool ret;

	spin_lock_bh(&s->ev_lock);
	ret = !list_empty(&s->events) || s->state != VMMIG_STATE_ACTIVE;
	spin_unlock_bh(&s->ev_lock);
	return ret;
}

/* Caller holds s->lock; the session is a destination, not NEW. */
int vmmig_session_wait_event(struct vmmig_session *s, struct vmmig_event *e)
{
	unsigned long timeout = e->timeout_ms ? msecs_to_jiffies(e->timeout_ms)
					      : MAX_SCHEDULE_TIMEOUT;
	struct vmmig_ev *ev;
	long left;

	if (e->reserved)
		return -EINVAL;
	left = wait_event_interruptible_timeout(s->wq, vmmig_has_event(s), timeout);
	if (left < 0)
		return left;
	if (!left)
		return -ETIMEDOUT;

	spin_lock_bh(&s->ev_lock);
	ev = list_first_entry_or_null(&s->events, struct vmmig_ev, node);
	if (ev && (ev->type != VMMIG_EVENT_BLOB || e->data_size >= ev->length))
		list_del(&ev->node);
	spin_unlock_bh(&s->ev_lock);
	if (!ev)
		return -ENODATA;

	e->type = ev->type;
	e->tag = ev->tag;
	e->length = ev->length;
	e->seq = ev->seq;
	e->error = ev->error;
	if (ev->type != VMMIG_EVENT_BLOB)
		goto out;
	if (e->data_size < ev->length)
		return -EMSGSIZE;	/* still queued: retry with a larger buffer */
	spin_lock_bh(&s->ev_lock);
	s->queued_blob_bytes -= ev->length;
	spin_unlock_bh(&s->ev_lock);
	if (copy_to_user(u64_to_user_ptr(e->data), ev->data, ev->length)) {
		vmmig_free_ev(s, ev);
		return -EFAULT;
	}
out:
	vmmig_free_ev(s, ev);
	return 0;
}

void vmmig_session_stats(struct vmmig_session *s, struct vmmig_stats *st)
{
	ktime_t start = READ_ONCE(s->start), end;
	u64 ns = 0;

	st->state = READ_ONCE(s->state);
	st->role = READ_ONCE(s->role);
	st->channels = READ_ONCE(s->nch);
	st->pages = atomic64_read(&s->pages);
	st->zero_pages = atomic64_read(&s->zero_pages);
	st->bytes_wire = atomic64_read(&s->bytes_wire);
	st->blobs = atomic64_read(&s->blobs);
	st->rounds = atomic64_read(&s->rounds);
	st->error = READ_ONCE(s->error);
	st->compression = READ_ONCE(s->compression);
	st->comp_pages = atomic64_read(&s->comp_pages);
	st->incompressible_pages = atomic64_read(&s->incompressible_pages);
	st->comp_bytes_in = atomic64_read(&s->comp_bytes_in);
	st->comp_bytes_out = atomic64_read(&s->comp_bytes_out);
	if (st->state != VMMIG_STATE_NEW) {
		st->auth = READ_ONCE(s->auth_mode);
		st->encrypted = READ_ONCE(s->encrypted);
	}
	if (start) {
		end = st->state == VMMIG_STATE_ACTIVE ? ktime_get() : READ_ONCE(s->end);
		ns = ktime_to_ns(ktime_sub(end, start));
	}
	st->elapsed_ns = ns;
	st->bytes_per_sec = ns ? mul_u64_u64_div_u64(st->bytes_wire, NSEC_PER_SEC, ns) : 0;
}

/*
 * VMMIG_IOC_SET_BANDWIDTH, without s->lock (device.c): the VMM changes the
 * cap while another of its threads sends. A NEW session keeps it for when
 * it connects; a destination sends nothing worth capping.
 */
int vmmig_session_set_bandwidth(struct vmmig_session *s, const struct vmmig_bandwidth *b)
{
	int ret = 0;

	if (b->flags || b->reserved[0] || b->reserved[1] ||
	    (b->bytes_per_sec && b->bytes_per_sec < VMMIG_MIN_BANDWIDTH))
		return -EINVAL;
	spin_lock_bh(&s->ev_lock);
	if (s->state == VMMIG_STATE_ABORTED)
		ret = -s->error;
	else if (s->state == VMMIG_STATE_FINISHED || s->role == VMMIG_ROLE_DESTINATION)
		ret = -EBADFD;
	spin_unlock_bh(&s->ev_lock);
	if (ret)
		return ret;
	vmmig_rl_set_rate(&s->rl, b->bytes_per_sec, ktime_get());
	wake_up_all(&s->wq);
	return 0;
}

/* A source's effective cap: the lower of its own and the host's; 0: none. */
u64 vmmig_session_bandwidth(struct vmmig_session *s)
{
	u64 own = vmmig_rl_rate(&s->rl), host = vmmig_rl_rate(&vmmig_net(s->net)->rl);

	if (!own || !host)
		return own ?: host;
	return min(own, host);
}
