// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM regions: validated and charged to the registering process's
 * RLIMIT_MEMLOCK at ADD_REGION, but pinned only when the session first
 * moves their pages. Pinning a whole region up front faults in every page
 * the guest never touched (most of an idle guest's, all of a fresh
 * destination's): seconds per GiB, and memory the migration never needed.
 *
 * The destination pins what it places data in (or must read) for the rest
 * of the session. The source pins a run while it is being sent: a page
 * that is only read needs no COW broken, and one never touched reads as
 * the shared zero page without any memory allocated for it. An RDMA source
 * keeps its pins, as the HCA reads the pages after the send returns.
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

/*
 * What GUP would refuse later, refused now: every mapping the region spans
 * must let its first page be pinned for writing (not raw PFNs, not a file
 * that needs writeback, ...), so that a bad address is ADD_REGION's EFAULT
 * rather than a session aborting halfway through. Costs a page per mapping.
 */
static int vmmig_mem_check_vmas(u64 uaddr, u64 len)
{
	struct mm_struct *mm = current->mm;
	unsigned long addr = uaddr, end = uaddr + len, next;
	struct vm_area_struct *vma;
	struct page *page;
	long ret = 0;

	mmap_read_lock(mm);
	while (addr < end) {
		vma = vma_lookup(mm, addr);
		if (!vma) {
			ret = -EFAULT;
			break;
		}
		next = vma->vm_end;
		ret = pin_user_pages(addr, 1, FOLL_WRITE | FOLL_LONGTERM, &page);
		if (ret != 1) {
			ret = ret < 0 ? ret : -EFAULT;
			break;
		}
		unpin_user_page(page);
		ret = 0;
		addr = next;
	}
	mmap_read_unlock(mm);
	return ret;
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

/*
 * Pin pages [@page, @page + @n) of @m into @pages, from any of the
 * session's threads: through the VMM's mm, which may be going away.
 * On failure nothing is left pinned in @pages.
 */
static int vmmig_mem_gup(struct vmmig_session *s, struct vmmig_mem *m, u64 page,
			 unsigned long n, unsigned int flags, struct page **pages)
{
	unsigned long done = 0;
	long ret = 0;

	if (!mmget_not_zero(s->mm))
		return -EFAULT;
	mmap_read_lock(s->mm);
	while (done < n) {
		ret = pin_user_pages_remote(s->mm, m->uaddr + ((page + done) << PAGE_SHIFT),
					    min(n - done, VMMIG_PIN_BATCH), flags,
					    pages + done, NULL);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			break;
		}
		done += ret;
		ret = 0;
	}
	mmap_read_unlock(s->mm);
	mmput(s->mm);
	if (ret)
		unpin_user_pages(pages, done);
	return ret;
}

/*
 * Pin for the rest of the session whatever of pages [@page, @page + @n)
 * of @m is not pinned yet. FOLL_WRITE breaks COW now, so that the pinned
 * page stays the VM's page. A chunk's entries are only ever touched by
 * its one channel (send.c), so no lock.
 */
int vmmig_mem_pin(struct vmmig_session *s, struct vmmig_mem *m, u64 page, unsigned long n)
{
	unsigned long i = page, j, end = page + n;
	int ret;

	while (i < end) {
		if (m->pages[i]) {
			i++;
			continue;
		}
		for (j = i + 1; j < end && !m->pages[j]; j++)
			;
		ret = vmmig_mem_gup(s, m, i, j - i, FOLL_WRITE | FOLL_LONGTERM, m->pages + i);
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

/* Source: pin pages [@page, @page + @n) of @m to be read now; unpin_user_pages() after. */
int vmmig_mem_pin_run(struct vmmig_session *s, struct vmmig_mem *m, u64 page,
		      unsigned int n, struct page **pages)
{
	return vmmig_mem_gup(s, m, page, n, 0, pages);
}

static void vmmig_mem_unpin(struct vmmig_session *s, struct vmmig_mem *m)
{
	unsigned long i = 0, j;

	while (i < m->npages) {
		if (!m->pages[i]) {
			i++;
			continue;
		}
		for (j = i + 1; j < m->npages && m->pages[j]; j++)
			;
		/* The destination wrote into its pages behind the page tables' back. */
		if (s->role == VMMIG_ROLE_DESTINATION)
			unpin_user_pages_dirty_lock(m->pages + i, j - i, true);
		else
			unpin_user_pages(m->pages + i, j - i);
		i = j;
		cond_resched();
	}
}

/* Caller holds s->lock; the session is NEW. */
int vmmig_mem_add(struct vmmig_session *s, const struct vmmig_region *r)
{
	struct vmmig_mem *m;
	unsigned long npages;
	unsigned long *maybe_data = NULL;
	struct page **pages;
	int ret;

	BUILD_BUG_ON(PAGE_SIZE != VMMIG_PAGE_SIZE);
	ret = vmmig_mem_check(s, r);
	if (ret)
		return ret;
	if (s->mm && s->mm != current->mm)
		return -EPERM;	/* all regions of a session belong to one process */
	ret = vmmig_mem_check_vmas(r->uaddr, r->length);
	if (ret)
		return ret;

	npages = r->length >> PAGE_SHIFT;
	ret = account_locked_vm(current->mm, npages, true);
	if (ret)
		return ret;
	/*
	 * Up to 2 GiB of page pointers for the largest region the uapi
	 * allows: the caller's input decides the size, so a failure is its
	 * -ENOMEM, not a kernel warning.
	 */
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
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
		vmmig_mem_unpin(s, &s->mems[i]);
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
