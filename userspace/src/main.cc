// SPDX-License-Identifier: GPL-2.0-only
// acceptlab: put an accept model under real connection load on 127.0.0.1
// and report the per-worker distribution, fairness, throughput and latency.
#include <signal.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chart.h"
#include "client.h"
#include "netns.h"
#include "options.h"
#include "report.h"
#include "restarts.h"
#include "server.h"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int list_models()
{
	for (const auto &m : lab::all_models()) {
		auto why = lab::unsupported_reason(m.model);
		std::cout << m.name << "\t" << m.description;
		if (why)
			std::cout << " [unsupported here: " << *why << "]";
		std::cout << "\n";
	}
	return 0;
}

int compare(const lab::CompareOptions &c)
{
	std::vector<nlohmann::json> docs;
	for (const auto &path : c.inputs) {
		std::ifstream in(path);
		if (!in) {
			std::cerr << "acceptlab: cannot read " << path << "\n";
			return kExitUsage;
		}
		try {
			docs.push_back(nlohmann::json::parse(in));
		} catch (const std::exception &e) {
			std::cerr << "acceptlab: " << path << ": not JSON: " << e.what() << "\n";
			return kExitUsage;
		}
	}
	try {
		lab::print_comparison(std::cout, docs);
	} catch (const std::exception &e) {
		std::cerr << "acceptlab: compare: " << e.what() << "\n";
		return kExitUsage;
	}
	if (!c.chart.empty()) {
		try {
			lab::write_chart(docs, c.chart);
		} catch (const std::exception &e) {
			std::cerr << "acceptlab: chart: " << e.what() << "\n";
			return kExitFailed;
		}
		std::cout << "chart: " << c.chart << "\n";
	}
	return 0;
}

// The client settings every command that makes connections shares.
lab::ClientConfig client_config(const lab::RunOptions &o, uint16_t port)
{
	lab::ClientConfig cc;
	cc.port = port;
	cc.concurrency = o.mode == lab::LoadMode::concurrent ? o.concurrency : 1;
	cc.connections = o.total_connections();
	cc.duration_s = o.duration_s;
	cc.rate = o.rate;
	cc.request_bytes = o.request_bytes;
	cc.response_bytes = o.response_bytes;
	cc.requests_per_connection = o.keepalive;
	cc.http = o.http;
	cc.timeout_s = o.timeout_s;
	return cc;
}

// The report and --json of a finished run; its exit status.
int finish(lab::RunResult &r)
{
	if (r.client.timed_out)
		r.incomplete = "stopped by --timeout before all connections were made";
	else if (r.client.failed && !r.options.restart_every_ms) // restarts: measured
		r.incomplete = std::to_string(r.client.failed) + " connections failed";
	for (size_t i = 0; i < r.workers.size() && r.incomplete.empty(); i++)
		if (r.workers[i].error)
			r.incomplete = "worker " + std::to_string(i) + " failed: " +
				       std::strerror(r.workers[i].error);

	lab::print_report(std::cout, r);
	if (!r.options.json.empty()) {
		std::ofstream out(r.options.json);
		out << lab::to_json(r).dump(1) << "\n";
		if (!out) {
			std::cerr << "acceptlab: cannot write " << r.options.json << "\n";
			return kExitFailed;
		}
	}
	return r.incomplete.empty() ? 0 : kExitFailed;
}

lab::RunResult new_result(const lab::RunOptions &o)
{
	lab::RunResult r;
	r.options = o;
	utsname u{};
	uname(&u);
	r.kernel = u.release;
	r.vcpus = sysconf(_SC_NPROCESSORS_ONLN);
	return r;
}

// load: the client alone, against a server someone else runs.
int load(const lab::RunOptions &o)
{
	for (pid_t pid : o.wait_idle)
		if (kill(pid, 0) && errno == ESRCH) {
			std::cerr << "acceptlab: --wait-idle: no process " << pid << "\n";
			return kExitFailed;
		}
	lab::RunResult r = new_result(o);
	for (const auto &kv : lab::echo(o))
		std::cout << kv << "\n";
	std::cout.flush();
	lab::ClientConfig cc = client_config(o, o.port);
	if (o.mode == lab::LoadMode::sequential && !o.wait_idle.empty())
		cc.before_each = [&o] {
			return lab::wait_in_accept(o.wait_idle, std::chrono::seconds(10));
		};
	r.client = lab::run_client(cc);
	return finish(r);
}

// Raises RLIMIT_NOFILE (soft, and hard as root) to `need` if below it;
// workers forked later inherit it.  A one-line reason if it cannot.
std::optional<std::string> ensure_open_files(rlim_t need)
{
	rlimit rl{};
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return std::nullopt;
	rlimit want{need, std::max(need, rl.rlim_max)};
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		return std::nullopt;
	return "needs " + std::to_string(need) + " open files; RLIMIT_NOFILE allows " +
	       std::to_string(rl.rlim_max) + " (raise it with ulimit -n, or run as root)";
}

