// SPDX-License-Identifier: GPL-2.0
/*
 * The vmmig generic netlink family (Documentation/netlink/vmmig.yaml, the
 * HOST SETTINGS section of uapi/linux/vmmig.h): host settings, the
 * migration network list, the session list and the events group, each
 * for the namespace of the socket that asks. The policies and the ops
 * table are generated from the spec into netlink-gen.[ch]; the handlers
 * are here. Locking: netns.h.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/math64.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "vmmig.h"
#include "netns.h"

/*
 * For genetlink-legacy families (what uns-admin-perm needs) the generator
 * leaves the family struct to us but makes the group table static: the
 * generated tables are built as part of this file.
 */
#include "netlink-gen.c"

static struct genl_family vmmig_nl_family __ro_after_init = {
	.name		= VMMIG_GENL_NAME,
	.version	= VMMIG_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= vmmig_nl_ops,
	.n_split_ops	= ARRAY_SIZE(vmmig_nl_ops),
	.mcgrps		= vmmig_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vmmig_nl_mcgrps),
};

static int vmmig_nl_put_peer(struct sk_buff *skb, const struct sockaddr_storage *ss,
			     int addr4, int addr6, int port)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET)
		return nla_put_in_addr(skb, addr4, sin->sin_addr.s_addr) ?:
		       nla_put_u16(skb, port, ntohs(sin->sin_port));
	if (ss->ss_family == AF_INET6)
		return nla_put_in6_addr(skb, addr6, &sin6->sin6_addr) ?:
		       nla_put_u16(skb, port, ntohs(sin6->sin6_port));
	return 0;
}

/* Caller holds vn->cfg_lock. */
static int vmmig_nl_fill_host(struct sk_buff *skb, struct vmmig_net *vn)
{
	const struct vmmig_host *h = &vn->host;

	if (nla_put_u8(skb, VMMIG_A_HOST_INCOMING, h->incoming) ||
	    nla_put_u8(skb, VMMIG_A_HOST_OUTGOING, h->outgoing) ||
	    nla_put_u16(skb, VMMIG_A_HOST_PORT, h->port) ||
	    nla_put_u32(skb, VMMIG_A_HOST_NETWORKS, h->networks) ||
	    nla_put_u32(skb, VMMIG_A_HOST_PERFORMANCE, h->perf) ||
	    nla_put_u32(skb, VMMIG_A_HOST_CHANNELS, h->channels) ||
	    nla_put_u32(skb, VMMIG_A_HOST_COMPRESSION, h->compression) ||
	    nla_put_u32(skb, VMMIG_A_HOST_MAX_MIGRATIONS, h->max_migrations) ||
	    nla_put_u32(skb, VMMIG_A_HOST_ACTIVE_MIGRATIONS, vmmig_active_migrations(vn)) ||
	    nla_put_u64_64bit(skb, VMMIG_A_HOST_REFUSED_NETWORK,
			      atomic64_read(&vn->refused_network), VMMIG_A_HOST_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_HOST_REFUSED_DISABLED,
			      atomic64_read(&vn->refused_disabled), VMMIG_A_HOST_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_HOST_REFUSED_BUSY,
			      atomic64_read(&vn->refused_busy), VMMIG_A_HOST_PAD))
		return -EMSGSIZE;
	return 0;
}

int vmmig_nl_get_host_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_iput(msg, info);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_lock(&vn->cfg_lock);
	ret = vmmig_nl_fill_host(msg, vn);
	mutex_unlock(&vn->cfg_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

int vmmig_nl_set_host_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct nlattr **a = info->attrs;
	struct vmmig_host h;

	/* The policy checked each value alone; this is what it cannot say. */
	if (!VMMIG_HAVE_RDMA && a[VMMIG_A_HOST_PERFORMANCE] &&
	    nla_get_u32(a[VMMIG_A_HOST_PERFORMANCE]) == VMMIG_PERF_RDMA) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[VMMIG_A_HOST_PERFORMANCE],
				    "RDMA transport not available");
		return -EOPNOTSUPP;
	}

	mutex_lock(&vn->cfg_lock);
	h = vn->host;
	if (a[VMMIG_A_HOST_INCOMING])
		h.incoming = nla_get_u8(a[VMMIG_A_HOST_INCOMING]);
	if (a[VMMIG_A_HOST_OUTGOING])
		h.outgoing = nla_get_u8(a[VMMIG_A_HOST_OUTGOING]);
	if (a[VMMIG_A_HOST_PORT])
		h.port = nla_get_u16(a[VMMIG_A_HOST_PORT]);
	if (a[VMMIG_A_HOST_NETWORKS])
		h.networks = nla_get_u32(a[VMMIG_A_HOST_NETWORKS]);
	if (a[VMMIG_A_HOST_PERFORMANCE])
		h.perf = nla_get_u32(a[VMMIG_A_HOST_PERFORMANCE]);
	if (a[VMMIG_A_HOST_CHANNELS])
		h.channels = nla_get_u32(a[VMMIG_A_HOST_CHANNELS]);
	if (a[VMMIG_A_HOST_COMPRESSION])
		h.compression = nla_get_u32(a[VMMIG_A_HOST_COMPRESSION]);
	if (a[VMMIG_A_HOST_MAX_MIGRATIONS])
		h.max_migrations = nla_get_u32(a[VMMIG_A_HOST_MAX_MIGRATIONS]);
	vn->host = h;
	mutex_unlock(&vn->cfg_lock);
	return 0;
}

