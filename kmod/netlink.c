// SPDX-License-Identifier: GPL-2.0
/*
 * The vmmig generic netlink family (Documentation/netlink/vmmig.yaml, the
 * HOST SETTINGS section of uapi/linux/vmmig.h): host settings with the
 * authentication settings, the migration network list, the peer list,
 * the session list and the events group, each for the namespace of the
 * socket that asks. The policies and the ops table are generated from the
 * spec into netlink-gen.[ch]; the handlers are here. Locking: netns.h.
 *
 * Keys are write-only: no reply carries a pre-shared key, a private key or
 * a peer's public key, only their fingerprints (and this host's own public
 * key, which is meant to be handed out).
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "vmmig.h"
#include "auth.h"
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

/* The counters of auth.h, in the order of the VMMIG_A_HOST_HS_* attributes. */
static const int vmmig_nl_hs_attr[__VMMIG_HS_COUNTERS] = {
	[VMMIG_HS_OK] = VMMIG_A_HOST_HS_OK,
	[VMMIG_HS_BAD_KEY] = VMMIG_A_HOST_HS_BAD_KEY,
	[VMMIG_HS_MODE_MISMATCH] = VMMIG_A_HOST_HS_MODE_MISMATCH,
	[VMMIG_HS_UNKNOWN_PEER] = VMMIG_A_HOST_HS_UNKNOWN_PEER,
	[VMMIG_HS_NOT_ALLOWED] = VMMIG_A_HOST_HS_NOT_ALLOWED,
	[VMMIG_HS_ENCRYPT_MISMATCH] = VMMIG_A_HOST_HS_ENCRYPT_MISMATCH,
	[VMMIG_HS_REFUSED] = VMMIG_A_HOST_HS_REFUSED,
	[VMMIG_HS_PROTOCOL] = VMMIG_A_HOST_HS_PROTOCOL,
	[VMMIG_HS_TIMEOUT] = VMMIG_A_HOST_HS_TIMEOUT,
	[VMMIG_HS_BUSY] = VMMIG_A_HOST_HS_BUSY,
};

/* The authentication settings: mode, fingerprints, never a secret. */
static int vmmig_nl_fill_auth(struct sk_buff *skb, struct vmmig_net *vn)
{
	struct vmmig_auth_config *c = vmmig_auth_get(&vn->auth);
	u64 counters[__VMMIG_HS_COUNTERS];
	char fpr[VMMIG_FPR_LEN];
	int i, ret = -EMSGSIZE;

	if (nla_put_u32(skb, VMMIG_A_HOST_AUTH_MODE, c->mode) ||
	    nla_put_u8(skb, VMMIG_A_HOST_ENCRYPTION, c->encrypt) ||
	    nla_put_u32(skb, VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS, c->handshake_timeout_ms) ||
	    nla_put_u32(skb, VMMIG_A_HOST_MAX_HANDSHAKES, c->max_handshakes))
		goto out;
	if (c->has_psk) {
		vmmig_auth_fingerprint(c->psk, fpr);
		if (nla_put_string(skb, VMMIG_A_HOST_PSK_FINGERPRINT, fpr))
			goto out;
	}
	if (c->has_keypair) {
		vmmig_auth_fingerprint(c->public_key, fpr);
		if (nla_put(skb, VMMIG_A_HOST_PUBLIC_KEY, VMMIG_KEY_LEN, c->public_key) ||
		    nla_put_string(skb, VMMIG_A_HOST_PUBLIC_KEY_FINGERPRINT, fpr))
			goto out;
	}
	vmmig_auth_counters(&vn->auth, counters);
	for (i = 0; i < __VMMIG_HS_COUNTERS; i++)
		if (nla_put_u64_64bit(skb, vmmig_nl_hs_attr[i], counters[i], VMMIG_A_HOST_PAD))
			goto out;
	ret = 0;
out:
	vmmig_auth_put(c);
	return ret;
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
			      atomic64_read(&vn->refused_busy), VMMIG_A_HOST_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_HOST_BANDWIDTH, h->bandwidth, VMMIG_A_HOST_PAD))
		return -EMSGSIZE;
	return vmmig_nl_fill_auth(skb, vn);
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

