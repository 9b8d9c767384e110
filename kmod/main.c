// SPDX-License-Identifier: GPL-2.0
/*
 * vmmig: in-kernel transport for VM live migration.
 *
 * Module entry points; each subsystem registers itself from here, in order,
 * and unregisters in reverse.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "vmmig.h"

static int __init vmmig_init(void)
{
	int ret;

	ret = vmmig_netns_init();
	if (ret)
		return ret;
	ret = vmmig_nl_init();
	if (ret)
		goto err_netns;
	ret = vmmig_rdma_init();
	if (ret)
		goto err_nl;
	ret = vmmig_device_init();
	if (ret)
		goto err_rdma;

	pr_info("loaded, ABI version %d\n", VMMIG_ABI_VERSION);
	return 0;

err_rdma:
	vmmig_rdma_exit();
err_nl:
	vmmig_nl_exit();
err_netns:
	vmmig_netns_exit();
	return ret;
}

static void __exit vmmig_exit(void)
{
	vmmig_device_exit();
	vmmig_rdma_exit();
	vmmig_nl_exit();
	vmmig_netns_exit();
}

module_init(vmmig_init);
module_exit(vmmig_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("In-kernel transport for VM live migration");
MODULE_AUTHOR("The vmmig developers");
