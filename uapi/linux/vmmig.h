/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmmig: in-kernel transport for VM live migration.
 *
 * This header is the whole contract between the vmmig module and userspace.
 *
 * DEVICE
 * ------
 * /dev/vmmig (mode 0600, root) is a misc character device. One open file
 * is one migration session; closing it ends the session (an active source
 * session that was not finished is aborted, and the peer told so).
 *
 * SESSION STATES
 * --------------
 *   NEW --CONNECT--> ACTIVE (source) --FINISH--> FINISHED
 *   NEW --ACCEPT---> ACTIVE (destination) --peer's FIN--> FINISHED
 *   ACTIVE --error, ABORT, peer abort or close--> ABORTED
 * An ioctl that is not valid in the session's state fails with -EBADFD.
 * Once a session is ABORTED, the ioctls that talk to the peer return the
 * reason it ended (e.g. -ECONNRESET, -ECONNABORTED, -ETIMEDOUT, -EPROTO).
 * -ECANCELED: an administrator of this host or of the peer's aborted the
 * session (VMMIG_CMD_ABORT_SESSION below); the VMM did not ask for it.
 *
 * ARGUMENT STRUCTS
 * ----------------
 * Every struct starts with __u32 size = sizeof(struct) as the caller was
 * built. As with clone3(), a larger struct is accepted if the bytes the
 * module does not know are zero (else -E2BIG), a smaller one than the
 * first version is -EINVAL. Every flags field rejects unknown bits, and
 * every reserved field must be zero (-EINVAL).
 *
 * IOCTLS (an ioctl number the module does not know: -ENOTTY)
 * ------
 * VMMIG_IOC_VERSION (no argument)
 *	Returns VMMIG_ABI_VERSION.
 *
 * VMMIG_IOC_ADD_REGION (struct vmmig_region, NEW state, both sides)
 *	Registers guest RAM: @length bytes at @uaddr, guest-physical @gpa,
 *	named @id. The whole region is charged to RLIMIT_MEMLOCK now; its
 *	pages are pinned as the session first moves them (a page never
 *	touched and sent as zero is not faulted in) and until it ends.
 *	Both sides register the same ids with the same lengths before
 *	CONNECT/ACCEPT; the handshake compares them.
 *	-EINVAL: unaligned or zero @uaddr/@length/@gpa, or longer than
 *	VMMIG_MAX_REGION_BYTES; -EEXIST: @id already used, or the range
 *	overlaps another region's (in the process or in guest-physical
 *	space); -ENOSPC: more than VMMIG_MAX_REGIONS; -EFAULT: not mapped,
 *	or a mapping whose pages cannot be pinned for writing;
 *	-ENOMEM: RLIMIT_MEMLOCK. @flags: VMMIG_REGION_FRESH (below).
 *
 * VMMIG_IOC_CONNECT (struct vmmig_connect, NEW state, source)
 *	Connects @channels TCP connections to the peer's module and does the
 *	handshake. Returns once all channels are up: the session is ACTIVE.
 *	@compression and @level choose the page codec (COMPRESSION below).
 *	With VMMIG_CONNECT_HOST_DEFAULTS in @flags the host's settings (HOST
 *	SETTINGS below) choose instead: @compression and @level must be 0,
 *	and @channels 0 takes the host's channel count.
 *	@port 0 is the host's port setting (default VMMIG_DEFAULT_PORT).
 *	@transport picks TCP or RDMA (TRANSPORTS below); with the flag it
 *	must be 0 and the host's performance setting picks.
 *	-EINVAL: bad family/address, @channels 0 (without the flag) or >
 *	VMMIG_MAX_CHANNELS, unknown @compression or @transport, @level out
 *	of the codec's range; -ENODEV: RDMA asked for and the host has no
 *	RDMA device; -EOPNOTSUPP: RDMA asked for and the module was built
 *	for a kernel without rdma_cm; -EPROTONOSUPPORT: RDMA asked for with
 *	encryption on (TRANSPORTS below); -EACCES: outgoing migrations are
 *	disabled on this host;
 *	-EBUSY: the host's max-migrations are running; -ECONNREFUSED: nobody
 *	accepting there; -ECONNRESET: the peer closed the connection before
 *	the handshake completed (e.g. we are not on its migration networks,
 *	its incoming migrations are disabled, or it had too many handshakes
 *	in flight); -ETIMEDOUT; -ENXIO: the peer has no region with one of
 *	our ids, or one of a different length; the errors of AUTHENTICATION
 *	below. On any error the session stays NEW.
 *
 * VMMIG_IOC_ACCEPT (struct vmmig_accept, NEW state, destination)
 *	Waits for a source to connect to @port (0: the host's port setting)
 *	in the caller's network namespace, up to @timeout_ms (0: until a
 *	signal). The module owns the listening socket (and, with rdma_cm, an
 *	RDMA listener on the same port) while at least one session waits in
 *	ACCEPT. On return the session is ACTIVE and the peer fields and
 *	@transport (the one the source chose) are filled in. A source that
 *	fails the handshake does not end the wait. -ETIMEDOUT; -EINTR;
 *	-EADDRINUSE: the port is taken by a non-vmmig socket; -EACCES:
 *	incoming migrations are disabled on this host; -EBUSY: the host's
 *	max-migrations are running; -EINVAL: @transport not 0.
 *
 * VMMIG_IOC_SEND_DIRTY (struct vmmig_dirty, ACTIVE, source)
 *	Sends every page whose bit is set in @bitmap (KVM_GET_DIRTY_LOG
 *	layout, below), for pages @first_page .. @first_page + @num_pages - 1
 *	of region @region_id; with VMMIG_DIRTY_ALL, every page of that range
 *	and no bitmap. Zero pages go as a header only. Returns when every
 *	page has been handed to the network (not yet placed: see SYNC).
 *	@pages and @zero_pages are filled in. -EINVAL: @first_page not a
 *	multiple of 64, range past the region's end, bitmap size not
 *	ALIGN(@num_pages, 64) / 8, bits set past @num_pages; -ENOENT:
 *	unknown @region_id. Bad input sends nothing.
 *
 * VMMIG_IOC_SEND_DIRTY_RING (struct vmmig_dirty_ring, ACTIVE, source)
 *	SEND_DIRTY for a VMM that harvests KVM's dirty ring (DIRTY RINGS
 *	below): sends every page named by the @nr_entries entries at
 *	@entries, in struct kvm_dirty_gfn layout and as KVM left them,
 *	through the @nr_slots KVM memory slots described at @slots. Entries
 *	may repeat and come in any order: each page goes once. Returns when
 *	every page has been handed to the network; @pages and @zero_pages
 *	are filled in as for SEND_DIRTY. @nr_entries 0 sends nothing.
 *	Everything is checked before anything is sent: bad input sends
 *	nothing. -EINVAL: @flags or a reserved field not zero, @nr_slots 0
 *	or > VMMIG_RING_MAX_SLOTS, @nr_entries > VMMIG_RING_MAX_ENTRIES, a
 *	slot listed twice, a slot with 0 pages or past its region's end, an
 *	entry whose flags are not DIRTY (RESET allowed), whose slot is not
 *	listed, or whose offset is not below its slot's page count;
 *	-ENOENT: a slot's @region_id is not a region of the session;
 *	-EFAULT: @slots or @entries not readable; -ENOMEM.
 *
 * VMMIG_IOC_SEND_BLOB (struct vmmig_blob, ACTIVE, source)
 *	Sends @length (<= VMMIG_MAX_BLOB) opaque bytes (vCPU or device
 *	state) tagged @tag. The destination gets a VMMIG_EVENT_BLOB.
 *
 * VMMIG_IOC_SYNC (no argument, ACTIVE, source)
 *	Barrier: returns once the peer has placed every page and blob sent
 *	so far. Ends a round (the statistics count rounds).
 *
 * VMMIG_IOC_FINISH (no argument, ACTIVE, source)
 *	SYNC, then tells the peer the migration is complete: FINISHED.
 *
 * VMMIG_IOC_ABORT (no argument, ACTIVE, either side)
 *	Ends the session at once and tells the peer (ECONNABORTED there).
 *	Callable from another thread while one is blocked in an ioctl of
 *	the session (SEND_DIRTY, SYNC, FINISH, WAIT_EVENT): that ioctl then
 *	returns -ECONNABORTED (WAIT_EVENT: the ABORTED event). Not while
 *	the session is NEW (-EBADFD), CONNECT and ACCEPT included.
 *
 * VMMIG_IOC_WAIT_EVENT (struct vmmig_event, ACTIVE/FINISHED/ABORTED, dest.)
 *	Waits up to @timeout_ms (0: until a signal) for the next event. For a
 *	BLOB, the blob is copied to @data if @data_size is large enough
 *	(else -EMSGSIZE, @length says how much is needed, and the event
 *	stays queued). Once FINISHED or ABORTED and every event was read:
 *	-ENODATA.
 *
 * VMMIG_IOC_GET_STATS (struct vmmig_stats, any state, either side)
 *
 * VMMIG_IOC_SET_AUTH (struct vmmig_auth, NEW state, both sides)
 *	Gives this session its own authentication, replacing the host's
 *	settings for it (AUTHENTICATION below): @mode PSK with the 32-byte
 *	pre-shared key in @key, or KEYPAIR with this side's X25519 private
 *	key in @key, the one peer public key it accepts in @peer_key and
 *	what that peer may do in @peer_allow; VMMIG_AUTH_ENCRYPT turns on
 *	encryption. A second call replaces the first. The key is copied and
 *	wiped from the module's copy of the argument; it cannot be read back.
 *	-EINVAL: @mode NONE or unknown, an all-zero @key or @peer_key, a
 *	private key whose public key is the low-order point, @peer_key equal
 *	to our own public key, @peer_allow empty or with unknown bits, or
 *	@peer_key / @peer_allow set in PSK mode.
 *
 * VMMIG_IOC_SET_BANDWIDTH (struct vmmig_bandwidth, NEW or ACTIVE, source)
 *	Caps what this session sends at @bytes_per_sec (0: no cap of its
 *	own; BANDWIDTH below). Takes effect at once, in the middle of a
 *	SEND_DIRTY too: it does not wait for the ioctl another thread is
 *	blocked in, so a VMM can raise the cap for the final round from
 *	anywhere. -EINVAL: @flags or @reserved not zero, @bytes_per_sec
 *	below VMMIG_MIN_BANDWIDTH but not 0; -EBADFD: a destination, or a
 *	session that FINISHED; once ABORTED, the reason it ended.
 *
 * DIRTY BITMAPS
 * -------------
 * Exactly as KVM_GET_DIRTY_LOG returns them: one bit per 4 KiB page, in an
 * array of native unsigned longs, bit 0 of word 0 being the first page of
 * the range. Bits past the last page of the range must be zero.
 *
 * DIRTY RINGS
 * -----------
 * KVM_CAP_DIRTY_LOG_RING(_ACQ_REL) gives a VMM, per vCPU, a ring of
 * struct kvm_dirty_gfn entries: @slot is (address space id << 16 | slot id)
 * as in KVM_SET_USER_MEMORY_REGION, @offset the page within the slot.
 * struct vmmig_dirty_gfn has that layout, so harvested entries are passed
 * as they are (copied out of the ring, or the ring's pages themselves).
 * KVM sets KVM_DIRTY_GFN_F_DIRTY in a harvested entry and the VMM sets
 * KVM_DIRTY_GFN_F_RESET when it has read it: an entry's flags must be
 * VMMIG_RING_GFN_DIRTY, with or without VMMIG_RING_GFN_RESET (the same
 * bits); an entry without DIRTY was never harvested (a ring slot KVM has
 * not filled, or one already reset and reused) and is refused. Each
 * struct vmmig_ring_slot maps one KVM slot onto a region: its page
 * @first_page is the slot's page 0, and the slot has @num_pages pages,
 * all inside the region. A slot that is not listed is not migrated by
 * the ring; an entry naming it is refused.
 *
 * COMPRESSION
 * -----------
 * With a codec chosen at CONNECT, each run of up to 64 dirty pages is
 * compressed page by page into one frame; the destination decompresses
 * each page straight into its place. Zero pages never reach the codec. A
 * page that does not shrink by 1/8 travels as it is inside the frame, and
 * a frame that does not save 1/8 per non-zero page on average is dropped
 * and its pages sent uncompressed, without a copy. GET_STATS says what
 * happened (comp_* fields). A compressed page that does not decode to
 * exactly 4096 bytes aborts the session with EBADMSG.
 *
 * TRANSPORTS
 * ----------
 * VMMIG_TRANSPORT_TCP: @channels TCP connections. VMMIG_TRANSPORT_RDMA:
 * @channels reliable-connected RDMA queue pairs set up with rdma_cm on
 * the same address and port (RoCE, iWARP or InfiniBand with IP
 * addressing); frames and pages go by SEND into buffers the peer posted,
 * with the same frames, SYNC fences and compression as TCP. There is no
 * silent fallback: RDMA that cannot connect fails CONNECT. A destination
 * accepts either, on the same port; the network list applies to both,
 * before anything is allocated for the peer, and every channel's
 * handshake (AUTHENTICATION below) before any memory is registered for
 * it. An RDMA device removed under a session aborts it (ENODEV).
 * kTLS needs TCP, so RDMA is never encrypted: rather than run a session
 * that asks for encryption in the clear, CONNECT over RDMA with
 * encryption on (the session's or the host's settings) fails with
 * -EPROTONOSUPPORT before connecting, a destination refuses an RDMA
 * channel whose HELLO asks for encryption with the same errno, and
 * SET_HOST refuses encryption with performance rdma (-EINVAL).
 *
 * BANDWIDTH
 * ---------
 * What a source session hands to the network is paced by two token
 * buckets: the host's (HOST SETTINGS, BANDWIDTH: the sum of every outgoing
 * session of the namespace) and its own (VMMIG_IOC_SET_BANDWIDTH); either
 * may be 0, no cap. A sender that finds a bucket empty sleeps until it
 * refills (a burst is 5 ms worth of the rate, at least 64 KiB); ABORT or
 * the peer's end wakes it at once. What is counted is what bytes_wire
 * counts: every frame, headers included, after compression; with kTLS
 * the bytes handed to the TLS socket (each record adds 22 bytes, per 16 KiB at most,
 * on the wire); over RDMA every SEND and RDMA WRITE, zero pages written
 * from the zero page included. TCP/IP headers are not counted. A changed
 * cap applies at once to the senders, sleeping ones included. Timeouts
 * do not scale with the cap, nor need to: a SYNC's 60 s start once its
 * frame is handed to the socket, after the throttled pages, and the TCP
 * user timeout counts only bytes the socket holds.
 *
 * ORDERING
 * --------
 * A page is always sent on the same channel (chosen from its region and
 * page index), so a page sent in two rounds lands as its newer copy.
 *
 * AUTHENTICATION
 * --------------
 * Every channel is authenticated both ways in the kernel before the
 * destination takes a page or blob from it (Documentation/security.md).
 * A session uses the host's settings (set over netlink), or its own
 * (VMMIG_IOC_SET_AUTH); with neither, mode NONE: no authentication.
 *   PSK: both hosts hold the same 32-byte key; each proves it with an
 *	HMAC-SHA256 over the handshake, which carries fresh nonces and
 *	ephemeral X25519 keys from both sides.
 *   KEYPAIR: each host has an X25519 key pair and a list of peer public
 *	keys, each allowed to send migrations to this host
 *	(VMMIG_PEER_SEND), receive them from it (VMMIG_PEER_RECEIVE), or
 *	both. The destination accepts a source whose key is listed with
 *	SEND; the source accepts a destination listed with RECEIVE.
 *   VMMIG_AUTH_ENCRYPT: every channel carries kTLS (the TLS 1.3 record
 *	layer, AES-GCM-128) with keys derived from its handshake. Needs PSK
 *	or KEYPAIR, and both sides must agree.
 * CONNECT fails, and nothing is sent, with:
 *	-EKEYREJECTED: a peer's proof did not verify (a different PSK, a
 *	forged or replayed handshake), or the two sides use different
 *	modes (one of them none);
 *	-ENOKEY: the peer's public key is not in the peer list (or is not
 *	the session's @peer_key);
 *	-EPERM: the peer is listed but not allowed this direction (the
 *	destination needs SEND from the source, the source RECEIVE from the
 *	destination), or not from this address;
 *	-ENOPROTOOPT: encryption on one side only.
 * The destination's ACCEPT is not ended by a failed handshake: it keeps
 * waiting for a source that passes. The host counts the failures.
 *
 * HOST SETTINGS (generic netlink family VMMIG_GENL_NAME)
 * -------------
 * Each network namespace is a host with its own settings, network list
 * and sessions. Documentation/netlink/vmmig.yaml describes the family in
 * YNL form; vmmigctl(8) is its tool. Reading needs no privilege; a change
 * needs CAP_NET_ADMIN in the user namespace that owns the network
 * namespace (-EPERM). Strict policies: an unknown or read-only attribute
 * (-EINVAL), or a value or length out of range (-ERANGE), is refused with
 * an extack message (and the attribute, and its range) and changes nothing.
 *
 * VMMIG_CMD_GET_HOST (do): every VMMIG_A_HOST_* attribute.
 * VMMIG_CMD_SET_HOST (do, admin): sets the settings given, keeps the
 *	others, all or nothing. -EOPNOTSUPP "RDMA transport not available":
 *	PERFORMANCE VMMIG_PERF_RDMA with a module built without rdma_cm.
 *	-EINVAL "encryption is not available with performance rdma": the
 *	settings would have both (kTLS needs TCP). With NETWORK_LIST (a
 *	nest of VMMIG_A_NETLIST_ENTRY nests, each with the attributes of an
 *	ADD_NETWORK request) the network list becomes exactly those entries,
 *	in that order, in the same all-or-nothing step: the errors of ADD_NETWORK
 *	(for a duplicate, "network listed twice"), pointing at the entry.
 *	With PEER_LIST (a nest of VMMIG_A_PEERLIST_ENTRY nests, each with
 *	the attributes of an ADD_PEER request) the peer list becomes exactly
 *	those peers, in that order, in the same step: the errors of ADD_PEER
 *	(for a name given twice, -EEXIST "peer listed twice"), pointing at
 *	the entry.
 * VMMIG_CMD_GET_NETWORK (dump): one message per network list entry.
 * VMMIG_CMD_ADD_NETWORK (do, admin): ADDR4 or ADDR6, and PREFIX_LEN.
 *	-EINVAL "give exactly one of addr4 and addr6", "prefix-len missing",
 *	"address has bits set past the prefix length"; -ERANGE "prefix
 *	length longer than the address"; -EEXIST "network already in the
 *	list"; -ENOSPC "network list full" (VMMIG_MAX_NETWORKS).
 * VMMIG_CMD_DEL_NETWORK (do, admin): the same attributes. -ENOENT
 *	"network not in the list", and the -EINVAL and -ERANGE of ADD.
 * VMMIG_CMD_GET_SESSION (dump): every open session of the namespace
 *	(VMMIG_A_SESS_*) with its statistics (those of GET_STATS); the peer
 *	once it is known; a source's BANDWIDTH, the lower of its own cap
 *	and the host's (0: neither).
 * VMMIG_CMD_SESSION_EVENT, multicast group VMMIG_MCGRP_EVENTS: a session
 *	started, finished or aborted (ERROR, MESSAGE: why), or a session or
 *	incoming connection was refused (ERROR, MESSAGE: why).
 * VMMIG_CMD_GET_PEER (dump): the peer list, one message per peer: NAME,
 *	FINGERPRINT, ALLOW, and ADDR4 or ADDR6 if it has one; never its key.
 * VMMIG_CMD_ADD_PEER (do, admin): NAME, PUBLIC_KEY, ALLOW, optionally
 *	ADDR4 or ADDR6 (the only address it may connect from or be reached
 *	at); replaces the peer of that name if there is one. -EINVAL "peer
 *	name missing", "peer public-key missing", "peer allow missing (send,
 *	receive or both)", "give at most one of addr4 and addr6", "the public
 *	key is all zero", "a peer has this host's own public key"; -EEXIST
 *	"another peer has this public key"; -ENOSPC "the peer list is full
 *	(256 peers)".
 * VMMIG_CMD_DEL_PEER (do, admin): NAME. -ENOENT 'no peer named "NAME"'.
 * VMMIG_CMD_ABORT_SESSION (do, admin): ID, as GET_SESSION gives it. Aborts
 *	that active session of the namespace, source or destination, as
 *	VMMIG_IOC_ABORT would, but with the errno ECANCELED: its VMM's
 *	blocked and later ioctls return -ECANCELED, WAIT_EVENT gives the
 *	ABORTED event with error ECANCELED, GET_STATS and GET_SESSION say
 *	ECANCELED, and the ABORTED event carries MESSAGE "aborted by the
 *	administrator". The peer is told with an ABORT frame that says so
 *	and ends with ECANCELED too (MESSAGE "the peer's administrator
 *	aborted"). Nothing else of the VMM changes: a source's guest memory
 *	is only ever read. -EINVAL "session id missing"; -ENOENT "no session
 *	ID" (none of that number in the caller's namespace); -EBADFD
 *	"session ID has not started: nothing to abort" (NEW, waiting in
 *	CONNECT or ACCEPT included); -EALREADY "session ID already ended"
 *	(FINISHED or ABORTED, and still open).
 * A failed incoming handshake is a refused event too: MESSAGE says
 *	"handshake from ADDR:PORT failed: REASON[, peer key FINGERPRINT]",
 *	ERROR the errno of AUTHENTICATION above.
 *
 * The settings, and what they change:
 * INCOMING, OUTGOING (both 0 at first): ACCEPT with incoming disabled and
 *	CONNECT with outgoing disabled fail with -EACCES; while incoming is
 *	disabled, the listener resets every connection unread. Sessions
 *	already active go on.
 * NETWORKS (VMMIG_NETWORKS_ANY at first) and the network list: with
 *	VMMIG_NETWORKS_LISTED, a connection from outside every entry is
 *	reset before a byte of it is read (the source's CONNECT fails with
 *	-ECONNRESET); counted in REFUSED_NETWORK. An IPv4-mapped IPv6 peer is
 *	matched as IPv4. Changes apply to the next connection.
 * PORT (VMMIG_DEFAULT_PORT): what @port 0 means in CONNECT and ACCEPT.
 * MAX_MIGRATIONS (2): sessions of the host that are active or waiting in
 *	CONNECT/ACCEPT, both directions together. One more fails at once
 *	with -EBUSY and a refused event "maximum concurrent migrations
 *	reached (N)".
 * AUTH_MODE (VMMIG_AUTH_NONE), PSK, PRIVATE_KEY, ENCRYPTION (0): what a
 *	session without VMMIG_IOC_SET_AUTH uses (AUTHENTICATION above), on
 *	the channels that start after the change. PSK and PRIVATE_KEY are
 *	write only: GET_HOST gives PSK_FINGERPRINT, and PUBLIC_KEY with
 *	PUBLIC_KEY_FINGERPRINT. A SET that leaves the mode without its key,
 *	or encryption on without a mode, is refused whole: -EINVAL "psk mode
 *	needs a pre-shared key", "keypair mode needs this host's private
 *	key", "encryption needs an authentication mode (psk or keypair)",
 *	"the pre-shared key is all zero", "the private key is all zero";
 *	-ERANGE for a key that is not VMMIG_KEY_LEN bytes.
 * HANDSHAKE_TIMEOUT_MS (5000, 100..60000; -ERANGE "the handshake timeout
 *	is 100 to 60000 ms"), MAX_HANDSHAKES (16, 1..1024): each incoming
 *	handshake must end within the timeout; with MAX_HANDSHAKES in flight
 *	on a port, a new connection takes the place of the oldest (reset at
 *	once only while as many again are being cut).
 * HS_OK .. HS_BUSY (read only): incoming handshakes by outcome; HS_BUSY
 *	counts the connections reset at once and those cut for a newer one.
 * BANDWIDTH (0, no cap): bytes per second that all the outgoing sessions
 *	of the host may send together (BANDWIDTH above); a change applies at
 *	once to the running ones. -ERANGE "the bandwidth cap is 0
 *	(unlimited) or at least 1000 bytes per second".
 * PERFORMANCE (VMMIG_PERF_COMPRESSION), CHANNELS (VMMIG_DEFAULT_CHANNELS),
 *	COMPRESSION (VMMIG_COMP_LZ4): what CONNECT with
 *	VMMIG_CONNECT_HOST_DEFAULTS uses: tcp is VMMIG_COMP_NONE,
 *	compression the COMPRESSION codec at its default level, rdma the
 *	RDMA transport with VMMIG_COMP_NONE.
 */
#ifndef _UAPI_LINUX_VMMIG_H
#define _UAPI_LINUX_VMMIG_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VMMIG_DEVICE_NAME	"vmmig"
#define VMMIG_ABI_VERSION	1
#define VMMIG_DEFAULT_PORT	6600
#define VMMIG_PAGE_SHIFT	12
#define VMMIG_PAGE_SIZE		4096

#define VMMIG_DEFAULT_CHANNELS	2
#define VMMIG_MAX_CHANNELS	16
#define VMMIG_MAX_REGIONS	64
#define VMMIG_MAX_REGION_BYTES	0x10000000000ULL
#define VMMIG_MAX_BLOB		(16U << 20)

enum vmmig_state {
	VMMIG_STATE_NEW = 0,
	VMMIG_STATE_ACTIVE,
	VMMIG_STATE_FINISHED,
	VMMIG_STATE_ABORTED,
};

enum vmmig_role {
	VMMIG_ROLE_NONE = 0,
	VMMIG_ROLE_SOURCE,
	VMMIG_ROLE_DESTINATION,
};

/*
 * VMMIG_REGION_FRESH, for a destination: the region is all zero when it is
 * registered (anonymous memory just mapped) and nothing but this session
 * writes to it until the session ends. A page sent as zero then costs the
 * destination nothing unless the session wrote data to it before: it is
 * neither read nor cleared. If the VMM breaks the promise, such a page keeps
 * what the VMM left in it. A source ignores the flag.
 */
#define VMMIG_REGION_FRESH	0x1

struct vmmig_region {
	__u32 size;
	__u32 flags;		/* VMMIG_REGION_* */
	__u32 id;
	__u32 reserved;
	__u64 uaddr;		/* page aligned */
	__u64 length;		/* bytes, page multiple, > 0 */
	__u64 gpa;		/* guest-physical base, page aligned */
};

/*
 * Page compression (COMPRESSION below). Levels, 0 being the default:
 * NONE only 0; LZ4 the acceleration, 1 (default, best ratio) to 65537;
 * ZSTD 1 to 22, default 3.
 */
enum vmmig_comp {
	VMMIG_COMP_NONE = 0,
	VMMIG_COMP_LZ4,
	VMMIG_COMP_ZSTD,
	__VMMIG_COMP_MAX,
};

/* CONNECT: channels, codec, level and transport from the host's settings. */
#define VMMIG_CONNECT_HOST_DEFAULTS	0x1

/* What the channels of a session run on (TRANSPORTS below). */
enum vmmig_transport {
	VMMIG_TRANSPORT_TCP = 0,
	VMMIG_TRANSPORT_RDMA,
	__VMMIG_TRANSPORT_MAX,
};

struct vmmig_connect {
	__u32 size;
	__u32 flags;		/* VMMIG_CONNECT_* */
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 port;		/* host byte order; 0: the host's port setting */
	__u32 channels;		/* 1..VMMIG_MAX_CHANNELS */
	__u8 addr[16];		/* network order; IPv4 in the first 4 bytes */
	__u32 timeout_ms;	/* connect + handshake; 0: 10000 */
	__u32 compression;	/* enum vmmig_comp */
	__s32 level;		/* 0: the codec's default */
	__u32 transport;	/* enum vmmig_transport */
};

struct vmmig_accept {
	__u32 size;
	__u32 flags;		/* none defined */
	__u16 port;		/* host byte order; 0: the host's port setting */
	__u16 transport;	/* 0 in; filled in on success: the source's choice */
	__u32 timeout_ms;	/* 0: until a signal */
	/* filled in on success */
	__u16 peer_family;
	__u16 peer_port;
	__u32 channels;
	__u8 peer_addr[16];
};

#define VMMIG_DIRTY_ALL		0x1	/* no bitmap: every page */

struct vmmig_dirty {
	__u32 size;
	__u32 flags;		/* VMMIG_DIRTY_* */
	__u32 region_id;
	__u32 reserved;
	__u64 first_page;	/* multiple of 64 */
	__u64 num_pages;
	__u64 bitmap;		/* user pointer */
	__u64 bitmap_size;	/* bytes: ALIGN(num_pages, 64) / 8 */
	/* filled in */
	__u64 pages;		/* pages sent, zero pages included */
	__u64 zero_pages;
};

/*
 * SEND_DIRTY_RING (DIRTY RINGS above). An entry in struct kvm_dirty_gfn
 * layout; the flags are KVM's KVM_DIRTY_GFN_F_DIRTY and _RESET.
 */
#define VMMIG_RING_GFN_DIRTY	0x1
#define VMMIG_RING_GFN_RESET	0x2
#define VMMIG_RING_MAX_ENTRIES	0x100000	/* per call: 16 vCPUs' full 64 Ki rings */
#define VMMIG_RING_MAX_SLOTS	512

struct vmmig_dirty_gfn {
	__u32 flags;		/* VMMIG_RING_GFN_DIRTY, maybe | _RESET */
	__u32 slot;		/* address space id << 16 | slot id */
	__u64 offset;		/* page within the slot */
};

struct vmmig_ring_slot {
	__u32 slot;		/* as in struct vmmig_dirty_gfn */
	__u32 region_id;
	__u64 first_page;	/* the region's page that is the slot's page 0 */
	__u64 num_pages;	/* the slot's pages, > 0, inside the region */
	__u64 reserved;
};

struct vmmig_dirty_ring {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 nr_slots;		/* 1..VMMIG_RING_MAX_SLOTS */
	__u32 reserved;
	__u64 slots;		/* user pointer: struct vmmig_ring_slot[nr_slots] */
	__u64 entries;		/* user pointer: struct vmmig_dirty_gfn[nr_entries] */
	__u64 nr_entries;	/* 0..VMMIG_RING_MAX_ENTRIES */
	/* filled in */
	__u64 pages;		/* pages sent, zero pages included; each page once */
	__u64 zero_pages;
};

struct vmmig_blob {
	__u32 size;
	__u32 flags;		/* none defined */
	__u32 tag;		/* the caller's name for the blob's kind */
	__u32 reserved;
	__u64 data;		/* user pointer */
	__u64 length;		/* bytes, <= VMMIG_MAX_BLOB */
};

enum vmmig_event_type {
	VMMIG_EVENT_NONE = 0,
	VMMIG_EVENT_BLOB,	/* @tag, @length; data copied to @data */
	VMMIG_EVENT_SYNC,	/* the source's SYNC @seq reached: all placed */
	VMMIG_EVENT_FINISHED,	/* the source finished: memory complete */
	VMMIG_EVENT_ABORTED,	/* the session ended; @error says why */
};

struct vmmig_event {
	__u32 size;
	__u32 timeout_ms;	/* in; 0: until a signal */
	__u64 data;		/* in: user buffer for a blob */
	__u64 data_size;	/* in: its size */
	/* filled in */
	__u32 type;		/* enum vmmig_event_type */
	__u32 tag;
	__u64 length;
	__u64 seq;
	__s32 error;		/* positive errno */
	__u32 reserved;
};

struct vmmig_stats {
	__u32 size;
	__u32 state;		/* enum vmmig_state */
	__u32 role;		/* enum vmmig_role */
	__u32 channels;
	__u64 pages;		/* pages sent (source) or placed (dest.) */
	__u64 zero_pages;	/* of which zero pages */
	__u64 bytes_wire;	/* bytes sent or received, headers included */
	__u64 blobs;
	__u64 rounds;		/* SYNCs completed */
	__u64 elapsed_ns;	/* since CONNECT/ACCEPT returned */
	__u64 bytes_per_sec;	/* bytes_wire / elapsed */
	__s32 error;		/* why ABORTED (positive errno) */
	__u32 compression;	/* enum vmmig_comp in use */
	/* compression, source side: the non-zero pages a codec was tried on */
	__u64 comp_pages;	/* of them, pages that went compressed */
	__u64 incompressible_pages; /* pages that went as they are */
	__u64 comp_bytes_in;	/* their bytes before */
	__u64 comp_bytes_out;	/* and on the wire (payload, headers excluded) */
	__u32 auth;		/* enum vmmig_auth_mode the session used */
	__u32 encrypted;	/* 1: its channels carry kTLS */
};

enum vmmig_auth_mode {
	VMMIG_AUTH_NONE = 0,
	VMMIG_AUTH_PSK,
	VMMIG_AUTH_KEYPAIR,
	__VMMIG_AUTH_MAX,
};

#define VMMIG_KEY_LEN		32	/* PSK, X25519 private and public keys */
#define VMMIG_MAX_PEERS		256	/* entries in a host's peer list */

/* What a peer in a KEYPAIR peer list may do. */
#define VMMIG_PEER_SEND		0x1	/* send migrations to this host */
#define VMMIG_PEER_RECEIVE	0x2	/* receive migrations from this host */

#define VMMIG_AUTH_ENCRYPT	0x1	/* kTLS on every channel */

struct vmmig_auth {
	__u32 size;
	__u32 flags;		/* VMMIG_AUTH_* */
	__u32 mode;		/* enum vmmig_auth_mode: PSK or KEYPAIR */
	__u32 peer_allow;	/* KEYPAIR: VMMIG_PEER_*; PSK: 0 */
	__u8 key[VMMIG_KEY_LEN];	/* PSK, or our X25519 private key */
	__u8 peer_key[VMMIG_KEY_LEN];	/* KEYPAIR: the peer's public key */
};

/*
 * Bandwidth caps (BANDWIDTH above), in bytes per second: 0 is no cap, else
 * at least VMMIG_MIN_BANDWIDTH.
 */
#define VMMIG_MIN_BANDWIDTH	1000

struct vmmig_bandwidth {
	__u32 size;
	__u32 flags;		/* none defined */
	__u64 bytes_per_sec;	/* 0: no cap of the session's own */
	__u64 reserved[2];
};

#define VMMIG_IOC_TYPE		0xB9

#define VMMIG_IOC_VERSION	_IO(VMMIG_IOC_TYPE, 0x00)
#define VMMIG_IOC_ADD_REGION	_IOW(VMMIG_IOC_TYPE, 0x01, struct vmmig_region)
#define VMMIG_IOC_CONNECT	_IOW(VMMIG_IOC_TYPE, 0x02, struct vmmig_connect)
#define VMMIG_IOC_ACCEPT	_IOWR(VMMIG_IOC_TYPE, 0x03, struct vmmig_accept)
#define VMMIG_IOC_SEND_DIRTY	_IOWR(VMMIG_IOC_TYPE, 0x04, struct vmmig_dirty)
#define VMMIG_IOC_SEND_BLOB	_IOW(VMMIG_IOC_TYPE, 0x05, struct vmmig_blob)
#define VMMIG_IOC_SYNC		_IO(VMMIG_IOC_TYPE, 0x06)
#define VMMIG_IOC_FINISH	_IO(VMMIG_IOC_TYPE, 0x07)
#define VMMIG_IOC_ABORT		_IO(VMMIG_IOC_TYPE, 0x08)
#define VMMIG_IOC_WAIT_EVENT	_IOWR(VMMIG_IOC_TYPE, 0x09, struct vmmig_event)
#define VMMIG_IOC_GET_STATS	_IOWR(VMMIG_IOC_TYPE, 0x0a, struct vmmig_stats)
#define VMMIG_IOC_SET_AUTH	_IOW(VMMIG_IOC_TYPE, 0x0b, struct vmmig_auth)
#define VMMIG_IOC_SET_BANDWIDTH	_IOW(VMMIG_IOC_TYPE, 0x0c, struct vmmig_bandwidth)
#define VMMIG_IOC_SEND_DIRTY_RING _IOWR(VMMIG_IOC_TYPE, 0x0d, struct vmmig_dirty_ring)

/* Generic netlink: HOST SETTINGS above, Documentation/netlink/vmmig.yaml. */
#define VMMIG_GENL_NAME		"vmmig"
#define VMMIG_GENL_VERSION	1
#define VMMIG_MCGRP_EVENTS	"events"

#define VMMIG_DEFAULT_MAX_MIGRATIONS	2
#define VMMIG_MAX_MIGRATIONS_CAP	256	/* largest max-migrations */
#define VMMIG_MAX_NETWORKS		64	/* network list entries */

/* Performance option, as in Hyper-V. */
enum vmmig_perf {
	VMMIG_PERF_TCP = 0,		/* uncompressed, zero copy */
	VMMIG_PERF_COMPRESSION,		/* the host's codec (the default) */
	VMMIG_PERF_RDMA,		/* uncompressed, RDMA transport */
};

/* Which peers may connect for an incoming migration. */
enum vmmig_networks {
	VMMIG_NETWORKS_ANY = 0,		/* any address (the default) */
	VMMIG_NETWORKS_LISTED,		/* inside an entry of the network list */
};

/* VMMIG_A_SESS_EVENT of a VMMIG_CMD_SESSION_EVENT notification. */
enum vmmig_notify {
	VMMIG_NOTIFY_STARTED = 1,
	VMMIG_NOTIFY_FINISHED,
	VMMIG_NOTIFY_ABORTED,		/* ERROR says why */
	VMMIG_NOTIFY_REFUSED,		/* ERROR and MESSAGE say why */
};

/* Settings (read-write) and counters (read only) of a host. */
enum vmmig_host_attr {
	VMMIG_A_HOST_INCOMING = 1,	/* u8 0/1 */
	VMMIG_A_HOST_OUTGOING,		/* u8 0/1 */
	VMMIG_A_HOST_PORT,		/* u16 >= 1 */
	VMMIG_A_HOST_NETWORKS,		/* u32 enum vmmig_networks */
	VMMIG_A_HOST_PERFORMANCE,	/* u32 enum vmmig_perf */
	VMMIG_A_HOST_CHANNELS,		/* u32 1..VMMIG_MAX_CHANNELS */
	VMMIG_A_HOST_COMPRESSION,	/* u32 VMMIG_COMP_LZ4 or _ZSTD */
	VMMIG_A_HOST_MAX_MIGRATIONS,	/* u32 1..VMMIG_MAX_MIGRATIONS_CAP */
	VMMIG_A_HOST_ACTIVE_MIGRATIONS,	/* u32, read only */
	VMMIG_A_HOST_REFUSED_NETWORK,	/* u64, read only */
	VMMIG_A_HOST_REFUSED_DISABLED,	/* u64, read only */
	VMMIG_A_HOST_REFUSED_BUSY,	/* u64, read only */
	VMMIG_A_HOST_PAD,
	VMMIG_A_HOST_AUTH_MODE,		/* u32 enum vmmig_auth_mode */
	VMMIG_A_HOST_PSK,		/* VMMIG_KEY_LEN bytes, write only */
	VMMIG_A_HOST_PRIVATE_KEY,	/* VMMIG_KEY_LEN bytes, write only */
	VMMIG_A_HOST_PUBLIC_KEY,	/* VMMIG_KEY_LEN bytes, read only */
	VMMIG_A_HOST_PSK_FINGERPRINT,	/* string, read only */
	VMMIG_A_HOST_PUBLIC_KEY_FINGERPRINT,	/* string, read only */
	VMMIG_A_HOST_ENCRYPTION,	/* u8 0/1 */
	VMMIG_A_HOST_HANDSHAKE_TIMEOUT_MS,	/* u32 100..60000 */
	VMMIG_A_HOST_MAX_HANDSHAKES,	/* u32 1..1024 */
	VMMIG_A_HOST_HS_OK,		/* u64 handshake counters, read only */
	VMMIG_A_HOST_HS_BAD_KEY,
	VMMIG_A_HOST_HS_MODE_MISMATCH,
	VMMIG_A_HOST_HS_UNKNOWN_PEER,
	VMMIG_A_HOST_HS_NOT_ALLOWED,
	VMMIG_A_HOST_HS_ENCRYPT_MISMATCH,
	VMMIG_A_HOST_HS_REFUSED,
	VMMIG_A_HOST_HS_PROTOCOL,
	VMMIG_A_HOST_HS_TIMEOUT,
	VMMIG_A_HOST_HS_BUSY,
	VMMIG_A_HOST_NETWORK_LIST,	/* nest: enum vmmig_netlist_attr; SET only */
	VMMIG_A_HOST_PEER_LIST,		/* nest: enum vmmig_peerlist_attr; SET only */
	VMMIG_A_HOST_BANDWIDTH,		/* u64 bytes/s, 0 or >= VMMIG_MIN_BANDWIDTH */

	__VMMIG_A_HOST_MAX,
	VMMIG_A_HOST_MAX = (__VMMIG_A_HOST_MAX - 1)
};

/* A network list entry: ADDR4 or ADDR6, and PREFIX_LEN. */
enum vmmig_net_attr {
	VMMIG_A_NET_ADDR4 = 1,		/* 4 bytes, network order */
	VMMIG_A_NET_ADDR6,		/* 16 bytes */
	VMMIG_A_NET_PREFIX_LEN,		/* u8 */

	__VMMIG_A_NET_MAX,
	VMMIG_A_NET_MAX = (__VMMIG_A_NET_MAX - 1)
};

/* A whole network list (VMMIG_A_HOST_NETWORK_LIST). */
enum vmmig_netlist_attr {
	VMMIG_A_NETLIST_ENTRY = 1,	/* nest: enum vmmig_netent_attr, repeated */

	__VMMIG_A_NETLIST_MAX,
	VMMIG_A_NETLIST_MAX = (__VMMIG_A_NETLIST_MAX - 1)
};

/* One entry of it: the same attributes, numbered as in enum vmmig_net_attr. */
enum vmmig_netent_attr {
	VMMIG_A_NETENT_ADDR4 = 1,
	VMMIG_A_NETENT_ADDR6,
	VMMIG_A_NETENT_PREFIX_LEN,

	__VMMIG_A_NETENT_MAX,
	VMMIG_A_NETENT_MAX = (__VMMIG_A_NETENT_MAX - 1)
};

/* A session in GET_SESSION dumps and SESSION_EVENT notifications. */
enum vmmig_sess_attr {
	VMMIG_A_SESS_ID = 1,		/* u32, from 1 in each namespace */
	VMMIG_A_SESS_DIRECTION,		/* u32 enum vmmig_role */
	VMMIG_A_SESS_STATE,		/* u32 enum vmmig_state */
	VMMIG_A_SESS_PEER_ADDR4,	/* 4 bytes, network order */
	VMMIG_A_SESS_PEER_ADDR6,	/* 16 bytes */
	VMMIG_A_SESS_PEER_PORT,		/* u16 */
	VMMIG_A_SESS_CHANNELS,		/* u32 */
	VMMIG_A_SESS_COMPRESSION,	/* u32 enum vmmig_comp */
	VMMIG_A_SESS_ROUNDS,		/* u64: SYNCs completed */
	VMMIG_A_SESS_PAGES,		/* u64: sent or placed */
	VMMIG_A_SESS_BYTES,		/* u64: on the wire */
	VMMIG_A_SESS_THROUGHPUT,	/* u64: bytes per second */
	VMMIG_A_SESS_ELAPSED_MS,	/* u64: since it became active */
	VMMIG_A_SESS_ERROR,		/* u32 positive errno */
	VMMIG_A_SESS_EVENT,		/* u32 enum vmmig_notify */
	VMMIG_A_SESS_MESSAGE,		/* string */
	VMMIG_A_SESS_PAD,
	VMMIG_A_SESS_ZERO_PAGES,	/* u64: of PAGES, all-zero ones */
	VMMIG_A_SESS_BLOBS,		/* u64: sent or received */
	VMMIG_A_SESS_COMP_PAGES,	/* u64: struct vmmig_stats comp_pages */
	VMMIG_A_SESS_INCOMPRESSIBLE_PAGES, /* u64: ... incompressible_pages */
	VMMIG_A_SESS_COMP_BYTES_IN,	/* u64: ... comp_bytes_in */
	VMMIG_A_SESS_COMP_BYTES_OUT,	/* u64: ... comp_bytes_out */
	VMMIG_A_SESS_BANDWIDTH,		/* u64 bytes/s: a source's effective cap */

	__VMMIG_A_SESS_MAX,
	VMMIG_A_SESS_MAX = (__VMMIG_A_SESS_MAX - 1)
};

/* One entry of a host's peer list (KEYPAIR mode). */
enum vmmig_peer_attr {
	VMMIG_A_PEER_NAME = 1,		/* string, 1..31 bytes */
	VMMIG_A_PEER_PUBLIC_KEY,	/* VMMIG_KEY_LEN bytes, write only */
	VMMIG_A_PEER_FINGERPRINT,	/* string, read only */
	VMMIG_A_PEER_ALLOW,		/* u32 VMMIG_PEER_SEND | VMMIG_PEER_RECEIVE */
	VMMIG_A_PEER_ADDR4,		/* 4 bytes: the only address it may use */
	VMMIG_A_PEER_ADDR6,		/* 16 bytes */

	__VMMIG_A_PEER_MAX,
	VMMIG_A_PEER_MAX = (__VMMIG_A_PEER_MAX - 1)
};

/* A whole peer list (VMMIG_A_HOST_PEER_LIST). */
enum vmmig_peerlist_attr {
	VMMIG_A_PEERLIST_ENTRY = 1,	/* nest: enum vmmig_peerent_attr, repeated */

	__VMMIG_A_PEERLIST_MAX,
	VMMIG_A_PEERLIST_MAX = (__VMMIG_A_PEERLIST_MAX - 1)
};

/* One entry of it: the attributes of ADD_PEER, numbered as in enum vmmig_peer_attr. */
enum vmmig_peerent_attr {
	VMMIG_A_PEERENT_NAME = 1,
	VMMIG_A_PEERENT_PUBLIC_KEY,
	VMMIG_A_PEERENT_FINGERPRINT,	/* unused */
	VMMIG_A_PEERENT_ALLOW,
	VMMIG_A_PEERENT_ADDR4,
	VMMIG_A_PEERENT_ADDR6,

	__VMMIG_A_PEERENT_MAX,
	VMMIG_A_PEERENT_MAX = (__VMMIG_A_PEERENT_MAX - 1)
};

enum vmmig_cmd {
	VMMIG_CMD_GET_HOST = 1,
	VMMIG_CMD_SET_HOST,
	VMMIG_CMD_GET_NETWORK,
	VMMIG_CMD_ADD_NETWORK,
	VMMIG_CMD_DEL_NETWORK,
	VMMIG_CMD_GET_SESSION,
	VMMIG_CMD_SESSION_EVENT,
	VMMIG_CMD_GET_PEER,
	VMMIG_CMD_ADD_PEER,
	VMMIG_CMD_DEL_PEER,
	VMMIG_CMD_ABORT_SESSION,

	__VMMIG_CMD_MAX,
	VMMIG_CMD_MAX = (__VMMIG_CMD_MAX - 1)
};

#endif /* _UAPI_LINUX_VMMIG_H */