/*
 * The NL_SET_ERR_MSG macros take a literal; auth.c hands back pointers to
 * its own static sentences, which outlive the request just the same.
 */
static void vmmig_nl_err(struct netlink_ext_ack *extack, const struct nlattr *attr,
			 const char *msg)
{
	if (!extack)
		return;
	extack->_msg = msg;
	if (attr)
		NL_SET_BAD_ATTR(extack, attr);
}

static bool vmmig_nl_auth_attrs(struct nlattr **a)
{
	return a[VMMIG_A_HOST_AUTH_MODE] || a[VMMIG_A_HOST_PSK] ||
	       a[VMMIG_A_HOST_PRIVATE_KEY] || a[VMMIG_A_HOST_ENCRYPTION] ||
	       a[VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS] || a[VMMIG_A_HOST_MAX_HANDSHAKES] ||
	       a[VMMIG_A_HOST_PEER_LIST];
}

/* A peer as an ADD_PEER request or an entry of a PEER_LIST gives it. */
struct vmmig_nl_peer {
	const char *name;
	const u8 *key;
	size_t len;
	u32 allow;
	struct sockaddr_storage ss;	/* ss_family 0: any address */
};

static bool vmmig_nl_need(struct nlattr **a, struct nlattr *nest, int type,
			  struct netlink_ext_ack *extack, const char *msg)
{
	if (a[type])
		return true;
	NL_SET_ERR_ATTR_MISS(extack, nest, type);
	vmmig_nl_err(extack, NULL, msg);
	return false;
}

/*
 * The peer that attributes @a (indexed by enum vmmig_peer_attr) name: an
 * ADD_PEER request (@nest NULL), or the entry @nest of a peer list (enum
 * vmmig_peerent_attr numbers them the same). @p points into the request.
 */
static int vmmig_nl_parse_peer(struct nlattr **a, struct nlattr *nest,
			       struct netlink_ext_ack *extack, struct vmmig_nl_peer *p)
{
	struct nlattr *key = a[VMMIG_A_PEER_PUBLIC_KEY];

	BUILD_BUG_ON((int)VMMIG_A_PEERENT_NAME != (int)VMMIG_A_PEER_NAME ||
		     (int)VMMIG_A_PEERENT_PUBLIC_KEY != (int)VMMIG_A_PEER_PUBLIC_KEY ||
		     (int)VMMIG_A_PEERENT_FINGERPRINT != (int)VMMIG_A_PEER_FINGERPRINT ||
		     (int)VMMIG_A_PEERENT_ALLOW != (int)VMMIG_A_PEER_ALLOW ||
		     (int)VMMIG_A_PEERENT_ADDR4 != (int)VMMIG_A_PEER_ADDR4 ||
		     (int)VMMIG_A_PEERENT_ADDR6 != (int)VMMIG_A_PEER_ADDR6);
	if (!vmmig_nl_need(a, nest, VMMIG_A_PEER_NAME, extack, "peer name missing") ||
	    !vmmig_nl_need(a, nest, VMMIG_A_PEER_PUBLIC_KEY, extack,
			   "peer public-key missing") ||
	    !vmmig_nl_need(a, nest, VMMIG_A_PEER_ALLOW, extack,
			   "peer allow missing (send, receive or both)"))
		return -EINVAL;
	if (a[VMMIG_A_PEER_FINGERPRINT]) {
		NL_SET_ERR_MSG_ATTR(extack, a[VMMIG_A_PEER_FINGERPRINT],
				    "a peer's fingerprint is read only");
		return -EINVAL;
	}
	if (a[VMMIG_A_PEER_ADDR4] && a[VMMIG_A_PEER_ADDR6]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "give at most one of addr4 and addr6");
		return -EINVAL;
	}
	memset(&p->ss, 0, sizeof(p->ss));
	if (a[VMMIG_A_PEER_ADDR4]) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = nla_get_in_addr(a[VMMIG_A_PEER_ADDR4]);
	} else if (a[VMMIG_A_PEER_ADDR6]) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = nla_get_in6_addr(a[VMMIG_A_PEER_ADDR6]);
	}
	p->name = nla_data(a[VMMIG_A_PEER_NAME]);
	p->key = nla_data(key);
	p->len = nla_len(key);
	p->allow = nla_get_u32(a[VMMIG_A_PEER_ALLOW]);
	return 0;
}

