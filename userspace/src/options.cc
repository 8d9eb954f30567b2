// SPDX-License-Identifier: GPL-2.0-only
#include "options.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

namespace lab {

namespace {

constexpr uint64_t kDefaultSequential = 40;   // the 2017 demonstration
constexpr uint64_t kDefaultConcurrent = 2000;
constexpr double kDefaultServeS = 30;

template <typename T>
bool parse_number(const std::string &s, T &out)
{
	if constexpr (std::is_floating_point_v<T>) {
		// from_chars for double is in GCC 11+, but keep strtod for clarity.
		char *end = nullptr;
		errno = 0;
		double v = std::strtod(s.c_str(), &end);
		if (s.empty() || *end || errno || !std::isfinite(v))
			return false;
		out = v;
		return true;
	} else {
		auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
		return ec == std::errc() && p == s.data() + s.size();
	}
}

// One numeric option: its range, and where the value goes.
template <typename T>
std::function<std::string(const std::string &)> number(T &dst, T lo, T hi)
{
	return [&dst, lo, hi](const std::string &v) -> std::string {
		T x{};
		if (!parse_number(v, x) || x < lo || x > hi) {
			std::ostringstream o;
			o << "'" << v << "' is not a number from " << lo << " to " << hi;
			return o.str();
		}
		dst = x;
		return {};
	};
}

bool is_help(const std::string &arg)
{
	return arg == "--help" || arg == "-h";
}

} // namespace

uint64_t RunOptions::total_connections() const
{
	if (connections)
		return connections;
	if (mode == LoadMode::concurrent && duration_s > 0)
		return UINT64_MAX; // the duration bounds the run
	return mode == LoadMode::sequential ? kDefaultSequential : kDefaultConcurrent;
}

std::string usage()
{
	std::ostringstream o;
	o << "usage: acceptlab run --model MODEL [options]\n"
	     "       acceptlab serve --model MODEL [--duration S] [server options]\n"
	     "       acceptlab load --port P [client options] [--wait-idle PID,...]\n"
	     "       acceptlab compare RESULT.json RESULT.json... [--chart FILE.svg|.png]\n"
	     "       acceptlab models | --help (-h; also after any command)\n"
	     "\n"
	     "Puts an accept model under connection load on 127.0.0.1 and reports how\n"
	     "evenly the workers shared it, the throughput and the latency.\n"
	     "\n"
	     "run options:\n"
	     "  --model NAME          accept model (see 'acceptlab models'); required\n"
	     "  --workers N           workers, 1..64 (4)\n"
	     "  --threads             workers are threads (default: processes)\n"
	     "  --mode MODE           sequential: one connection at a time (default);\n"
	     "                        concurrent: --concurrency connections in flight\n"
	     "  --connections N       connections in all (sequential 40, concurrent 2000)\n"
	     "  --concurrency C       clients in concurrent mode, 1..1024 (8);\n"
	     "                        sequential mode always uses 1\n"
	     "  --duration S          stop after S seconds, 0.1..3600 (no limit)\n"
	     "  --rate R              connections/s over all clients, 0 = max (0);\n"
	     "                        latency then counts from each intended start\n"
	     "  --request-bytes B     bytes each client sends, 0..1048576 (0)\n"
	     "  --response-bytes B    bytes the server answers, 0..1048576 (1)\n"
	     "  --keepalive K         requests per connection, 1..1000000 (1: a new\n"
	     "                        connection per request); needs --request-bytes\n"
	     "                        or --http\n"
	     "  --http                speak minimal HTTP/1.1 (GET, 200 with\n"
	     "                        --response-bytes of body), e.g. for wrk\n"
	     "  --work-us U           server CPU time per request, 0..1000000 (0)\n"
	     "  --clog-ms X           worker 0 stalls X ms ... 0..10000 (0: never)\n"
	     "  --clog-every Y        ... every Y requests, 0..1000000 (0: never)\n"
	     "  --hold                workers keep each connection in their poll or\n"
	     "                        epoll set and answer its requests as they come,\n"
	     "                        instead of serving it to the end at once (model\n"
	     "                        poll always does); needs --request-bytes and\n"
	     "                        model poll, epoll, epoll_exclusive or\n"
	     "                        epoll_roundrobin\n"
	     "  --idle K              first open K connections, 0..1000000 (0), that\n"
	     "                        never send and stay open through the run (from\n"
	     "                        127.0.0.2, .3, ...: 10000 each); implies --hold\n"
	     "  --restart-every MS    every MS ms, 10..60000, replace the next worker\n"
	     "                        process as a zero-downtime restart does (the new\n"
	     "                        one starts, then the old one stops accepting and\n"
	     "                        exits); failed connections are then counted as\n"
	     "                        lost (refused, reset, unanswered), not an error\n"
	     "  --tcp-migrate-req N   run in a network namespace of its own (root)\n"
	     "                        with net.ipv4.tcp_migrate_req = N (0 or 1): 1\n"
	     "                        moves a closed reuseport listener's queue\n"
	     "  --port P              port on 127.0.0.1, 0 = any free (0)\n"
	     "  --timeout S           hard bound on the run, 1..3600 (120)\n"
	     "  --json FILE           also write the result as JSON\n"
	     "\n"
	     "compare prints the results side by side; --chart also draws the\n"
	     "per-worker shares and the latency CDFs (needs gnuplot).\n"
	     "\n"
	     "serve runs only the server, for --duration seconds (30) or until\n"
	     "SIGINT/SIGTERM, then prints the per-worker report; load it with\n"
	     "another client (wrk with --http).\n"
	     "\n"
	     "load runs only the client, against a server already listening on\n"
	     "127.0.0.1:--port (another acceptlab, nginx), and reports throughput\n"
	     "and latency; the server counts who served what.  It takes the client\n"
	     "options (--mode, --connections, --concurrency, --duration, --rate,\n"
	     "--request-bytes, --response-bytes, --keepalive, --http, --timeout,\n"
	     "--json), and:\n"
	     "  --wait-idle PID,...   sequential mode: before each connection, wait\n"
	     "                        (10 s at most) until each of these processes\n"
	     "                        sleeps in accept() or epoll_wait()\n"
	     "\n"
	     "Bad values exit with status 2; an unsupported model or a failed run\n"
	     "with status 1.\n";
	return o.str();
}

Parsed parse_args(const std::vector<std::string> &args)
{
	if (args.empty())
		return ParseError{"missing command (run, serve, load, compare, models); try --help"};
	const std::string &cmd = args[0];
	if (is_help(cmd) || cmd == "help")
		return Help{usage()};
	if (cmd.starts_with("-"))
		return ParseError{"unknown option '" + cmd + "'; a command comes first (run, "
				  "serve, load, compare, models)"};
	if (cmd == "models") {
		if (args.size() > 1 && is_help(args[1]))
			return Help{usage()};
		if (args.size() > 1)
			return ParseError{"models takes no arguments, not '" + args[1] + "'"};
		return ListModels{};
	}

	if (cmd == "compare") {
		CompareOptions c;
		for (size_t i = 1; i < args.size(); i++) {
			if (is_help(args[i])) {
				return Help{usage()};
			} else if (args[i] == "--chart") {
				if (++i == args.size() || args[i].empty())
					return ParseError{"--chart needs a file name (.svg or .png)"};
				c.chart = args[i];
			} else if (args[i].starts_with("-")) {
				return ParseError{"unknown option '" + args[i] + "' for compare"};
			} else {
				c.inputs.push_back(args[i]);
			}
		}
		if (c.inputs.size() < 2)
			return ParseError{"compare needs two or more JSON results"};
		if (!c.chart.empty() && !c.chart.ends_with(".svg") && !c.chart.ends_with(".png"))
			return ParseError{"--chart file must end in .svg or .png"};
		return c;
	}
	if (cmd != "run" && cmd != "serve" && cmd != "load")
		return ParseError{"unknown command '" + cmd + "' (run, serve, load, compare, models)"};

	RunOptions o;
	o.serve_only = cmd == "serve";
	o.load_only = cmd == "load";
	bool have_model = false;
	std::vector<std::string> given; // option names, for what load refuses
	std::string mode = "sequential";
	using Setter = std::function<std::string(const std::string &)>;
	const std::vector<std::pair<std::string, Setter>> valued = {
		{"--model",
		 [&](const std::string &v) -> std::string {
			 auto m = model_from_name(v);
			 if (!m)
				 return "unknown model '" + v + "' (see 'acceptlab models')";
			 o.model = *m;
			 have_model = true;
			 return {};
		 }},
		{"--mode",
		 [&](const std::string &v) -> std::string {
			 if (v != "sequential" && v != "concurrent")
				 return "mode must be sequential or concurrent, not '" + v + "'";
			 mode = v;
			 return {};
		 }},
		{"--json",
		 [&](const std::string &v) -> std::string {
			 if (v.empty())
				 return "--json needs a file name";
			 o.json = v;
			 return {};
		 }},
		{"--workers", number(o.workers, 1u, 64u)},
		{"--connections", number<uint64_t>(o.connections, 1, 100000000)},
		{"--concurrency", number(o.concurrency, 1u, 1024u)},
		{"--duration", number(o.duration_s, 0.1, 3600.0)},
		{"--rate", number(o.rate, 0.0, 1e7)},
		{"--request-bytes", number(o.request_bytes, 0u, 1u << 20)},
		{"--response-bytes", number(o.response_bytes, 0u, 1u << 20)},
		{"--keepalive", number(o.keepalive, 1u, 1000000u)},
		{"--work-us", number(o.work_us, 0u, 1000000u)},
		{"--clog-ms", number(o.clog_ms, 0u, 10000u)},
		{"--clog-every", number(o.clog_every, 0u, 1000000u)},
		{"--idle", number<uint64_t>(o.idle, 0, 1000000)},
		{"--restart-every", number(o.restart_every_ms, 10u, 60000u)},
		{"--tcp-migrate-req", number(o.tcp_migrate_req, 0, 1)},
		{"--port", number(o.port, 0u, 65535u)},
		{"--timeout", number(o.timeout_s, 1.0, 3600.0)},
		{"--wait-idle",
		 [&](const std::string &v) -> std::string {
			 std::istringstream in(v);
			 for (std::string pid; std::getline(in, pid, ',');) {
				 pid_t x = 0;
				 if (!parse_number(pid, x) || x < 1)
					 return "'" + pid + "' is not a process id";
				 o.wait_idle.push_back(x);
			 }
			 if (o.wait_idle.empty())
				 return "needs one or more process ids, comma-separated";
			 return {};
		 }},
	};

	for (size_t i = 1; i < args.size(); i++) {
		std::string a = args[i], value;
		bool inline_value = false;
		if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
			value = a.substr(eq + 1);
			a = a.substr(0, eq);
			inline_value = true;
		}
		given.push_back(a);
		if (a == "--threads" && !inline_value) {
			o.threads = true;
			continue;
		}
		if (a == "--hold" && !inline_value) {
			o.hold = true;
			continue;
		}
		if (a == "--http" && !inline_value) {
			o.http = true;
			continue;
		}
		if (is_help(a))
			return Help{usage()};
		auto it = std::find_if(valued.begin(), valued.end(),
				       [&](const auto &p) { return p.first == a; });
		if (it == valued.end())
			return ParseError{"unknown option '" + args[i] + "'"};
		if (!inline_value) {
			if (++i == args.size())
				return ParseError{a + " needs a value"};
			value = args[i];
		}
		if (std::string err = it->second(value); !err.empty())
			return ParseError{a + ": " + err};
	}
	if (o.load_only) {
		static const char *server_side[] = {"--model",	 "--workers",	    "--threads",
						    "--work-us", "--clog-ms",	    "--clog-every",
						    "--restart-every", "--tcp-migrate-req", "--idle",
						    "--hold"};
		for (const char *opt : server_side)
			if (std::find(given.begin(), given.end(), opt) != given.end())
				return ParseError{std::string(opt) +
						  " is a server option; load drives a server "
						  "that is already running"};
		if (o.port == 0)
			return ParseError{"load needs --port: the server's port on 127.0.0.1"};
	} else if (!o.wait_idle.empty()) {
		return ParseError{"--wait-idle is for load; run waits for its own workers"};
	} else if (!have_model) {
		return ParseError{"--model is required (see 'acceptlab models')"};
	}
	o.mode = mode == "concurrent" ? LoadMode::concurrent : LoadMode::sequential;
	if (o.serve_only && o.duration_s == 0)
		o.duration_s = kDefaultServeS;
	if (o.keepalive > 1 && o.request_bytes == 0 && !o.http)
		return ParseError{"--keepalive needs --request-bytes of 1 or more"};
	if ((o.clog_ms == 0) != (o.clog_every == 0))
		return ParseError{"--clog-ms and --clog-every go together"};
	if (o.serve_only && (o.restart_every_ms || o.tcp_migrate_req >= 0))
		return ParseError{"--restart-every and --tcp-migrate-req are for run: serve's "
				  "clients could not reach a namespace of its own"};
	if (o.serve_only && o.idle)
		return ParseError{"--idle is for run: serve has no client"};
	if (o.idle)
		o.hold = true;
	const char *hold_by = o.idle ? "--idle" : "--hold";
	if (o.hold && !can_hold(o.model))
		return ParseError{std::string(hold_by) +
				  " needs a model whose workers hold connections: poll, "
				  "epoll, epoll_exclusive or epoll_roundrobin"};
	if (o.hold && (o.request_bytes == 0 || o.http))
		return ParseError{std::string(hold_by) +
				  " needs --request-bytes of 1 or more (and no --http): "
				  "the server answers a held connection when it sends a request"};
	if (o.model == Model::poll && o.http && !o.load_only)
		return ParseError{"model poll answers raw requests; not with --http"};
	if (o.restart_every_ms && o.threads)
		return ParseError{"--restart-every replaces worker processes; not with --threads"};
	if (o.restart_every_ms && is_uring(o.model))
		return ParseError{"--restart-every: not for the io_uring models (a retiring "
				  "worker would first have to cancel its accept and reap it)"};
	return o;
}

