// SPDX-License-Identifier: GPL-2.0-only
// The poll model's accept loop.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <vector>

#include "server.h"
#include "server_internal.h"

namespace lab {

// One poll() over the listener, stop_fd_ and every connection the worker
// holds: the kernel looks at each of them on every call.
int Server::poll_loop(unsigned idx, int listen_fd)
{
	std::vector<pollfd> fds = {{listen_fd, POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
	std::vector<unsigned> got(2); // per entry of fds: request bytes read
	int err = 0;
	bool stop = false;
	while (!done(idx) && !stop && !err) {
		int n = poll(fds.data(), fds.size(), -1);
		if (n < 0) {
			if (errno != EINTR)
				err = errno;
			continue;
		}
		if (fds[1].revents || (fds[0].revents & (POLLHUP | POLLERR)))
			break;
		if (fds[0].revents & POLLIN) {
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
			int c = accept_one(idx, listen_fd, &stop, &err);
			if (c >= 0 && !cfg_.hold) {
				serve(idx, c);
			} else if (c >= 0) {
				std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
				fds.push_back({c, POLLIN, 0});
				got.push_back(0);
			}
		}
		for (size_t i = 2; i < fds.size();) {
			if (!fds[i].revents || serve_ready(idx, fds[i].fd, got[i])) {
				i++;
				continue;
			}
			close(fds[i].fd);
			fds[i] = fds.back();
			got[i] = got.back();
			fds.pop_back();
			got.pop_back();
		}
	}
	for (size_t i = 2; i < fds.size(); i++)
		close(fds[i].fd);
	return err;
}

} // namespace lab
