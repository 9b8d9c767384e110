/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's names for types and compiler attributes, for the VMM and
 * the guest programs: userspace has no <linux/compiler.h>, and the code
 * follows kernel style (scripts/checkpatch.pl --strict).
 */
#ifndef _VMMIG_COMPILER_H
#define _VMMIG_COMPILER_H

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

#define __vmm_attr(...)		__attribute__(__VA_ARGS__)
#define __printf(a, b)		__vmm_attr((format(printf, a, b)))
#define __aligned(x)		__vmm_attr((aligned(x)))
#define __packed		__vmm_attr((packed))
#define __noreturn		__vmm_attr((noreturn))

#define BIT_ULL(nr)		(1ULL << (nr))

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif /* _VMMIG_COMPILER_H */