/* The network an ADD_NETWORK or DEL_NETWORK request names. */
static int vmmig_nl_parse_cidr(struct genl_info *info, struct vmmig_cidr *c)
{
	struct nlattr **a = info->attrs;
	struct nlattr *addr = a[VMMIG_A_NET_ADDR4] ?: a[VMMIG_A_NET_ADDR6];
	int ret;

	if (!a[VMMIG_A_NET_ADDR4] == !a[VMMIG_A_NET_ADDR6]) {
		NL_SET_ERR_MSG(info->extack, "give exactly one of addr4 and addr6");
		return -EINVAL;
	}
	if (!a[VMMIG_A_NET_PREFIX_LEN]) {
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, VMMIG_A_NET_PREFIX_LEN);
		NL_SET_ERR_MSG(info->extack, "prefix-len missing");
		return -EINVAL;
	}
	ret = vmmig_cidr_init(c, a[VMMIG_A_NET_ADDR4] ? AF_INET : AF_INET6, nla_data(addr),
			      nla_get_u8(a[VMMIG_A_NET_PREFIX_LEN]));
	if (ret == -ERANGE)
		NL_SET_ERR_MSG_ATTR(info->extack, a[VMMIG_A_NET_PREFIX_LEN],
				    "prefix length longer than the address");
	else if (ret)
		NL_SET_ERR_MSG_ATTR(info->extack, addr,
				    "address has bits set past the prefix length");
	return ret;
}

/* Caller holds vn->cfg_lock. */
static int vmmig_nl_find_net(struct vmmig_net *vn, const struct vmmig_cidr *c)
{
	unsigned int i;

	for (i = 0; i < vn->nnets; i++)
		if (vmmig_cidr_equal(&vn->nets[i], c))
			return i;
	return -1;
}

int vmmig_nl_add_network_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct vmmig_cidr c;
	int ret;

	ret = vmmig_nl_parse_cidr(info, &c);
	if (ret)
		return ret;
	mutex_lock(&vn->cfg_lock);
	if (vmmig_nl_find_net(vn, &c) >= 0) {
		NL_SET_ERR_MSG(info->extack, "network already in the list");
		ret = -EEXIST;
	} else if (vn->nnets == VMMIG_MAX_NETWORKS) {
		NL_SET_ERR_MSG(info->extack, "network list full");
		ret = -ENOSPC;
	} else {
		vn->nets[vn->nnets++] = c;
		vn->nets_gen++;
	}
	mutex_unlock(&vn->cfg_lock);
	return ret;
}

int vmmig_nl_del_network_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct vmmig_cidr c;
	int ret, i;

	ret = vmmig_nl_parse_cidr(info, &c);
	if (ret)
		return ret;
	mutex_lock(&vn->cfg_lock);
	i = vmmig_nl_find_net(vn, &c);
	if (i < 0) {
		NL_SET_ERR_MSG(info->extack, "network not in the list");
		ret = -ENOENT;
	} else {
		/* Keep the order: the list reads back as it was built. */
		memmove(&vn->nets[i], &vn->nets[i + 1],
			(vn->nnets - i - 1) * sizeof(vn->nets[0]));
		vn->nnets--;
		vn->nets_gen++;
	}
	mutex_unlock(&vn->cfg_lock);
	return ret;
}

static int vmmig_nl_fill_net(struct sk_buff *skb, const struct vmmig_cidr *c)
{
	int ret;

	if (c->family == AF_INET)
		ret = nla_put_in_addr(skb, VMMIG_A_NET_ADDR4, c->addr.v4);
	else
		ret = nla_put_in6_addr(skb, VMMIG_A_NET_ADDR6, &c->addr.v6);
	return ret ?: nla_put_u8(skb, VMMIG_A_NET_PREFIX_LEN, c->prefix);
}

static void *vmmig_nl_dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				&vmmig_nl_family, NLM_F_MULTI, cmd);

	if (hdr)
		genl_dump_check_consistent(cb, hdr);
	return hdr;
}

