// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmmig: the misc device a VMM opens; one open file is one session.
 * This file turns ioctls into session calls: argument copying, size and
 * state checks.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vmmig.h"
#include "auth.h"

/* The first version of each argument struct; older callers don't exist. */
#define VMMIG_SIZE_VER0(type)	sizeof(struct type)

static int vmmig_open(struct inode *inode, struct file *file)
{
	struct vmmig_session *s = vmmig_session_create();

	if (!s)
		return -ENOMEM;
	file->private_data = s;
	return 0;
}

static int vmmig_release(struct inode *inode, struct file *file)
{
	vmmig_session_destroy(file->private_data);
	return 0;
}

/*
 * Copy in an argument struct that starts with its own size, clone3-style:
 * a newer, larger struct is fine if what we don't know of it is zero.
 */
static int vmmig_copy_in(void *karg, size_t ksize, size_t min, void __user *uarg,
			 u32 *usize)
{
	int ret;

	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, *usize);
	if (ret)
		return ret;
	*(u32 *)karg = ksize;
	return 0;
}

static int vmmig_copy_out(void __user *uarg, const void *karg, size_t ksize, u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, usize)) ? -EFAULT : 0;
}

/* The state (and role) an ioctl needs, checked under s->lock. */
static int vmmig_need(struct vmmig_session *s, enum vmmig_state state,
		      enum vmmig_role role)
{
	if (s->state == VMMIG_STATE_ABORTED && state == VMMIG_STATE_ACTIVE &&
	    s->role == role)
		return -s->error;
	if (s->state != state || (role != VMMIG_ROLE_NONE && s->role != role))
		return -EBADFD;
	return 0;
}

union vmmig_args {
	struct vmmig_region region;
	struct vmmig_connect connect;
	struct vmmig_accept accept;
	struct vmmig_dirty dirty;
	struct vmmig_blob blob;
	struct vmmig_event event;
	struct vmmig_stats stats;
	struct vmmig_auth auth;
	struct vmmig_bandwidth bandwidth;
	struct vmmig_dirty_ring ring;
};

struct vmmig_ioctl {
	unsigned int cmd;
	size_t size;		/* argument struct; 0: none */
	bool out;		/* copy the struct back */
};

static const struct vmmig_ioctl vmmig_ioctls[] = {
	{ VMMIG_IOC_VERSION, 0, false },
	{ VMMIG_IOC_ADD_REGION, sizeof(struct vmmig_region), false },
	{ VMMIG_IOC_CONNECT, sizeof(struct vmmig_connect), false },
	{ VMMIG_IOC_ACCEPT, sizeof(struct vmmig_accept), true },
	{ VMMIG_IOC_SEND_DIRTY, sizeof(struct vmmig_dirty), true },
	{ VMMIG_IOC_SEND_BLOB, sizeof(struct vmmig_blob), false },
	{ VMMIG_IOC_SYNC, 0, false },
	{ VMMIG_IOC_FINISH, 0, false },
	{ VMMIG_IOC_ABORT, 0, false },
	{ VMMIG_IOC_WAIT_EVENT, sizeof(struct vmmig_event), true },
	{ VMMIG_IOC_GET_STATS, sizeof(struct vmmig_stats), true },
	{ VMMIG_IOC_SET_AUTH, sizeof(struct vmmig_auth), false },
	{ VMMIG_IOC_SET_BANDWIDTH, sizeof(struct vmmig_bandwidth), false },
	{ VMMIG_IOC_SEND_DIRTY_RING, sizeof(struct vmmig_dirty_ring), true },
};

/* Match type, number and direction; the size bits may grow with the struct. */
static const struct vmmig_ioctl *vmmig_ioctl_find(unsigned int cmd)
{
	const unsigned int mask = ~(_IOC_SIZEMASK << _IOC_SIZESHIFT);
	const struct vmmig_ioctl *io;

	for (io = vmmig_ioctls; io < vmmig_ioctls + ARRAY_SIZE(vmmig_ioctls); io++) {
		if ((io->cmd ^ cmd) & mask)
			continue;
		return _IOC_SIZE(cmd) >= io->size ? io : NULL;
	}
	return NULL;
}

