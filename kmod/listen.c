// SPDX-License-Identifier: GPL-2.0
/*
 * The destination's listener: one socket per (netns, port), alive while
 * sessions wait in ACCEPT. Its thread accepts connections; the handshake
 * of each runs as a work item of the listener (handshake.c has the
 * protocol), at most max_handshakes at a time and each within the
 * handshake timeout (the host's settings, auth.h); when they are all
 * taken, a new connection cuts the oldest one, so that slow peers cannot
 * hold the port against real sources, which need milliseconds. The
 * handshake picks the waiting session: the one the HELLO's cookie names,
 * or for a new cookie the oldest unbound one whose settings can
 * authenticate it; once the source's proof holds, it hands that session
 * the channel. An RDMA listener on the same port (kmod/rdma/listen.c)
 * starts the same handshake on its connections once rdma_cm has
 * established them.
 *
 * vmmig_net.lock guards the listeners, their waiters and their handshakes
 * in flight (struct vmmig_incoming, and its connection, which a session
 * takes or the work releases). A handshake never keeps a session pointer
 * outside it: it picks again under it after waiting on the network.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "vmmig.h"
#include "auth.h"
#include "netns.h"
#include "compress/compress.h"

#define VMMIG_BACKLOG		64

struct vmmig_listener {
	struct list_head node;		/* in vmmig_net.listeners */
	struct net *net;
	u16 port;
	unsigned int users;		/* sessions waiting in ACCEPT */
	struct socket *sock;
	struct vmmig_rdma_listener *rdma;	/* NULL: TCP only */
	struct task_struct *thread;
	struct list_head waiters;	/* struct vmmig_session.accept_node */
	struct workqueue_struct *wq;	/* the handshakes */
	struct list_head incoming;	/* struct vmmig_incoming in flight, oldest first */
	unsigned int in_flight;
	unsigned int cut;		/* of them, cut for newer ones and ending */
};

/* One accepted connection, until its handshake ends. */
struct vmmig_incoming {
	struct list_head node;		/* in vmmig_listener.incoming */
	struct vmmig_listener *l;
	/* the connection: ops, and sock or conn; ops NULL once a session has it */
	struct vmmig_channel ch;
	struct sockaddr_storage from;
	struct vmmig_auth_config *host;	/* the host's settings when it came */
	struct work_struct work;
	struct delayed_work expire;	/* the handshake timeout */
	bool expired;
	bool cut;			/* for a newer connection, the slots all taken */
	int err;			/* why it failed */
	bool by_source;			/* the source refused us, not we it */
};

/* The peer's address, IPv4-mapped IPv6 turned back into IPv4. */
static void vmmig_peer_addr(struct socket *sock, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (kernel_getpeername(sock, (struct sockaddr *)ss) < 0)
		return;
	if (ss->ss_family == AF_INET6 && ipv6_addr_v4mapped(&sin6->sin6_addr)) {
		struct sockaddr_in sin = {
			.sin_family = AF_INET,
			.sin_port = sin6->sin6_port,
			.sin_addr.s_addr = sin6->sin6_addr.s6_addr32[3],
		};

		memset(ss, 0, sizeof(*ss));
		memcpy(ss, &sin, sizeof(sin));
	}
}

static bool vmmig_regions_match(struct vmmig_session *s,
				const struct vmmig_wire_region *reg, u32 n)
{
	struct vmmig_mem *mem;
	u32 i;

	if (n != s->nmems)
		return false;
	for (i = 0; i < n; i++) {
		mem = vmmig_mem_find(s, be32_to_cpu(reg[i].id));
		if (!mem || mem->npages != be64_to_cpu(reg[i].pages))
			return false;
	}
	return true;
}

/* The settings a waiting session authenticates with. */
static struct vmmig_auth_config *vmmig_settings(struct vmmig_session *s,
						const struct vmmig_incoming *in)
{
	return s->auth ?: in->host;
}