/* The peer list of @c becomes the entries of the PEER_LIST @list. */
static int vmmig_nl_set_peers(struct vmmig_auth_config *c, struct nlattr *list,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[VMMIG_A_PEERENT_MAX + 1], *e;
	const char *msg = NULL;
	struct vmmig_nl_peer p;
	unsigned int n;
	int rem, ret;

	vmmig_auth_peers_clear(c);
	/* The policy let only ENTRY nests in, each checked against its policy. */
	nla_for_each_nested(e, list, rem) {
		ret = nla_parse_nested(tb, VMMIG_A_PEERENT_MAX, e, vmmig_peer_entry_nl_policy,
				       extack);
		if (!ret)
			ret = vmmig_nl_parse_peer(tb, e, extack, &p);
		if (ret)
			return ret;
		n = c->npeers;
		ret = vmmig_auth_peer_set(c, p.name, p.key, p.len, p.allow,
					  p.ss.ss_family ? &p.ss : NULL, &msg);
		if (ret) {
			vmmig_nl_err(extack, e, msg);
			return ret;
		}
		/* Setting a name already there changes that peer: not in a list. */
		if (c->npeers == n) {
			NL_SET_ERR_MSG_ATTR(extack, e, "peer listed twice");
			return -EEXIST;
		}
		/* The commit would refuse it too, but could not blame the entry. */
		if (c->has_keypair && !memcmp(p.key, c->public_key, VMMIG_KEY_LEN)) {
			NL_SET_ERR_MSG_ATTR(extack, e, "a peer has this host's own public key");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The authentication attributes of a SET_HOST, applied to a private copy
 * of the settings (auth.h), which the caller commits or drops. Caller
 * holds vn->cfg_lock, so that nobody commits in between.
 */
static struct vmmig_auth_config *vmmig_nl_edit_auth(struct vmmig_net *vn, struct nlattr **a,
						    struct netlink_ext_ack *extack)
{
	struct nlattr *psk = a[VMMIG_A_HOST_PSK], *priv = a[VMMIG_A_HOST_PRIVATE_KEY];
	struct nlattr *timeout = a[VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS];
	struct nlattr *bad = NULL;
	struct vmmig_auth_config *c;
	const char *msg = NULL;
	u32 ms = 0;
	int ret = 0;

	if (timeout) {
		ms = nla_get_u32(timeout);
		if (ms < VMMIG_HS_TIMEOUT_MS_MIN || ms > VMMIG_HS_TIMEOUT_MS_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, timeout,
					    "the handshake timeout is 100 to 60000 ms");
			return ERR_PTR(-ERANGE);
		}
	}
	c = vmmig_auth_edit(&vn->auth);
	if (IS_ERR(c))
		return c;
	if (psk) {
		bad = psk;
		ret = vmmig_auth_set_psk(c, nla_data(psk), nla_len(psk), &msg);
	}
	if (!ret && priv) {
		bad = priv;
		ret = vmmig_auth_set_private_key(c, nla_data(priv), nla_len(priv), &msg);
	}
	if (!ret && a[VMMIG_A_HOST_PEER_LIST]) {
		ret = vmmig_nl_set_peers(c, a[VMMIG_A_HOST_PEER_LIST], extack);
		if (ret) {
			vmmig_auth_put(c);
			return ERR_PTR(ret);
		}
	}
	if (!ret && a[VMMIG_A_HOST_AUTH_MODE]) {
		bad = a[VMMIG_A_HOST_AUTH_MODE];
		ret = vmmig_auth_set_mode(c, nla_get_u32(bad), &msg);
	}
	if (!ret && a[VMMIG_A_HOST_ENCRYPTION]) {
		bad = a[VMMIG_A_HOST_ENCRYPTION];
		ret = vmmig_auth_set_encryption(c, nla_get_u8(bad), &msg);
	}
	if (!ret && (timeout || a[VMMIG_A_HOST_MAX_HANDSHAKES])) {
		bad = a[VMMIG_A_HOST_MAX_HANDSHAKES] ?: timeout;
		ret = vmmig_auth_set_limits(c, ms, a[VMMIG_A_HOST_MAX_HANDSHAKES] ?
					    nla_get_u32(a[VMMIG_A_HOST_MAX_HANDSHAKES]) : 0,
					    &msg);
	}
	if (ret) {
		vmmig_auth_put(c);
		vmmig_nl_err(extack, bad, msg);
		return ERR_PTR(ret);
	}
	return c;
}

/*
 * The network that attributes @a (indexed by enum vmmig_net_attr) name: an
 * ADD_NETWORK or DEL_NETWORK request (@nest NULL), or the entry @nest of a
 * network list (enum vmmig_netent_attr numbers them the same).
 */
static int vmmig_nl_parse_cidr(struct nlattr **a, struct nlattr *nest,
			       struct netlink_ext_ack *extack, struct vmmig_cidr *c)
{
	struct nlattr *addr = a[VMMIG_A_NET_ADDR4] ?: a[VMMIG_A_NET_ADDR6];
	int ret;

	BUILD_BUG_ON((int)VMMIG_A_NETENT_ADDR4 != (int)VMMIG_A_NET_ADDR4 ||
		     (int)VMMIG_A_NETENT_ADDR6 != (int)VMMIG_A_NET_ADDR6 ||
		     (int)VMMIG_A_NETENT_PREFIX_LEN != (int)VMMIG_A_NET_PREFIX_LEN);
	if (!a[VMMIG_A_NET_ADDR4] == !a[VMMIG_A_NET_ADDR6]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "give exactly one of addr4 and addr6");
		return -EINVAL;
	}
	if (!a[VMMIG_A_NET_PREFIX_LEN]) {
		NL_SET_ERR_ATTR_MISS(extack, nest, VMMIG_A_NET_PREFIX_LEN);
		NL_SET_ERR_MSG(extack, "prefix-len missing");
		return -EINVAL;
	}
	ret = vmmig_cidr_init(c, a[VMMIG_A_NET_ADDR4] ? AF_INET : AF_INET6, nla_data(addr),
			      nla_get_u8(a[VMMIG_A_NET_PREFIX_LEN]));
	if (ret == -ERANGE)
		NL_SET_ERR_MSG_ATTR(extack, a[VMMIG_A_NET_PREFIX_LEN],
				    "prefix length longer than the address");
	else if (ret)
		NL_SET_ERR_MSG_ATTR(extack, addr, "address has bits set past the prefix length");
	return ret;
}

/* The entries of a NETWORK_LIST into @nets: how many, or -errno. */
static int vmmig_nl_parse_list(struct nlattr *list, struct vmmig_cidr *nets,
			       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[VMMIG_A_NETENT_MAX + 1], *e;
	int n = 0, rem, ret, i;

	/* The policy let only ENTRY nests in, each checked against its policy. */
	nla_for_each_nested(e, list, rem) {
		if (n == VMMIG_MAX_NETWORKS) {
			NL_SET_ERR_MSG_ATTR(extack, e, "network list full");
			return -ENOSPC;
		}
		ret = nla_parse_nested(tb, VMMIG_A_NETENT_MAX, e, vmmig_network_entry_nl_policy,
				       extack);
		if (!ret)
			ret = vmmig_nl_parse_cidr(tb, e, extack, &nets[n]);
		if (ret)
			return ret;
		for (i = 0; i < n; i++) {
			if (vmmig_cidr_equal(&nets[i], &nets[n])) {
				NL_SET_ERR_MSG_ATTR(extack, e, "network listed twice");
				return -EEXIST;
			}
		}
		n++;
	}
	return n;
}

/*
 * kTLS needs TCP: a host that encrypts cannot default to RDMA, which would
 * carry its migrations in the clear. @auth: the new settings, NULL to keep
 * the host's. Caller holds vn->cfg_lock.
 */
static int vmmig_nl_check_rdma(struct vmmig_net *vn, struct nlattr **a,
			       struct vmmig_auth_config *auth, const struct vmmig_host *h,
			       struct netlink_ext_ack *extack)
{
	struct vmmig_auth_config *c = auth ? vmmig_auth_hold(auth) : vmmig_auth_get(&vn->auth);
	bool encrypt = c->encrypt;

	vmmig_auth_put(c);
	if (h->perf != VMMIG_PERF_RDMA || !encrypt)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, a[VMMIG_A_HOST_PERFORMANCE] ?: a[VMMIG_A_HOST_ENCRYPTION],
			    "encryption is not available with performance rdma");
	return -EINVAL;
}

