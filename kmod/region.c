// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM regions: validated, pinned for the life of the session (the
 * source splices them into sockets, the destination receives into them)
 * and charged to the registering process's RLIMIT_MEMLOCK.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "vmmig.h"

/* pin_user_pages_fast() takes an int count: pin in slices. */
#define VMMIG_PIN_BATCH	(256UL * 1024)

static bool vmmig_overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

struct vmmig_mem *vmmig_mem_find(struct vmmig_session *s, u32 id)
{
	unsigned int i;

	for (i = 0; i < s->nmems; i++)
		if (s->mems[i].id == id)
			return &s->mems[i];
	return NULL;
}

static int vmmig_mem_check(struct vmmig_session *s, const struct vmmig_region *r)
{
	u64 end;
	unsigned int i;

	if (r->flags & ~VMMIG_REGION_FRESH || r->reserved)
		return -EINVAL;
	if (!r->length || r->length > VMMIG_MAX_REGION_BYTES ||
	    !PAGE_ALIGNED(r->uaddr) || !PAGE_ALIGNED(r->length) || !PAGE_ALIGNED(r->gpa))
		return -EINVAL;
	if (check_add_overflow(r->uaddr, r->length, &end) || end > TASK_SIZE ||
	    check_add_overflow(r->gpa, r->length, &end))
		return -EINVAL;
	for (i = 0; i < s->nmems; i++) {
		const struct vmmig_mem *m = &s->mems[i];
		u64 len = (u64)m->npages << PAGE_SHIFT;

		if (m->id == r->id || vmmig_overlaps(m->uaddr, len, r->uaddr, r->length) ||
		    vmmig_overlaps(m->gpa, len, r->gpa, r->length))
			return -EEXIST;
	}
	if (s->nmems == VMMIG_MAX_REGIONS)
		return -ENOSPC;
	return 0;
}

static void vmmig_mem_unpin(struct vmmig_session *s, struct page **pages,
			    unsigned long n)
{
	/* The destination wrote into its pages behind the page tables' back. */
	if (s->role == VMMIG_ROLE_DESTINATION)
		unpin_user_pages_dirty_lock(pages, n, true);
	else
		unpin_user_pages(pages, n);
}

/* Caller holds s->lock; the session is NEW. */
int vmmig_mem_add(struct vmmig_session *s, const struct vmmig_region *r)
{
	struct vmmig_mem *m;
	unsigned long npages, done = 0;
	unsigned long *maybe_data = NULL;
	struct page **pages;
	int ret;

	BUILD_BUG_ON(PAGE_SIZE != VMMIG_PAGE_SIZE);
	ret = vmmig_mem_check(s, r);
	if (ret)
		return ret;
	if (s->mm && s->mm != current->mm)
		return -EPERM;	/* all regions of a session belong to one process */

	npages = r->length >> PAGE_SHIFT;
	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		return ret;
	/*
	 * Up to 2 GiB of page pointers for the largest region the uapi
	 * allows: the caller's input decides the size, so a failure is its
	 * -ENOMEM, not a kernel warning.
	 */
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages) {
		ret = -ENOMEM;
		goto err_unaccount;
	}
	if (r->flags & VMMIG_REGION_FRESH) {
		/* A bit per page: 1/32768 of the region, on the same terms. */
		maybe_data = kvcalloc(BITS_TO_LONGS(npages), sizeof(long),
				      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!maybe_data) {
			ret = -ENOMEM;
			goto err_free;
		}
	}
	/* FOLL_WRITE: break COW now, so that the pinned page stays the VM's page. */
	while (done < npages) {
		ret = pin_user_pages_fast(r->uaddr + (done << PAGE_SHIFT),
					  min(npages - done, VMMIG_PIN_BATCH),
					  FOLL_WRITE | FOLL_LONGTERM, pages + done);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		done += ret;
		cond_resched();
	}

	if (!s->mm) {
		s->mm = current->mm;
		mmgrab(s->mm);
	}
	s->locked_pages += npages;
	m = &s->mems[s->nmems++];
	m->id = r->id;
	m->uaddr = r->uaddr;
	m->gpa = r->gpa;
	m->npages = npages;
	m->pages = pages;
	m->maybe_data = maybe_data;
	return 0;

err_unpin:
	unpin_user_pages(pages, done);
	kvfree(maybe_data);
err_free:
	kvfree(pages);
err_unaccount:
	account_locked_vm(current->mm, npages, false);
	return ret;
}

void vmmig_mem_release_all(struct vmmig_session *s)
{
	unsigned int i;

	for (i = 0; i < s->nmems; i++) {
		vmmig_mem_unpin(s, s->mems[i].pages, s->mems[i].npages);
		kvfree(s->mems[i].pages);
		kvfree(s->mems[i].maybe_data);
	}
	s->nmems = 0;
	if (s->mm) {
		account_locked_vm(s->mm, s->locked_pages, false);
		mmdrop(s->mm);
		s->mm = NULL;
	}
}
