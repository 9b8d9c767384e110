/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmig_lib: a small client library for /dev/vmmig, the piece a VMM
 * (QEMU, Cloud Hypervisor, this one) adopts to move guest memory with the
 * vmmig module. It knows nothing of KVM: it takes memory ranges, dirty
 * bitmaps in KVM_GET_DIRTY_LOG layout and opaque state blobs.
 *
 * Every call returns 0 or a negative errno and, on failure, leaves a
 * sentence a person can act on in vml_session.err (Documentation/vmm.md
 * lists them). The library is not thread-safe per session: one thread
 * drives a session, GET_STATS excepted (vml_stats() may run alongside).
 */
#ifndef _VMMIG_LIB_H
#define _VMMIG_LIB_H

#include <stddef.h>
#include <linux/vmmig.h>

struct vml_session {
	int fd;
	char err[512];
	void *blob;		/* the last event's blob, owned by the session */
	size_t blob_size;
};

/* Where a peer is: "10.0.0.2", "10.0.0.2:6600", "fd00::2" or "[fd00::2]:6600". */
struct vml_addr {
	__u16 family;	/* AF_INET or AF_INET6 */
	__u16 port;
	__u8 addr[16];	/* network order */
};

struct vml_event {
	__u32 type;		/* enum vmmig_event_type */
	__u32 tag;		/* BLOB */
	__u64 length;	/* BLOB: bytes at @data */
	__u64 seq;		/* SYNC */
	int error;		/* ABORTED: positive errno */
	const void *data;	/* BLOB: valid until the next vml_wait_event() */
};

/* Parse @str; a missing port is @default_port. 0 or -EINVAL. */
int vml_parse_addr(const char *str, __u16 default_port, struct vml_addr *a);
/* "10.0.0.2:6600" or "[fd00::2]:6600". */
const char *vml_format_addr(const struct vml_addr *a, char *buf, size_t size);

int vml_open(struct vml_session *s);
void vml_close(struct vml_session *s);

/*
 * Both sides, before connecting: the same ids and lengths on each. @flags:
 * VMMIG_REGION_FRESH on a destination whose memory was just mapped (all
 * zero, written by nothing else until the move ends), else 0.
 */
int vml_add_region(struct vml_session *s, __u32 id, void *addr, __u64 length,
		   __u64 gpa, __u32 flags);

/*
 * Source: connect @channels channels to the destination's module. While
 * the destination is not accepting yet (ECONNREFUSED), retry for up to
 * @retry_ms.
 */
int vml_connect(struct vml_session *s, const struct vml_addr *to, unsigned int channels,
		enum vmmig_comp comp, int level, unsigned int retry_ms);

/* Destination: wait up to @timeout_ms (0: forever) for a source on @port. */
int vml_accept(struct vml_session *s, __u16 port, unsigned int timeout_ms,
	       struct vml_addr *peer, unsigned int *channels);

/*
 * Source: send the pages of region @id whose bits are set in @bitmap, a
 * KVM_GET_DIRTY_LOG bitmap of the range @first_page (a multiple of 64) ..
 * + @npages; @bitmap NULL sends every page of the range. @pages and
 * @zero_pages (may be NULL) say how many went, and how many as zero pages.
 */
int vml_send_dirty(struct vml_session *s, __u32 id, __u64 first_page, __u64 npages,
		   const unsigned long *bitmap, __u64 *pages, __u64 *zero_pages);
/* SEND_DIRTY_RING: @n KVM dirty-ring entries through the KVM slots @slots. */
int vml_send_dirty_ring(struct vml_session *s, const struct vmmig_ring_slot *slots,
			__u32 nslots, const void *entries, __u64 n, __u64 *pages,
			__u64 *zero_pages);
int vml_send_blob(struct vml_session *s, __u32 tag, const void *data, __u64 length);
/* Returns once the destination placed everything sent: one round. */
int vml_sync(struct vml_session *s);
int vml_finish(struct vml_session *s);
/* Either side: end the session now and tell the peer. */
int vml_abort(struct vml_session *s);

/* Destination: the next event, blobs of any size; -ETIMEDOUT after @timeout_ms. */
int vml_wait_event(struct vml_session *s, unsigned int timeout_ms, struct vml_event *ev);

int vml_stats(struct vml_session *s, struct vmmig_stats *st);

/* What an errno means from the module, for people. */
const char *vml_strerror(int err);
const char *vml_comp_name(__u32 comp);

#endif /* _VMMIG_LIB_H */
