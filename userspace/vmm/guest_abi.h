/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine vmmig-vm gives a guest: what the guest program and the VMM
 * agree on. Included by both (userspace/guests/ and userspace/vmm/);
 * Documentation/vmm.md describes it for people.
 *
 * BOOT
 * ----
 * The flat guest binary is loaded at GUEST_IMAGE_GPA. Every vCPU starts
 * there in 64-bit long mode, interrupts off, with
 *	%rdi = the vCPU index (0 .. ncpus - 1)
 *	%rsi = GUEST_INFO_GPA (struct guest_info)
 *	%rsp = the top of the vCPU's GUEST_STACK_SIZE stack
 * The first 4 GiB are identity-mapped with 2 MiB pages (tables at
 * GUEST_PML4_GPA); the GDT at GUEST_GDT_GPA has a 64-bit code segment at
 * selector 0x08 and a data segment at 0x10. RAM is the only memory: there
 * is no MMIO, every device is port I/O.
 *
 * PORTS
 * -----
 * 0x3f8..0x3ff	COM1: a 16550 subset. THR writes go to the serial log
 *		(`rep outsb` writes a whole string in one exit); LSR always
 *		reads "transmitter empty"; the other registers read back.
 * GUEST_PORT_POWEROFF (out, 32 bit)
 *		Stops the VM; the value is the VMM's exit status.
 * GUEST_PORT_SLEEP (out, 32 bit)
 *		Sleep up to this many microseconds without using a host CPU.
 *		May end early (e.g. when the VM is paused or moved).
 * GUEST_PORT_BLK (out, 32 bit)
 *		Execute the block request at this guest-physical address
 *		(struct guest_blk_req, 8-byte aligned, below 4 GiB) before the
 *		instruction completes; the VMM writes the status into it.
 * GUEST_PORT_BLK (in, 32 bit)
 *		The disk's size in GUEST_BLOCK_SIZE blocks; 0: no disk.
 *
 * CLOCK
 * -----
 * The TSC, at guest_info.tsc_khz. A move keeps it running at wall-clock
 * speed: the destination sets it to the source's value plus the time the
 * move took, so a guest sees its downtime as a gap in its clock.
 *
 * Without GUEST_PORT_SLEEP (a machine other than vmmig-vm's, e.g. QEMU
 * booting the guest through guests/qemuboot: GUEST_INFO_APIC_SLEEP in
 * guest_info.flags), a guest sleeps with hlt, woken by a periodic local
 * APIC timer (vector GUEST_TIMER_VECTOR); the 8259 PICs are masked.
 *
 * THE INFO PAGE
 * -------------
 * struct guest_info, at GUEST_INFO_GPA. The VMM fills it in at boot and
 * updates @migrations while every vCPU is stopped; the guest writes the
 * "guest to VMM" fields whenever it likes (the VMM reads them racily, for
 * status displays and tests).
 */
#ifndef _VMMIG_GUEST_ABI_H
#define _VMMIG_GUEST_ABI_H

#include <linux/types.h>

#define GUEST_GDT_GPA		0x1000UL
#define GUEST_PML4_GPA		0x2000UL	/* then the PDPT and 4 PDs */
#define GUEST_INFO_GPA		0x8000UL
#define GUEST_STACKS_GPA	0x10000UL	/* vCPU n's stack tops at + (n + 1) * size */
#define GUEST_STACK_SIZE	0x8000UL
#define GUEST_MAX_VCPUS		16
#define GUEST_IMAGE_GPA		0x100000UL
#define GUEST_MIN_RAM		(4UL << 20)
#define GUEST_MAX_RAM		(3UL << 30)

#define GUEST_PORT_COM1		0x3f8
#define GUEST_PORT_POWEROFF	0x500
#define GUEST_PORT_SLEEP	0x504
#define GUEST_PORT_BLK		0x510

#define GUEST_BLOCK_SIZE	4096

#define GUEST_TIMER_VECTOR	32
#define GUEST_LAPIC_GPA		0xfee00000UL

/* guest_info.flags */
#define GUEST_INFO_APIC_SLEEP	0x1ULL	/* no sleep port: hlt, APIC timer ticks */

#define GUEST_INFO_MAGIC	0x4f464e49474d4d56ULL	/* "VMMGINFO" */
#define GUEST_ARGS_MAX		256

struct guest_info {
	/* VMM to guest, at boot */
	__u64 magic;
	__u64 ram_bytes;
	__u64 tsc_khz;
	__u32 ncpus;
	__u32 disk_blocks;
	char args[GUEST_ARGS_MAX];	/* "key=value key=value", NUL-terminated */
	/* VMM to guest, written while every vCPU is stopped */
	__u64 migrations;		/* incoming moves this VM has been through */
	/* guest to VMM */
	__u64 passes;		/* checks the guest completed */
	__u64 errors;		/* of which failed */
	__u64 progress;		/* a counter the guest advances (ticks, pages) */
	__u64 gap_us;		/* the clock gap it saw at its last move */
	__u64 gap_migration;		/* ... and which move that was */
	/* VMM to guest, at boot (after the fields above, which older guests know) */
	__u64 flags;			/* GUEST_INFO_* */
};

enum guest_blk_op {
	GUEST_BLK_READ = 1,
	GUEST_BLK_WRITE = 2,
	GUEST_BLK_FLUSH = 3,
};

enum guest_blk_status {
	GUEST_BLK_OK = 0,
	GUEST_BLK_EINVAL = 1,		/* unknown op, range past the disk, bad buffer */
	GUEST_BLK_EIO = 2,		/* the image could not be written */
};

struct guest_blk_req {
	__u32 op;			/* enum guest_blk_op */
	__u32 status;		/* enum guest_blk_status, written by the VMM */
	__u64 block;			/* first block */
	__u32 count;			/* blocks */
	__u32 reserved;
	__u64 buf;			/* guest-physical address of count blocks */
};

#endif /* _VMMIG_GUEST_ABI_H */
