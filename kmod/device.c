// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmmig: the misc device a VMM opens; one open file is one session.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "vmmig.h"

static long vmmig_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VMMIG_IOC_VERSION:
		return VMMIG_ABI_VERSION;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vmmig_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= vmmig_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice vmmig_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= VMMIG_DEVICE_NAME,
	.fops	= &vmmig_fops,
	.mode	= 0600,
};

int vmmig_device_init(void)
{
	return misc_register(&vmmig_misc);
}

void vmmig_device_exit(void)
{
	misc_deregister(&vmmig_misc);
}
