#include "client.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "net.h"

namespace lab {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kIoTimeoutS = 5; // per connection: a lost one fails, not hangs

std::string io_error(const char *what)
{
	return std::string(what) + ": " +
	       (errno == EAGAIN ? "timed out after 5 s" : std::strerror(errno));
}

// One request on connection s: send the request, read the response (to
// EOF when it is the last one: the server closes after answering).
// Empty string on success, else what failed.
std::string one_request(const ClientConfig &cfg, int s, bool last)
{
	static const char zeros[4096] = {};
	for (unsigned left = cfg.request_bytes; left;) {
		ssize_t w = write(s, zeros, std::min<size_t>(left, sizeof(zeros)));
		if (w <= 0)
			return io_error("write");
		left -= w;
	}
	char buf[4096];
	uint64_t got = 0;
	while (last || got < cfg.response_bytes) {
		size_t want = last ? sizeof(buf) : std::min<size_t>(sizeof(buf), cfg.response_bytes - got);
		ssize_t r = read(s, buf, want);
		if (r == 0)
			break;
		if (r < 0)
			return io_error("read");
		got += r;
	}
	if (got != cfg.response_bytes)
		return "response of " + std::to_string(got) + " bytes, expected " +
		       std::to_string(cfg.response_bytes);
	return {};
}

Fd open_connection(const ClientConfig &cfg, std::string &err)
{
	Fd s = connect_tcp(cfg.port);
	if (!s) {
		err = std::string("connect: ") + std::strerror(errno);
		return s;
	}
	timeval tv{.tv_sec = kIoTimeoutS, .tv_usec = 0};
	setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return s;
}

} // namespace

ClientResult run_client(const ClientConfig &cfg)
{
	ClientResult res;
	std::mutex mu;
	std::atomic<uint64_t> next{0};
	std::atomic<bool> timed_out{false};
	unsigned nthreads = std::max(1u, cfg.concurrency);
	auto start = Clock::now();
	auto deadline = start + std::chrono::duration_cast<Clock::duration>(
					std::chrono::duration<double>(cfg.timeout_s));
	auto end = cfg.duration_s > 0 ?
			   start + std::chrono::duration_cast<Clock::duration>(
					   std::chrono::duration<double>(cfg.duration_s)) :
			   Clock::time_point::max();

	auto client = [&] {
		std::vector<uint64_t> lat;
		uint64_t failed = 0, completed = 0;
		std::string err;
		for (;;) {
			uint64_t k = next.fetch_add(1);
			if (k >= cfg.connections)
				break;
			auto now = Clock::now();
			if (now >= end)
				break;
			if (now >= deadline) {
				timed_out = true;
				break;
			}
			if (cfg.before_each && !cfg.before_each()) {
				failed++;
				if (err.empty())
					err = "workers did not go back to waiting within 10 s";
				break;
			}
			// With a rate, connection k is due at start + k / rate;
			// latency counts from then, even if we are late.
			auto due = now;
			if (cfg.rate > 0) {
				due = start + std::chrono::duration_cast<Clock::duration>(
						      std::chrono::duration<double>(k / cfg.rate));
				std::this_thread::sleep_until(std::min(due, deadline));
			}
			// A connection carries requests_per_connection requests;
			// each request's latency counts from its own start, the
			// first from the connection's intended start.
			std::string e;
			Fd s = open_connection(cfg, e);
			for (unsigned r = 0; s && r < cfg.requests_per_connection; r++) {
				bool last = r + 1 == cfg.requests_per_connection;
				e = one_request(cfg, s.get(), last && cfg.requests_per_connection == 1);
				if (!e.empty())
					break;
				auto done = Clock::now();
				lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
						      done - due).count());
				due = done;
			}
			if (e.empty()) {
				completed++;
			} else {
				failed++;
				if (err.empty())
					err = e;
			}
		}
		std::lock_guard lock(mu);
		res.latency_ns.insert(res.latency_ns.end(), lat.begin(), lat.end());
		res.failed += failed;
		res.completed += completed;
		if (res.first_error.empty())
			res.first_error = err;
	};

	std::vector<std::thread> threads;
	for (unsigned i = 0; i < nthreads; i++)
		threads.emplace_back(client);
	for (auto &t : threads)
		t.join();
	res.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
	res.requests = res.latency_ns.size();
	res.timed_out = timed_out;
	return res;
}

} // namespace lab
