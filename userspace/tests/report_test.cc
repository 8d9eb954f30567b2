// SPDX-License-Identifier: GPL-2.0-only
// JSON results: what to_json writes survives a dump/parse round trip and
// is what compare reads.
#include "report.h"

#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

namespace {

lab::RunResult sample()
{
	lab::RunResult r;
	r.options.model = lab::Model::epoll_roundrobin;
	r.options.workers = 4;
	r.kernel = "6.12.117-rr";
	r.vcpus = 4;
	for (uint64_t a : {10, 10, 10, 10})
		r.workers.push_back({.accepts = a, .requests = a, .wakeups = a, .empty_accepts = 0,
				     .cpu_ns = 1000000, .error = 0});
	r.client.completed = 40;
	r.client.requests = 40;
	r.client.elapsed_s = 0.5;
	for (uint64_t us = 1; us <= 40; us++)
		r.client.latency_ns.push_back(us * 1000);
	return r;
}

TEST(Json, RoundTrip)
{
	auto j = nlohmann::json::parse(lab::to_json(sample()).dump());
	EXPECT_EQ(j["tool"], "acceptlab");
	EXPECT_EQ(j["kernel"], "6.12.117-rr");
	EXPECT_EQ(j["vcpus"], 4);
	EXPECT_EQ(j["parameters"]["model"], "epoll_roundrobin");
	EXPECT_EQ(j["parameters"]["workers"], "4");
	EXPECT_TRUE(j["complete"].get<bool>());
	ASSERT_EQ(j["workers"].size(), 4u);
	EXPECT_EQ(j["workers"][2]["accepts"], 10);
	EXPECT_DOUBLE_EQ(j["fairness"]["jain"].get<double>(), 1.0);
	EXPECT_DOUBLE_EQ(j["fairness"]["max_min"].get<double>(), 1.0);
	EXPECT_DOUBLE_EQ(j["client"]["connections_per_s"].get<double>(), 80.0);
	EXPECT_EQ(j["latency_ns"]["p50"], 20000);   // nearest rank of 1..40 us
	EXPECT_EQ(j["latency_ns"]["max"], 40000);
	auto h = j["latency_us_log2_histogram"].get<std::vector<uint64_t>>();
	EXPECT_EQ(h[0], 1u);  // 1 us
	EXPECT_EQ(h[5], 9u);  // 32..40 us
}

TEST(Json, IncompleteAndStarvedWorker)
{
	auto r = sample();
	r.workers[3].accepts = 0;
	r.incomplete = "3 connections failed";
	auto j = nlohmann::json::parse(lab::to_json(r).dump());
	EXPECT_FALSE(j["complete"].get<bool>());
	EXPECT_EQ(j["incomplete"], "3 connections failed");
	EXPECT_TRUE(j["fairness"]["max_min"].is_null()); // infinite
}

TEST(Json, WakeupsPerAccept)
{
	// A herd: every connection woke all 4 workers, 3 found nothing.
	auto r = sample();
	for (auto &w : r.workers) {
		w.wakeups = 40;
		w.empty_accepts = 30;
	}
	auto j = nlohmann::json::parse(lab::to_json(r).dump());
	EXPECT_EQ(j["workers"][1]["wakeups"], 40);
	EXPECT_EQ(j["workers"][1]["empty_accepts"], 30);
	EXPECT_EQ(j["wakeups"]["total"], 160);
	EXPECT_DOUBLE_EQ(j["wakeups"]["per_accept"].get<double>(), 4.0);
	EXPECT_DOUBLE_EQ(j["wakeups"]["empty_accepts_per_accept"].get<double>(), 3.0);
	std::ostringstream out;
	lab::print_report(out, r);
	EXPECT_NE(out.str().find("wakeups: 4.00 per accepted connection, empty accepts: 3.00"),
		  std::string::npos)
		<< out.str();

	// No accepted connection: no ratio, rather than a division by zero.
	for (auto &w : r.workers)
		w.accepts = 0;
	EXPECT_FALSE(lab::to_json(r).contains("wakeups"));
}

TEST(Compare, ReadsWhatToJsonWrites)
{
	auto a = lab::to_json(sample());
	auto b = sample();
	b.kernel = "6.12.117";
	b.options.model = lab::Model::epoll_exclusive;
	b.workers = {{40, 40, 40, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
	std::ostringstream out;
	lab::print_comparison(out, {a, lab::to_json(b)});
	std::string t = out.str();
	EXPECT_NE(t.find("[10 10 10 10]"), std::string::npos) << t;
	EXPECT_NE(t.find("[40 0 0 0]"), std::string::npos) << t;
	EXPECT_NE(t.find("0.250"), std::string::npos) << t;
	EXPECT_NE(t.find("inf"), std::string::npos) << t;
	EXPECT_NE(t.find("wakeups/acc"), std::string::npos) << t;
	EXPECT_NE(t.find("1.00"), std::string::npos) << t;
	EXPECT_THROW(lab::print_comparison(out, {nlohmann::json{{"tool", "x"}}}),
		     std::runtime_error);
}

} // namespace
