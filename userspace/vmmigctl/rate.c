// SPDX-License-Identifier: GPL-2.0
/*
 * Rates in tc(8)'s units (its UNITS section), for the bandwidth setting:
 * bit, kbit, mbit, gbit, tbit are decimal bits per second, kibit .. tibit
 * binary ones, bps, kbps .. tbps and kibps .. tibps the same in bytes; a
 * bare number is bits, as in tc. The kernel takes bytes per second.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <linux/vmmig.h>

#include "vmmigctl.h"

static const struct {
	const char *name;
	__u64 bits;			/* bits per second of one unit */
} rate_units[] = {
	{ "", 1 }, { "bit", 1 },
	{ "kbit", 1000ULL }, { "mbit", 1000000ULL }, { "gbit", 1000000000ULL },
	{ "tbit", 1000000000000ULL },
	{ "kibit", 1ULL << 10 }, { "mibit", 1ULL << 20 }, { "gibit", 1ULL << 30 },
	{ "tibit", 1ULL << 40 },
	{ "bps", 8 },
	{ "kbps", 8000ULL }, { "mbps", 8000000ULL }, { "gbps", 8000000000ULL },
	{ "tbps", 8000000000000ULL },
	{ "kibps", 8ULL << 10 }, { "mibps", 8ULL << 20 }, { "gibps", 8ULL << 30 },
	{ "tibps", 8ULL << 40 },
};

/* Decimal digits of a fraction kept: tc's rates are not finer than this. */
#define RATE_FRAC_DIGITS	9

/**
 * rate_parse - a rate as a person writes it, in bytes per second
 * @s: "0" or "unlimited" (no cap), or NUMBER[.FRACTION][UNIT]
 * @bytes: the rate, rounded down to whole bytes per second
 * @why: on failure, what is wrong, for "bandwidth 'S': WHY"
 *
 * Return: 0, or -1 for garbage, an unknown unit, a rate over 2^64 - 1
 * bytes per second, or one above 0 but below VMMIG_MIN_BANDWIDTH.
 */
int rate_parse(const char *s, __u64 *bytes, const char **why)
{
	unsigned __int128 whole = 0, frac = 0, scale = 1, bits;
	const char *p = s;
	unsigned int i, digits = 0;

	*why = "not a rate (e.g. 500mbit, 1gbit, 100mbps; 0: unlimited)";
	if (!strcmp(s, "unlimited")) {
		*bytes = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		whole = whole * 10 + (*p - '0');
		/* 20 digits already pass 2^64 bytes in bits; stop before __int128 does */
		if (digits > 24) {
			*why = "too large: at most 2^64 - 1 bytes per second";
			return -1;
		}
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (digits = 0; isdigit((unsigned char)*p); p++, digits++) {
			if (digits < RATE_FRAC_DIGITS) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
		}
	}
	for (i = 0; i < ARRAY_SIZE(rate_units); i++)
		if (!strcasecmp(p, rate_units[i].name))
			break;
	if (i == ARRAY_SIZE(rate_units)) {
		*why = "unknown unit (bit, kbit, mbit, gbit, tbit, kibit.., bps, kbps.., kibps..)";
		return -1;
	}
	bits = whole * rate_units[i].bits + frac * rate_units[i].bits / scale;
	if (bits / 8 > (unsigned __int128)UINT64_MAX) {
		*why = "too large: at most 2^64 - 1 bytes per second";
		return -1;
	}
	*bytes = bits / 8;
	if (!whole && !frac)
		return 0;
	if (*bytes < VMMIG_MIN_BANDWIDTH) {
		*why = "below the smallest cap, 8kbit (1000 bytes per second); 0 is unlimited";
		return -1;
	}
	return 0;
}

/**
 * rate_format - bytes per second the way tc would take them back
 * @buf: the text: "unlimited", or the largest decimal bit unit that shows
 *	the rate exactly ("500mbit", "8kbit", "1000000001bit")
 * @len: its size
 * @bytes: the rate
 */
void rate_format(char *buf, size_t len, __u64 bytes)
{
	static const char *const units[] = { "bit", "kbit", "mbit", "gbit", "tbit" };
	unsigned __int128 bits = (unsigned __int128)bytes * 8;
	unsigned int u = 0;

	if (!bytes) {
		snprintf(buf, len, "unlimited");
		return;
	}
	while (u + 1 < ARRAY_SIZE(units) && !(bits % 1000)) {
		bits /= 1000;
		u++;
	}
	if (bits > UINT64_MAX) {	/* over 2^61 bytes/s: no bit unit fits */
		snprintf(buf, len, "%llubps", (unsigned long long)bytes);
		return;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)bits, units[u]);
}