/*
 * A cap below VMMIG_MIN_BANDWIDTH would take minutes per frame: surely a
 * mistake of units, not a setting (the spec checks no range of a u64).
 */
static int vmmig_nl_check_bandwidth(const struct nlattr *attr, struct netlink_ext_ack *extack)
{
	u64 bw = attr ? nla_get_u64(attr) : 0;

	if (!bw || bw >= VMMIG_MIN_BANDWIDTH)
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "the bandwidth cap is 0 (unlimited) or at least 1000 bytes per second");
	return -ERANGE;
}

int vmmig_nl_set_host_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct vmmig_auth_config *auth = NULL;
	struct nlattr **a = info->attrs;
	struct vmmig_cidr *nets = NULL;
	const char *msg = NULL;
	struct vmmig_host h;
	int n = 0, ret;

	/* The policy checked each value alone; this is what it cannot say. */
	if (!VMMIG_HAVE_RDMA && a[VMMIG_A_HOST_PERFORMANCE] &&
	    nla_get_u32(a[VMMIG_A_HOST_PERFORMANCE]) == VMMIG_PERF_RDMA) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[VMMIG_A_HOST_PERFORMANCE],
				    "RDMA transport not available");
		return -EOPNOTSUPP;
	}
	ret = vmmig_nl_check_bandwidth(a[VMMIG_A_HOST_BANDWIDTH], info->extack);
	if (ret)
		return ret;
	/* The whole new list is checked before anything changes. */
	if (a[VMMIG_A_HOST_NETWORK_LIST]) {
		nets = kcalloc(VMMIG_MAX_NETWORKS, sizeof(*nets), GFP_KERNEL);
		if (!nets)
			return -ENOMEM;
		n = vmmig_nl_parse_list(a[VMMIG_A_HOST_NETWORK_LIST], nets, info->extack);
		if (n < 0) {
			kfree(nets);
			return n;
		}
	}

	mutex_lock(&vn->cfg_lock);
	if (vmmig_nl_auth_attrs(a)) {
		auth = vmmig_nl_edit_auth(vn, a, info->extack);
		if (IS_ERR(auth)) {
			mutex_unlock(&vn->cfg_lock);
			kfree(nets);
			return PTR_ERR(auth);
		}
	}
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
	if (a[VMMIG_A_HOST_BANDWIDTH])
		h.bandwidth = nla_get_u64(a[VMMIG_A_HOST_BANDWIDTH]);
	ret = vmmig_nl_check_rdma(vn, a, auth, &h, info->extack);
	if (ret) {
		mutex_unlock(&vn->cfg_lock);
		vmmig_auth_put(auth);
		kfree(nets);
		return ret;
	}
	/* The last step that can fail: then the host settings follow. */
	if (auth) {
		ret = vmmig_auth_commit(&vn->auth, auth, &msg);
		if (ret) {
			mutex_unlock(&vn->cfg_lock);
			kfree(nets);
			vmmig_nl_err(info->extack, NULL, msg);
			return ret;
		}
	}
	/* Only a new value resets the bucket: apply sends every setting. */
	if (h.bandwidth != vn->host.bandwidth) {
		vmmig_rl_set_rate(&vn->rl, h.bandwidth, ktime_get());
		vmmig_send_throttle_wake(vn);
	}
	vn->host = h;
	if (nets) {
		memcpy(vn->nets, nets, n * sizeof(*nets));
		vn->nnets = n;
		vn->nets_gen++;
	}
	mutex_unlock(&vn->cfg_lock);
	kfree(nets);
	return 0;
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

	ret = vmmig_nl_parse_cidr(info->attrs, NULL, info->extack, &c);
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

	ret = vmmig_nl_parse_cidr(info->attrs, NULL, info->extack, &c);
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
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_ZERO_PAGES, st.zero_pages, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_BLOBS, st.blobs, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_COMP_PAGES, st.comp_pages, VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_INCOMPRESSIBLE_PAGES, st.incompressible_pages,
			      VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_COMP_BYTES_IN, st.comp_bytes_in,
			      VMMIG_A_SESS_PAD) ||
	    nla_put_u64_64bit(skb, VMMIG_A_SESS_COMP_BYTES_OUT, st.comp_bytes_out,
			      VMMIG_A_SESS_PAD) ||
	    (st.error && nla_put_u32(skb, VMMIG_A_SESS_ERROR, st.error)) ||
	    (st.role == VMMIG_ROLE_SOURCE &&
	     nla_put_u64_64bit(skb, VMMIG_A_SESS_BANDWIDTH, vmmig_session_bandwidth(s),
			       VMMIG_A_SESS_PAD)))
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