std::vector<std::string> echo(const RunOptions &o)
{
	auto num = [](double v) {
		std::ostringstream s;
		s << v;
		return s.str();
	};
	std::vector<std::string> kv = {std::string("command=") +
				       (o.serve_only ? "serve" : o.load_only ? "load" : "run")};
	// load has no server of its own: no model, workers or server work.
	if (!o.load_only)
		kv.insert(kv.end(), {
			"model=" + std::string(model_name(o.model)),
			"workers=" + std::to_string(o.workers),
			std::string("worker_kind=") + (o.threads ? "threads" : "processes"),
		});
	kv.insert(kv.end(), {
		std::string("mode=") + (o.mode == LoadMode::concurrent ? "concurrent" : "sequential"),
		"connections=" + (o.total_connections() == UINT64_MAX ?
					  std::string("unlimited") :
					  std::to_string(o.total_connections())),
		"concurrency=" + std::to_string(o.mode == LoadMode::concurrent ? o.concurrency : 1),
		"duration_s=" + num(o.duration_s),
		"rate=" + num(o.rate),
		"request_bytes=" + std::to_string(o.request_bytes),
		"response_bytes=" + std::to_string(o.response_bytes),
		"keepalive=" + std::to_string(o.keepalive),
		std::string("http=") + (o.http ? "yes" : "no"),
	});
	if (o.load_only) {
		std::string pids;
		for (pid_t p : o.wait_idle) {
			if (!pids.empty())
				pids += ',';
			pids += std::to_string(p);
		}
		kv.push_back("wait_idle=" + pids);
	} else {
		kv.insert(kv.end(), {
			"work_us=" + std::to_string(o.work_us),
			"clog_ms=" + std::to_string(o.clog_ms),
			"clog_every=" + std::to_string(o.clog_every),
			std::string("hold=") + (holds(o.model, o.hold, o.request_bytes) ? "yes" : "no"),
			"idle=" + std::to_string(o.idle),
			"restart_every_ms=" + std::to_string(o.restart_every_ms),
			"tcp_migrate_req=" + (o.tcp_migrate_req < 0 ? std::string("unchanged") :
								     std::to_string(o.tcp_migrate_req)),
		});
	}
	kv.insert(kv.end(), {
		"port=" + std::to_string(o.port),
		"timeout_s=" + num(o.timeout_s),
		"json=" + o.json,
	});
	return kv;
}

} // namespace lab
