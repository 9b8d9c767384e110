/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monitor: a Unix socket on which a running vmmig-vm takes commands
 * ("status", "quit", "move KEY=VALUE..."), one client at a time, and the
 * client side that `vmmig-vm move|status|quit` run. Replies are lines:
 *
 *   log TEXT			a message for the person
 *   progress KEY=VALUE...	a move's progress (phase round percent
 *				remaining rate eta_ms throttle)
 *   summary KEY=VALUE...	a finished move's numbers
 *   status KEY=VALUE...	the VM's state
 *   ok [TEXT]			the command succeeded (last line)
 *   error TEXT			the command failed (last line)
 */
#ifndef _VMMIG_MONITOR_H
#define _VMMIG_MONITOR_H

#include <stdbool.h>

#include "vmm.h"

/* Run @vm until it stops (or moves away); the process's exit status. */
int monitor_serve(struct vm *vm, const char *path, int sig_fd);

/* Client: send @cmd, render the replies; the command's exit status. */
int monitor_command(const char *path, const char *cmd, bool raw);

#endif /* _VMMIG_MONITOR_H */
