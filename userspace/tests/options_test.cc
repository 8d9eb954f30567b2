// SPDX-License-Identifier: GPL-2.0-only
// Command-line parsing: every bad value is a one-line ParseError.
#include "options.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using Args = std::vector<std::string>;

lab::RunOptions run_ok(const Args &args)
{
	auto p = lab::parse_args(args);
	auto *o = std::get_if<lab::RunOptions>(&p);
	if (!o) {
		auto *e = std::get_if<lab::ParseError>(&p);
		ADD_FAILURE() << "expected options, got: " << (e ? e->message : "other");
		return {};
	}
	return *o;
}

std::string error_of(const Args &args)
{
	auto p = lab::parse_args(args);
	auto *e = std::get_if<lab::ParseError>(&p);
	return e ? e->message : "";
}

TEST(Options, Defaults)
{
	auto o = run_ok({"run", "--model", "epoll_exclusive"});
	EXPECT_EQ(o.model, lab::Model::epoll_exclusive);
	EXPECT_EQ(o.workers, 4u);
	EXPECT_FALSE(o.threads);
	EXPECT_EQ(o.mode, lab::LoadMode::sequential);
	EXPECT_EQ(o.total_connections(), 40u);
	EXPECT_EQ(o.response_bytes, 1u);
}

TEST(Options, AllValues)
{
	auto o = run_ok({"run", "--model=reuseport_cbpf", "--workers", "8", "--threads",
			 "--mode=concurrent", "--connections", "500", "--concurrency", "16",
			 "--duration", "2.5", "--rate", "1000", "--request-bytes", "100",
			 "--response-bytes", "200", "--work-us", "50", "--clog-ms", "20",
			 "--clog-every", "10", "--port", "8080", "--timeout", "30",
			 "--json", "out.json"});
	EXPECT_EQ(o.model, lab::Model::reuseport_cbpf);
	EXPECT_EQ(o.workers, 8u);
	EXPECT_TRUE(o.threads);
	EXPECT_EQ(o.mode, lab::LoadMode::concurrent);
	EXPECT_EQ(o.total_connections(), 500u);
	EXPECT_EQ(o.concurrency, 16u);
	EXPECT_DOUBLE_EQ(o.duration_s, 2.5);
	EXPECT_DOUBLE_EQ(o.rate, 1000);
	EXPECT_EQ(o.request_bytes, 100u);
	EXPECT_EQ(o.response_bytes, 200u);
	EXPECT_EQ(o.work_us, 50u);
	EXPECT_EQ(o.clog_ms, 20u);
	EXPECT_EQ(o.clog_every, 10u);
	EXPECT_EQ(o.port, 8080u);
	EXPECT_DOUBLE_EQ(o.timeout_s, 30);
	EXPECT_EQ(o.json, "out.json");
}

TEST(Options, ServeAndHttp)
{
	auto o = run_ok({"serve", "--model", "blocking", "--http"});
	EXPECT_TRUE(o.serve_only);
	EXPECT_TRUE(o.http);
	EXPECT_DOUBLE_EQ(o.duration_s, 30); // serving is always bounded
	auto k = run_ok({"run", "--model", "blocking", "--http", "--keepalive", "3"});
	EXPECT_EQ(k.keepalive, 3u); // HTTP frames requests without --request-bytes
}

TEST(Options, Load)
{
	auto o = run_ok({"load", "--port", "8080", "--http", "--mode", "concurrent",
			 "--wait-idle", "12,34"});
	EXPECT_TRUE(o.load_only);
	EXPECT_FALSE(o.serve_only);
	EXPECT_EQ(o.port, 8080u);
	EXPECT_EQ(o.wait_idle, (std::vector<pid_t>{12, 34}));
	EXPECT_EQ(error_of({"load", "--port", "80", "--model", "epoll"}),
		  "--model is a server option; load drives a server that is already running");
	auto lines = lab::echo(o);
	auto has = [&](const std::string &l) {
		return std::find(lines.begin(), lines.end(), l) != lines.end();
	};
	EXPECT_TRUE(has("command=load"));
	EXPECT_TRUE(has("wait_idle=12,34"));
	EXPECT_TRUE(has("port=8080"));
	for (const auto &l : lines)
		EXPECT_FALSE(l.starts_with("model=") || l.starts_with("workers=") ||
			     l.starts_with("work_us="))
			<< "server setting echoed for load: " << l;
}

