/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VMMIG_ZERO_H
#define _VMMIG_ZERO_H

#include <linux/mm.h>
#include <linux/types.h>

/*
 * Is this page all zero? Every page sent is scanned on the source, and every
 * zero page on the destination (to leave one that is zero already alone).
 * memchr_inv() tests each 8 bytes on their own; ORing a 64-byte line first
 * takes one branch per line, as QEMU's buffer_is_zero() does. A page with
 * data usually fails on its first line.
 */
static inline bool vmmig_mem_page_zero(const void *addr)
{
	const u64 *p = addr;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i += 8)
		if (p[i] | p[i + 1] | p[i + 2] | p[i + 3] |
		    p[i + 4] | p[i + 5] | p[i + 6] | p[i + 7])
			return false;
	return true;
}

#endif /* _VMMIG_ZERO_H */
