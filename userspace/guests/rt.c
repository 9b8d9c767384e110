// SPDX-License-Identifier: GPL-2.0
/*
 * The guest runtime (see rt.h): entry, exceptions, printing, clock, sleep,
 * block I/O and argument parsing.
 */
#include "rt.h"

struct guest_info *rt_info;
static int apic_sleep;		/* sleep with the APIC timer, see apic_sleep_init() */

/* 64-bit interrupt gates: the 32 exception vectors, then the APIC timer's. */
struct idt_gate {
	u16 off0;
	u16 sel;
	u8 ist;
	u8 type;
	u16 off1;
	u32 off2;
	u32 zero;
};

static struct idt_gate idt[GUEST_TIMER_VECTOR + 1] __aligned(16);

static void idt_set(unsigned int vec, u64 h)
{
	idt[vec].off0 = h & 0xffff;
	idt[vec].sel = 0x08;
	idt[vec].ist = 0;
	idt[vec].type = 0x8e;	/* present, DPL 0, interrupt gate */
	idt[vec].off1 = (h >> 16) & 0xffff;
	idt[vec].off2 = h >> 32;
	idt[vec].zero = 0;
}

static void idt_load(void)
{
	struct {
		u16 limit;
		u64 base;
	} __packed idtr = { sizeof(idt) - 1, (u64)idt };
	unsigned int i;

	/* Every vCPU writes the same gates: the race is harmless. */
	for (i = 0; i < 32; i++)
		idt_set(i, (u64)(rt_exception_stubs + i * 16));
	idt_set(GUEST_TIMER_VECTOR, (u64)rt_timer_irq);
	asm volatile("lidt %0" : : "m"(idtr));
}

/* APIC registers are MMIO: one 32-bit access each, never merged or cached. */
static void lapic_write(u32 reg, u32 v)
{
	asm volatile("movl %0, (%1)" : : "r"(v), "r"(GUEST_LAPIC_GPA + reg) : "memory");
}

static u32 lapic_read(u32 reg)
{
	u32 v;

	asm volatile("movl (%1), %0" : "=r"(v) : "r"(GUEST_LAPIC_GPA + reg) : "memory");
	return v;
}

#define LAPIC_SVR		0xf0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0
#define LVT_MASKED		0x10000U
#define LVT_PERIODIC		0x20000U
#define APIC_TICK_US		5000

/*
 * No sleep port (QEMU): a periodic APIC timer, every APIC_TICK_US, wakes
 * the hlt in rt_sleep_us(), so that a sleep does not spin on the clock
 * (which would burn a host CPU and make the VMMs' CPU times incomparable).
 * Periodic rather than a TSC deadline per sleep: under nested KVM in the
 * TCG test VM a guest armed with TSC deadlines once never woke again, and a
 * timer that keeps firing cannot lose the wakeup. The timer's rate is
 * measured against the TSC (masked, one-shot, over 1 ms).
 */
static void apic_sleep_init(void)
{
	u64 t0, per_ms;

	lapic_write(LAPIC_SVR, 0x1ff);		/* software-enabled, spurious vector 0xff */
	lapic_write(LAPIC_TIMER_DIV, 0xb);	/* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, GUEST_TIMER_VECTOR | LVT_MASKED);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	t0 = rt_now_us();
	while (rt_now_us() - t0 < 1000)
		cpu_relax();
	per_ms = 0xffffffffULL - lapic_read(LAPIC_TIMER_CUR);
	if (!per_ms || per_ms * APIC_TICK_US / 1000 > 0xffffffffULL)
		return;				/* no usable timer: sleeps spin */
	lapic_write(LAPIC_LVT_TIMER, GUEST_TIMER_VECTOR | LVT_PERIODIC);
	lapic_write(LAPIC_TIMER_INIT, per_ms * APIC_TICK_US / 1000);
	apic_sleep = 1;
}

void rt_exception(u64 vec, u64 err, u64 rip)
{
	rt_printf("guest: exception %llu (error %#llx) at %#llx\n", vec, err, rip);
	rt_poweroff(100 + vec);
}

void rt_entry(unsigned int cpu, struct guest_info *info)
{
	int ret;

	rt_info = info;
	idt_load();
	if (info->magic != GUEST_INFO_MAGIC) {
		rt_printf("guest: bad info page magic %#llx\n", info->magic);
		rt_poweroff(99);
	}
	if (info->flags & GUEST_INFO_APIC_SLEEP)
		apic_sleep_init();
	ret = guest_main(cpu);
	if (cpu == 0)
		rt_poweroff(ret);
}

void rt_poweroff(u32 code)
{
	for (;;)
		port_out32(GUEST_PORT_POWEROFF, code);
}

u64 rt_now_us(void)
{
	u64 t = rdtsc(), khz = rt_info->tsc_khz;

	return t / khz * 1000 + t % khz * 1000 / khz;
}

