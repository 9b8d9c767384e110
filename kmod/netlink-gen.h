/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/vmmig.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_VMMIG_GEN_H
#define _LINUX_VMMIG_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/vmmig.h>

/* Common nested types */
extern const struct nla_policy vmmig_network_entry_nl_policy[VMMIG_A_NETENT_PREFIX_LEN + 1];
extern const struct nla_policy vmmig_network_list_nl_policy[VMMIG_A_NETLIST_ENTRY + 1];
extern const struct nla_policy vmmig_peer_entry_nl_policy[VMMIG_A_PEERENT_ADDR6 + 1];
extern const struct nla_policy vmmig_peer_list_nl_policy[VMMIG_A_PEERLIST_ENTRY + 1];

/* Ops table for vmmig */
extern const struct genl_split_ops vmmig_nl_ops[10];

int vmmig_nl_get_host_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_set_host_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_get_network_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int vmmig_nl_add_network_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_del_network_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_get_session_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int vmmig_nl_get_peer_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
int vmmig_nl_add_peer_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_del_peer_doit(struct sk_buff *skb, struct genl_info *info);
int vmmig_nl_abort_session_doit(struct sk_buff *skb, struct genl_info *info);

enum {
	VMMIG_NLGRP_EVENTS,
};

#endif /* _LINUX_VMMIG_GEN_H */
