// SPDX-License-Identifier: GPL-2.0
/*
 * Host policy: what the settings of a network namespace allow. Sessions
 * are admitted at CONNECT and ACCEPT (direction enabled, max-migrations
 * not reached), and the listener checks each new connection against the
 * migration network list before reading from it. The CIDR functions are
 * pure, for KUnit (kmod/tests/policy_kunit.c). Locking: netns.h.
 */
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <net/ipv6.h>
#include <kunit/visibility.h>

#include "vmmig.h"
#include "netns.h"

void vmmig_host_defaults(struct vmmig_host *h)
{
	*h = (struct vmmig_host){
		.port = VMMIG_DEFAULT_PORT,
		.networks = VMMIG_NETWORKS_ANY,
		.perf = VMMIG_PERF_COMPRESSION,
		.channels = VMMIG_DEFAULT_CHANNELS,
		.compression = VMMIG_COMP_LZ4,
		.max_migrations = VMMIG_DEFAULT_MAX_MIGRATIONS,
	};
}

static __be32 vmmig_mask4(unsigned int prefix)
{
	return prefix ? htonl(~0U << (32 - prefix)) : 0;
}

/**
 * vmmig_cidr_init - make a network list entry
 * @c: the entry
 * @family: AF_INET or AF_INET6
 * @addr: 4 or 16 bytes of network address, network byte order
 * @prefix: prefix length
 *
 * An address with bits set past the prefix is refused rather than masked:
 * 10.1.2.3/8 is more likely a typo for 10.1.2.3/32 than a way to write
 * 10.0.0.0/8, and an entry should read back as it was given.
 *
 * Return: 0; -EAFNOSUPPORT for another family; -ERANGE if @prefix is
 * longer than the address; -EINVAL if @addr has bits set past @prefix.
 */
int vmmig_cidr_init(struct vmmig_cidr *c, u16 family, const void *addr,
		    unsigned int prefix)
{
	struct in6_addr masked;

	memset(c, 0, sizeof(*c));
	c->family = family;
	c->prefix = prefix;
	if (family == AF_INET) {
		memcpy(&c->addr.v4, addr, sizeof(c->addr.v4));
		if (prefix > 32)
			return -ERANGE;
		return c->addr.v4 & ~vmmig_mask4(prefix) ? -EINVAL : 0;
	}
	if (family == AF_INET6) {
		memcpy(&c->addr.v6, addr, sizeof(c->addr.v6));
		if (prefix > 128)
			return -ERANGE;
		ipv6_addr_prefix(&masked, &c->addr.v6, prefix);
		return ipv6_addr_equal(&masked, &c->addr.v6) ? 0 : -EINVAL;
	}
	return -EAFNOSUPPORT;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_cidr_init);

bool vmmig_cidr_equal(const struct vmmig_cidr *a, const struct vmmig_cidr *b)
{
	if (a->family != b->family || a->prefix != b->prefix)
		return false;
	if (a->family == AF_INET)
		return a->addr.v4 == b->addr.v4;
	return ipv6_addr_equal(&a->addr.v6, &b->addr.v6);
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_cidr_equal);

/**
 * vmmig_cidr_match - is an address inside a network
 * @c: the network
 * @sa: a struct sockaddr_in or sockaddr_in6
 *
 * An IPv4-mapped IPv6 address (a v4 peer on a dual-stack socket) is the
 * IPv4 address it maps.
 */
bool vmmig_cidr_match(const struct vmmig_cidr *c, const struct sockaddr *sa)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	__be32 v4;

	if (sa->sa_family == AF_INET6) {
		if (!ipv6_addr_v4mapped(&sin6->sin6_addr))
			return c->family == AF_INET6 &&
			       ipv6_prefix_equal(&sin6->sin6_addr, &c->addr.v6, c->prefix);
		v4 = sin6->sin6_addr.s6_addr32[3];
	} else if (sa->sa_family == AF_INET) {
		v4 = sin->sin_addr.s_addr;
	} else {
		return false;
	}
	return c->family == AF_INET && !((v4 ^ c->addr.v4) & vmmig_mask4(c->prefix));
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_cidr_match);

bool vmmig_cidr_list_match(const struct vmmig_cidr *list, unsigned int n,
			   const struct sockaddr *sa)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vmmig_cidr_match(&list[i], sa))
			return true;
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(vmmig_cidr_list_match);