void rt_sleep_us(u64 us)
{
	if (apic_sleep) {
		/* Until the next tick: "may end early" covers the rest (rt_sleep_until loops). */
		if (us)
			asm volatile("sti; hlt; cli" ::: "memory");
		return;
	}
	port_out32(GUEST_PORT_SLEEP, us > 0xffffffffULL ? 0xffffffffU : (u32)us);
}

void rt_sleep_until(u64 deadline, u64 slice_us)
{
	u64 now;

	while ((now = rt_now_us()) < deadline) {
		u64 left = deadline - now;

		rt_sleep_us(left < slice_us ? left : slice_us);
	}
}

void rt_lock(struct rt_lock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (READ_ONCE(l->locked))
			cpu_relax();
}

void rt_unlock(struct rt_lock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* The whole line goes out in one exit: rep outsb. */
static void serial_write(const char *s, size_t n)
{
	asm volatile("rep outsb"
		     : "+S"(s), "+c"(n)
		     : "d"((u16)GUEST_PORT_COM1)
		     : "memory");
}

static struct rt_lock print_lock;

int rt_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	rt_lock(&print_lock);
	serial_write(buf, n);
	rt_unlock(&print_lock);
	return n;
}

struct outbuf {
	char *p;
	size_t left;
	int n;
};

static void out_c(struct outbuf *o, char c)
{
	if (o->left > 1) {
		*o->p++ = c;
		o->left--;
	}
	o->n++;
}

static void out_num(struct outbuf *o, u64 v, unsigned int base, int neg,
		    int width, char pad, int alt)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (alt)
		width -= 2;
	if (neg)
		width--;
	if (neg && pad == '0')
		out_c(o, '-');
	if (alt) {
		out_c(o, '0');
		out_c(o, 'x');
	}
	for (; width > i; width--)
		out_c(o, pad);
	if (neg && pad != '0')
		out_c(o, '-');
	while (i)
		out_c(o, tmp[--i]);
}

/* %d %u %x %s %c %%, with l/ll, '#', '0' and a width. */
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		int lng = 0, width = 0, alt = 0;
		char pad = ' ';
		u64 u;
		s64 d;

		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#') {
			alt = 1;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
			d = lng ? va_arg(ap, s64) : va_arg(ap, int);
			out_num(&o, d < 0 ? -(u64)d : (u64)d, 10, d < 0, width, pad, 0);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, u64) : va_arg(ap, unsigned int);
			out_num(&o, u, *fmt == 'x' ? 16 : 10, 0, width, pad, alt);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				out_c(&o, *s++);
			break;
		}
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case '%':
			out_c(&o, '%');
			break;
		default:
			return o.n;
		}
	}
	if (size)
		*o.p = 0;
	return o.n;
}

u64 rt_arg(const char *name, u64 def)
{
	const char *s = rt_info->args;
	size_t len = 0;

	while (name[len])
		len++;
	while (*s) {
		size_t i = 0;

		while (*s == ' ')
			s++;
		while (i < len && s[i] == name[i])
			i++;
		if (i == len && s[i] == '=') {
			u64 v = 0;

			for (s += len + 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + *s - '0';
			return v;
		}
		while (*s && *s != ' ')
			s++;
	}
	return def;
}

int rt_blk_io(u32 op, u64 block, u32 count, void *buf)
{
	struct guest_blk_req req = {
		.op = op, .status = 0xff, .block = block, .count = count,
		.buf = (u64)buf,
	};

	/* The asm's memory clobber: req is written before, status read after. */
	port_out32(GUEST_PORT_BLK, (u32)(u64)&req);
	return READ_ONCE(req.status);
}

u32 rt_blk_blocks(void)
{
	return port_in32(GUEST_PORT_BLK);
}

void rt_clock_init(struct rt_clock *c)
{
	c->last_us = rt_now_us();
	c->seen_migrations = READ_ONCE(rt_info->migrations);
	c->gap_us = 0;
}

int rt_clock_tick(struct rt_clock *c, unsigned int cpu)
{
	u64 now = rt_now_us(), gap = now - c->last_us;
	u64 mig = READ_ONCE(rt_info->migrations);

	c->last_us = now;
	if (mig == c->seen_migrations)
		return 0;
	c->seen_migrations = mig;
	c->gap_us = gap;
	if (cpu == 0) {
		WRITE_ONCE(rt_info->gap_us, gap);
		__atomic_store_n(&rt_info->gap_migration, mig, __ATOMIC_RELEASE);
	}
	return 1;
}

void rt_stop_init(struct rt_stop *s)
{
	s->mig = rt_arg("mig", 0);
	s->after = rt_arg("after", 0);
	s->done_after = 0;
}

int rt_stop_count(struct rt_stop *s)
{
	if (!s->after || READ_ONCE(rt_info->migrations) < s->mig)
		return 0;
	return ++s->done_after >= s->after;
}

void *memset(void *s, int c, size_t n)
{
	void *ret = s;

	asm volatile("rep stosb" : "+D"(s), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
