// SPDX-License-Identifier: GPL-2.0-only
// The flags the EPOLLROUNDROBIN series proposes, defined here once for
// acceptlab, the shim and the tests.  These are the series' proposed
// values (the uapi hunks of kernel-patches/): they are not upstream and
// may change before they land.  Never use the shim, or the round-robin
// models, on a kernel without the series: an unpatched kernel may give
// these bits another meaning, or reject them.  (Today's kernels reject
// them: EINVAL beside EPOLLEXCLUSIVE, from epoll_create1() and from an
// accept's ioprio, and the feature probes rely on that; a later kernel
// that gave a bit another meaning would pass the probes.)
//
// A definition that comes first wins: <sys/epoll.h> is included here;
// <liburing.h> or <linux/io_uring.h>, where used, must come before this.
#pragma once

#include <sys/epoll.h>

// epoll_ctl() event flag, with EPOLLEXCLUSIVE: wake the exclusive waiters
// in turn (linux/eventpoll.h).
#ifndef EPOLLROUNDROBIN
#define EPOLLROUNDROBIN (1u << 26)
#endif

// epoll_create1() flag: wake threads waiting on the instance FIFO
// (linux/eventpoll.h).
#ifndef EPOLL_WAKE_FIFO
#define EPOLL_WAKE_FIFO 0x1
#endif

// sqe->ioprio flag of a multishot accept: the rings take turns
// (linux/io_uring.h).
#ifndef IORING_ACCEPT_ROUNDROBIN
#define IORING_ACCEPT_ROUNDROBIN (1u << 3)
#endif
