// SPDX-License-Identifier: GPL-2.0
/*
 * qemuboot's 64-bit half (see qemuboot.S): what vmmig-vm's vm.c does for
 * a guest program, done from inside the machine. The multiboot command
 * line (QEMU's -append) becomes the program's argument string; RAM comes
 * from the multiboot memory info; the TSC's rate from "tsc_khz=N" on the
 * command line (the VMM's KVM_GET_TSC_KHZ, what vmmig-vm passes) or, if
 * absent, from counting TSC ticks over 50 ms of the PIT.
 */
#include "compiler.h"
#include "guest_abi.h"
#include "qemuboot.h"

/* The part of the multiboot information this reads. */
struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;	/* KiB below 1 MiB and above it (flags bit 0) */
	u32 boot_device;
	u32 cmdline;			/* flags bit 2 */
};

#define MB_INFO_MEM	0x1U
#define MB_INFO_CMDLINE	0x4U

static inline void port_out8(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 port_in8(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

static void fill(void *d, u8 c, u64 n)
{
	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
}

static void copy(void *d, const void *s, u64 n)
{
	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

/* PIT channel 2 in mode 0 counts 59659 ticks of 1.193182 MHz: 50 ms. */
static u64 pit_tsc_khz(void)
{
	u64 t0, t1;

	port_out8(0x61, (port_in8(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	port_out8(0x43, 0xb0);			/* channel 2, lo/hi, mode 0 */
	port_out8(0x42, 59659 & 0xff);
	port_out8(0x42, 59659 >> 8);
	t0 = rdtsc();
	while (!(port_in8(0x61) & 0x20))		/* OUT2: the count ran out */
		;
	t1 = rdtsc();
	return (t1 - t0) / 50;
}

/* The value of "tsc_khz=N" in @s, or 0. */
static u64 arg_tsc_khz(const char *s)
{
	static const char key[] = "tsc_khz=";

	for (; *s; s++) {
		unsigned int i = 0;
		u64 v = 0;

		if (s[0] == ' ')
			continue;
		while (key[i] && s[i] == key[i])
			i++;
		if (!key[i]) {
			for (s += i; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + *s - '0';
			return v;
		}
		while (s[1] && s[1] != ' ')
			s++;
	}
	return 0;
}

void qemuboot_main(u32 mbi_gpa, const char *payload, const char *payload_end)
{
	const struct mb_info *mbi = (const struct mb_info *)(u64)mbi_gpa;
	struct guest_info *info = (struct guest_info *)GUEST_INFO_GPA;
	const char *cmdline = "";
	u64 size = payload_end - payload, i;

	fill(info, 0, 4096);
	if (mbi->flags & MB_INFO_CMDLINE) {
		cmdline = (const char *)(u64)mbi->cmdline;
		/* QEMU puts the kernel's file name first. */
		while (*cmdline && *cmdline != ' ')
			cmdline++;
		while (*cmdline == ' ')
			cmdline++;
	}
	for (i = 0; i < GUEST_ARGS_MAX - 1 && cmdline[i]; i++)
		info->args[i] = cmdline[i];
	info->magic = GUEST_INFO_MAGIC;
	info->ram_bytes = mbi->flags & MB_INFO_MEM ? ((u64)mbi->mem_upper + 1024) << 10 :
						     GUEST_MIN_RAM;
	info->tsc_khz = arg_tsc_khz(info->args);
	if (!info->tsc_khz)
		info->tsc_khz = pit_tsc_khz();
	info->ncpus = 1;
	info->flags = GUEST_INFO_APIC_SLEEP;

	/*
	 * The program's .bss and the tables it puts after its end must start
	 * zeroed, as vmmig-vm's fresh RAM is: clear up to the stub.
	 */
	copy((void *)GUEST_IMAGE_GPA, payload, size);
	fill((void *)(GUEST_IMAGE_GPA + size), 0, (u64)__stub_start - GUEST_IMAGE_GPA - size);
}
