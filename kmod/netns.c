// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state, so that two namespaces of one kernel are
 * two independent hosts.
 */
#include <linux/list.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "vmmig.h"
#include "netns.h"

static unsigned int vmmig_net_id __read_mostly;

struct vmmig_net *vmmig_net(struct net *net)
{
	return net_generic(net, vmmig_net_id);
}

static int __net_init vmmig_net_init(struct net *net)
{
	struct vmmig_net *vn = vmmig_net(net);

	mutex_init(&vn->lock);
	INIT_LIST_HEAD(&vn->listeners);
	return vmmig_auth_net_init(&vn->auth);
}

static void __net_exit vmmig_net_exit(struct net *net)
{
	struct vmmig_net *vn = vmmig_net(net);

	/* Listeners hold a reference on their namespace: none can be left. */
	WARN_ON_ONCE(!list_empty(&vn->listeners));
	vmmig_auth_net_exit(&vn->auth);
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
