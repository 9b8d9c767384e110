/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal declarations shared by the files of the vmmig module.
 */
#ifndef _VMMIG_H
#define _VMMIG_H

#include <linux/types.h>
#include <linux/vmmig.h>

/* device.c */
int vmmig_device_init(void);
void vmmig_device_exit(void);

/* bitmap.c */
int vmmig_bitmap_check_tail(const unsigned long *map, unsigned long nbits);
bool vmmig_bitmap_next_run(const unsigned long *map, unsigned long nbits,
			   unsigned long start, unsigned long max_run,
			   unsigned long *run_start, unsigned long *run_len);

#endif /* _VMMIG_H */
