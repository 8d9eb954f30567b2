// SPDX-License-Identifier: GPL-2.0-only
// The accept loop of the blocking model and the SO_REUSEPORT models.
#include <sys/socket.h>

#include <atomic>
#include <cerrno>

#include "server.h"
#include "server_internal.h"

namespace lab {

// blocking and the reuseport models: accept() blocks; shutdown() of the
// listener makes it fail with EINVAL.
int Server::blocking_loop(unsigned idx, int listen_fd)
{
	while (!done(idx)) {
		int c = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
		if (c >= 0 || errno == ECONNABORTED)
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
		if (c >= 0)
			serve(idx, c);
		else if (errno == EINVAL)
			return 0;
		else if (errno != EINTR && errno != ECONNABORTED)
			return errno;
	}
	return 0;
}

} // namespace lab
