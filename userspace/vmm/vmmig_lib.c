// SPDX-License-Identifier: GPL-2.0
/*
 * vmmig_lib: the /dev/vmmig client library (see vmmig_lib.h). Thin on
 * purpose: argument structs filled in, errors turned into sentences,
 * connect retries while the destination gets ready, and blob buffers
 * grown on demand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "vmmig_lib.h"

static int vml_fail(struct vml_session *s, int err, const char *fmt, ...)
	__printf(3, 4);

static int vml_fail(struct vml_session *s, int err, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	n = strlen(s->err);
	snprintf(s->err + n, sizeof(s->err) - n, ": %s", vml_strerror(err));
	return -err;
}

const char *vml_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT:
		return "no such device or region (is the vmmig module loaded?)";
	case EACCES:
		/* Not /dev/vmmig's mode: a VMM runs as root; the host setting it is. */
		return "refused: migrations disabled on this host (vmmigctl enable)";
	case EPERM:
		return "permission denied (/dev/vmmig is for root)";
	case EBUSY:
		return "refused: this host's max-migrations are running (vmmigctl show)";
	case EBADFD:
		return "not valid in the session's state (a VMM bug)";
	case EEXIST:
		return "region id or range registered twice";
	case ENXIO:
		return "the destination's memory regions differ from ours (ids or sizes)";
	case ECONNREFUSED:
		return "nobody is accepting a move on that port";
	case ETIMEDOUT:
		return "timed out: the peer stopped answering";
	case EPROTONOSUPPORT:
		return "the destination does not know that compression";
	case ECONNRESET:
		return "the peer closed the connection (its VMM went away)";
	case ECONNABORTED:
		return "the peer aborted the move";
	case ECANCELED:
		return "an administrator aborted the move (vmmigctl session abort)";
	case EPIPE:
		return "the connection broke";
	case EPROTO:
		return "protocol error: the peer speaks another vmmig protocol";
	case EBADMSG:
		return "corrupt data from the peer";
	case ENOMEM:
		return "out of memory, or RLIMIT_MEMLOCK too low to pin the memory";
	case EFAULT:
		return "memory not mapped or not pinnable (a file that needs writeback: use tmpfs)";
	case ENOBUFS:
		return "the destination has too many unread blobs";
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "no route to the destination";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

const char *vml_comp_name(u32 comp)
{
	switch (comp) {
	case VMMIG_COMP_NONE:
		return "none";
	case VMMIG_COMP_LZ4:
		return "lz4";
	case VMMIG_COMP_ZSTD:
		return "zstd";
	}
	return "unknown";
}

