// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state, so that two namespaces of one kernel are
 * two independent hosts: listeners, host settings, the migration network
 * list and the list of sessions (see the locking rules in netns.h).
 */
#include <linux/list.h>
#include <linux/wait_bit.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "vmmig.h"
#include "netns.h"

static unsigned int vmmig_net_id __read_mostly;

struct vmmig_net *vmmig_net(struct net *net)
{
	return net_generic(net, vmmig_net_id);
}

/* A new session joins its namespace's list, for dumps and the limit. */
void vmmig_net_add_session(struct vmmig_session *s)
{
	struct vmmig_net *vn = vmmig_net(s->net);

	s->id = atomic_inc_return(&vn->next_id);
	mutex_lock(&vn->cfg_lock);
	list_add_tail(&s->net_node, &vn->sessions);
	vn->sessions_gen++;
	mutex_unlock(&vn->cfg_lock);
}

/* After this, no dump can reach the session: it may be freed. */
void vmmig_net_del_session(struct vmmig_session *s)
{
	struct vmmig_net *vn = vmmig_net(s->net);

	mutex_lock(&vn->cfg_lock);
	list_del(&s->net_node);
	vn->sessions_gen++;
	mutex_unlock(&vn->cfg_lock);
}

/**
 * vmmig_net_get_session - the session @id of @net, for a netlink request
 * @net: the namespace of the request
 * @id: the session's number in it
 *
 * Return: the session, held, or NULL if @net has none of that number.
 * Until vmmig_net_put_session(), its close waits: every part of it may be
 * used but @lock, which an ioctl of its VMM may hold for long.
 */
struct vmmig_session *vmmig_net_get_session(struct net *net, u32 id)
{
	struct vmmig_net *vn = vmmig_net(net);
	struct vmmig_session *s;

	mutex_lock(&vn->cfg_lock);
	list_for_each_entry(s, &vn->sessions, net_node) {
		if (s->id == id) {
			atomic_inc(&s->nl_refs);
			mutex_unlock(&vn->cfg_lock);
			return s;
		}
	}
	mutex_unlock(&vn->cfg_lock);
	return NULL;
}

void vmmig_net_put_session(struct vmmig_session *s)
{
	/* Only the address is used: the close may free @s at once. */
	if (atomic_dec_and_test(&s->nl_refs))
		wake_up_var(&s->nl_refs);
}

static int __net_init vmmig_net_init(struct net *net)
{
	struct vmmig_net *vn = vmmig_net(net);

	mutex_init(&vn->lock);
	INIT_LIST_HEAD(&vn->listeners);
	mutex_init(&vn->cfg_lock);
	vmmig_host_defaults(&vn->host);
	/* Dumps take generation 0 for "not checked". */
	vn->nets_gen = 1;
	vn->sessions_gen = 1;
	INIT_LIST_HEAD(&vn->sessions);
	vmmig_rl_init(&vn->rl, vn->host.bandwidth, ktime_get());
	return vmmig_auth_net_init(&vn->auth);
}

static void __net_exit vmmig_net_exit(struct net *net)
{
	struct vmmig_net *vn = vmmig_net(net);

	/* Listeners and sessions hold a reference on their namespace. */
	WARN_ON_ONCE(!list_empty(&vn->listeners));
	WARN_ON_ONCE(!list_empty(&vn->sessions));
	vmmig_auth_net_exit(&vn->auth);
	mutex_destroy(&vn->cfg_lock);
	mutex_destroy(&vn->lock);
}

static struct pernet_operations vmmig_net_ops = {
	.init = vmmig_net_init,
	.exit = vmmig_net_exit,
	.id = &vmmig_net_id,
	.size = sizeof(struct vmmig_net),
};

int vmmig_netns_init(void)
{
	return register_pernet_subsys(&vmmig_net_ops);
}

void vmmig_netns_exit(void)
{
	unregister_pernet_subsys(&vmmig_net_ops);
}
