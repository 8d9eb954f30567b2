// SPDX-License-Identifier: GPL-2.0-only
// The alternatives a reviewer names, on the running kernel: round-robin
// steering of a SO_REUSEPORT group by eBPF, worker restarts under load,
// and idle connections held by poll and epoll workers.  Small sizes,
// bounded in count and time.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client.h"
#include "net.h"
#include "netns.h"
#include "restarts.h"
#include "server.h"

namespace {

constexpr unsigned kWorkers = 4;

struct Loaded {
	std::vector<lab::WorkerStats> workers;
	lab::ClientResult client;
	uint64_t restarts = 0;

	std::vector<uint64_t> accepts() const
	{
		std::vector<uint64_t> a;
		for (const auto &w : workers)
			a.push_back(w.accepts);
		return a;
	}
	uint64_t accepted() const
	{
		auto a = accepts();
		return std::accumulate(a.begin(), a.end(), uint64_t{0});
	}
	uint64_t requests() const
	{
		uint64_t n = 0;
		for (const auto &w : workers)
			n += w.requests;
		return n;
	}
};

// Loads a server of `sc`; sequential when cc.concurrency is 1 (each
// connection once every worker waits), replacing a worker every
// `restart_every_ms` if not 0.
Loaded load(const lab::ServerConfig &sc, lab::ClientConfig cc, unsigned restart_every_ms = 0)
{
	lab::Server server(sc);
	cc.port = server.port();
	cc.timeout_s = 60;
	if (cc.concurrency == 1)
		cc.before_each = [&server] { return server.wait_idle(std::chrono::seconds(10)); };
	Loaded r;
	if (restart_every_ms)
		r.client = lab::load_with_restarts(server, cc, restart_every_ms, r.restarts);
	else
		r.client = lab::run_client(cc);
	r.workers = server.stop();
	return r;
}

std::string show(const std::vector<uint64_t> &v)
{
	std::string s;
	for (auto x : v)
		s += std::to_string(x) + " ";
	return s;
}

lab::ClientConfig clients(uint64_t connections, unsigned concurrency)
{
	lab::ClientConfig cc;
	cc.connections = connections;
	cc.concurrency = concurrency;
	return cc;
}

TEST(ReuseportEbpf, SequentialConnectionsRotateExactly)
{
	if (auto why = lab::unsupported_reason(lab::Model::reuseport_ebpf_rr))
		GTEST_SKIP() << *why;
	for (bool threads : {false, true}) {
		lab::ServerConfig sc;
		sc.model = lab::Model::reuseport_ebpf_rr;
		sc.threads = threads;
		Loaded r = load(sc, clients(40, 1));
		EXPECT_EQ(r.client.failed, 0u) << r.client.first_error;
		EXPECT_EQ(r.accepts(), std::vector<uint64_t>(kWorkers, 10)) << show(r.accepts());
	}
}

TEST(ReuseportEbpf, ConcurrentConnectionsAreEven)
{
	if (auto why = lab::unsupported_reason(lab::Model::reuseport_ebpf_rr))
		GTEST_SKIP() << *why;
	lab::ServerConfig sc;
	sc.model = lab::Model::reuseport_ebpf_rr;
	Loaded r = load(sc, clients(400, 8));
	EXPECT_EQ(r.client.failed, 0u) << r.client.first_error;
	// One count per SYN: exact, but for a SYN sent twice.
	for (auto a : r.accepts())
		EXPECT_TRUE(a >= 95 && a <= 105) << show(r.accepts());
}

// Restarts.  Worker 0 stalls 300 ms on every request while 100
// connections come in at 500/s, and a worker is replaced every 100 ms
// starting with worker 0: its queue, if it has one of its own, is not
// empty when it goes.

lab::ServerConfig clogged(lab::Model model)
{
	lab::ServerConfig sc;
	sc.model = model;
	sc.clog_ms = 300;
	sc.clog_every = 1;
	return sc;
}

lab::ClientConfig restart_load()
{
	lab::ClientConfig cc = clients(100, 16);
	cc.rate = 500;
	return cc;
}

TEST(Restart, SharedQueueLosesNothing)
{
	for (auto m : {lab::Model::blocking, lab::Model::epoll_exclusive}) {
		Loaded r = load(clogged(m), restart_load(), 100);
		EXPECT_GE(r.restarts, 1u);
		EXPECT_EQ(r.client.failures.total(), 0u) << r.client.first_error;
		EXPECT_EQ(r.client.completed, 100u);
		EXPECT_EQ(r.accepted(), 100u);
	}
}

// Runs check() in a child process moved into a network namespace of its
// own with net.ipv4.tcp_migrate_req = migrate_req: its exit status, or
// 77 (and the reason on stderr) when there can be no such namespace.
int in_netns(int migrate_req, const std::function<bool()> &check)
{
	std::fflush(stdout);
	std::fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		if (auto why = lab::enter_private_netns(migrate_req)) {
			std::fprintf(stderr, "%s\n", why->c_str());
			_exit(77);
		}
		bool ok = false;
		try {
			ok = check();
		} catch (const std::exception &e) {
			std::fprintf(stderr, "%s\n", e.what());
		}
		std::fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

std::vector<lab::Model> reuseport_models()
{
	std::vector<lab::Model> m = {lab::Model::reuseport};
	if (!lab::unsupported_reason(lab::Model::reuseport_ebpf_rr))
		m.push_back(lab::Model::reuseport_ebpf_rr);
	return m;
}

TEST(Restart, ReuseportQueueIsResetUnlessMigrated)
{
	for (auto m : reuseport_models()) {
		for (int migrate : {0, 1}) {
			SCOPED_TRACE(std::string(lab::model_name(m)) +
				     " tcp_migrate_req=" + std::to_string(migrate));
			int rc = in_netns(migrate, [&] {
				Loaded r = load(clogged(m), restart_load(), 100);
				const auto &f = r.client.failures;
				std::printf("restarts %lu, reset %lu, other failures %lu\n",
					    (unsigned long)r.restarts, (unsigned long)f.reset,
					    (unsigned long)(f.total() - f.reset));
				if (r.restarts < 1)
					return false;
				// The stalled worker's queue goes with its
				// listener; migration moves it to another.
				return migrate ? f.total() == 0 : f.reset > 0;
			});
			if (rc == 77)
				GTEST_SKIP() << "no network namespace of its own (see stderr)";
			EXPECT_EQ(rc, 0);
		}
	}
}

// Idle connections: the workers hold them in their poll or epoll sets and
// still serve the load, and answer an idle one once it sends a request.
TEST(Idle, HeldConnectionsStayOpenAndAreServedWhenTheySend)
{
	std::vector<lab::Model> models = {lab::Model::poll, lab::Model::epoll,
					  lab::Model::epoll_exclusive};
	if (!lab::unsupported_reason(lab::Model::epoll_roundrobin))
		models.push_back(lab::Model::epoll_roundrobin);
	for (auto m : models) {
		SCOPED_TRACE(lab::model_name(m));
		lab::ServerConfig sc;
		sc.model = m;
		sc.hold = true;
		sc.request_bytes = 16;
		lab::Server server(sc);
		auto idle = lab::open_idle(server.port(), 300, nullptr);
		server.wait_accepted(300, std::chrono::steady_clock::now() +
						  std::chrono::seconds(10));
		ASSERT_EQ(server.accepted(), 300u);

		lab::ClientConfig cc = clients(100, 8);
		cc.port = server.port();
		cc.request_bytes = 16;
		cc.requests_per_connection = 5;
		cc.timeout_s = 60;
		auto res = lab::run_client(cc);
		EXPECT_EQ(res.failed, 0u) << res.first_error;
		EXPECT_EQ(res.requests, 500u);

		// Still open (no EOF), and answered once it sends.
		char c;
		for (const auto &s : idle)
			ASSERT_EQ(recv(s.get(), &c, 1, MSG_DONTWAIT), -1);
		int s = idle[123].get();
		EXPECT_TRUE(lab::write_all(s, std::string(16, 'x').data(), 16));
		EXPECT_EQ(read(s, &c, 1), 1);

		Loaded l;
		l.workers = server.stop();
		EXPECT_EQ(l.accepted(), 400u);
		EXPECT_EQ(l.requests(), 501u);
	}
}

TEST(Idle, PollWithoutRequestsServesAtAccept)
{
	lab::ServerConfig sc;
	sc.model = lab::Model::poll;
	Loaded r = load(sc, clients(40, 1));
	EXPECT_EQ(r.client.failed, 0u) << r.client.first_error;
	EXPECT_EQ(r.accepted(), 40u);
	// One poll() per worker on the shared socket: every idle one wakes.
	uint64_t wakeups = 0, empty = 0;
	for (const auto &w : r.workers) {
		wakeups += w.wakeups;
		empty += w.empty_accepts;
	}
	EXPECT_EQ(wakeups - empty, 40u);
}

TEST(Idle, NoListenerIsAClearError)
{
	uint16_t port = 0;
	{
		lab::Fd l = lab::listen_tcp(0, &port, false, 1);
		ASSERT_TRUE(l);
	} // closed: nothing listens on `port` now
	try {
		lab::open_idle(port, 10, nullptr);
		ADD_FAILURE() << "no exception";
	} catch (const std::runtime_error &e) {
		EXPECT_NE(std::string(e.what()).find("idle connection 1 of 10 from 127.0.0.2: "
						     "Connection refused"),
			  std::string::npos)
			<< e.what();
	}
}

} // namespace