// Opens the idle connections, each batch once the server has taken all
// but a batch of those before it (a full accept queue would drop SYNs and
// stall the client a second each), then waits until the server has
// accepted all of them; within `timeout_s`, the run's bound.
std::vector<lab::Fd> open_idle(const lab::Server &server, uint64_t count, double timeout_s)
{
	auto deadline = std::chrono::steady_clock::now() +
			std::chrono::duration_cast<std::chrono::steady_clock::duration>(
				std::chrono::duration<double>(timeout_s));
	auto idle = lab::open_idle(server.port(), count, [&](uint64_t open) {
		if (open % 5000 == 0)
			std::cerr << "acceptlab: " << open << " of " << count
				  << " idle connections open\n";
		return server.wait_accepted(open - std::min(open, lab::kIdleBatch), deadline);
	});
	if (!server.wait_accepted(count, deadline))
		throw std::runtime_error("the server accepted " + std::to_string(server.accepted()) +
					 " of " + std::to_string(count) +
					 " idle connections before --timeout");
	return idle;
}

int run(const lab::RunOptions &o)
{
	if (o.load_only)
		return load(o);
	lab::RunResult r = new_result(o);

	lab::ServerConfig sc;
	sc.model = o.model;
	sc.workers = o.workers;
	sc.threads = o.threads;
	sc.request_bytes = o.request_bytes;
	sc.response_bytes = o.response_bytes;
	sc.http = o.http;
	sc.work_us = o.work_us;
	sc.clog_ms = o.clog_ms;
	sc.clog_every = o.clog_every;
	sc.port = o.port;
	sc.hold = o.hold;
	if (o.idle) {
		// The client's idle and load connections, and a worker that
		// holds every idle one.
		if (auto why = ensure_open_files(o.idle + o.concurrency + 256)) {
			std::cerr << "acceptlab: --idle " << o.idle << ": " << *why << "\n";
			return kExitFailed;
		}
	}
	if (o.tcp_migrate_req >= 0) {
		if (auto why = lab::enter_private_netns(o.tcp_migrate_req)) {
			std::cerr << "acceptlab: --tcp-migrate-req: " << *why << "\n";
			return kExitFailed;
		}
	}
	// serve: wait for the duration or SIGINT/SIGTERM, taken synchronously.
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	if (o.serve_only)
		sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
	try {
		lab::Server server(sc);
		// Only now: a run refused (model unsupported, port in use)
		// prints nothing on stdout.
		for (const auto &kv : lab::echo(o))
			std::cout << kv << "\n";
		std::cout.flush();
		if (o.serve_only) {
			std::cout << "serving on 127.0.0.1:" << server.port() << " for "
				  << o.duration_s << " s (SIGINT or SIGTERM stops)" << std::endl;
			timespec ts{.tv_sec = time_t(o.duration_s),
				    .tv_nsec = long((o.duration_s - time_t(o.duration_s)) * 1e9)};
			while (sigtimedwait(&stop_signals, nullptr, &ts) < 0 && errno == EINTR)
				;
			r.workers = server.stop();
			lab::print_report(std::cout, r);
			return 0;
		}
		lab::ClientConfig cc = client_config(o, server.port());
		// Sequential: each connection finds every worker waiting, as
		// in the 2017 demonstration (a shell loop is that slow).
		if (o.mode == lab::LoadMode::sequential)
			cc.before_each = [&server] {
				return server.wait_idle(std::chrono::seconds(10));
			};
		std::vector<lab::Fd> idle;
		std::vector<lab::WorkerStats> idle_phase(o.workers);
		if (o.idle) {
			idle = open_idle(server, o.idle, o.timeout_s);
			idle_phase = server.stats();
		}
		if (o.restart_every_ms)
			r.client = lab::load_with_restarts(server, cc, o.restart_every_ms, r.restarts);
		else
			r.client = lab::run_client(cc);
		r.workers = server.stop();
		// Accepts and wakeups count the measured connections only.
		for (unsigned i = 0; i < r.workers.size(); i++) {
			r.workers[i].accepts -= idle_phase[i].accepts;
			r.workers[i].wakeups -= idle_phase[i].wakeups;
			r.workers[i].empty_accepts -= idle_phase[i].empty_accepts;
			r.workers[i].idle_held = idle_phase[i].accepts;
		}
	} catch (const std::exception &e) {
		std::cerr << "acceptlab: " << e.what() << "\n";
		return kExitFailed;
	}

	return finish(r);
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	lab::Parsed p = lab::parse_args(args);
	if (auto *e = std::get_if<lab::ParseError>(&p)) {
		std::cerr << "acceptlab: " << e->message << "\n";
		return kExitUsage;
	}
	if (auto *h = std::get_if<lab::Help>(&p)) {
		std::cout << h->text;
		return 0;
	}
	if (std::holds_alternative<lab::ListModels>(p))
		return list_models();
	if (auto *c = std::get_if<lab::CompareOptions>(&p))
		return compare(*c);
	return run(std::get<lab::RunOptions>(p));
}
