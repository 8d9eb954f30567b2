// SPDX-License-Identifier: GPL-2.0-only
#include "report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "stats.h"

namespace lab {

namespace {

constexpr int kSchema = 1;

std::vector<uint64_t> accepts_of(const std::vector<WorkerStats> &w)
{
	std::vector<uint64_t> a;
	for (const auto &s : w)
		a.push_back(s.accepts);
	return a;
}

uint64_t sum(const std::vector<uint64_t> &v)
{
	return std::accumulate(v.begin(), v.end(), uint64_t{0});
}

struct Wakeups {
	uint64_t wakeups = 0, empty_accepts = 0;
};

Wakeups wakeups_of(const std::vector<WorkerStats> &w)
{
	Wakeups t;
	for (const auto &s : w) {
		t.wakeups += s.wakeups;
		t.empty_accepts += s.empty_accepts;
	}
	return t;
}

Log2Histogram latency_histogram_us(const ClientResult &c)
{
	Log2Histogram h;
	for (auto ns : c.latency_ns)
		h.add(ns / 1000);
	return h;
}

std::string fixed(double v, int prec)
{
	if (std::isinf(v))
		return "inf";
	std::ostringstream o;
	o << std::fixed << std::setprecision(prec) << v;
	return o.str();
}

} // namespace

nlohmann::json to_json(const RunResult &r)
{
	nlohmann::json j;
	j["schema"] = kSchema;
	j["tool"] = "acceptlab";
	j["kernel"] = r.kernel;
	j["vcpus"] = r.vcpus;
	nlohmann::json params;
	for (const auto &kv : echo(r.options)) {
		auto eq = kv.find('=');
		params[kv.substr(0, eq)] = kv.substr(eq + 1);
	}
	j["parameters"] = params;
	j["complete"] = r.incomplete.empty();
	if (!r.incomplete.empty())
		j["incomplete"] = r.incomplete;

	nlohmann::json workers = nlohmann::json::array();
	for (const auto &w : r.workers)
		workers.push_back({{"accepts", w.accepts}, {"requests", w.requests},
				   {"wakeups", w.wakeups}, {"empty_accepts", w.empty_accepts},
				   {"cpu_ns", w.cpu_ns}, {"idle_held", w.idle_held}});
	j["workers"] = workers;
	if (r.options.restart_every_ms)
		j["restarts"] = r.restarts;
	auto acc = accepts_of(r.workers);
	if (uint64_t total = sum(acc)) {
		Wakeups wk = wakeups_of(r.workers);
		j["wakeups"] = {{"total", wk.wakeups}, {"empty_accepts", wk.empty_accepts},
				{"per_accept", double(wk.wakeups) / total},
				{"empty_accepts_per_accept", double(wk.empty_accepts) / total}};
		Fairness f = fairness(acc);
		j["fairness"] = {{"jain", f.jain},
				 {"max_min", std::isinf(f.max_min) ? nlohmann::json(nullptr) :
								     nlohmann::json(f.max_min)},
				 {"cv", f.cv}, {"chi2", f.chi2}, {"chi2_p", f.chi2_p}};
	}
	const ClientResult &c = r.client;
	j["client"] = {{"completed", c.completed}, {"requests", c.requests},
		       {"failed", c.failed},
		       {"failures", {{"refused", c.failures.refused}, {"reset", c.failures.reset},
				     {"unanswered", c.failures.unanswered},
				     {"other", c.failures.other}}},
		       {"elapsed_s", c.elapsed_s}, {"first_error", c.first_error},
		       {"connections_per_s", c.elapsed_s > 0 ? c.completed / c.elapsed_s : 0.0}};
	if (!c.latency_ns.empty()) {
		LatencySummary l = summarize(c.latency_ns);
		j["latency_ns"] = {{"min", l.min}, {"avg", l.avg}, {"median", l.median},
				   {"max", l.max}, {"stddev", l.stddev}, {"p50", l.p50},
				   {"p90", l.p90}, {"p99", l.p99}, {"p99_9", l.p999}};
		j["latency_us_log2_histogram"] = latency_histogram_us(c).buckets();
	}
	return j;
}

void print_report(std::ostream &out, const RunResult &r)
{
	const ClientResult &c = r.client;
	auto acc = accepts_of(r.workers);
	uint64_t total = sum(acc);

	// load has no workers of its own: the server counts those.
	if (!r.workers.empty())
		out << "\nworker  accepts   share  requests   wakeups     empty    cpu_ms\n";
	for (size_t i = 0; i < r.workers.size(); i++) {
		const auto &w = r.workers[i];
		out << std::setw(6) << i << std::setw(9) << w.accepts << std::setw(7)
		    << fixed(total ? 100.0 * w.accepts / total : 0, 1) << "%" << std::setw(10)
		    << w.requests << std::setw(10) << w.wakeups << std::setw(10)
		    << w.empty_accepts << std::setw(10) << fixed(w.cpu_ns / 1e6, 1) << "\n";
	}
	if (r.options.idle) {
		out << "\nidle connections held:";
		for (const auto &w : r.workers)
			out << " " << w.idle_held;
		out << " (not in accepts)\n";
	}
	if (total) {
		Wakeups wk = wakeups_of(r.workers);
		out << "\nwakeups: " << fixed(double(wk.wakeups) / total, 2)
		    << " per accepted connection, empty accepts: "
		    << fixed(double(wk.empty_accepts) / total, 2)
		    << " per connection (" << wk.wakeups << " and " << wk.empty_accepts
		    << "; above 1 and 0 is a thundering herd)\n";
		Fairness f = fairness(acc);
		out << "\ndistribution:";
		for (auto a : acc)
			out << " " << a;
		out << " jain=" << fixed(f.jain, 3) << "\n";
		out << "fairness: jain=" << fixed(f.jain, 3) << " max/min=" << fixed(f.max_min, 2)
		    << " cv=" << fixed(f.cv, 3) << " chi2=" << fixed(f.chi2, 1)
		    << " p=" << std::setprecision(3) << f.chi2_p << "\n";
	}
	out << "throughput: " << fixed(c.elapsed_s > 0 ? c.completed / c.elapsed_s : 0, 1)
	    << " conn/s, " << fixed(c.elapsed_s > 0 ? c.requests / c.elapsed_s : 0, 1)
	    << " req/s (" << c.completed << " connections, " << c.failed << " failed, "
	    << fixed(c.elapsed_s, 3) << " s)\n";
	if (r.options.restart_every_ms)
		out << "restarts: " << r.restarts << " workers replaced, one every "
		    << r.options.restart_every_ms << " ms\n";
	if (c.failures.total() || r.options.restart_every_ms)
		out << "lost connections: " << c.failures.total() << " (refused "
		    << c.failures.refused << ", reset " << c.failures.reset << ", unanswered "
		    << c.failures.unanswered << ", other " << c.failures.other << ")\n";
	if (!c.first_error.empty())
		out << "first client error: " << c.first_error << "\n";
	if (!c.latency_ns.empty()) {
		LatencySummary l = summarize(c.latency_ns);
		auto us = [](double ns) { return fixed(ns / 1000, 1); };
		out << "latency (us): min=" << us(l.min) << " avg=" << us(l.avg)
		    << " median=" << us(l.median) << " max=" << us(l.max)
		    << " stddev=" << us(l.stddev) << "\n"
		    << "  p50=" << us(l.p50) << " p90=" << us(l.p90) << " p99=" << us(l.p99)
		    << " p99.9=" << us(l.p999) << "\n";
		Log2Histogram h = latency_histogram_us(c);
		const auto &b = h.buckets();
		uint64_t peak = *std::max_element(b.begin(), b.end());
		out << "histogram (us):\n";
		for (unsigned i = 0; i < Log2Histogram::kBuckets; i++) {
			if (!b[i])
				continue;
			uint64_t lo = i ? 1ull << i : 0, hi = 2ull << i;
			out << "  [" << std::setw(8) << lo << ", " << std::setw(8) << hi << ") "
			    << std::setw(8) << b[i] << " "
			    << std::string(std::max<uint64_t>(1, 40 * b[i] / peak), '#') << "\n";
		}
	}
	if (!r.incomplete.empty())
		out << "\nINCOMPLETE: " << r.incomplete << "\n";
}

std::string run_label(const nlohmann::json &result)
{
	const auto &p = result.at("parameters");
	return p.contains("model") ? p.at("model").get<std::string>() :
				     "load :" + p.at("port").get<std::string>();
}

void print_comparison(std::ostream &out, const std::vector<nlohmann::json> &results)
{
	std::vector<std::vector<std::string>> cols;
	std::vector<std::string> labels = {"model", "kernel", "vcpus", "workers", "mode",
					   "complete", "accepts", "jain", "max/min", "cv",
					   "wakeups/acc", "conn/s", "p50 us", "p99 us", "p99.9 us"};
	for (const auto &j : results) {
		if (!j.is_object() || j.value("tool", "") != "acceptlab")
			throw std::runtime_error("not an acceptlab result");
		const auto &p = j.at("parameters");
		std::string accepts;
		for (const auto &w : j.at("workers")) {
			if (!accepts.empty())
				accepts += ' ';
			accepts += std::to_string(w.at("accepts").get<uint64_t>());
		}
		auto fair = [&](const char *k, int prec) {
			if (!j.contains("fairness") || j["fairness"][k].is_null())
				return std::string(j.contains("fairness") ? "inf" : "-");
			return fixed(j["fairness"][k].get<double>(), prec);
		};
		auto lat = [&](const char *k) {
			return j.contains("latency_ns") ?
				       fixed(j["latency_ns"][k].get<double>() / 1000, 1) :
				       std::string("-");
		};
		std::string workers = p.contains("workers") ?
					      p.at("workers").get<std::string>() + " " +
						      p.at("worker_kind").get<std::string>() :
					      "-";
		cols.push_back({run_label(j), j.at("kernel").get<std::string>(),
				std::to_string(j.at("vcpus").get<unsigned>()), workers,
				p.at("mode").get<std::string>(),
				j.at("complete").get<bool>() ? "yes" : "NO",
				accepts.empty() ? "-" : "[" + accepts + "]", fair("jain", 3), fair("max_min", 2),
				fair("cv", 3),
				j.contains("wakeups") ?
					fixed(j["wakeups"]["per_accept"].get<double>(), 2) :
					std::string("-"),
				fixed(j.at("client").at("connections_per_s").get<double>(), 1),
				lat("p50"), lat("p99"), lat("p99_9")});
	}
	size_t lw = 0;
	for (const auto &l : labels)
		lw = std::max(lw, l.size());
	std::vector<size_t> cw;
	for (const auto &c : cols) {
		size_t w = 0;
		for (const auto &v : c)
			w = std::max(w, v.size());
		cw.push_back(w);
	}
	for (size_t row = 0; row < labels.size(); row++) {
		out << std::left << std::setw(lw + 2) << labels[row];
		for (size_t c = 0; c < cols.size(); c++)
			out << std::setw(cw[c] + 2) << cols[c][row];
		out << std::right << "\n";
	}
}

} // namespace lab