/* The HELLO's own fields, whatever session it is for. */
static int vmmig_hello_check(const struct vmmig_incoming *in, const struct vmmig_hs *hs)
{
	const struct vmmig_wire_hello *hello = vmmig_hs_hello(hs);
	u16 channel = be16_to_cpu(hello->channel);
	u16 channels = be16_to_cpu(hello->channels);

	if (!channels || channels > VMMIG_MAX_CHANNELS || channel >= channels || !hello->cookie)
		return -EPROTO;
	if (vmmig_comp_check(be32_to_cpu(hello->compression), 0))
		return -EPROTONOSUPPORT;
	/* kTLS needs a socket: RDMA is never encrypted, so never agree to it. */
	if (vmmig_hs_encrypt(hs) && !in->ch.ops->start_encryption)
		return -EPROTONOSUPPORT;
	return vmmig_hs_offer_check(hs, NULL);
}

/* The session that already has the HELLO's cookie, if any. */
static struct vmmig_session *vmmig_bound(struct vmmig_listener *l, const struct vmmig_hs *hs)
{
	u64 cookie = be64_to_cpu(vmmig_hs_hello(hs)->cookie);
	struct vmmig_session *s;

	list_for_each_entry(s, &l->waiters, accept_node)
		if (s->nch && s->cookie == cookie)
			return s;
	return NULL;
}

/*
 * The session a HELLO is for, to answer it with that session's settings:
 * the one bound to its cookie, else the oldest unbound one whose settings
 * can take it (KEYPAIR: preferably one that lists the source's key).
 * Returns it with *status 0, or NULL with *status the refusal. Caller
 * holds vn->lock.
 */
static struct vmmig_session *vmmig_pick(struct vmmig_listener *l, struct vmmig_incoming *in,
					const struct vmmig_hs *hs, int *status)
{
	bool keypair = vmmig_hs_mode(hs) == VMMIG_AUTH_KEYPAIR;
	struct vmmig_session *s, *fallback = NULL;
	int err = -ECONNREFUSED, ret;

	*status = vmmig_hello_check(in, hs);
	if (*status)
		return NULL;
	s = vmmig_bound(l, hs);
	if (s) {
		*status = vmmig_hs_offer_check(hs, vmmig_settings(s, in));
		return *status ? NULL : s;
	}
	list_for_each_entry(s, &l->waiters, accept_node) {
		const struct vmmig_auth_config *c = vmmig_settings(s, in);

		if (s->nch)
			continue;
		ret = vmmig_hs_offer_check(hs, c);
		if (ret) {
			if (err == -ECONNREFUSED)
				err = ret;
			continue;
		}
		if (keypair && vmmig_auth_peer_check(c, vmmig_hs_peer_static(hs),
						     VMMIG_PEER_SEND, &in->from)) {
			fallback = fallback ?: s;
			continue;
		}
		return s;
	}
	if (fallback)
		return fallback;
	*status = err;
	return NULL;
}

/*
 * After the source's proof: the session that takes the channel, among
 * those @pick could have chosen. KEYPAIR: one with the key pair WELCOME
 * showed (@used) that lists the source with SEND; PSK: the first whose key
 * verifies the proof. Returns 0 with *sp set, or the refusal, the most
 * telling one first: a proof that held but a peer not allowed, then a
 * proof that did not hold. Caller holds vn->lock.
 */
static int vmmig_authorize(struct vmmig_listener *l, struct vmmig_incoming *in,
			   struct vmmig_hs *hs, const struct vmmig_auth_config *used,
			   int verified, struct vmmig_session **sp)
{
	bool keypair = vmmig_hs_mode(hs) == VMMIG_AUTH_KEYPAIR;
	struct vmmig_session *s, *bound = vmmig_bound(l, hs);
	int err = -ECONNREFUSED, ret;

	list_for_each_entry(s, &l->waiters, accept_node) {
		const struct vmmig_auth_config *c = vmmig_settings(s, in);

		if (bound ? s != bound : s->nch)
			continue;
		if (vmmig_hs_offer_check(hs, c))
			continue;
		if (keypair) {
			if (memcmp(c->public_key, used->public_key, VMMIG_KEY_LEN))
				continue;
			ret = verified ?: vmmig_auth_peer_check(c, vmmig_hs_peer_static(hs),
								VMMIG_PEER_SEND, &in->from);
		} else {
			ret = vmmig_hs_verify(hs, c);
		}
		if (!ret) {
			*sp = s;
			return 0;
		}
		if (err == -ECONNREFUSED || err == -EKEYREJECTED)
			err = ret;
	}
	return err;
}

