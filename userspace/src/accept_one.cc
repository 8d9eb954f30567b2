// SPDX-License-Identifier: GPL-2.0-only
// The step the poll and epoll loops share (accept_poll.cc, accept_epoll.cc).
#include <sys/socket.h>

#include <atomic>
#include <cerrno>

#include "server.h"
#include "server_internal.h"

namespace lab {

// One accept() on the nonblocking listener, counted.  Returns the
// connection, or -1 with *err 0 when there was none (another worker took
// it) or the listener was shut down (*shut), or the errno that ends the
// worker.
int Server::accept_one(unsigned idx, int listen_fd, bool *shut, int *err)
{
	*shut = false;
	*err = 0;
	int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
	if (c >= 0)
		return c;
	// EAGAIN: another worker took it.  EINVAL while stopping: the
	// listener was shut down under a worker woken for a connection
	// another took, late (a busy host): it found nothing as well.
	*shut = errno == EINVAL && std::atomic_ref(shared_->stopping).load();
	if (errno == EAGAIN || *shut)
		std::atomic_ref(shared_->stats[idx].empty_accepts).fetch_add(1);
	else if (errno != EINTR && errno != ECONNABORTED)
		*err = errno;
	return -1;
}

} // namespace lab
