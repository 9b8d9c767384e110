/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of every guest program: the VMM starts each vCPU here in long mode
 * (see guest_abi.h) with %rdi = vCPU index, %rsi = the info page, %rsp set.
 * Also the exception stubs: each pushes its vector (and a zero error code
 * where the CPU pushes none) and calls rt_exception(), which reports and
 * powers off, so that a guest bug is a message and not a triple fault.
 * And the APIC timer's handler, for sleeping without the sleep port.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	cld
	xor	%rbp, %rbp
	call	rt_entry
1:	cli
	hlt
	jmp	1b

	.text
/* Vectors with a CPU error code: 8, 10-14, 17, 21, 29, 30. */
.macro stub vec
	.align 16
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exception_common
.endm

	.align 16
	.globl rt_exception_stubs
rt_exception_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub \vec
	.endr

/*
 * The APIC timer's interrupt (GUEST_TIMER_VECTOR), where a sleep ends on
 * machines without the sleep port: it only has to wake the hlt, so it
 * acknowledges (EOI register of the local APIC at 0xfee00000) and returns.
 */
	.align 16
	.globl rt_timer_irq
rt_timer_irq:
	push	%rax
	movabs	$0xfee000b0, %rax
	movl	$0, (%rax)
	pop	%rax
	iretq

exception_common:
	/* 0(%rsp) vector, 8 error code, 16 rip, 24 cs, 32 rflags */
	mov	(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	16(%rsp), %rdx
	and	$-16, %rsp
	call	rt_exception
1:	cli
	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
