/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per network namespace state: a "host" in the tests is a namespace.
 *
 * Locking: @lock guards the listeners and their waiters (listen.c).
 * @rl, the host's bandwidth bucket, has its own leaf lock (ratelimit.h);
 * SET_HOST changes its rate under @cfg_lock, senders take from it without.
 * @cfg_lock guards the host settings, the network list, the session list
 * and each listed session's @admitted; nothing else is taken under it but
 * the sessions' own atomics and READ_ONCE fields, and @auth.lock. The two
 * are never nested.
 *
 * The authentication settings (@auth, auth.h) are the one part of the
 * host settings that is not a plain struct: an immutable, reference-counted
 * config whose pointer @auth.lock guards. Every writer (netlink SET and
 * the peer commands) holds @cfg_lock around its edit and commit, so that a
 * SET that changes both host and auth settings is all or nothing and two
 * writers never race; readers (a handshake, CONNECT) take a reference
 * under @auth.lock alone, a leaf lock, from any context that may sleep.
 */
#ifndef _VMMIG_NETNS_H
#define _VMMIG_NETNS_H

#include <linux/atomic.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/vmmig.h>

/* A migration network: @family's address, @prefix leading bits of it. */
struct vmmig_cidr {
	u16 family;			/* AF_INET or AF_INET6 */
	u8 prefix;
	union {
		__be32 v4;
		struct in6_addr v6;
	} addr;
};

/* The host settings, as VMMIG_CMD_SET_HOST documents them. */
struct vmmig_host {
	bool incoming;
	bool outgoing;
	u16 port;
	u32 networks;			/* enum vmmig_networks */
	u32 perf;			/* enum vmmig_perf */
	u32 channels;
	u32 compression;		/* enum vmmig_comp */
	u32 max_migrations;
	u64 bandwidth;			/* bytes per second; 0: no cap */
};

#include "auth.h"
#include "ratelimit.h"

struct vmmig_net {
	struct mutex lock;		/* guards listeners and their waiters */
	struct list_head listeners;

	struct mutex cfg_lock;		/* everything below but the atomics */
	struct vmmig_host host;
	unsigned int nnets;
	struct vmmig_cidr nets[VMMIG_MAX_NETWORKS];
	unsigned int nets_gen;		/* bumped by every list change, for dumps */
	struct list_head sessions;	/* struct vmmig_session.net_node */
	unsigned int sessions_gen;
	atomic_t next_id;
	atomic64_t refused_network;
	atomic64_t refused_disabled;
	atomic64_t refused_busy;
	struct vmmig_auth_net auth;	/* the host's authentication settings */
	/* host.bandwidth at work: every source session's sends (send.c) */
	struct vmmig_rl rl;
};

#endif /* _VMMIG_NETNS_H */