/* May the channel join @s? Caller holds vn->lock. */
static int vmmig_join_check(struct vmmig_session *s, const struct vmmig_incoming *in,
			    const struct vmmig_hs *hs)
{
	const struct vmmig_wire_hello *hello = vmmig_hs_hello(hs);
	const struct vmmig_wire_region *reg = (const void *)(hello + 1);
	u16 channel = be16_to_cpu(hello->channel);

	if (!s->nch)
		return vmmig_regions_match(s, reg, be32_to_cpu(hello->nregions)) ? 0 : -ENXIO;
	if (s->nch != be16_to_cpu(hello->channels) || s->ch[channel].sock ||
	    s->ch[channel].conn || s->ch[0].ops != in->ch.ops ||
	    s->compression != be32_to_cpu(hello->compression) ||
	    s->auth_mode != vmmig_hs_mode(hs) || s->encrypted != vmmig_hs_encrypt(hs))
		return -EPROTO;
	/* Every channel of a session comes from the same peer. */
	if (s->auth_mode == VMMIG_AUTH_KEYPAIR &&
	    memcmp(s->peer_key, vmmig_hs_peer_static(hs), VMMIG_KEY_LEN))
		return -EPROTO;
	return 0;
}

/* The channel joins @s, which its first channel binds to the source. */
static void vmmig_join(struct vmmig_session *s, struct vmmig_incoming *in,
		       const struct vmmig_hs *hs)
{
	const struct vmmig_wire_hello *hello = vmmig_hs_hello(hs);
	struct vmmig_channel *ch;

	if (!s->nch) {
		s->cookie = be64_to_cpu(hello->cookie);
		s->nch = be16_to_cpu(hello->channels);
		s->compression = be32_to_cpu(hello->compression);
		s->peer = in->from;
		s->auth_mode = vmmig_hs_mode(hs);
		s->encrypted = vmmig_hs_encrypt(hs);
		if (s->auth_mode == VMMIG_AUTH_KEYPAIR)
			memcpy(s->peer_key, vmmig_hs_peer_static(hs), VMMIG_KEY_LEN);
	}
	ch = &s->ch[be16_to_cpu(hello->channel)];
	ch->ops = in->ch.ops;
	ch->sock = in->ch.sock;
	ch->conn = in->ch.conn;
	in->ch.ops = NULL;
	if (++s->joined == s->nch) {
		list_del_init(&s->accept_node);
		WRITE_ONCE(s->accepted, true);
		wake_up_all(&s->wq);
	}
}

/* Which counter a refusal goes to; @proven: after the proofs. */
static enum vmmig_auth_counter vmmig_counter(int err, bool proven)
{
	switch (err) {
	case 0:
		return VMMIG_HS_OK;
	case -EKEYREJECTED:
		return proven ? VMMIG_HS_BAD_KEY : VMMIG_HS_MODE_MISMATCH;
	case -ENOKEY:
		return VMMIG_HS_UNKNOWN_PEER;
	case -EPERM:
		return VMMIG_HS_NOT_ALLOWED;
	case -ENOPROTOOPT:
		return VMMIG_HS_ENCRYPT_MISMATCH;
	default:
		return VMMIG_HS_REFUSED;
	}
}

/* Mode NONE: WELCOME, and the channel joins at once (protocol version 1). */
static enum vmmig_auth_counter vmmig_welcome_plain(struct vmmig_incoming *in,
						   struct vmmig_hs *hs,
						   struct vmmig_channel *ch)
{
	struct vmmig_net *vn = vmmig_net(in->l->net);
	struct vmmig_session *s;
	int ret, status;

