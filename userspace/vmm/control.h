/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control connection of a move: one TCP connection from the source
 * VMM to the destination VMM (default port VMM_CONTROL_PORT), beside the
 * data the modules carry. It says what VM comes, and who runs it when:
 *
 *   source                          destination
 *   HELLO (the VM's shape)   --->
 *                            <---   READY (data port) or ERROR
 *   ... the pages, rounds and state blobs go through /dev/vmmig ...
 *                            <---   RESTORED (digests with --verify)
 *   GO (or ABORT)            --->
 *                            <---   RUNNING (when it resumed)
 *   DONE (the source VM is gone) --->
 *                            <---   GUEST_GAP (the clock gap the guest saw)
 *
 * A source that does not hear RUNNING in time resumes its VM and sends
 * ABORT instead of DONE; a destination that gets ABORT after it started
 * stops its copy. Both ends running stays possible only if the link dies
 * between RUNNING and DONE/ABORT (Documentation/vmm.md, "Split brain").
 * Either side may send ERROR (a sentence) instead of its next message and
 * close. Messages are a struct ctl_hdr and a payload, in the hosts' byte
 * order: both ends are x86-64 (the guest is).
 */
#ifndef _VMMIG_CONTROL_H
#define _VMMIG_CONTROL_H

#include "compiler.h"
#include "vmmig_lib.h"

#define VMM_CONTROL_PORT	6610
#define CTL_MAGIC		0x4c544356	/* "VCTL" */
#define CTL_VERSION		1
#define CTL_MAX_PAYLOAD		4096

enum ctl_type {
	CTL_HELLO = 1,
	CTL_READY,
	CTL_ERROR,
	CTL_RESTORED,
	CTL_GO,
	CTL_ABORT,
	CTL_RUNNING,
	CTL_GUEST_GAP,
	CTL_DONE,
};

struct ctl_hdr {
	u32 magic;
	u32 type;
	u32 len;		/* payload bytes */
	u32 reserved;
};

#define CTL_HELLO_COPY_STORAGE	0x1	/* the disk comes along (region 2) */
#define CTL_HELLO_VERIFY	0x2	/* digest RAM and disk before GO */

struct ctl_hello {
	u32 version;
	u32 flags;		/* CTL_HELLO_* */
	u32 ncpus;
	u32 channels;
	u64 ram_bytes;
	u64 cpuid_hash;	/* the destination must present the same CPU */
	u64 disk_bytes;	/* 0: no disk */
	char disk_path[1024];	/* the source's image: opened as is (shared storage) */
	char storage_dir[1024];	/* COPY_STORAGE: where the copy goes */
};

struct ctl_ready {
	u32 data_port;	/* where the destination's module accepts; 0: the port setting */
	u32 reserved;
	char disk_path[1024];	/* the image the destination uses */
};

struct ctl_error {
	char msg[512];
};

struct ctl_restored {
	u32 verified;	/* the digests are set */
	u32 reserved;
	u64 ram_digest;
	u64 disk_digest;
};

struct ctl_running {
	u64 resumed_wall_ns;
};

struct ctl_guest_gap {
	u32 reported;	/* 0: the guest said nothing in time */
	u32 reserved;
	u64 gap_us;
};

/* A connected, keepalive-monitored socket, or -errno. */
int ctl_connect(const struct vml_addr *to, unsigned int timeout_ms);
int ctl_listen(const struct vml_addr *at);
/* The first connection on @lfd within @timeout_ms (0: forever), or -errno. */
int ctl_accept(int lfd, unsigned int timeout_ms, struct vml_addr *peer);

int ctl_send(int fd, u32 type, const void *payload, u32 len);
int ctl_send_error(int fd, const char *msg);
/*
 * The next message within @timeout_ms: its type, payload copied to @buf
 * (at most @size bytes, the rest dropped), length in *@len. -ETIMEDOUT,
 * -ECONNRESET (closed), -EPROTO (garbage).
 */
int ctl_recv(int fd, unsigned int timeout_ms, u32 *type, void *buf, u32 size,
	     u32 *len);
/* Is a message (or EOF) waiting? */
int ctl_readable(int fd);

#endif /* _VMMIG_CONTROL_H */
