// SPDX-License-Identifier: GPL-2.0-only
// The io_uring models' accept loop: single-shot, multishot, and
// multishot with IORING_ACCEPT_ROUNDROBIN.
#include <liburing.h>

#include <atomic>
#include <cerrno>

#include "proposed_uapi.h"
#include "server.h"
#include "server_internal.h"

namespace lab {

constexpr int kPollMs = 200; // io_uring workers re-check `stopping` this often

int Server::uring_loop(unsigned idx, int listen_fd)
{
	io_uring ring;
	int ret = io_uring_queue_init(8, &ring, 0);
	if (ret < 0)
		return -ret;
	bool roundrobin = cfg_.model == Model::uring_multishot_roundrobin;
	bool multishot = roundrobin || cfg_.model == Model::uring_multishot;
	bool armed = false;
	int err = 0;
	std::atomic_ref stopping(shared_->stopping);
	while (!done(idx) && !err) {
		if (!armed) {
			io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			if (multishot)
				io_uring_prep_multishot_accept(sqe, listen_fd, nullptr, nullptr, 0);
			else
				io_uring_prep_accept(sqe, listen_fd, nullptr, nullptr, 0);
			if (roundrobin)
				sqe->ioprio |= IORING_ACCEPT_ROUNDROBIN;
			io_uring_submit(&ring);
			armed = true;
		}
		io_uring_cqe *cqe;
		__kernel_timespec ts{.tv_sec = 0, .tv_nsec = kPollMs * 1000000ll};
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret < 0) {
			err = -ret;
			break;
		}
		int res = cqe->res;
		armed = multishot && (cqe->flags & IORING_CQE_F_MORE);
		io_uring_cqe_seen(&ring, cqe);
		std::atomic_ref(shared_->stats[idx].wakeups).fetch_add(1);
		if (res >= 0)
			serve(idx, res);
		else if (stopping.load() || res == -EINVAL)
			break; // the listener was shut down
		else if (res != -EINTR && res != -ECONNABORTED)
			err = -res;
	}
	io_uring_queue_exit(&ring);
	return err;
}

} // namespace lab
