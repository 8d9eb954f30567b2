// SPDX-License-Identifier: GPL-2.0-only
// The server side of a run: listening socket(s) and worker processes or
// threads that accept according to one model.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "fd.h"
#include "models.h"
#include "steering.h"

namespace lab {

// Waits until every process or thread in `tids` is asleep in one of the
// syscalls a worker waits for connections in (accept(), epoll_wait(),
// poll(), io_uring_enter()); false if that took longer than `timeout`, or one of
// them exited.
bool wait_in_accept(const std::vector<pid_t> &tids, std::chrono::milliseconds timeout);

struct ServerConfig {
	Model model = Model::epoll_exclusive;
	unsigned workers = 4;
	bool threads = false;
	unsigned request_bytes = 0;
	unsigned response_bytes = 1;
	bool http = false;
	unsigned work_us = 0;
	unsigned clog_ms = 0;    // worker 0 sleeps clog_ms ...
	unsigned clog_every = 0; // ... every clog_every requests (0: never)
	// Hold each connection in the worker's poll or epoll set and answer
	// its requests as they come, instead of serving it to the end at
	// once: how a server keeps idle connections (needs request_bytes;
	// the poll and epoll per-worker models).
	bool hold = false;
	uint16_t port = 0;
};

struct WorkerStats {
	uint64_t accepts = 0;
	uint64_t requests = 0;
	// Returns of the worker's wait with the listener ready (epoll_wait(),
	// an io_uring completion, a blocking accept()), and accept() calls
	// that found nothing: both above 1 per accept is the thundering herd.
	uint64_t wakeups = 0;
	uint64_t empty_accepts = 0;
	uint64_t cpu_ns = 0;
	uint64_t idle_held = 0; // idle connections (--idle) it held, not in accepts
	int error = 0; // errno of the failure that ended the worker, if any
};

// Shared between the parent and the workers, processes or threads.
struct SharedState;
struct SharedStateUnmap {
	void operator()(SharedState *s) const;
};

class Server {
public:
	// Sets up sockets and starts the workers; throws std::runtime_error
	// with a one-line reason (including an unsupported model).
	explicit Server(const ServerConfig &cfg);
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;
	~Server();

	uint16_t port() const { return port_; }
	unsigned workers() const { return cfg_.workers; }
	std::vector<WorkerStats> stats() const; // per worker, so far
	uint64_t accepted() const;              // by all workers, so far
	// Until the workers have accepted `n` in all; false at `deadline`.
	bool wait_accepted(uint64_t n, std::chrono::steady_clock::time_point deadline) const;

	// Waits until every worker sleeps in its accept, epoll or io_uring
	// wait (read from /proc); false after the timeout.
	bool wait_idle(std::chrono::milliseconds timeout) const;

	// Replaces worker process `idx` as a zero-downtime restart does: the
	// new process starts (with a listener of its own in the reuseport
	// models), then the old one stops accepting, finishes the connection
	// it serves, closes its listener and exits.  Call from the thread that
	// made the Server (PDEATHSIG follows the forking thread).  Throws
	// std::runtime_error with a one-line reason.
	void restart(unsigned idx);
	uint64_t restarts() const { return restarts_; }

	// Wakes every worker, waits for them (bounded), returns their stats;
	// a replaced worker's counts are in its replacement's slot.
	std::vector<WorkerStats> stop();

private:
	// On port_, which it sets when 0; `step` prefixes the error.
	Fd new_listener(const char *step = "");
	Fd new_epoll() const;
	pid_t spawn(unsigned idx, unsigned generation); // fork a worker process
	bool wait_ready(unsigned count) const;
	bool done(unsigned idx) const; // stopping, or this process retired
	void worker_main(unsigned idx);
	int accept_one(unsigned idx, int listen_fd, bool *shut, int *err); // accept_one.cc
	bool serve_ready(unsigned idx, int conn, unsigned &got);         // protocol.cc
	// Each accept loop runs until the server stops and returns 0, or the
	// errno that ended it early (accept_epoll.cc, accept_poll.cc,
	// accept_uring.cc, accept_blocking.cc).
	int epoll_loop(unsigned idx, int listen_fd);
	int poll_loop(unsigned idx, int listen_fd);
	int uring_loop(unsigned idx, int listen_fd);
	int blocking_loop(unsigned idx, int listen_fd);
	// The protocol on one accepted connection (protocol.cc).
	void serve(unsigned idx, int conn);
	void serve_http(unsigned idx, int conn);
	void handle_request(unsigned idx);

	ServerConfig cfg_;
	uint16_t port_ = 0;
	std::vector<Fd> listeners_; // one, or one per worker (reuseport)
	std::optional<ReuseportRoundRobin> steering_; // reuseport_ebpf_rr
	std::vector<Fd> epolls_;    // per worker, or one shared
	Fd stop_fd_;                // eventfd, readable once stopping
	std::unique_ptr<SharedState, SharedStateUnmap> shared_;
	std::vector<pid_t> pids_;  // by worker index
	std::vector<std::thread> threads_;
	bool stopped_ = false;
	uint64_t restarts_ = 0;
	unsigned generation_ = 0;  // in a worker process: the one it serves in
};

} // namespace lab
