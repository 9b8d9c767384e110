// SPDX-License-Identifier: GPL-2.0
/*
 * COM1, the part of a 16550 a guest needs to print: bytes written to THR
 * go to the VMM's serial output; LSR always says the transmitter is empty;
 * the other registers only keep what was written (and move with the VM).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

#define UART_THR	0	/* DLAB 0: transmit; DLAB 1: divisor low */
#define UART_IER	1	/* DLAB 1: divisor high */
#define UART_IIR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define LCR_DLAB	0x80
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01

void serial_init(struct serial *s, int out_fd)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
}

static void serial_emit(struct serial *s, const u8 *buf, size_t n)
{
	while (n) {
		ssize_t w = write(s->out_fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* nobody reads the console: the guest must not stall */
		buf += w;
		n -= w;
	}
}

static u8 serial_read(struct serial *s, unsigned int reg)
{
	switch (reg) {
	case UART_THR:
		return s->lcr & LCR_DLAB ? s->dll : 0;
	case UART_IER:
		return s->lcr & LCR_DLAB ? s->dlm : s->ier;
	case UART_IIR:
		return IIR_NO_INT;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT;
	case UART_MSR:
		return 0;
	default:
		return s->scr;
	}
}

static void serial_write_reg(struct serial *s, unsigned int reg, u8 v)
{
	switch (reg) {
	case UART_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_emit(s, &v, 1);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB)
			s->dlm = v;
		else
			s->ier = v & 0x0f;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
}

/* One exit: @count accesses of @size bytes (a string I/O has count > 1). */
void serial_io(struct serial *s, u16 port, bool out, u8 *data,
	       unsigned int size, unsigned int count)
{
	unsigned int reg = port - GUEST_PORT_COM1, i;

	pthread_mutex_lock(&s->lock);
	if (out && reg == UART_THR && !(s->lcr & LCR_DLAB) && size == 1) {
		serial_emit(s, data, count);	/* a whole rep outsb at once */
	} else {
		for (i = 0; i < size * count; i++) {
			if (out)
				serial_write_reg(s, reg, data[i]);
			else
				data[i] = serial_read(s, reg);
		}
	}
	pthread_mutex_unlock(&s->lock);
}

void serial_save(struct serial *s, struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	memset(st, 0, sizeof(*st));
	st->ier = s->ier;
	st->lcr = s->lcr;
	st->mcr = s->mcr;
	st->scr = s->scr;
	st->dll = s->dll;
	st->dlm = s->dlm;
	pthread_mutex_unlock(&s->lock);
}

void serial_restore(struct serial *s, const struct serial_state *st)
{
	pthread_mutex_lock(&s->lock);
	s->ier = st->ier;
	s->lcr = st->lcr;
	s->mcr = st->mcr;
	s->scr = st->scr;
	s->dll = st->dll;
	s->dlm = st->dlm;
	pthread_mutex_unlock(&s->lock);
}
