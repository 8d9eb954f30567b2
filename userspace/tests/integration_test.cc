// SPDX-License-Identifier: GPL-2.0-only
// Every model under real load on 127.0.0.1 of the running kernel, bounded
// in count and time.  Sequential runs wait until all workers sleep before
// each connection, so their distributions do not depend on timing.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "client.h"
#include "server.h"
#include "stats.h"

namespace {

constexpr unsigned kWorkers = 4;

struct Outcome {
	std::vector<uint64_t> accepts;
	uint64_t wakeups = 0, empty_accepts = 0;
	lab::ClientResult client;
};

Outcome run(lab::Model model, bool threads, uint64_t connections, unsigned concurrency = 1,
	    unsigned clog_ms = 0, unsigned clog_every = 0)
{
	lab::ServerConfig sc;
	sc.model = model;
	sc.workers = kWorkers;
	sc.threads = threads;
	sc.clog_ms = clog_ms;
	sc.clog_every = clog_every;
	lab::Server server(sc);
	lab::ClientConfig cc;
	cc.port = server.port();
	cc.connections = connections;
	cc.concurrency = concurrency;
	cc.timeout_s = 60;
	if (concurrency == 1)
		cc.before_each = [&server] { return server.wait_idle(std::chrono::seconds(10)); };
	Outcome o;
	o.client = lab::run_client(cc);
	for (const auto &w : server.stop()) {
		EXPECT_EQ(w.error, 0);
		o.accepts.push_back(w.accepts);
		o.wakeups += w.wakeups;
		o.empty_accepts += w.empty_accepts;
	}
	EXPECT_EQ(o.client.failed, 0u) << o.client.first_error;
	EXPECT_FALSE(o.client.timed_out);
	EXPECT_EQ(o.client.completed, connections);
	EXPECT_EQ(std::accumulate(o.accepts.begin(), o.accepts.end(), uint64_t{0}), connections);
	return o;
}

std::string show(const std::vector<uint64_t> &v)
{
	std::string s;
	for (auto x : v)
		s += std::to_string(x) + " ";
	return s;
}

class Workers : public ::testing::TestWithParam<bool> {}; // true: threads

TEST_P(Workers, BlockingAcceptIsExactlyEven)
{
	auto o = run(lab::Model::blocking, GetParam(), 40);
	EXPECT_EQ(o.accepts, std::vector<uint64_t>(kWorkers, 10)) << show(o.accepts);
}

TEST_P(Workers, ExclusiveSkewsToOneWorker)
{
	auto o = run(lab::Model::epoll_exclusive, GetParam(), 40);
	EXPECT_EQ(*std::max_element(o.accepts.begin(), o.accepts.end()), 40u) << show(o.accepts);
}

// Sequential connections, each made while every worker sleeps: an exclusive
// wakeup reaches one worker, which finds its connection; blocking accept()
// returns once per connection.  Plain epoll wakes every worker (the herd),
// so at least as many wakeups as connections, and usually more.
TEST_P(Workers, WakeupsPerAccept)
{
	auto o = run(lab::Model::epoll_exclusive, GetParam(), 40);
	EXPECT_EQ(o.wakeups, 40u);
	EXPECT_EQ(o.empty_accepts, 0u);
	o = run(lab::Model::blocking, GetParam(), 40);
	EXPECT_EQ(o.wakeups, 40u);
	EXPECT_EQ(o.empty_accepts, 0u);
	o = run(lab::Model::epoll, GetParam(), 40);
	EXPECT_GE(o.wakeups, 40u);
	EXPECT_EQ(o.wakeups - o.empty_accepts, 40u) << "every other wakeup found nothing";
}

TEST_P(Workers, ReuseportSpreads)
{
	// A hash of 200 different source ports: each of 4 sockets gets some
	// (all 200 missing one socket has probability 4 * 0.75^200).
	auto o = run(lab::Model::reuseport, GetParam(), 200);
	EXPECT_GT(*std::min_element(o.accepts.begin(), o.accepts.end()), 0u) << show(o.accepts);
}

TEST_P(Workers, UringSingleShotIsEven)
{
	if (auto why = lab::unsupported_reason(lab::Model::uring))
		GTEST_SKIP() << *why;
	auto o = run(lab::Model::uring, GetParam(), 40);
	EXPECT_EQ(o.accepts, std::vector<uint64_t>(kWorkers, 10)) << show(o.accepts);
}

TEST_P(Workers, UringMultishotSkews)
{
	if (auto why = lab::unsupported_reason(lab::Model::uring_multishot))
		GTEST_SKIP() << *why;
	auto o = run(lab::Model::uring_multishot, GetParam(), 40);
	EXPECT_EQ(*std::max_element(o.accepts.begin(), o.accepts.end()), 40u) << show(o.accepts);
}

TEST_P(Workers, RoundRobinIsEvenOrReportedUnsupported)
{
	const std::pair<lab::Model, const char *> models[] = {
		{lab::Model::epoll_roundrobin, "kernel lacks EPOLLROUNDROBIN"},
		{lab::Model::epoll_shared_fifo, "kernel lacks EPOLL_WAKE_FIFO"},
		{lab::Model::uring_multishot_roundrobin, "kernel lacks IORING_ACCEPT_ROUNDROBIN"},
	};
	for (auto [m, lacks] : models) {
		if (auto why = lab::unsupported_reason(m)) {
			// An unpatched kernel: the server refuses, never substitutes.
			EXPECT_NE(why->find(lacks), std::string::npos) << *why;
			lab::ServerConfig sc;
			sc.model = m;
			EXPECT_THROW(lab::Server s(sc), std::runtime_error);
			continue;
		}
		auto o = run(m, GetParam(), 40);
		EXPECT_EQ(o.accepts, std::vector<uint64_t>(kWorkers, 10)) << show(o.accepts);
	}
}

TEST_P(Workers, ConcurrentLoadIsServedExactlyOnce)
{
	for (auto m : {lab::Model::blocking, lab::Model::epoll, lab::Model::epoll_exclusive,
		       lab::Model::epoll_shared, lab::Model::reuseport})
		run(m, GetParam(), 400, 8);
}

INSTANTIATE_TEST_SUITE_P(Accept, Workers, ::testing::Values(false, true),
			 [](const auto &info) { return info.param ? "threads" : "processes"; });

TEST(Keepalive, RequestsShareConnections)
{
	lab::ServerConfig sc;
	sc.model = lab::Model::epoll_exclusive;
	sc.request_bytes = 16;
	sc.response_bytes = 100;
	lab::Server server(sc);
	lab::ClientConfig cc;
	cc.port = server.port();
	cc.connections = 20;
	cc.concurrency = 4;
	cc.request_bytes = 16;
	cc.response_bytes = 100;
	cc.requests_per_connection = 5;
	auto res = lab::run_client(cc);
	auto stats = server.stop();
	EXPECT_EQ(res.failed, 0u) << res.first_error;
	EXPECT_EQ(res.completed, 20u);
	EXPECT_EQ(res.requests, 100u);
	uint64_t accepts = 0, requests = 0;
	for (const auto &w : stats) {
		accepts += w.accepts;
		requests += w.requests;
	}
	EXPECT_EQ(accepts, 20u);
	EXPECT_EQ(requests, 100u);
}

TEST(Http, CloseAndKeepaliveAreServed)
{
	for (unsigned per_conn : {1u, 4u}) {
		lab::ServerConfig sc;
		sc.model = lab::Model::blocking;
		sc.http = true;
		sc.response_bytes = 300;
		lab::Server server(sc);
		lab::ClientConfig cc;
		cc.port = server.port();
		cc.http = true;
		cc.connections = 40;
		cc.concurrency = 4;
		cc.response_bytes = 300;
		cc.requests_per_connection = per_conn;
		auto res = lab::run_client(cc);
		server.stop();
		EXPECT_EQ(res.failed, 0u) << res.first_error;
		EXPECT_EQ(res.requests, 40u * per_conn);
	}
}

TEST(Clog, StalledWorkerShowsInTheLatencyTail)
{
	// Worker 0 stalls 50 ms on every 5th request; blocking accept keeps
	// handing it connections, so some wait behind the stall.
	auto o = run(lab::Model::blocking, false, 40, 1, 50, 5);
	auto l = lab::summarize(o.client.latency_ns);
	EXPECT_GE(l.max, 50'000'000u);
}

} // namespace
