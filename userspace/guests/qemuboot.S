/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qemuboot: boots a guest program (a flat binary, PAYLOAD) on a machine
 * that is not vmmig-vm's: QEMU's `-kernel` loads this as a multiboot image
 * (a 32-bit ELF; objcopy makes one of the 64-bit link), and enters it in
 * 32-bit protected mode with paging off, %eax = the multiboot magic and
 * %ebx = the multiboot information. From there it builds what guest_abi.h
 * promises the program: the GDT, the identity map of the first 4 GiB with
 * 2 MiB pages, long mode, the info page (qemuboot.c), the program at
 * GUEST_IMAGE_GPA, vCPU 0's stack; then it jumps to the program. One vCPU:
 * there is no bring-up of application processors.
 *
 * The stub is linked at 4 MiB (qemuboot.ld), out of the way of the program
 * it copies to 1 MiB; the program may overwrite it once it runs.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000003	/* modules page-aligned, memory info */

#define GDT_GPA		0x1000		/* GUEST_GDT_GPA */
#define PML4_GPA	0x2000		/* GUEST_PML4_GPA: PML4, PDPT, 4 PDs */
#define INFO_GPA	0x8000		/* GUEST_INFO_GPA */
#define STACK0_TOP	0x18000		/* GUEST_STACKS_GPA + GUEST_STACK_SIZE */
#define IMAGE_GPA	0x100000	/* GUEST_IMAGE_GPA */

	.section .multiboot, "a"
	.align 4
	.long	MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .text.start, "ax"
	.code32
	.globl qemuboot_entry
qemuboot_entry:
	cli
	movl	%ebx, mb_info
	movl	$stack_top, %esp
	/* The BIOS left the 8259s routing the PIT to vector 8: mask them all. */
	movb	$0xff, %al
	outb	%al, $0xa1
	outb	%al, $0x21

	/* The GDT the program expects: null, 64-bit code 0x08, data 0x10. */
	movl	$gdt_image, %esi
	movl	$GDT_GPA, %edi
	movl	$24, %ecx
	rep movsb

	/* PML4[0] -> PDPT, PDPT[0..3] -> four PDs of 512 2 MiB pages each. */
	movl	$PML4_GPA, %edi
	movl	$(6 * 4096 / 4), %ecx
	xorl	%eax, %eax
	rep stosl
	movl	$(PML4_GPA + 0x1000 + 3), PML4_GPA
	movl	$(PML4_GPA + 0x2000 + 3), %eax
	movl	$(PML4_GPA + 0x1000), %edi
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$0x1000, %eax
	addl	$8, %edi
	loop	1b
	movl	$(PML4_GPA + 0x2000), %edi
	xorl	%ebx, %ebx		/* page number, in 2 MiB */
1:	movl	%ebx, %eax
	shll	$21, %eax
	orl	$0x83, %eax		/* present, writable, 2 MiB */
	movl	%eax, (%edi)
	movl	%ebx, %eax
	shrl	$11, %eax		/* bits 32.. of the address */
	movl	%eax, 4(%edi)
	addl	$8, %edi
	incl	%ebx
	cmpl	$2048, %ebx
	jne	1b

	/* Long mode: PAE, the tables, EFER.LME, paging; SSE as vmmig-vm sets CR4. */
	movl	%cr4, %eax
	orl	$((1 << 5) | (1 << 9) | (1 << 10)), %eax	/* PAE, OSFXSR, OSXMMEXCPT */
	movl	%eax, %cr4
	movl	$PML4_GPA, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx
	rdmsr
	orl	$(1 << 8), %eax
	wrmsr
	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax	/* PG WP NE MP PE */
	andl	$~((1 << 30) | (1 << 29) | (1 << 2)), %eax		/* caches on, no EM */
	movl	%eax, %cr0
	lgdt	gdt_desc
	ljmp	$0x08, $long_mode

	.code64
long_mode:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%eax, %ss
	movl	$stack_top, %esp
	movl	mb_info, %edi
	movq	$payload_start, %rsi
	movq	$payload_end, %rdx
	call	qemuboot_main
	/* vCPU 0 as vmmig-vm starts it (guest_abi.h, BOOT). */
	movl	$STACK0_TOP, %esp
	xorl	%edi, %edi
	movl	$INFO_GPA, %esi
	xorl	%ebp, %ebp
	movl	$IMAGE_GPA, %eax
	jmp	*%rax

	.section .rodata
	.align 8
gdt_image:
	.quad	0, 0x00af9a000000ffff, 0x00cf92000000ffff
gdt_desc:
	.word	23
	.long	GDT_GPA

	.align 4096
payload_start:
	.incbin	PAYLOAD
payload_end:

	.bss
	.align 8
mb_info:
	.long	0
	.align 16
	.space	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