	mutex_lock(&vn->lock);
	s = vmmig_pick(in->l, in, hs, &status);
	if (s)
		status = vmmig_join_check(s, in, hs);
	ret = vmmig_hs_send_welcome(hs, ch, status, NULL);
	if (!ret && !status)
		vmmig_join(s, in, hs);
	mutex_unlock(&vn->lock);
	in->err = status ?: ret;
	return ret && !status ? VMMIG_HS_PROTOCOL : vmmig_counter(status, false);
}

/*
 * PSK or KEYPAIR: WELCOME, the source's proof, then under the lock the
 * session that takes it, our answer, kTLS, and the channel joins. Nothing
 * the source sends after HELLO is read before its proof has been checked.
 */
static enum vmmig_auth_counter vmmig_welcome_auth(struct vmmig_incoming *in,
						  struct vmmig_hs *hs,
						  struct vmmig_channel *ch)
{
	struct vmmig_net *vn = vmmig_net(in->l->net);
	struct vmmig_auth_config *used = NULL;
	enum vmmig_auth_counter result;
	struct vmmig_session *s;
	int ret, status, verified = 0;

	mutex_lock(&vn->lock);
	s = vmmig_pick(in->l, in, hs, &status);
	if (s)
		used = vmmig_auth_hold(vmmig_settings(s, in));
	mutex_unlock(&vn->lock);

	ret = vmmig_hs_send_welcome(hs, ch, status, used);
	in->err = status ?: ret;
	if (ret || status) {
		result = status ? vmmig_counter(status, false) : VMMIG_HS_PROTOCOL;
		goto out;
	}
	ret = vmmig_hs_recv_proof(hs, ch);
	in->err = ret;
	if (ret) {
		/* The source refused us, and said why; or it went away. */
		in->by_source = ret == -EKEYREJECTED || ret == -ENOKEY || ret == -EPERM;
		result = in->by_source ? vmmig_counter(ret, true) : VMMIG_HS_PROTOCOL;
		goto out;
	}
	/* The Diffie-Hellmans of KEYPAIR mode, outside the lock. */
	if (vmmig_hs_mode(hs) == VMMIG_AUTH_KEYPAIR)
		verified = vmmig_hs_verify(hs, used);

	mutex_lock(&vn->lock);
	status = vmmig_authorize(in->l, in, hs, used, verified, &s);
	if (!status)
		status = vmmig_join_check(s, in, hs);
	ret = vmmig_hs_send_answer(hs, ch, status);
	if (!ret && !status)
		ret = vmmig_hs_start_encryption(hs, ch);
	if (!ret && !status)
		vmmig_join(s, in, hs);
	mutex_unlock(&vn->lock);
	in->err = status ?: ret;
	result = ret && !status ? VMMIG_HS_PROTOCOL : vmmig_counter(status, true);
out:
	vmmig_auth_put(used);
	return result;
}

/* The handshake deadline: whatever it is waiting for, it is over. */
static void vmmig_incoming_expire(struct work_struct *work)
{
	struct vmmig_incoming *in = container_of(to_delayed_work(work),
						 struct vmmig_incoming, expire);
	struct vmmig_net *vn = vmmig_net(in->l->net);

	mutex_lock(&vn->lock);
	if (in->ch.ops) {
		in->expired = true;
		in->ch.ops->shutdown(&in->ch);
	}
	mutex_unlock(&vn->lock);
}

static const char *const vmmig_hs_failure[] = {
	[VMMIG_HS_BAD_KEY] = "bad proof",
	[VMMIG_HS_MODE_MISMATCH] = "other authentication mode",
	[VMMIG_HS_UNKNOWN_PEER] = "unknown peer key",
	[VMMIG_HS_NOT_ALLOWED] = "peer not allowed",
	[VMMIG_HS_ENCRYPT_MISMATCH] = "encryption on one side only",
	[VMMIG_HS_REFUSED] = "refused",
	[VMMIG_HS_PROTOCOL] = "broken off or malformed",
	[VMMIG_HS_TIMEOUT] = "timed out",
	[VMMIG_HS_BUSY] = "too many handshakes in flight",
};

/*
 * Tell the host's admin who failed, why, and in keypair mode with which
 * key: in the kernel log (rate-limited) and as a refused event on the
 * netlink events group.
 */
