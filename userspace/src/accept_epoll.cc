// SPDX-License-Identifier: GPL-2.0-only
// The epoll models' accept loop: one instance per worker (plain,
// EPOLLEXCLUSIVE, EPOLLROUNDROBIN) or one shared by all (LIFO or
// EPOLL_WAKE_FIFO), holding connections when asked.
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <unordered_map>

#include "server.h"
#include "server_internal.h"

namespace lab {

int Server::epoll_loop(unsigned idx, int listen_fd)
{
	int ep = epolls_[is_epoll_shared(cfg_.model) ? 0 : idx].get();
	bool drain = listen_events(cfg_.model) & EPOLLET;
	std::unordered_map<int, unsigned> held; // connection: request bytes read
	int err = 0;
	bool stop = false;
	while (!done(idx) && !stop && !err) {
		epoll_event evs[64];
		// No timeout: a wait that times out starts again at the back of
		// a FIFO instance's queue (EPOLL_WAKE_FIFO orders the threads by
		// when they last began to wait), and the front of a LIFO one,
		// and so would reorder what is measured.  stop() wakes every
		// worker through stop_fd_ (level-triggered: each wakeup of a
		// shared instance passes it on) and the listener's shutdown.
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno != EINTR)
			err = errno;
		for (int i = 0; i < n && !stop && !err; i++) {
			int fd = evs[i].data.fd;
			if (fd != listen_fd && fd != stop_fd_.get()) {
				if (!serve_ready(idx, fd, held[fd])) {
					held.erase(fd);
					close(fd);
				}
				continue;
			}
			if (fd == stop_fd_.get() || (evs[i].events & (EPOLLHUP | EPOLLERR))) {
				stop = true;
				break;
			}
			std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
			// One accept per wakeup, as nginx without multi_accept; all
			// pending ones when edge-triggered.
			do {
				int c = accept_one(idx, listen_fd, &stop, &err);
				if (c < 0)
					break;
				if (!cfg_.hold) {
					serve(idx, c);
					continue;
				}
				std::atomic_ref(shared_->stats[idx].accepts).fetch_add(1);
				epoll_event ce{};
				ce.events = EPOLLIN;
				ce.data.fd = c;
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce)) {
					err = errno;
					close(c);
					break;
				}
				held[c] = 0;
			} while (drain);
		}
	}
	for (const auto &h : held)
		close(h.first);
	return err;
}

} // namespace lab
