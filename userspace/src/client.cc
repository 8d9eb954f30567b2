// SPDX-License-Identifier: GPL-2.0-only
#include "client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net.h"

namespace lab {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kIoTimeoutS = 5; // per connection: a lost one fails, not hangs

// A failed connection: which count of Failures it goes to, and why.
struct Failure {
	uint64_t Failures::*kind = nullptr; // nullptr: no failure
	std::string what;
	explicit operator bool() const { return kind; }
};

Failure io_error(const char *what)
{
	int err = errno;
	auto kind = err == EAGAIN ? &Failures::unanswered :
		    err == ECONNRESET || err == EPIPE ? &Failures::reset : &Failures::other;
	return {kind, std::string(what) + ": " +
			      (err == EAGAIN ? "timed out after 5 s" : std::strerror(err))};
}

Failure other(std::string what)
{
	return {&Failures::other, std::move(what)};
}

// Read `n` bytes, or up to EOF when `to_eof`; the count read, or -1.
int64_t read_body(int s, uint64_t n, bool to_eof, std::string &pending)
{
	uint64_t got = std::min<uint64_t>(pending.size(), to_eof ? pending.size() : n);
	pending.erase(0, got);
	char buf[4096];
	while (to_eof || got < n) {
		size_t want = to_eof ? sizeof(buf) : std::min<uint64_t>(sizeof(buf), n - got);
		ssize_t r = read(s, buf, want);
		if (r == 0)
			break;
		if (r < 0)
			return -1;
		got += r;
	}
	return got;
}

// One request on connection s; `last` is the last one on it.  Raw: send
// request_bytes, read response_bytes (to EOF when the server answers once
// and closes).  HTTP: GET, read the head and Content-Length of body, with
// "Connection: close" on the last request.
Failure one_request(const ClientConfig &cfg, int s, bool last)
{
	std::string pending;
	bool to_eof;
	if (cfg.http) {
		std::string req = std::string("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
				  (last ? "Connection: close\r\n" : "") + "\r\n";
		if (!write_all(s, req.data(), req.size()))
			return io_error("write");
		size_t end;
		char buf[4096];
		while ((end = pending.find("\r\n\r\n")) == std::string::npos) {
			ssize_t r = read(s, buf, sizeof(buf));
			if (r <= 0)
				return r ? io_error("read") : other("connection closed before the response");
			pending.append(buf, r);
		}
		if (!pending.starts_with("HTTP/1.1 200 "))
			return other("not an HTTP 200 response");
		pending.erase(0, end + 4);
		to_eof = last;
	} else {
		static const std::string zeros(4096, '\0');
		for (unsigned left = cfg.request_bytes; left;) {
			unsigned n = std::min<unsigned>(left, zeros.size());
			if (!write_all(s, zeros.data(), n))
				return io_error("write");
			left -= n;
		}
		to_eof = cfg.request_bytes == 0;
	}
	int64_t got = read_body(s, cfg.response_bytes, to_eof, pending);
	if (got < 0)
		return io_error("read");
	if (uint64_t(got) != cfg.response_bytes)
		return other("response of " + std::to_string(got) + " bytes, expected " +
			     std::to_string(cfg.response_bytes));
	return {};
}

Fd open_connection(const ClientConfig &cfg, Failure &err)
{
	Fd s = connect_tcp(cfg.port);
	if (!s) {
		err = {&Failures::refused, std::string("connect: ") + std::strerror(errno)};
		return s;
	}
	timeval tv{.tv_sec = kIoTimeoutS, .tv_usec = 0};
	setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return s;
}

} // namespace

std::vector<Fd> open_idle(uint16_t port, uint64_t count,
			  const std::function<bool(uint64_t)> &pace)
{
	std::vector<Fd> idle;
	idle.reserve(count);
	for (uint64_t i = 0; i < count; i++) {
		uint32_t source = INADDR_LOOPBACK + 1 + i / kIdlePerSource;
		Fd s = connect_tcp(port, source);
		if (!s) {
			int err = errno;
			std::string addr = "127.0.0." + std::to_string(source & 0xff);
			throw std::runtime_error(
				"idle connection " + std::to_string(i + 1) + " of " +
				std::to_string(count) + " from " + addr + ": " + std::strerror(err) +
				(err == EMFILE ? " (the open files limit)" :
				 err == EADDRNOTAVAIL ? " (no free local port)" : ""));
		}
		idle.push_back(std::move(s));
		if (idle.size() % kIdleBatch == 0 && pace && !pace(idle.size()))
			throw std::runtime_error("gave up with " + std::to_string(idle.size()) +
						 " idle connections open: the server did not accept "
						 "them in time");
	}
	return idle;
}

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
		Failures failures;
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
					err = "a worker did not go back to waiting (it exited, or stayed busy 10 s)";
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
			Failure e;
			Fd s = open_connection(cfg, e);
			for (unsigned r = 0; s && r < cfg.requests_per_connection; r++) {
				bool last = r + 1 == cfg.requests_per_connection;
				e = one_request(cfg, s.get(), last);
				if (e)
					break;
				auto done = Clock::now();
				lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
						      done - due).count());
				due = done;
			}
			if (!e) {
				completed++;
			} else {
				failed++;
				failures.*e.kind += 1;
				if (err.empty())
					err = e.what;
			}
		}
		std::lock_guard lock(mu);
		res.latency_ns.insert(res.latency_ns.end(), lat.begin(), lat.end());
		res.failed += failed;
		res.completed += completed;
		res.failures.add(failures);
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