static void vmmig_incoming_log(const struct vmmig_incoming *in, const struct vmmig_hs *hs,
			       enum vmmig_auth_counter result)
{
	struct vmmig_notice n = {
		.event = VMMIG_NOTIFY_REFUSED, .role = VMMIG_ROLE_DESTINATION,
		.peer = &in->from, .error = in->err < 0 ? -in->err : 0,
	};
	char fpr[VMMIG_FPR_LEN] = "";
	char msg[160];

	if (hs && vmmig_hs_mode(hs) == VMMIG_AUTH_KEYPAIR)
		vmmig_auth_fingerprint(vmmig_hs_peer_static(hs), fpr);
	pr_info_ratelimited("handshake from %pISpc on port %u failed: %s%s (%d)%s%s\n",
			    &in->from, in->l->port, in->by_source ? "the source says " : "",
			    vmmig_hs_failure[result], in->err, *fpr ? ", peer key " : "", fpr);
	snprintf(msg, sizeof(msg), "handshake from %pISpc failed: %s%s%s%s",
		 &in->from, in->by_source ? "the source says " : "",
		 vmmig_hs_failure[result], *fpr ? ", peer key " : "", fpr);
	n.msg = msg;
	vmmig_nl_notify(in->l->net, &n);
}

static void vmmig_incoming_work(struct work_struct *work)
{
	struct vmmig_incoming *in = container_of(work, struct vmmig_incoming, work);
	struct vmmig_channel ch = in->ch;	/* ours to use while in->ch.ops is set */
	enum vmmig_auth_counter result = VMMIG_HS_PROTOCOL;
	struct vmmig_listener *l = in->l;
	struct vmmig_net *vn = vmmig_net(l->net);
	struct vmmig_hs *hs = vmmig_hs_alloc();
	bool mine;

	ch.ops->set_timeout(&ch, msecs_to_jiffies(in->host->handshake_timeout_ms));
	in->err = hs ? vmmig_hs_recv_hello(hs, &ch) : -ENOMEM;
	if (!in->err) {
		if (vmmig_hs_mode(hs) == VMMIG_AUTH_NONE)
			result = vmmig_welcome_plain(in, hs, &ch);
		else
			result = vmmig_welcome_auth(in, hs, &ch);
	}
	cancel_delayed_work_sync(&in->expire);

	mutex_lock(&vn->lock);
	/* The socket's own receive timeout may end a silent peer first. */
	if (in->cut && result == VMMIG_HS_PROTOCOL)
		result = VMMIG_HS_BUSY;
	else if ((in->expired || in->err == -ETIMEDOUT) && result == VMMIG_HS_PROTOCOL)
		result = VMMIG_HS_TIMEOUT;
	mine = in->ch.ops;
	in->ch.ops = NULL;
	list_del(&in->node);
	l->in_flight--;
	if (in->cut)
		l->cut--;
	mutex_unlock(&vn->lock);

	vmmig_auth_count(&vn->auth, result);
	if (result != VMMIG_HS_OK)
		vmmig_incoming_log(in, hs, result);
	vmmig_hs_free(hs);
	if (mine)
		ch.ops->release(&ch);
	vmmig_auth_put(in->host);
	kfree(in);
}

/*
 * All the slots are taken: cut the oldest handshake still going, and say
 * whether there was one. A real source sends each frame as soon as it can
 * and is done in milliseconds: to cut one, max_handshakes connections must
 * come in the meantime, where a slow peer is cut by the next newcomer.
 * Caller holds vn->lock.
 */
static bool vmmig_incoming_cut_oldest(struct vmmig_listener *l)
{
	struct vmmig_incoming *old;

	list_for_each_entry(old, &l->incoming, node) {
		if (old->cut || !old->ch.ops)
			continue;
		old->cut = true;
		l->cut++;
		old->ch.ops->shutdown(&old->ch);
		return true;
	}
	return false;
}