/*
 * An administrator ends a migration: the same abort as the VMM's own,
 * with ECANCELED for both ends. The reference, not cfg_lock, keeps the
 * session alive across the abort, which sleeps (netns.h).
 */
int vmmig_nl_abort_session_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *id = info->attrs[VMMIG_A_SESS_ID];
	struct vmmig_session *s;
	u32 state;
	int ret = 0;

	if (!vmmig_nl_need(info->attrs, NULL, VMMIG_A_SESS_ID, info->extack,
			   "session id missing"))
		return -EINVAL;
	s = vmmig_net_get_session(genl_info_net(info), nla_get_u32(id));
	if (!s) {
		NL_SET_ERR_MSG_FMT(info->extack, "no session %u", nla_get_u32(id));
		return -ENOENT;
	}
	if (!vmmig_session_abort(s, ECANCELED, true, "aborted by the administrator")) {
		state = READ_ONCE(s->state);
		if (state == VMMIG_STATE_NEW) {
			NL_SET_ERR_MSG_FMT(info->extack,
					   "session %u has not started: nothing to abort", s->id);
			ret = -EBADFD;
		} else {
			NL_SET_ERR_MSG_FMT(info->extack, "session %u already ended (%s)", s->id,
					   state == VMMIG_STATE_FINISHED ? "finished" : "aborted");
			ret = -EALREADY;
		}
	}
	vmmig_net_put_session(s);
	return ret;
}