TEST(Options, ConcurrentDefaults)
{
	EXPECT_EQ(run_ok({"run", "--model", "blocking", "--mode", "concurrent"})
			  .total_connections(), 2000u);
	EXPECT_EQ(run_ok({"run", "--model", "blocking", "--mode", "concurrent",
			  "--duration", "1"}).total_connections(), UINT64_MAX);
}

TEST(Options, EveryBadValueIsAnError)
{
	const std::vector<Args> bad = {
		{},
		{"frobnicate"},
		{"--frobnicate"},
		{"models", "--bogus"},
		{"models", "extra"},
		{"run"},                                  // no model
		{"run", "--model"},                       // missing value
		{"run", "--model", "nope"},
		{"run", "--model", "epoll", "--bogus"},
		{"run", "--model", "epoll", "--workers", "0"},
		{"run", "--model", "epoll", "--workers", "-1"},
		{"run", "--model", "epoll", "--workers", "65"},
		{"run", "--model", "epoll", "--workers", "4x"},
		{"run", "--model", "epoll", "--workers", ""},
		{"run", "--model", "epoll", "--mode", "parallel"},
		{"run", "--model", "epoll", "--connections", "0"},
		{"run", "--model", "epoll", "--connections", "-5"},
		{"run", "--model", "epoll", "--concurrency", "0"},
		{"run", "--model", "epoll", "--concurrency", "1025"},
		{"run", "--model", "epoll", "--duration", "0"},
		{"run", "--model", "epoll", "--duration", "nan"},
		{"run", "--model", "epoll", "--duration", "inf"},
		{"run", "--model", "epoll", "--rate", "-1"},
		{"run", "--model", "epoll", "--request-bytes", "2000000"},
		{"run", "--model", "epoll", "--response-bytes", "x"},
		{"run", "--model", "epoll", "--work-us", "1000001"},
		{"run", "--model", "epoll", "--clog-ms", "10"},   // without --clog-every
		{"run", "--model", "epoll", "--clog-every", "10"}, // without --clog-ms
		{"run", "--model", "epoll", "--port", "65536"},
		{"run", "--model", "epoll", "--timeout", "0"},
		{"run", "--model", "epoll", "--json", ""},
		{"run", "--model", "epoll", "--threads=yes"},
		{"run", "--model", "epoll", "--keepalive", "0"},
		{"run", "--model", "epoll", "--keepalive", "5"}, // without request bytes
		{"run", "--model", "epoll", "--wait-idle", "5"}, // load's
		{"load"},                                     // no port
		{"load", "--port", "0"},
		{"load", "--port", "80", "--model", "epoll"},
		{"load", "--port", "80", "--workers", "2"},
		{"load", "--port", "80", "--clog-ms", "5", "--clog-every", "5"},
		{"load", "--port", "80", "--wait-idle", ""},
		{"load", "--port", "80", "--wait-idle", "1,x"},
		{"load", "--port", "80", "--wait-idle", "0"},
		{"load", "--port", "80", "--wait-idle", "1,,2"},
		{"run", "--model", "poll", "--idle", "10"},  // without request bytes
		{"run", "--model", "blocking", "--idle", "10", "--request-bytes", "1"},
		{"run", "--model", "epoll_shared", "--idle", "10", "--request-bytes", "1"},
		{"run", "--model", "epoll", "--idle", "10", "--request-bytes", "1", "--http"},
		{"run", "--model", "epoll", "--idle", "1000001", "--request-bytes", "1"},
		{"run", "--model", "poll", "--http"},
		{"serve", "--model", "poll", "--idle", "10", "--request-bytes", "1"},
		{"load", "--port", "80", "--idle", "10", "--request-bytes", "1"},
		{"load", "--port", "80", "--hold", "--request-bytes", "1"},
		{"run", "--model", "epoll", "--hold"},        // without request bytes
		{"run", "--model", "epoll", "--hold=yes", "--request-bytes", "1"},
		{"run", "--model", "epoll", "--restart-every", "9"},
		{"run", "--model", "epoll", "--restart-every", "60001"},
		{"run", "--model", "epoll", "--restart-every", "50", "--threads"},
		{"run", "--model", "uring_multishot", "--restart-every", "50"},
		{"serve", "--model", "epoll", "--restart-every", "50"},
		{"load", "--port", "80", "--restart-every", "50"},
		{"run", "--model", "reuseport", "--tcp-migrate-req", "2"},
		{"run", "--model", "reuseport", "--tcp-migrate-req", "-1"},
		{"serve", "--model", "reuseport", "--tcp-migrate-req", "1"},
		{"compare"},
		{"compare", "one.json"},
		{"compare", "a.json", "b.json", "--svg"},
		{"compare", "a.json", "b.json", "-x"},
		{"compare", "a.json", "b.json", "--chart"},
		{"compare", "a.json", "b.json", "--chart", "out.pdf"},
	};
	for (const auto &args : bad) {
		std::string joined;
		for (const auto &a : args)
			joined += a + " ";
		std::string e = error_of(args);
		EXPECT_FALSE(e.empty()) << "accepted: " << joined;
		EXPECT_EQ(e.find('\n'), std::string::npos) << "multi-line error: " << e;
	}
}

