// SPDX-License-Identifier: GPL-2.0-only
// wait_in_accept(): whether workers, ours or another server's, sleep in
// their wait for a connection, read from /proc.
#include "server.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>

namespace lab {

namespace {

// Asleep ('S') in one of the syscalls a worker waits for connections in.
bool sleeping_in_accept_wait(pid_t tid)
{
	std::ifstream stat("/proc/" + std::to_string(tid) + "/stat");
	std::string line;
	if (!std::getline(stat, line))
		return false;
	auto paren = line.rfind(')');
	if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'S')
		return false;
	std::ifstream sc("/proc/" + std::to_string(tid) + "/syscall");
	long nr = -1;
	if (!(sc >> nr)) // "running"
		return false;
	return nr == SYS_accept || nr == SYS_accept4 || nr == SYS_epoll_wait ||
	       nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2 || nr == SYS_poll ||
	       nr == SYS_ppoll || nr == SYS_io_uring_enter;
}

} // namespace

bool wait_in_accept(const std::vector<pid_t> &tids, std::chrono::milliseconds timeout)
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	for (pid_t tid : tids) {
		while (!sleeping_in_accept_wait(tid)) {
			// Gone (a crashed worker): it will never wait again.
			if (std::chrono::steady_clock::now() > deadline ||
			    (kill(tid, 0) && errno == ESRCH))
				return false;
			usleep(200);
		}
	}
	return true;
}

} // namespace lab
