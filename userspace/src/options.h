// SPDX-License-Identifier: GPL-2.0-only
// Command line of acceptlab: parsing, validation, help and the echo of
// every setting as key=value.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "models.h"

namespace lab {

enum class LoadMode { sequential, concurrent };

struct RunOptions {
	bool serve_only = false;   // 'serve': no client, serve for duration_s
	bool load_only = false;    // 'load': no server, load one on `port`
	Model model = Model::epoll_exclusive;
	unsigned workers = 4;
	bool threads = false;      // workers as threads instead of processes
	LoadMode mode = LoadMode::sequential;
	uint64_t connections = 0;  // 0: the mode's default (see help)
	unsigned concurrency = 8;  // connections in flight (concurrent mode)
	double duration_s = 0;     // 0: run until `connections` are done
	double rate = 0;           // connections/s over all clients, 0: max
	unsigned request_bytes = 0;
	unsigned response_bytes = 1;
	unsigned keepalive = 1;    // requests per connection; 1: keepalive off
	bool http = false;         // minimal HTTP/1.1 on both sides (for wrk)
	unsigned work_us = 0;      // server CPU per request
	unsigned clog_ms = 0;      // worker 0 stalls this long ...
	unsigned clog_every = 0;   // ... every this many requests
	bool hold = false;         // workers hold connections in their poll/epoll set
	uint64_t idle = 0;         // connections opened first and held, never sending
	unsigned restart_every_ms = 0; // replace a worker process this often (0: never)
	int tcp_migrate_req = -1;  // -1: leave it; 0, 1: in a network namespace of our own
	unsigned port = 0;         // 0: any free port
	double timeout_s = 120;    // hard bound on the whole run
	std::string json;          // write the result here too
	// load: before each sequential connection, wait until these
	// processes or threads sleep in an accept wait (a server's workers).
	std::vector<pid_t> wait_idle;

	// Connections the run makes: `connections`, or the mode's default.
	uint64_t total_connections() const;
};

struct CompareOptions {
	std::vector<std::string> inputs; // JSON results, two or more
	std::string chart;               // .svg or .png to draw, optional
};

struct ParseError {
	std::string message; // one line, without the program name
};

struct Help {
	std::string text;
};

struct ListModels {};

using Parsed = std::variant<RunOptions, CompareOptions, ListModels, Help, ParseError>;

Parsed parse_args(const std::vector<std::string> &args);

// key=value lines, one per setting, in a stable order.
std::vector<std::string> echo(const RunOptions &o);

std::string usage();

} // namespace lab