TEST(Options, ErrorsNameTheProblem)
{
	EXPECT_EQ(error_of({"run", "--model", "epoll", "--workers", "0"}),
		  "--workers: '0' is not a number from 1 to 64");
	EXPECT_EQ(error_of({"run", "--model", "nope"}),
		  "--model: unknown model 'nope' (see 'acceptlab models')");
}

TEST(Options, AlternativesOptions)
{
	auto o = run_ok({"run", "--model", "poll", "--idle", "20000", "--request-bytes", "16",
			 "--restart-every", "50", "--tcp-migrate-req", "1"});
	EXPECT_EQ(o.model, lab::Model::poll);
	EXPECT_EQ(o.idle, 20000u);
	EXPECT_EQ(o.restart_every_ms, 50u);
	EXPECT_EQ(o.tcp_migrate_req, 1);
	EXPECT_TRUE(o.hold); // implied by --idle
	EXPECT_TRUE(run_ok({"run", "--model", "epoll", "--hold", "--request-bytes", "1"}).hold);
	EXPECT_EQ(error_of({"run", "--model", "blocking", "--hold", "--request-bytes", "1"}),
		  "--hold needs a model whose workers hold connections: poll, epoll, "
		  "epoll_exclusive or epoll_roundrobin");
	EXPECT_EQ(run_ok({"run", "--model", "reuseport"}).tcp_migrate_req, -1);
	EXPECT_EQ(error_of({"run", "--model", "poll", "--idle", "10"}),
		  "--idle needs --request-bytes of 1 or more (and no --http): the server "
		  "answers a held connection when it sends a request");
	EXPECT_TRUE(run_ok({"run", "--model", "reuseport_ebpf_rr"}).model ==
		    lab::Model::reuseport_ebpf_rr);
}

TEST(Options, HelpModelsCompare)
{
	EXPECT_TRUE(std::holds_alternative<lab::Help>(lab::parse_args({"--help"})));
	EXPECT_TRUE(std::holds_alternative<lab::Help>(
		lab::parse_args({"run", "--model", "epoll", "--help"})));
	// --help or -h after every command, too.
	for (const Args &args : std::vector<Args>{{"-h"},
						  {"help"},
						  {"run", "--help"},
						  {"run", "-h"},
						  {"serve", "--help"},
						  {"load", "-h"},
						  {"compare", "--help"},
						  {"compare", "a.json", "-h"},
						  {"models", "--help"}})
		EXPECT_TRUE(std::holds_alternative<lab::Help>(lab::parse_args(args))) << args.back();
	EXPECT_TRUE(std::holds_alternative<lab::ListModels>(lab::parse_args({"models"})));
	auto p = lab::parse_args({"compare", "a.json", "b.json"});
	ASSERT_TRUE(std::holds_alternative<lab::CompareOptions>(p));
	EXPECT_EQ(std::get<lab::CompareOptions>(p).inputs.size(), 2u);
	p = lab::parse_args({"compare", "a.json", "b.json", "--chart", "x.svg"});
	ASSERT_TRUE(std::holds_alternative<lab::CompareOptions>(p));
	EXPECT_EQ(std::get<lab::CompareOptions>(p).chart, "x.svg");
}

TEST(Options, EchoListsEverySetting)
{
	auto lines = lab::echo(run_ok({"run", "--model", "uring", "--mode", "concurrent",
				       "--concurrency", "3"}));
	auto has = [&](const std::string &l) {
		return std::find(lines.begin(), lines.end(), l) != lines.end();
	};
	EXPECT_TRUE(has("model=uring"));
	EXPECT_TRUE(has("mode=concurrent"));
	EXPECT_TRUE(has("concurrency=3"));
	EXPECT_TRUE(has("connections=2000"));
	EXPECT_TRUE(has("worker_kind=processes"));
	EXPECT_TRUE(has("idle=0"));
	EXPECT_TRUE(has("hold=no"));
	EXPECT_TRUE(has("restart_every_ms=0"));
	EXPECT_TRUE(has("tcp_migrate_req=unchanged"));
	EXPECT_EQ(lines.size(), 23u);
}

} // namespace