/* Sessions counted against max-migrations. Caller holds vn->cfg_lock. */
unsigned int vmmig_active_migrations(struct vmmig_net *vn)
{
	struct vmmig_session *s;
	unsigned int n = 0;

	list_for_each_entry(s, &vn->sessions, net_node) {
		enum vmmig_state state = READ_ONCE(s->state);

		if (s->admitted && (state == VMMIG_STATE_NEW || state == VMMIG_STATE_ACTIVE))
			n++;
	}
	return n;
}

/**
 * vmmig_admit - let a session start CONNECT or ACCEPT, or not
 * @s: the session, NEW
 * @role: VMMIG_ROLE_SOURCE (CONNECT) or VMMIG_ROLE_DESTINATION (ACCEPT)
 * @h: filled with the settings the session starts with
 *
 * An admitted session counts against max-migrations while it is NEW or
 * ACTIVE; one whose CONNECT or ACCEPT fails gives its place back with
 * vmmig_unadmit(). A refusal is counted and told to the events group.
 *
 * Return: 0; -EACCES if the direction is disabled; -EBUSY at the limit.
 */
int vmmig_admit(struct vmmig_session *s, enum vmmig_role role, struct vmmig_host *h)
{
	struct vmmig_net *vn = vmmig_net(s->net);
	struct vmmig_notice n = {
		.event = VMMIG_NOTIFY_REFUSED, .id = s->id, .role = role,
	};
	char msg[64];
	int ret = 0;

	mutex_lock(&vn->cfg_lock);
	if (role == VMMIG_ROLE_SOURCE ? !vn->host.outgoing : !vn->host.incoming) {
		atomic64_inc(&vn->refused_disabled);
		n.msg = role == VMMIG_ROLE_SOURCE ?
			"outgoing migrations are disabled on this host" :
			"incoming migrations are disabled on this host";
		ret = -EACCES;
	} else if (vmmig_active_migrations(vn) >= vn->host.max_migrations) {
		atomic64_inc(&vn->refused_busy);
		snprintf(msg, sizeof(msg), "maximum concurrent migrations reached (%u)",
			 vn->host.max_migrations);
		n.msg = msg;
		ret = -EBUSY;
	} else {
		s->admitted = true;
		*h = vn->host;
	}
	mutex_unlock(&vn->cfg_lock);

	if (ret) {
		n.error = -ret;
		vmmig_nl_notify(s->net, &n);
	}
	return ret;
}

void vmmig_unadmit(struct vmmig_session *s)
{
	struct vmmig_net *vn = vmmig_net(s->net);

	mutex_lock(&vn->cfg_lock);
	s->admitted = false;
	mutex_unlock(&vn->cfg_lock);
}

/**
 * vmmig_peer_check - may this connection reach the handshake
 * @net: the listener's namespace
 * @peer: the connection's source address
 *
 * Return: 0; -EACCES if incoming migrations are disabled; -ECONNREFUSED
 * if the host takes listed networks only and @peer is on none of them.
 * A refusal is counted and told to the events group.
 */
int vmmig_peer_check(struct net *net, const struct sockaddr_storage *peer)
{
	struct vmmig_net *vn = vmmig_net(net);
	struct vmmig_notice n = {
		.event = VMMIG_NOTIFY_REFUSED, .role = VMMIG_ROLE_DESTINATION, .peer = peer,
	};
	char msg[80];
	int ret = 0;

	mutex_lock(&vn->cfg_lock);
	if (!vn->host.incoming) {
		atomic64_inc(&vn->refused_disabled);
		n.msg = "incoming migrations are disabled on this host";
		ret = -EACCES;
	} else if (vn->host.networks == VMMIG_NETWORKS_LISTED &&
		   !vmmig_cidr_list_match(vn->nets, vn->nnets, (const struct sockaddr *)peer)) {
		atomic64_inc(&vn->refused_network);
		snprintf(msg, sizeof(msg), "peer %pISc is not on a migration network", peer);
		n.msg = msg;
		ret = -ECONNREFUSED;
	}
	mutex_unlock(&vn->cfg_lock);

	if (ret) {
		n.error = -ret;
		vmmig_nl_notify(net, &n);
	}
	return ret;
}
