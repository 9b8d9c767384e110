// SPDX-License-Identifier: GPL-2.0
/*
 * The destination's listener: one socket per (netns, port), alive while
 * sessions wait in ACCEPT. Its thread accepts connections, reads each one's
 * HELLO and hands the channel to the waiting session the HELLO's cookie
 * names (or, for a new cookie, to the oldest session still unbound). An
 * RDMA listener on the same port (kmod/rdma/listen.c) hands its
 * connections over the same way.
 */
#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "vmmig.h"
#include "netns.h"
#include "compress/compress.h"

#define VMMIG_HANDSHAKE_TIMEOUT	(5 * HZ)
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

/*
 * Pick the session for this HELLO and attach the channel to it. Returns
 * 0 or the -errno the WELCOME refuses with. Caller holds vn->lock.
 */
static int vmmig_match(struct vmmig_listener *l, struct vmmig_channel *tmp,
		       const struct sockaddr_storage *peer,
		       const struct vmmig_wire_hello *hello,
		       struct vmmig_session **sessp)
{
	const struct vmmig_wire_region *reg = (const void *)(hello + 1);
	u16 channel = be16_to_cpu(hello->channel);
	u16 channels = be16_to_cpu(hello->channels);
	u64 cookie = be64_to_cpu(hello->cookie);

	u32 compression = be32_to_cpu(hello->compression);
	struct vmmig_session *s, *unbound = NULL;

	if (!channels || channels > VMMIG_MAX_CHANNELS || channel >= channels || !cookie ||
	    hello->reserved)
		return -EPROTO;
	if (vmmig_comp_check(compression, 0))
		return -EPROTONOSUPPORT;
	list_for_each_entry(s, &l->waiters, accept_node) {
		if (s->nch && s->cookie == cookie) {
			if (s->nch != channels || s->ch[channel].sock || s->ch[channel].conn ||
			    s->ch[0].ops != tmp->ops || s->compression != compression)
				return -EPROTO;
			*sessp = s;
			return 0;
		}
		if (!s->nch && !unbound)
			unbound = s;
	}
	if (!unbound)
		return -ECONNREFUSED;
	if (!vmmig_regions_match(unbound, reg, be32_to_cpu(hello->nregions)))
		return -ENXIO;
	unbound->cookie = cookie;
	unbound->nch = channels;
	unbound->compression = compression;
	unbound->peer = *peer;
	*sessp = unbound;
	return 0;
}

/*
 * HELLO in, WELCOME out on a new connection of any transport. True: the
 * connection now belongs to a session; else the caller releases it.
 */
bool vmmig_listen_handshake(struct vmmig_listener *l, struct vmmig_channel *tmp,
			    const struct sockaddr_storage *peer)
{
	struct vmmig_net *vn = vmmig_net(l->net);
	bool taken = false;
	struct vmmig_frame f = { .type = VMMIG_FRAME_WELCOME,
				 .len = sizeof(struct vmmig_wire_welcome) };
	struct vmmig_wire_welcome welcome = {};
	struct vmmig_session *s = NULL;
	struct vmmig_wire_hello *hello;
	struct vmmig_wire_hdr hdr;
	struct vmmig_frame in;
	int ret, status;

	tmp->ops->set_timeout(tmp, VMMIG_HANDSHAKE_TIMEOUT);
	ret = tmp->ops->recv(tmp, &hdr, sizeof(hdr));
	if (!ret)
		ret = vmmig_frame_decode(&hdr, &in);
	if (ret || in.type != VMMIG_FRAME_HELLO)
		goto out;
	hello = kmalloc(in.len, GFP_KERNEL);
	if (!hello)
		goto out;
	ret = tmp->ops->recv(tmp, hello, in.len);
	if (ret || in.len != sizeof(*hello) +
	    (size_t)be32_to_cpu(hello->nregions) * sizeof(struct vmmig_wire_region))
		goto out_free;

	mutex_lock(&vn->lock);
	status = vmmig_match(l, tmp, peer, hello, &s);
	welcome.status = cpu_to_be32(-status);
	ret = vmmig_send_frame(tmp, &f, &welcome, false);
	if (!ret && !status) {
		u16 channel = be16_to_cpu(hello->channel);

		s->ch[channel].ops = tmp->ops;
		s->ch[channel].sock = tmp->sock;
		s->ch[channel].conn = tmp->conn;
		taken = true;
		if (++s->joined == s->nch) {
			list_del_init(&s->accept_node);
			WRITE_ONCE(s->accepted, true);
			wake_up_all(&s->wq);
		}
	}
	mutex_unlock(&vn->lock);
out_free:
	kfree(hello);
out:
	return taken;
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
	if (!vmmig_peer_check(l->net, peer))
		return true;
	sock_no_linger(sock->sk);
	sock_release(sock);
	return false;
}

static int vmmig_listener_thread(void *data)
{
	struct vmmig_listener *l = data;
	struct sockaddr_storage peer;
	struct vmmig_channel tmp;
	struct socket *sock;
	int ret;

	while (!kthread_should_stop()) {
		ret = kernel_accept(l->sock, &sock, 0);
		if (ret == -EINVAL)
			break;		/* shut down */
		if (ret || !vmmig_listen_allowed(l, sock, &peer))
			continue;
		tmp = (struct vmmig_channel){ .sock = sock, .ops = &vmmig_tcp_ops };
		if (!vmmig_listen_handshake(l, &tmp, &peer))
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
	l->port = port;
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
		pr_info_ratelimited("vmmig: no RDMA listener on port %u: error %ld\n",
				    port, PTR_ERR(l->rdma));
		l->rdma = NULL;
	}
	return l;

err_sock:
	sock_release(l->sock);
err:
	put_net(l->net);
	kfree(l);
	return ERR_PTR(ret);
}

static void vmmig_listener_destroy(struct vmmig_listener *l)
{
	vmmig_rdma_listen_stop(l->rdma);
	kernel_sock_shutdown(l->sock, SHUT_RDWR);
	kthread_stop(l->thread);
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
}

/*
 * Wait in ACCEPT until a source has joined with all its channels. Caller
 * holds s->lock; on success s->nch channels have sockets.
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
