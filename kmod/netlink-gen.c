// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/vmmig.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink-gen.h"

#include <uapi/linux/vmmig.h>

/* Common nested types */
const struct nla_policy vmmig_network_entry_nl_policy[VMMIG_A_NETENT_PREFIX_LEN + 1] = {
	[VMMIG_A_NETENT_ADDR4] = NLA_POLICY_EXACT_LEN(4),
	[VMMIG_A_NETENT_ADDR6] = NLA_POLICY_EXACT_LEN(16),
	[VMMIG_A_NETENT_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

const struct nla_policy vmmig_network_list_nl_policy[VMMIG_A_NETLIST_ENTRY + 1] = {
	[VMMIG_A_NETLIST_ENTRY] = NLA_POLICY_NESTED(vmmig_network_entry_nl_policy),
};

const struct nla_policy vmmig_peer_entry_nl_policy[VMMIG_A_PEERENT_ADDR6 + 1] = {
	[VMMIG_A_PEERENT_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
	[VMMIG_A_PEERENT_PUBLIC_KEY] = NLA_POLICY_EXACT_LEN(VMMIG_KEY_LEN),
	[VMMIG_A_PEERENT_FINGERPRINT] = { .type = NLA_NUL_STRING, },
	[VMMIG_A_PEERENT_ALLOW] = NLA_POLICY_MASK(NLA_U32, 0x3),
	[VMMIG_A_PEERENT_ADDR4] = NLA_POLICY_EXACT_LEN(4),
	[VMMIG_A_PEERENT_ADDR6] = NLA_POLICY_EXACT_LEN(16),
};

const struct nla_policy vmmig_peer_list_nl_policy[VMMIG_A_PEERLIST_ENTRY + 1] = {
	[VMMIG_A_PEERLIST_ENTRY] = NLA_POLICY_NESTED(vmmig_peer_entry_nl_policy),
};

/* VMMIG_CMD_SET_HOST - do */
static const struct nla_policy vmmig_set_host_nl_policy[VMMIG_A_HOST_BANDWIDTH + 1] = {
	[VMMIG_A_HOST_INCOMING] = NLA_POLICY_MAX(NLA_U8, 1),
	[VMMIG_A_HOST_OUTGOING] = NLA_POLICY_MAX(NLA_U8, 1),
	[VMMIG_A_HOST_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[VMMIG_A_HOST_NETWORKS] = NLA_POLICY_MAX(NLA_U32, 1),
	[VMMIG_A_HOST_PERFORMANCE] = NLA_POLICY_MAX(NLA_U32, 2),
	[VMMIG_A_HOST_CHANNELS] = NLA_POLICY_RANGE(NLA_U32, 1, VMMIG_MAX_CHANNELS),
	[VMMIG_A_HOST_COMPRESSION] = NLA_POLICY_RANGE(NLA_U32, 1, 2),
	[VMMIG_A_HOST_MAX_MIGRATIONS] = NLA_POLICY_RANGE(NLA_U32, 1, VMMIG_MAX_MIGRATIONS_CAP),
	[VMMIG_A_HOST_AUTH_MODE] = NLA_POLICY_MAX(NLA_U32, 2),
	[VMMIG_A_HOST_PSK] = NLA_POLICY_EXACT_LEN(VMMIG_KEY_LEN),
	[VMMIG_A_HOST_PRIVATE_KEY] = NLA_POLICY_EXACT_LEN(VMMIG_KEY_LEN),
	[VMMIG_A_HOST_ENCRYPTION] = NLA_POLICY_MAX(NLA_U8, 1),
	[VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS] = { .type = NLA_U32, },
	[VMMIG_A_HOST_MAX_HANDSHAKES] = NLA_POLICY_RANGE(NLA_U32, 1, 1024),
	[VMMIG_A_HOST_NETWORK_LIST] = NLA_POLICY_NESTED(vmmig_network_list_nl_policy),
	[VMMIG_A_HOST_PEER_LIST] = NLA_POLICY_NESTED(vmmig_peer_list_nl_policy),
	[VMMIG_A_HOST_BANDWIDTH] = { .type = NLA_U64, },
};

/* VMMIG_CMD_ADD_NETWORK - do */
static const struct nla_policy vmmig_add_network_nl_policy[VMMIG_A_NET_PREFIX_LEN + 1] = {
	[VMMIG_A_NET_ADDR4] = NLA_POLICY_EXACT_LEN(4),
	[VMMIG_A_NET_ADDR6] = NLA_POLICY_EXACT_LEN(16),
	[VMMIG_A_NET_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

/* VMMIG_CMD_DEL_NETWORK - do */
static const struct nla_policy vmmig_del_network_nl_policy[VMMIG_A_NET_PREFIX_LEN + 1] = {
	[VMMIG_A_NET_ADDR4] = NLA_POLICY_EXACT_LEN(4),
	[VMMIG_A_NET_ADDR6] = NLA_POLICY_EXACT_LEN(16),
	[VMMIG_A_NET_PREFIX_LEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

/* VMMIG_CMD_ADD_PEER - do */
static const struct nla_policy vmmig_add_peer_nl_policy[VMMIG_A_PEER_ADDR6 + 1] = {
	[VMMIG_A_PEER_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
	[VMMIG_A_PEER_PUBLIC_KEY] = NLA_POLICY_EXACT_LEN(VMMIG_KEY_LEN),
	[VMMIG_A_PEER_ALLOW] = NLA_POLICY_MASK(NLA_U32, 0x3),
	[VMMIG_A_PEER_ADDR4] = NLA_POLICY_EXACT_LEN(4),
	[VMMIG_A_PEER_ADDR6] = NLA_POLICY_EXACT_LEN(16),
};

/* VMMIG_CMD_DEL_PEER - do */
static const struct nla_policy vmmig_del_peer_nl_policy[VMMIG_A_PEER_NAME + 1] = {
	[VMMIG_A_PEER_NAME] = { .type = NLA_NUL_STRING, .len = 31, },
};

/* VMMIG_CMD_ABORT_SESSION - do */
static const struct nla_policy vmmig_abort_session_nl_policy[VMMIG_A_SESS_ID + 1] = {
	[VMMIG_A_SESS_ID] = { .type = NLA_U32, },
};

/* Ops table for vmmig */
const struct genl_split_ops vmmig_nl_ops[10] = {
	{
		.cmd	= VMMIG_CMD_GET_HOST,
		.doit	= vmmig_nl_get_host_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VMMIG_CMD_SET_HOST,
		.doit		= vmmig_nl_set_host_doit,
		.policy		= vmmig_set_host_nl_policy,
		.maxattr	= VMMIG_A_HOST_BANDWIDTH,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VMMIG_CMD_GET_NETWORK,
		.dumpit	= vmmig_nl_get_network_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VMMIG_CMD_ADD_NETWORK,
		.doit		= vmmig_nl_add_network_doit,
		.policy		= vmmig_add_network_nl_policy,
		.maxattr	= VMMIG_A_NET_PREFIX_LEN,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VMMIG_CMD_DEL_NETWORK,
		.doit		= vmmig_nl_del_network_doit,
		.policy		= vmmig_del_network_nl_policy,
		.maxattr	= VMMIG_A_NET_PREFIX_LEN,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= VMMIG_CMD_GET_SESSION,
		.dumpit	= vmmig_nl_get_session_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= VMMIG_CMD_GET_PEER,
		.dumpit	= vmmig_nl_get_peer_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= VMMIG_CMD_ADD_PEER,
		.doit		= vmmig_nl_add_peer_doit,
		.policy		= vmmig_add_peer_nl_policy,
		.maxattr	= VMMIG_A_PEER_ADDR6,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VMMIG_CMD_DEL_PEER,
		.doit		= vmmig_nl_del_peer_doit,
		.policy		= vmmig_del_peer_nl_policy,
		.maxattr	= VMMIG_A_PEER_NAME,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= VMMIG_CMD_ABORT_SESSION,
		.doit		= vmmig_nl_abort_session_doit,
		.policy		= vmmig_abort_session_nl_policy,
		.maxattr	= VMMIG_A_SESS_ID,
		.flags		= GENL_UNS_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group vmmig_nl_mcgrps[] = {
	[VMMIG_NLGRP_EVENTS] = { "events", },
};
