// SPDX-License-Identifier: GPL-2.0-only
// A run's result: the human report, JSON, and the side-by-side comparison
// of several JSON results.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client.h"
#include "options.h"
#include "server.h"

namespace lab {

struct RunResult {
	RunOptions options;
	std::string kernel; // uname -r
	unsigned vcpus = 0;
	std::vector<WorkerStats> workers;
	ClientResult client;
	uint64_t restarts = 0; // workers replaced during the run (--restart-every)
	// Empty when the run completed; else why its numbers are partial.
	std::string incomplete;
};

nlohmann::json to_json(const RunResult &r);
void print_report(std::ostream &out, const RunResult &r);

// What a JSON result was run on: its model, or "load :PORT" for a load
// run, which drove a server someone else ran.
std::string run_label(const nlohmann::json &result);

// Renders the results side by side; throws std::runtime_error on a
// document that is not an acceptlab result.
void print_comparison(std::ostream &out, const std::vector<nlohmann::json> &results);

} // namespace lab