static long vmmig_dispatch(struct vmmig_session *s, unsigned int cmd,
			   union vmmig_args *a)
{
	switch (cmd) {
	case VMMIG_IOC_ADD_REGION:
		return vmmig_need(s, VMMIG_STATE_NEW, VMMIG_ROLE_NONE) ?:
		       vmmig_mem_add(s, &a->region);
	case VMMIG_IOC_CONNECT:
		return vmmig_need(s, VMMIG_STATE_NEW, VMMIG_ROLE_NONE) ?:
		       vmmig_session_connect(s, &a->connect);
	case VMMIG_IOC_ACCEPT:
		return vmmig_need(s, VMMIG_STATE_NEW, VMMIG_ROLE_NONE) ?:
		       vmmig_session_accept(s, &a->accept);
	case VMMIG_IOC_SEND_DIRTY:
		return vmmig_need(s, VMMIG_STATE_ACTIVE, VMMIG_ROLE_SOURCE) ?:
		       vmmig_send_dirty(s, &a->dirty);
	case VMMIG_IOC_SEND_BLOB:
		return vmmig_need(s, VMMIG_STATE_ACTIVE, VMMIG_ROLE_SOURCE) ?:
		       vmmig_session_send_blob(s, &a->blob);
	case VMMIG_IOC_SYNC:
		return vmmig_need(s, VMMIG_STATE_ACTIVE, VMMIG_ROLE_SOURCE) ?:
		       vmmig_session_sync(s);
	case VMMIG_IOC_FINISH:
		return vmmig_need(s, VMMIG_STATE_ACTIVE, VMMIG_ROLE_SOURCE) ?:
		       vmmig_session_finish(s);
	case VMMIG_IOC_SET_AUTH:
		return vmmig_need(s, VMMIG_STATE_NEW, VMMIG_ROLE_NONE) ?:
		       vmmig_session_set_auth(s, &a->auth);
	case VMMIG_IOC_SEND_DIRTY_RING:
		return vmmig_need(s, VMMIG_STATE_ACTIVE, VMMIG_ROLE_SOURCE) ?:
		       vmmig_send_dirty_ring(s, &a->ring);
	case VMMIG_IOC_WAIT_EVENT:
		if (s->role != VMMIG_ROLE_DESTINATION || s->state == VMMIG_STATE_NEW)
			return -EBADFD;
		return vmmig_session_wait_event(s, &a->event);
	}
	return -ENOTTY;
}

/*
 * ABORT does not take s->lock: it is how a VMM ends a session that another
 * of its threads is blocked in (SEND_DIRTY, SYNC, FINISH, WAIT_EVENT), e.g.
 * on migrate_cancel. vmmig_session_abort() may run from any thread, and the
 * channels it shuts down live until the file is released; ev_lock orders
 * the state check with the other ends of a session (abort, finish).
 */
static long vmmig_abort(struct vmmig_session *s)
{
	long ret;

	spin_lock_bh(&s->ev_lock);
	ret = vmmig_need(s, VMMIG_STATE_ACTIVE, s->role);
	spin_unlock_bh(&s->ev_lock);
	if (!ret)
		vmmig_session_abort(s, ECONNABORTED, true, "ABORT by the VMM");
	return ret;
}

static long vmmig_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct vmmig_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct vmmig_ioctl *io;
	union vmmig_args *a;
	u32 usize = 0;
	long ret;

	io = vmmig_ioctl_find(cmd);
	if (!io)
		return -ENOTTY;
	cmd = io->cmd;
	if (cmd == VMMIG_IOC_VERSION)
		return VMMIG_ABI_VERSION;
	if (cmd == VMMIG_IOC_ABORT)
		return vmmig_abort(s);

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	if (io->size) {
		ret = vmmig_copy_in(a, io->size, io->size, uarg, &usize);
		if (ret)
			goto out;
	}

	/* Neither waits for s->lock, which a SEND_DIRTY may hold for long. */
	if (cmd == VMMIG_IOC_GET_STATS) {
		vmmig_session_stats(s, &a->stats);
		ret = 0;
	} else if (cmd == VMMIG_IOC_SET_BANDWIDTH) {
		ret = vmmig_session_set_bandwidth(s, &a->bandwidth);
	} else {
		ret = mutex_lock_interruptible(&s->lock);
		if (ret)
			goto out;
		ret = vmmig_dispatch(s, cmd, a);
		mutex_unlock(&s->lock);
	}
	/* EMSGSIZE: WAIT_EVENT says how large a buffer the blob needs. */
	if (io->out && (!ret || ret == -EMSGSIZE) &&
	    vmmig_copy_out(uarg, a, io->size, usize))
		ret = -EFAULT;
out:
	kfree_sensitive(a);	/* SET_AUTH's key */
	return ret;
}

static const struct file_operations vmmig_fops = {
	.owner		= THIS_MODULE,
	.open		= vmmig_open,
	.release	= vmmig_release,
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