/* ---- the peer list ---- */

/* Add or change (@key given) or delete a peer, and commit; under cfg_lock. */
static int vmmig_nl_peer_change(struct genl_info *info, const char *name, const u8 *key,
				size_t len, u32 allow, const struct sockaddr_storage *addr)
{
	struct vmmig_net *vn = vmmig_net(genl_info_net(info));
	struct vmmig_auth_config *c;
	const char *msg = NULL;
	int ret;

	mutex_lock(&vn->cfg_lock);
	c = vmmig_auth_edit(&vn->auth);
	if (IS_ERR(c)) {
		mutex_unlock(&vn->cfg_lock);
		return PTR_ERR(c);
	}
	if (key)
		ret = vmmig_auth_peer_set(c, name, key, len, allow, addr, &msg);
	else
		ret = vmmig_auth_peer_del(c, name, &msg);
	if (ret == -ENOENT) {
		vmmig_auth_put(c);
		NL_SET_ERR_MSG_FMT(info->extack, "no peer named \"%s\"", name);
	} else if (ret) {
		vmmig_auth_put(c);
		vmmig_nl_err(info->extack, NULL, msg);
	} else {
		ret = vmmig_auth_commit(&vn->auth, c, &msg);
		if (ret)
			vmmig_nl_err(info->extack, NULL, msg);
	}
	mutex_unlock(&vn->cfg_lock);
	return ret;
}