/**
 * vmmig_listen_incoming - start the handshake of a new connection
 * @l: the listener that took it
 * @ch: the connection (@ops, and @sock or @conn)
 * @from: the peer's address
 *
 * The handshake runs on the listener's workqueue, within the handshake
 * timeout. With the host's max_handshakes in flight, it takes the place of
 * the oldest one (vmmig_incoming_cut_oldest()). Those cut end at once but
 * count until they have: with max_handshakes of them too, the new
 * connection is reset at once. A flood of silent connections costs the
 * host little, and real sources get ECONNRESET rather than a wait.
 *
 * Return: true if the listener took the connection; false if the caller
 * must reset and release it.
 */
bool vmmig_listen_incoming(struct vmmig_listener *l, const struct vmmig_channel *ch,
			   const struct sockaddr_storage *from)
{
	struct vmmig_net *vn = vmmig_net(l->net);
	struct vmmig_auth_config *host = vmmig_auth_get(&vn->auth);
	struct vmmig_incoming *in = kzalloc(sizeof(*in), GFP_KERNEL);

	if (!in) {
		vmmig_auth_count(&vn->auth, VMMIG_HS_BUSY);
		goto drop;
	}
	in->l = l;
	in->ch.ops = ch->ops;
	in->ch.sock = ch->sock;
	in->ch.conn = ch->conn;
	in->host = host;
	in->err = -EBUSY;
	in->from = *from;
	INIT_WORK(&in->work, vmmig_incoming_work);
	INIT_DELAYED_WORK(&in->expire, vmmig_incoming_expire);

	mutex_lock(&vn->lock);
	if (l->in_flight >= 2 * host->max_handshakes ||
	    (l->in_flight - l->cut >= host->max_handshakes &&
	     !vmmig_incoming_cut_oldest(l))) {
		mutex_unlock(&vn->lock);
		vmmig_auth_count(&vn->auth, VMMIG_HS_BUSY);
		vmmig_incoming_log(in, NULL, VMMIG_HS_BUSY);
		kfree(in);
		goto drop;
	}
	list_add_tail(&in->node, &l->incoming);
	l->in_flight++;
	/* The deadline first: the work cancels it when it ends. */
	queue_delayed_work(system_wq, &in->expire,
			   msecs_to_jiffies(host->handshake_timeout_ms));
	queue_work(l->wq, &in->work);
	mutex_unlock(&vn->lock);
	return true;
drop:
	vmmig_auth_put(host);
	return false;
}

/*
 * The host's policy on a new connection, before a byte of it is read. A
 * refused one is reset rather than closed, so that its sender fails at
 * once, whatever it has sent.
 */
static bool vmmig_listen_allowed(struct vmmig_listener *l, struct socket *sock,
				 struct sockaddr_storage *peer)
{
	vmmig_peer_addr(sock, peer);
	return !vmmig_peer_check(l->net, peer);
}

static int vmmig_listener_thread(void *data)
{
	struct vmmig_listener *l = data;
	struct sockaddr_storage peer;
	struct vmmig_channel ch;
	struct socket *sock;
	int ret;

	while (!kthread_should_stop()) {
		ret = kernel_accept(l->sock, &sock, 0);
		if (ret == -EINVAL)
			break;		/* shut down */
		if (ret)
			continue;
		ch = (struct vmmig_channel){ .sock = sock, .ops = &vmmig_tcp_ops };
		if (vmmig_listen_allowed(l, sock, &peer)) {
			vmmig_tcp_sock_setup(sock);
			if (vmmig_listen_incoming(l, &ch, &peer))
				continue;
		}
		sock_no_linger(sock->sk);
		sock_release(sock);
	}
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static struct vmmig_listener *vmmig_listener_create(struct net *net, u16 port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct vmmig_listener *l;
	int ret;

	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&l->waiters);
	INIT_LIST_HEAD(&l->incoming);
	l->port = port;
	l->wq = alloc_workqueue("vmmig-hs/%u", WQ_UNBOUND, 0, port);
	if (!l->wq) {
		kfree(l);
		return ERR_PTR(-ENOMEM);
	}
	l->net = get_net(net);

	/* One dual-stack socket takes both IPv4 and IPv6 sources. */
	ret = sock_create_kern(net, AF_INET6, SOCK_STREAM, IPPROTO_TCP, &l->sock);
	if (ret)
		goto err;
	sock_set_reuseaddr(l->sock->sk);
	l->sock->sk->sk_ipv6only = false;
	ret = kernel_bind(l->sock, (struct sockaddr *)&sin6, sizeof(sin6));
	if (!ret)
		ret = kernel_listen(l->sock, VMMIG_BACKLOG);
	if (ret)
		goto err_sock;
	l->thread = kthread_run(vmmig_listener_thread, l, "vmmig-listen/%u", port);
	if (IS_ERR(l->thread)) {
		ret = PTR_ERR(l->thread);
		goto err_sock;
	}
	/* RDMA is an extra: without it (no rdma_cm, port taken there) TCP still works. */
	l->rdma = vmmig_rdma_listen(net, port, l);
	if (IS_ERR(l->rdma)) {
		pr_info_ratelimited("no RDMA listener on port %u: error %ld\n",
				    port, PTR_ERR(l->rdma));
		l->rdma = NULL;
	}
	return l;

err_sock:
	sock_release(l->sock);
err:
	destroy_workqueue(l->wq);
	put_net(l->net);
	kfree(l);
	return ERR_PTR(ret);
}

