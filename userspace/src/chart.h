// SPDX-License-Identifier: GPL-2.0-only
// Charts of several acceptlab results, drawn by gnuplot: per-worker share
// of the accepts, and the latency CDF from each result's log2 histogram.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab {

// Writes an SVG or PNG (by the file's extension) to `path`; throws
// std::runtime_error with a one-line reason (no gnuplot, bad extension,
// gnuplot failed).
void write_chart(const std::vector<nlohmann::json> &results, const std::string &path);

} // namespace lab
