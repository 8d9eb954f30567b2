// SPDX-License-Identifier: GPL-2.0-only
// What libepoll_rr_shim.so does to an epoll_ctl() call, apart from the
// call itself, so that the unit tests can check every case.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "proposed_uapi.h"

namespace epoll_rr {

// The events to pass on: EPOLLROUNDROBIN added to an EPOLL_CTL_ADD that
// carries EPOLLEXCLUSIVE, on a kernel that has it.  Everything else as it
// came: EPOLL_CTL_MOD and _DEL (EPOLLEXCLUSIVE is ADD-only, and so is
// EPOLLROUNDROBIN), and items without EPOLLEXCLUSIVE (plain epoll wakes
// every instance anyway).
inline uint32_t add_roundrobin(int op, uint32_t events, bool kernel_has_it)
{
	if (op == EPOLL_CTL_ADD && (events & EPOLLEXCLUSIVE) && kernel_has_it)
		return events | EPOLLROUNDROBIN;
	return events;
}

} // namespace epoll_rr