static void vmmig_listener_destroy(struct vmmig_listener *l)
{
	struct vmmig_net *vn = vmmig_net(l->net);
	struct vmmig_incoming *in;

	/* First the RDMA listener, whose accepts may still start handshakes. */
	vmmig_rdma_listen_stop(l->rdma);
	kernel_sock_shutdown(l->sock, SHUT_RDWR);
	kthread_stop(l->thread);
	/* No session waits any more: the handshakes in flight end now. */
	mutex_lock(&vn->lock);
	list_for_each_entry(in, &l->incoming, node)
		if (in->ch.ops)
			in->ch.ops->shutdown(&in->ch);
	mutex_unlock(&vn->lock);
	destroy_workqueue(l->wq);
	sock_release(l->sock);
	put_net(l->net);
	kfree(l);
}

/* Back to NEW: the channels that joined are closed. */
void vmmig_listen_undo(struct vmmig_session *s)
{
	unsigned int i;

	for (i = 0; i < VMMIG_MAX_CHANNELS; i++) {
		s->ch[i].ops->release(&s->ch[i]);
		s->ch[i].ops = &vmmig_tcp_ops;
	}
	s->nch = 0;
	s->compression = VMMIG_COMP_NONE;
	s->auth_mode = VMMIG_AUTH_NONE;
	s->encrypted = false;
	memset(s->peer_key, 0, sizeof(s->peer_key));
}

/*
 * Wait in ACCEPT until a source has joined with all its channels. Caller
 * holds s->lock; on success s->nch channels are connected.
 */
int vmmig_listen_wait(struct vmmig_session *s, u16 port, unsigned long timeout)
{
	struct vmmig_net *vn = vmmig_net(s->net);
	struct vmmig_listener *l, *gone = NULL;
	long left;
	int ret = 0;

	mutex_lock(&vn->lock);
	list_for_each_entry(l, &vn->listeners, node)
		if (l->port == port)
			goto found;
	l = vmmig_listener_create(s->net, port);
	if (IS_ERR(l)) {
		mutex_unlock(&vn->lock);
		return PTR_ERR(l);
	}
	list_add(&l->node, &vn->listeners);
found:
	l->users++;
	s->nch = 0;
	s->joined = 0;
	s->accepted = false;
	list_add_tail(&s->accept_node, &l->waiters);
	mutex_unlock(&vn->lock);

	left = wait_event_interruptible_timeout(s->wq, READ_ONCE(s->accepted), timeout);

	mutex_lock(&vn->lock);
	if (!s->accepted) {
		list_del_init(&s->accept_node);
		vmmig_listen_undo(s);
		ret = left < 0 ? left : -ETIMEDOUT;
	}
	if (!--l->users) {
		list_del(&l->node);
		gone = l;
	}
	mutex_unlock(&vn->lock);
	if (gone)
		vmmig_listener_destroy(gone);
	return ret;
}
