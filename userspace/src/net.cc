// SPDX-License-Identifier: GPL-2.0-only
#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace lab {

namespace {

sockaddr_in loopback(uint16_t port)
{
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

} // namespace

Fd listen_tcp(uint16_t port, uint16_t *bound, bool reuseport, int backlog, bool nonblock)
{
	Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0));
	if (!s)
		return s;
	int one = 1;
	sockaddr_in a = loopback(port);
	socklen_t len = sizeof(a);
	if (setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport && setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(s.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)) ||
	    listen(s.get(), backlog) ||
	    getsockname(s.get(), reinterpret_cast<sockaddr *>(&a), &len)) {
		int err = errno;
		s.reset();
		errno = err;
		return s;
	}
	if (bound)
		*bound = ntohs(a.sin_port);
	return s;
}

Fd connect_tcp(uint16_t port, uint32_t source)
{
	Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in a = loopback(port), src{};
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(source);
	int one = 1;
	// The port is picked at connect(), for the whole 4-tuple.
	if (s && source &&
	    (setsockopt(s.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	     bind(s.get(), reinterpret_cast<sockaddr *>(&src), sizeof(src)))) {
		int err = errno;
		s.reset();
		errno = err;
	}
	if (s && connect(s.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a))) {
		int err = errno;
		s.reset();
		errno = err;
	}
	return s;
}

bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= w;
	}
	return true;
}

} // namespace lab
