/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest programs' runtime: port I/O, the serial port, the TSC clock,
 * the block device, arguments and a few primitives. Freestanding: no libc.
 */
#ifndef _GUEST_RT_H
#define _GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>

#include "compiler.h"
#include "guest_abi.h"

#define PAGE_SIZE	4096UL

extern struct guest_info *rt_info;
extern char _end[];
extern char rt_exception_stubs[];
extern char rt_timer_irq[];

/* Each program defines it; vCPU 0's return value is the VM's exit status. */
int guest_main(unsigned int cpu);

static inline void port_out32(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline u32 port_in32(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/* Time since the VM booted by its own clock (the TSC), in microseconds. */
u64 rt_now_us(void);
/* Sleep up to @us without burning the host's CPU (may end early). */
void rt_sleep_us(u64 us);
/* Sleep until rt_now_us() >= @deadline, in slices of at most @slice_us. */
void rt_sleep_until(u64 deadline, u64 slice_us);
void __noreturn rt_poweroff(u32 code);

int rt_printf(const char *fmt, ...) __printf(1, 2);
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* The value of "@name=..." in the VMM's argument string, or @def. */
u64 rt_arg(const char *name, u64 def);

/* The block device: 0 or enum guest_blk_status. */
int rt_blk_io(u32 op, u64 block, u32 count, void *buf);
u32 rt_blk_blocks(void);

/* A small, fast PRNG (xorshift64*); *state must not be 0. */
static inline u64 rt_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A 64-bit mix of two values: the checksums' building block. */
static inline u64 rt_mix(u64 a, u64 b)
{
	u64 x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x;
}

struct rt_lock {
	u32 locked;
};

void rt_lock(struct rt_lock *l);
void rt_unlock(struct rt_lock *l);

/*
 * Watching the clock for moves: call rt_clock_tick() once per iteration of
 * a loop. It keeps the largest gap between two calls, and when the VMM
 * says the VM has moved, it reports the gap of the call that noticed (the
 * time the VM was stopped, as the guest saw it) and returns true.
 */
struct rt_clock {
	u64 last_us;
	u64 seen_migrations;
	u64 gap_us;		/* the gap at the last move */
};

void rt_clock_init(struct rt_clock *c);
int rt_clock_tick(struct rt_clock *c, unsigned int cpu);

/*
 * When a program stops: once @mig moves have happened, after @after more
 * of its units (passes, ticks). @after 0: never.
 */
struct rt_stop {
	u64 mig;
	u64 after;
	u64 done_after;
};

void rt_stop_init(struct rt_stop *s);
/* Count one unit; true when it is time to stop. */
int rt_stop_count(struct rt_stop *s);

void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif /* _GUEST_RT_H */
