// SPDX-License-Identifier: GPL-2.0-only
// libepoll_ctl_count.so: counts a program's epoll_ctl() calls on listening
// sockets, by operation, in each of its processes: what nginx's reorder
// workaround costs in syscalls (the VM's nginx rows).  LD_PRELOAD it with
// EPOLL_CTL_COUNT_FILE naming a file; each process appends one line to it
// when it exits: "pid=P add=A del=D mod=M".  The name is read when the
// library loads, because nginx's workers clear their environment.  Calls
// on other descriptors are not counted; every call goes through unchanged.
#include <fcntl.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "next_epoll_ctl.h"

namespace {

preload::epoll_ctl_fn real_epoll_ctl;
char count_file[4096]; // empty: not counting
std::atomic<unsigned long> adds, dels, mods;

bool is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);
	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

// A forked worker counts its own calls, not its parent's.
void reset_in_child()
{
	adds = dels = mods = 0;
}

__attribute__((constructor)) void init()
{
	int saved = errno;
	real_epoll_ctl = preload::find_next_epoll_ctl();
	const char *f = std::getenv("EPOLL_CTL_COUNT_FILE");
	if (f && *f && std::strlen(f) < sizeof(count_file))
		std::strcpy(count_file, f);
	else
		std::fprintf(stderr, "epoll_ctl_count: EPOLL_CTL_COUNT_FILE is not set "
				     "(or too long): nothing is counted\n");
	pthread_atfork(nullptr, nullptr, reset_in_child);
	errno = saved;
}

__attribute__((destructor)) void report()
{
	if (!count_file[0])
		return;
	int saved = errno;
	int fd = open(count_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		char line[128];
		int n = std::snprintf(line, sizeof(line), "pid=%d add=%lu del=%lu mod=%lu\n",
				      getpid(), adds.load(), dels.load(), mods.load());
		if (write(fd, line, n) != n)
			std::fprintf(stderr, "epoll_ctl_count: cannot write %s\n",
				     count_file);
		close(fd);
	} else {
		std::fprintf(stderr, "epoll_ctl_count: %s: %s\n", count_file,
			     std::strerror(errno));
	}
	errno = saved;
}

} // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event *event)
{
	int saved = errno; // getsockopt() on a non-socket sets it
	if (is_listening(fd)) {
		if (op == EPOLL_CTL_ADD)
			adds++;
		else if (op == EPOLL_CTL_DEL)
			dels++;
		else if (op == EPOLL_CTL_MOD)
			mods++;
	}
	errno = saved;
	return preload::call(real_epoll_ctl, epfd, op, fd, event);
}
