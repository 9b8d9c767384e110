/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per network namespace state: a "host" in the tests is a namespace.
 */
#ifndef _VMMIG_NETNS_H
#define _VMMIG_NETNS_H

#include <linux/list.h>
#include <linux/mutex.h>

#include "auth.h"

struct vmmig_net {
	struct mutex lock;		/* guards listeners and their waiters */
	struct list_head listeners;
	struct vmmig_auth_net auth;	/* the host's authentication settings */
};

#endif /* _VMMIG_NETNS_H */
