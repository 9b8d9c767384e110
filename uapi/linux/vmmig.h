/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmmig: in-kernel transport for VM live migration.
 *
 * This header is the whole contract between the vmmig module and userspace.
 *
 * DEVICE
 * ------
 * /dev/vmmig (mode 0600, root) is a misc character device. One open file
 * is one migration session; closing it ends the session.
 *
 * IOCTLS
 * ------
 * All ioctls use the type VMMIG_IOC_TYPE. An ioctl number the module does
 * not know returns -ENOTTY.
 *
 * VMMIG_IOC_VERSION
 *	No argument. Returns VMMIG_ABI_VERSION, the version of this contract.
 *	A VMM checks it once after open() and refuses to go on if it is lower
 *	than the version it was built against.
 *
 * DIRTY BITMAPS
 * -------------
 * Dirty bitmaps are handed in exactly as KVM_GET_DIRTY_LOG returns them:
 * one bit per 4 KiB page, in an array of native unsigned longs, bit 0 of
 * word 0 being the first page of the region. Bits past the last page of
 * the region must be zero.
 */
#ifndef _UAPI_LINUX_VMMIG_H
#define _UAPI_LINUX_VMMIG_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VMMIG_DEVICE_NAME	"vmmig"
#define VMMIG_ABI_VERSION	1
#define VMMIG_DEFAULT_PORT	6600
#define VMMIG_PAGE_SHIFT	12
#define VMMIG_PAGE_SIZE		4096

#define VMMIG_IOC_TYPE		0xB9

#define VMMIG_IOC_VERSION	_IO(VMMIG_IOC_TYPE, 0x00)

#endif /* _UAPI_LINUX_VMMIG_H */
