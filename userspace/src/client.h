// SPDX-License-Identifier: GPL-2.0-only
// The built-in load client: sequential (one connection at a time) or
// concurrent (C connections in flight), a new connection per request.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fd.h"

namespace lab {

struct ClientConfig {
	uint16_t port = 0;
	unsigned concurrency = 1; // 1: sequential
	uint64_t connections = 40;
	double duration_s = 0;    // stop after this long even if connections remain
	double rate = 0;          // connections/s over all clients; 0: max
	unsigned request_bytes = 0;
	unsigned response_bytes = 1;
	unsigned requests_per_connection = 1; // > 1 needs request_bytes or http
	bool http = false;
	double timeout_s = 120;   // hard bound: stop and report the run incomplete
	// Called before each connection when sequential; false ends the run
	// as failed (e.g. workers that never go idle).
	std::function<bool()> before_each;
};

// How a connection failed.
struct Failures {
	uint64_t refused = 0;    // connect() failed: no listener took the SYN
	uint64_t reset = 0;      // established, then reset (ECONNRESET, EPIPE)
	uint64_t unanswered = 0; // established, no answer within 5 s
	uint64_t other = 0;      // closed early, a short or wrong response
	uint64_t total() const { return refused + reset + unanswered + other; }
	void add(const Failures &o)
	{
		refused += o.refused;
		reset += o.reset;
		unanswered += o.unanswered;
		other += o.other;
	}
};

struct ClientResult {
	uint64_t completed = 0; // connections that carried all their requests
	uint64_t requests = 0;
	uint64_t failed = 0;    // failures.total(), and ended by before_each
	Failures failures;
	double elapsed_s = 0;
	bool timed_out = false;
	std::string first_error;
	// Per request, from its intended start (the schedule when a rate is
	// set, so stalls are not hidden) to the end of its response.
	std::vector<uint64_t> latency_ns;
};

ClientResult run_client(const ClientConfig &cfg);

// Opens `count` connections to 127.0.0.1:port that never send anything,
// from source addresses 127.0.0.2, 127.0.0.3, ... (kIdlePerSource each) so
// that no address pair runs out of local ports.  Calls `pace` with the
// number open after each kIdleBatch (false: give up).  Throws
// std::runtime_error with a one-line reason.
constexpr uint64_t kIdlePerSource = 10000;
constexpr uint64_t kIdleBatch = 1000;
std::vector<Fd> open_idle(uint16_t port, uint64_t count,
			  const std::function<bool(uint64_t)> &pace);

} // namespace lab