int vml_parse_addr(const char *str, u16 default_port, struct vml_addr *a)
{
	char host[128], *end;
	const char *port = NULL;
	unsigned long p;

	memset(a, 0, sizeof(*a));
	if (str[0] == '[') {
		const char *close = strchr(str, ']');

		if (!close || (size_t)(close - str - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, str + 1, close - str - 1);
		host[close - str - 1] = 0;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return -EINVAL;
	} else {
		const char *colon = strchr(str, ':');

		if (strlen(str) >= sizeof(host))
			return -EINVAL;
		memcpy(host, str, strlen(str) + 1);
		/* One colon: IPv4 with a port; more: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			host[colon - str] = 0;
			port = colon + 1;
		}
	}
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	a->port = default_port;
	if (port) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || !*port || !p || p > 65535)
			return -EINVAL;
		a->port = p;
	}
	return 0;
}

const char *vml_format_addr(const struct vml_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	/* Port 0 is the host's port setting: the address alone says it. */
	if (!a->port)
		snprintf(buf, size, "%s", host);
	else
		snprintf(buf, size, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, a->port);
	return buf;
}

int vml_open(struct vml_session *s)
{
	int version;

	memset(s, 0, sizeof(*s));
	s->fd = open("/dev/" VMMIG_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return vml_fail(s, errno, "/dev/" VMMIG_DEVICE_NAME);
	version = ioctl(s->fd, VMMIG_IOC_VERSION);
	if (version < VMMIG_ABI_VERSION) {
		close(s->fd);
		s->fd = -1;
		snprintf(s->err, sizeof(s->err), "/dev/vmmig speaks ABI %d, we need %d",
			 version, VMMIG_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

void vml_close(struct vml_session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->blob);
	s->blob = NULL;
	s->blob_size = 0;
}

int vml_add_region(struct vml_session *s, u32 id, void *addr, u64 length,
		   u64 gpa, u32 flags)
{
	struct vmmig_region r = {
		.size = sizeof(r), .flags = flags, .id = id, .uaddr = (unsigned long)addr,
		.length = length, .gpa = gpa,
	};

	if (ioctl(s->fd, VMMIG_IOC_ADD_REGION, &r) < 0)
		return vml_fail(s, errno, "registering region %u (%llu MiB at %#llx)", id,
				(length >> 20), gpa);
	return 0;
}

static u64 vml_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vml_connect(struct vml_session *s, const struct vml_addr *to, unsigned int channels,
		enum vmmig_comp comp, int level, unsigned int retry_ms)
{
	struct vmmig_connect c = {
		.size = sizeof(c), .family = to->family, .port = to->port,
		.channels = channels, .timeout_ms = 5000, .compression = comp, .level = level,
	};
	u64 deadline = vml_ms() + retry_ms;
	char where[64];

	memcpy(c.addr, to->addr, sizeof(c.addr));
	while (ioctl(s->fd, VMMIG_IOC_CONNECT, &c) < 0) {
		if (errno != ECONNREFUSED || vml_ms() >= deadline)
			return vml_fail(s, errno, "connecting %u channel(s) to %s", channels,
					vml_format_addr(to, where, sizeof(where)));
		usleep(20000);
	}
	return 0;
}

int vml_accept(struct vml_session *s, u16 port, unsigned int timeout_ms,
	       struct vml_addr *peer, unsigned int *channels)
{
	struct vmmig_accept a = { .size = sizeof(a), .port = port, .timeout_ms = timeout_ms };

	if (ioctl(s->fd, VMMIG_IOC_ACCEPT, &a) < 0) {
		if (!port)
			return vml_fail(s, errno, "waiting for the source on the host's port");
		return vml_fail(s, errno, "waiting for the source on port %u", port);
	}
	if (peer) {
		peer->family = a.peer_family;
		peer->port = a.peer_port;
		memcpy(peer->addr, a.peer_addr, sizeof(peer->addr));
	}
	if (channels)
		*channels = a.channels;
	return 0;
}

int vml_send_dirty(struct vml_session *s, u32 id, u64 first_page, u64 npages,
		   const unsigned long *bitmap, u64 *pages, u64 *zero_pages)
{
	struct vmmig_dirty d = {
		.size = sizeof(d), .region_id = id, .first_page = first_page,
		.num_pages = npages, .bitmap = (unsigned long)bitmap,
		.bitmap_size = bitmap ? (npages + 63) / 64 * 8 : 0,
		.flags = bitmap ? 0 : VMMIG_DIRTY_ALL,
	};

	if (ioctl(s->fd, VMMIG_IOC_SEND_DIRTY, &d) < 0)
		return vml_fail(s, errno, "sending pages %llu..%llu of region %u",
				first_page,
				(first_page + npages - 1), id);
	if (pages)
		*pages = d.pages;
	if (zero_pages)
		*zero_pages = d.zero_pages;
	return 0;
}

int vml_send_dirty_ring(struct vml_session *s, const struct vmmig_ring_slot *slots,
			u32 nslots, const void *entries, u64 n, u64 *pages, u64 *zero_pages)
{
	struct vmmig_dirty_ring d = {
		.size = sizeof(d), .nr_slots = nslots, .slots = (unsigned long)slots,
		.entries = (unsigned long)entries, .nr_entries = n,
	};

	if (ioctl(s->fd, VMMIG_IOC_SEND_DIRTY_RING, &d) < 0)
		return vml_fail(s, errno, "sending the pages of %llu dirty-ring entries", n);
	if (pages)
		*pages = d.pages;
	if (zero_pages)
		*zero_pages = d.zero_pages;
	return 0;
}

int vml_send_blob(struct vml_session *s, u32 tag, const void *data, u64 length)
{
	struct vmmig_blob b = {
		.size = sizeof(b), .tag = tag, .data = (unsigned long)data, .length = length,
	};

	if (ioctl(s->fd, VMMIG_IOC_SEND_BLOB, &b) < 0)
		return vml_fail(s, errno, "sending state blob %#x (%llu bytes)", tag,
				length);
	return 0;
}

int vml_sync(struct vml_session *s)
{
	if (ioctl(s->fd, VMMIG_IOC_SYNC) < 0)
		return vml_fail(s, errno, "waiting for the destination to place the round");
	return 0;
}

int vml_finish(struct vml_session *s)
{
	if (ioctl(s->fd, VMMIG_IOC_FINISH) < 0)
		return vml_fail(s, errno, "finishing the move");
	return 0;
}

int vml_abort(struct vml_session *s)
{
	if (ioctl(s->fd, VMMIG_IOC_ABORT) < 0)
		return vml_fail(s, errno, "aborting the session");
	return 0;
}

int vml_wait_event(struct vml_session *s, unsigned int timeout_ms, struct vml_event *ev)
{
	struct vmmig_event e;

	for (;;) {
		memset(&e, 0, sizeof(e));
		e.size = sizeof(e);
		e.timeout_ms = timeout_ms;
		e.data = (unsigned long)s->blob;
		e.data_size = s->blob_size;
		if (!ioctl(s->fd, VMMIG_IOC_WAIT_EVENT, &e))
			break;
		if (errno == EMSGSIZE) {
			/* The blob stays queued: take it with a buffer its size. */
			void *p = realloc(s->blob, e.length);

			if (!p)
				return vml_fail(s, ENOMEM, "a %llu-byte blob",
						e.length);
			s->blob = p;
			s->blob_size = e.length;
			continue;
		}
		if (errno == ETIMEDOUT)
			return -ETIMEDOUT;
		return vml_fail(s, errno, "waiting for the source");
	}
	memset(ev, 0, sizeof(*ev));
	ev->type = e.type;
	ev->tag = e.tag;
	ev->length = e.length;
	ev->seq = e.seq;
	ev->error = e.error;
	ev->data = e.type == VMMIG_EVENT_BLOB ? s->blob : NULL;
	return 0;
}

int vml_stats(struct vml_session *s, struct vmmig_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	if (ioctl(s->fd, VMMIG_IOC_GET_STATS, st) < 0)
		return vml_fail(s, errno, "reading the statistics");
	return 0;
}
