/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _QEMUBOOT_H
#define _QEMUBOOT_H

/* qemuboot.ld: where the boot stub begins, above the program's image */
extern char __stub_start[];

#endif /* _QEMUBOOT_H */
