/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vmmig (events/vmmig/ in tracefs): a session starting and
 * ending, each round of a migration, and aborts with their reason. They
 * are for watching migrations as they happen (perf, trace-cmd, bpftrace);
 * the supported interface for counters is the netlink session dump.
 * Documentation/admin-guide.md lists the fields.
 *
 * A round is, on the source, everything from the first SEND_DIRTY or
 * SEND_BLOB after the previous SYNC up to the SYNC that ends it; on the
 * destination, the moment every channel has reached that SYNC (no start
 * event there: the destination cannot know when a round begins).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmmig

#if !defined(_VMMIG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VMMIG_TRACE_H

#include <linux/in6.h>
#include <linux/ktime.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "vmmig.h"

#define vmmig_show_role(role)						\
	__print_symbolic(role, { VMMIG_ROLE_NONE, "none" },		\
			 { VMMIG_ROLE_SOURCE, "source" },		\
			 { VMMIG_ROLE_DESTINATION, "destination" })

#define vmmig_show_state(state)						\
	__print_symbolic(state, { VMMIG_STATE_NEW, "new" },		\
			 { VMMIG_STATE_ACTIVE, "active" },		\
			 { VMMIG_STATE_FINISHED, "finished" },		\
			 { VMMIG_STATE_ABORTED, "aborted" })

#define vmmig_show_comp(comp)						\
	__print_symbolic(comp, { VMMIG_COMP_NONE, "none" },		\
			 { VMMIG_COMP_LZ4, "lz4" },			\
			 { VMMIG_COMP_ZSTD, "zstd" })

TRACE_EVENT(vmmig_session_start,
	    TP_PROTO(const struct vmmig_session *s),
	    TP_ARGS(s),
	    /* sockaddr_in6 holds either family; %pISpc reads which. */
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, role)
			     __field(u32, channels)
			     __field(u32, compression)
			     __field_struct(struct sockaddr_in6, peer)),
	    TP_fast_assign(__entry->id = s->id;
			   __entry->role = s->role;
			   __entry->channels = s->nch;
			   __entry->compression = s->compression;
			   memcpy(&__entry->peer, &s->peer, sizeof(__entry->peer))),
	    TP_printk("id=%u role=%s peer=%pISpc channels=%u compression=%s",
		      __entry->id, vmmig_show_role(__entry->role), &__entry->peer,
		      __entry->channels, vmmig_show_comp(__entry->compression))
);

TRACE_EVENT(vmmig_session_end,
	    TP_PROTO(struct vmmig_session *s),
	    TP_ARGS(s),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, role)
			     __field(u32, state)
			     __field(int, error)
			     __field(u64, rounds)
			     __field(u64, pages)
			     __field(u64, zero_pages)
			     __field(u64, bytes)
			     __field(u64, elapsed_ns)),
	    TP_fast_assign(__entry->id = s->id;
			   __entry->role = s->role;
			   __entry->state = READ_ONCE(s->state);
			   __entry->error = READ_ONCE(s->error);
			   __entry->rounds = atomic64_read(&s->rounds);
			   __entry->pages = atomic64_read(&s->pages);
			   __entry->zero_pages = atomic64_read(&s->zero_pages);
			   __entry->bytes = atomic64_read(&s->bytes_wire);
			   __entry->elapsed_ns =
				ktime_to_ns(ktime_sub(READ_ONCE(s->end), s->start))),
	    TP_printk("id=%u role=%s state=%s error=%d rounds=%llu pages=%llu zero_pages=%llu bytes=%llu elapsed_ns=%llu",
		      __entry->id, vmmig_show_role(__entry->role),
		      vmmig_show_state(__entry->state), __entry->error, __entry->rounds,
		      __entry->pages, __entry->zero_pages, __entry->bytes,
		      __entry->elapsed_ns)
);

TRACE_EVENT(vmmig_round_start,
	    TP_PROTO(const struct vmmig_session *s, u64 round),
	    TP_ARGS(s, round),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, role)
			     __field(u64, round)),
	    TP_fast_assign(__entry->id = s->id;
			   __entry->role = s->role;
			   __entry->round = round),
	    TP_printk("id=%u role=%s round=%llu",
		      __entry->id, vmmig_show_role(__entry->role), __entry->round)
);

/* @r: what the round moved (its counters are deltas); @ns: how long it took. */
TRACE_EVENT(vmmig_round_end,
	    TP_PROTO(const struct vmmig_session *s, const struct vmmig_round *r,
		     u64 round, u64 ns),
	    TP_ARGS(s, r, round, ns),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, role)
			     __field(u64, round)
			     __field(u64, pages)
			     __field(u64, zero_pages)
			     __field(u64, bytes)
			     __field(u64, duration_ns)),
	    TP_fast_assign(__entry->id = s->id;
			   __entry->role = s->role;
			   __entry->round = round;
			   __entry->pages = r->pages;
			   __entry->zero_pages = r->zero_pages;
			   __entry->bytes = r->bytes;
			   __entry->duration_ns = ns),
	    TP_printk("id=%u role=%s round=%llu pages=%llu zero_pages=%llu bytes=%llu duration_ns=%llu",
		      __entry->id, vmmig_show_role(__entry->role), __entry->round,
		      __entry->pages, __entry->zero_pages, __entry->bytes,
		      __entry->duration_ns)
);

/* @err: positive errno; @reason: for a person. */
TRACE_EVENT(vmmig_abort,
	    TP_PROTO(const struct vmmig_session *s, int err, const char *reason),
	    TP_ARGS(s, err, reason),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(u32, role)
			     __field(int, error)
			     __string(reason, reason)),
	    TP_fast_assign(__entry->id = s->id;
			   __entry->role = s->role;
			   __entry->error = err;
			   __assign_str(reason)),
	    TP_printk("id=%u role=%s error=%d reason=\"%s\"",
		      __entry->id, vmmig_show_role(__entry->role), __entry->error,
		      __get_str(reason))
);

#endif /* _VMMIG_TRACE_H */

/* Out of tree: define_trace.h finds us through the -I$(src) of Kbuild. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH kmod
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