/* cb->args[0]: entries sent so far. */
int vmmig_nl_get_network_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vmmig_net *vn = vmmig_net(sock_net(skb->sk));
	unsigned int i;
	void *hdr;

	mutex_lock(&vn->cfg_lock);
	cb->seq = vn->nets_gen;
	for (i = cb->args[0]; i < vn->nnets; i++) {
		hdr = vmmig_nl_dump_put(skb, cb, VMMIG_CMD_GET_NETWORK);
		if (!hdr)
			break;
		if (vmmig_nl_fill_net(skb, &vn->nets[i])) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&vn->cfg_lock);
	cb->args[0] = i;
	return skb->len;
}

/* Caller holds the namespace's cfg_lock, which keeps @s alive. */
static int vmmig_nl_fill_session(struct sk_buff *skb, struct vmmig_session *s)
{
	struct vmmig_stats st = { .size = sizeof(st) };

	vmmig_session_stats(s, &st);
	if (nla_put_u32(skb, VMMIG_A_SESS_ID, s->id) ||
	    nla_put_u32(skb, VMMIG_A_SESS_DIRECTION, st.role) ||
	    nla_put_u32(skb, VMMIG_A_SESS_STATE, st.state) ||
	    nla_put_u32(skb, VMMIG_A_SESS_CHANNELS, st.channels) ||
	    nla_put_u32(skb, VMMIG_A_SESS_COMPRESSION, st.compression) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_ROUNDS, st.rounds, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_PAGES, st.pages, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_BYTES, st.bytes_wire, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_THROUGHPUT, st.bytes_per_sec,
			      VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_ELAPSED_MS,
			      div_u64(st.elapsed_ns, NSEC_PER_MSEC), VMMIG_A_SESS_PAD) ||
	    (st.error && nla_put_u32(skb, VMMIG_A_SESS_ERROR, st.error)))
		return -EMSGSIZE;
	/* The peer is written before the session leaves NEW (session.c). */
	if (smp_load_acquire(&s->state) != VMMIG_STATE_NEW &&
	    vmmig_nl_put_peer(skb, &s->peer, VMMIG_A_SESS_PEER_ADDR4,
			      VMMIG_A_SESS_PEER_ADDR6, VMMIG_A_SESS_PEER_PORT))
		return -EMSGSIZE;
	return 0;
}

/* cb->args[0]: sessions sent so far. */
int vmmig_nl_get_session_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vmmig_net *vn = vmmig_net(sock_net(skb->sk));
	struct vmmig_session *s;
	unsigned long i = 0;
	void *hdr;

	mutex_lock(&vn->cfg_lock);
	cb->seq = vn->sessions_gen;
	list_for_each_entry(s, &vn->sessions, net_node) {
		if (i < cb->args[0]) {
			i++;
			continue;
		}
		hdr = vmmig_nl_dump_put(skb, cb, VMMIG_CMD_GET_SESSION);
		if (!hdr)
			break;
		if (vmmig_nl_fill_session(skb, s)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		i++;
	}
	mutex_unlock(&vn->cfg_lock);
	cb->args[0] = i;
	return skb->len;
}

/**
 * vmmig_nl_notify - tell the events group of @net
 * @net: the namespace whose group hears it
 * @n: what happened
 *
 * Best effort, like every netlink notification: a listener that reads too
 * slowly loses messages (and its socket says ENOBUFS). May sleep.
 */
void vmmig_nl_notify(struct net *net, const struct vmmig_notice *n)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&vmmig_nl_family, net, VMMIG_NLGRP_EVENTS))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vmmig_nl_family, 0, VMMIG_CMD_SESSION_EVENT);
	if (!hdr ||
	    nla_put_u32(skb, VMMIG_A_SESS_EVENT, n->event) ||
	    nla_put_u32(skb, VMMIG_A_SESS_DIRECTION, n->role) ||
	    (n->id && nla_put_u32(skb, VMMIG_A_SESS_ID, n->id)) ||
	    (n->peer && vmmig_nl_put_peer(skb, n->peer, VMMIG_A_SESS_PEER_ADDR4,
					  VMMIG_A_SESS_PEER_ADDR6, VMMIG_A_SESS_PEER_PORT)) ||
	    (n->error && nla_put_u32(skb, VMMIG_A_SESS_ERROR, n->error)) ||
	    (n->msg && nla_put_string(skb, VMMIG_A_SESS_MESSAGE, n->msg))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&vmmig_nl_family, net, skb, 0, VMMIG_NLGRP_EVENTS, GFP_KERNEL);
}

/* A session started, finished or aborted. May sleep. */
void vmmig_nl_notify_session(struct vmmig_session *s, u32 event, int error)
{
	/* Only sessions that were ACTIVE get here: the peer is known. */
	struct vmmig_notice n = {
		.event = event, .id = s->id, .role = READ_ONCE(s->role),
		.peer = &s->peer, .error = error,
	};

	vmmig_nl_notify(s->net, &n);
}

int vmmig_nl_init(void)
{
	return genl_register_family(&vmmig_nl_family);
}

void vmmig_nl_exit(void)
{
	genl_unregister_family(&vmmig_nl_family);
}
