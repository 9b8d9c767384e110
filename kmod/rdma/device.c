// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA devices, as an ib_client: a CONNECT that asks for RDMA on a host
 * without any device fails at once with -ENODEV instead of waiting for
 * address resolution to give up. A device that goes away while sessions
 * use it ends them through its rdma_cm ids (DEVICE_REMOVAL, conn.c).
 */
#include <linux/atomic.h>

#include "../vmmig.h"
#include "rdma.h"

static atomic_t vmmig_rdma_devices = ATOMIC_INIT(0);

static int vmmig_rdma_add_one(struct ib_device *dev)
{
	atomic_inc(&vmmig_rdma_devices);
	return 0;
}

static void vmmig_rdma_remove_one(struct ib_device *dev, void *client_data)
{
	atomic_dec(&vmmig_rdma_devices);
}

static struct ib_client vmmig_rdma_client = {
	.name	= "vmmig",
	.add	= vmmig_rdma_add_one,
	.remove	= vmmig_rdma_remove_one,
};

/* 0 if there is an RDMA device to connect with, else -ENODEV. */
int vmmig_rdma_check(void)
{
	return atomic_read(&vmmig_rdma_devices) ? 0 : -ENODEV;
}

int vmmig_rdma_init(void)
{
	return ib_register_client(&vmmig_rdma_client);
}

void vmmig_rdma_exit(void)
{
	ib_unregister_client(&vmmig_rdma_client);
}
