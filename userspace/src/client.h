// The built-in load client: sequential (one connection at a time) or
// concurrent (C connections in flight), a new connection per request.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

struct ClientResult {
	uint64_t completed = 0; // connections that carried all their requests
	uint64_t requests = 0;
	uint64_t failed = 0;
	double elapsed_s = 0;
	bool timed_out = false;
	std::string first_error;
	// Per request, from its intended start (the schedule when a rate is
	// set, so stalls are not hidden) to the end of its response.
	std::vector<uint64_t> latency_ns;
};

ClientResult run_client(const ClientConfig &cfg);

} // namespace lab