int vmmig_nl_add_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct vmmig_nl_peer p;
	int ret;

	ret = vmmig_nl_parse_peer(info->attrs, NULL, info->extack, &p);
	if (ret)
		return ret;
	return vmmig_nl_peer_change(info, p.name, p.key, p.len, p.allow,
				    p.ss.ss_family ? &p.ss : NULL);
}

int vmmig_nl_del_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (!vmmig_nl_need(info->attrs, NULL, VMMIG_A_PEER_NAME, info->extack,
			   "peer name missing"))
		return -EINVAL;
	return vmmig_nl_peer_change(info, nla_data(info->attrs[VMMIG_A_PEER_NAME]), NULL, 0,
				    0, NULL);
}

static int vmmig_nl_fill_peer(struct sk_buff *skb, const struct vmmig_auth_peer *p)
{
	char fpr[VMMIG_FPR_LEN];

	vmmig_auth_fingerprint(p->key, fpr);
	if (nla_put_string(skb, VMMIG_A_PEER_NAME, p->name) ||
	    nla_put_string(skb, VMMIG_A_PEER_FINGERPRINT, fpr) ||
	    nla_put_u32(skb, VMMIG_A_PEER_ALLOW, p->allow))
		return -EMSGSIZE;
	if (p->family == AF_INET)
		return nla_put_in_addr(skb, VMMIG_A_PEER_ADDR4, p->addr.v4);
	if (p->family == AF_INET6)
		return nla_put_in6_addr(skb, VMMIG_A_PEER_ADDR6, &p->addr.v6);
	return 0;
}

/* cb->args[0]: peers sent so far. Each part of the dump reads one config. */
int vmmig_nl_get_peer_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct vmmig_net *vn = vmmig_net(sock_net(skb->sk));
	struct vmmig_auth_config *c = vmmig_auth_get(&vn->auth);
	unsigned int i;
	void *hdr;

	cb->seq = c->gen;
	for (i = cb->args[0]; i < c->npeers; i++) {
		hdr = vmmig_nl_dump_put(skb, cb, VMMIG_CMD_GET_PEER);
		if (!hdr)
			break;
		if (vmmig_nl_fill_peer(skb, &c->peers[i])) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	vmmig_auth_put(c);
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

/* A session started, finished or aborted (@msg: why, or NULL). May sleep. */
void vmmig_nl_notify_session(struct vmmig_session *s, u32 event, int error,
			     const char *msg)
{
	/* Only sessions that were ACTIVE get here: the peer is known. */
	struct vmmig_notice n = {
		.event = event, .id = s->id, .role = READ_ONCE(s->role),
		.peer = &s->peer, .error = error, .msg = msg,
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
