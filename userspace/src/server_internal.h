// SPDX-License-Identifier: GPL-2.0-only
// What the server's files share and nothing else includes: the state
// the parent and the workers share, and the few model predicates more
// than one of them asks.
#pragma once

#include <sys/epoll.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>

#include "models.h"
#include "proposed_uapi.h"
#include "server.h"

namespace lab {

constexpr unsigned kMaxWorkers = 64;

// Plain data in a MAP_SHARED mapping; accessed through std::atomic_ref.
struct SharedState {
	pid_t tid[kMaxWorkers];
	unsigned ready;
	unsigned stopping;
	// A worker process serves until generation[idx] passes the one it
	// was started with: restart() starts the new process with the next
	// one, then bumps it to retire the old process.
	unsigned generation[kMaxWorkers];
	WorkerStats stats[kMaxWorkers];
};

inline uint64_t thread_cpu_ns()
{
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

inline bool is_epoll_shared(Model m)
{
	return m == Model::epoll_shared || m == Model::epoll_shared_fifo;
}

inline uint32_t listen_events(Model m)
{
	switch (m) {
	case Model::epoll_exclusive:
		return EPOLLIN | EPOLLEXCLUSIVE;
	case Model::epoll_roundrobin:
		return EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN;
	case Model::epoll_shared:
	case Model::epoll_shared_fifo:
		return EPOLLIN | EPOLLET | EPOLLEXCLUSIVE;
	default:
		return EPOLLIN;
	}
}

} // namespace lab
