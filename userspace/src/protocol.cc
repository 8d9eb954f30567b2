// SPDX-License-Identifier: GPL-2.0-only
// The request/response protocol a worker speaks on an accepted
// connection: raw fixed-size requests and responses, or minimal HTTP/1.1.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>

#include "net.h"
#include "server.h"
#include "server_internal.h"

namespace lab {

namespace {

void burn_cpu_us(unsigned us)
{
	uint64_t end = thread_cpu_ns() + us * 1000ull;
	while (thread_cpu_ns() < end)
		;
}

// SIGUSR1 tells a retiring worker to look at its generation; a request
// it is serving then goes on.
ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;
	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

bool read_full(int fd, unsigned n)
{
	char buf[4096];
	while (n) {
		ssize_t r = read_retry(fd, buf, std::min<size_t>(n, sizeof(buf)));
		if (r <= 0)
			return false;
		n -= r;
	}
	return true;
}

// n zero bytes.
bool write_full(int fd, unsigned n)
{
	static const char buf[4096] = {};
	while (n) {
		unsigned chunk = std::min<size_t>(n, sizeof(buf));
		if (!write_all(fd, buf, chunk))
			return false;
		n -= chunk;
	}
	return true;
}

} // namespace

// Count a request, spend its CPU time, and stall if this is the clogged
// worker's turn.
void Server::handle_request(unsigned idx)
{
	uint64_t req = std::atomic_ref(shared_->stats[idx].requests).fetch_add(1) + 1;
	burn_cpu_us(cfg_.work_us);
	if (idx == 0 && cfg_.clog_every && req % cfg_.clog_every == 0)
		usleep(cfg_.clog_ms * 1000);
}

// Without a request size, one response per connection; with one, answer
// each request until the client closes (keepalive).
void Server::serve(unsigned idx, int conn)
{
	std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
	if (cfg_.http) {
		serve_http(idx, conn);
		return;
	}
	do {
		if (cfg_.request_bytes && !read_full(conn, cfg_.request_bytes))
			break;
		handle_request(idx);
		if (!write_full(conn, cfg_.response_bytes))
			break;
	} while (cfg_.request_bytes);
	close(conn);
}

// Just enough HTTP/1.1 for wrk and our client: read a request head (no
// body), answer 200 with response_bytes of body, close when asked to.
void Server::serve_http(unsigned idx, int conn)
{
	std::string in;
	char buf[4096];
	for (;;) {
		size_t end;
		while ((end = in.find("\r\n\r\n")) == std::string::npos) {
			ssize_t r = read_retry(conn, buf, sizeof(buf));
			if (r <= 0 || in.size() > 65536) {
				close(conn);
				return;
			}
			in.append(buf, r);
		}
		std::string head = in.substr(0, end);
		in.erase(0, end + 4);
		std::transform(head.begin(), head.end(), head.begin(), ::tolower);
		bool close_after = head.find("connection: close") != std::string::npos;
		handle_request(idx);
		// Head and body in one write: two small writes would wait for
		// the peer's delayed ACK (Nagle) on every kept-alive request.
		std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " +
				   std::to_string(cfg_.response_bytes) + "\r\n" +
				   (close_after ? "Connection: close\r\n" : "") + "\r\n";
		resp.append(cfg_.response_bytes, '\0');
		if (!write_all(conn, resp.data(), resp.size()) || close_after)
			break;
	}
	close(conn);
}

// A held connection is readable: read what there is of its requests
// (`got`: bytes of the current one so far) and answer each complete one.
// False when it is to be closed (EOF, an error).
bool Server::serve_ready(unsigned idx, int conn, unsigned &got)
{
	char buf[4096];
	for (;;) {
		ssize_t r = recv(conn, buf, std::min<size_t>(sizeof(buf), cfg_.request_bytes - got),
				 MSG_DONTWAIT);
		if (r == 0)
			return false;
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		got += r;
		if (got < cfg_.request_bytes)
			continue;
		got = 0;
		handle_request(idx);
		if (!write_full(conn, cfg_.response_bytes))
			return false;
	}
}

} // namespace lab
