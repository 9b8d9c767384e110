/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live migration of a vmmig-vm VM: the source's pre-copy driver (move)
 * and the destination's (receive). Documentation/vmm.md describes the
 * policy; control.h the conversation between the two VMMs.
 */
#ifndef _VMMIG_MIGRATE_H
#define _VMMIG_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm.h"

/* State blob tags. */
#define MIG_BLOB_VCPU(n)	(0x56430000U + (n))	/* "VC" + index */
#define MIG_BLOB_DEVICES	0x44455653U		/* "DEVS" */

#define MIG_DEFAULT_DOWNTIME_MS	300
#define MIG_DEFAULT_MAX_ROUNDS	30

/* The options of a move, Move-VM style. */
struct move_opts {
	char to[128];			/* destination VMM: ADDR[:PORT] */
	bool include_storage;		/* copy the disk... */
	char storage_path[1024];	/* ... into this directory there */
	u32 compression;		/* VMMIG_COMP_NONE ("tcp"), _LZ4 ("compression") */
	int level;			/* the codec's level; 0: its default */
	unsigned int channels;
	unsigned int downtime_ms;	/* target for the stop-and-copy */
	unsigned int max_rounds;	/* pre-copy rounds before the policy decides */
	bool throttle;			/* slow the vCPUs when the dirty set won't shrink */
	bool force;			/* at the round limit, stop and copy anyway */
	unsigned int max_bandwidth;	/* MB/s; 0: as fast as it goes */
	bool verify;			/* compare digests of RAM and disk at the end */
};

void move_opts_init(struct move_opts *o);
/* "key=value ..." and back: how `vmmig-vm move` hands them to the VMM. */
int move_opts_format(const struct move_opts *o, char *buf, size_t size);
int move_opts_parse(struct move_opts *o, char *line, char *err, size_t errsize);
/* Checks that need no VM; 0 or -EINVAL with a sentence in @err. */
int move_opts_check(const struct move_opts *o, char *err, size_t errsize);

/*
 * Where a move reports: lines of the monitor protocol ("log ...",
 * "progress ...", "summary ..."), and whether its requester gave up.
 */
struct mig_sink {
	void (*line)(void *ctx, const char *line);
	bool (*cancelled)(void *ctx);
	void *ctx;
};

/*
 * Move @vm to another host. 0: the destination confirmed it runs the VM,
 * and @vm is held (the caller destroys it). Otherwise @vm runs on here,
 * and @err says why the move failed.
 */
int migrate_move(struct vm *vm, const struct move_opts *o, const struct mig_sink *sink,
		 char *err, size_t errsize);

struct receive_opts {
	char listen[128];		/* control: ADDR[:PORT] */
	u16 data_port;		/* the module's; 0: the hosts' port setting */
	unsigned int timeout_s;		/* for a source to come; 0: forever */
	int serial_fd;
	u32 dirty_ring;			/* the VM's KVM dirty rings (vm_config) */
};

/*
 * Wait for one incoming VM and run it: 0 with @vm created, restored and
 * running; otherwise nothing is left and @err says why.
 */
int migrate_receive(struct vm *vm, const struct receive_opts *o, char *err, size_t errsize);

#endif /* _VMMIG_MIGRATE_H */
