// SPDX-License-Identifier: GPL-2.0-only
// nginx_standin [--fork N]: does to a listening socket what nginx does,
// for preload_test.sh to try the preload libraries without nginx.  Like
// nginx it exports ngx_use_exclusive_accept; it sets it to 1 and adds the
// socket with EPOLLIN | EPOLLEXCLUSIVE (ngx_event_process_init()), deletes
// and re-adds it if the variable is still 1 (ngx_reorder_accept_events()),
// adds an eventfd (not a listener), and prints "ngx_use_exclusive_accept=N
// reordered=yes|no".  --fork N does that first in the process itself, then
// in N child processes, which exit through exit() as nginx's workers do.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fd.h"
#include "in_children.h"
#include "net.h"

extern "C" {
// nginx's ngx_uint_t; the executable exports it (ENABLE_EXPORTS).
__attribute__((visibility("default"))) uintptr_t ngx_use_exclusive_accept;
}

namespace {

int fail(const char *what)
{
	std::printf("error=%s: %s\n", what, std::strerror(errno));
	return 1;
}

int worker()
{
	uint16_t port = 0;
	lab::Fd ep(epoll_create1(EPOLL_CLOEXEC)), ev(eventfd(0, EFD_CLOEXEC));
	lab::Fd ls = lab::listen_tcp(0, &port, false, 16);
	if (!ep || !ev || !ls)
		return fail("setup");
	epoll_event e{};
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	ngx_use_exclusive_accept = 1;
	if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, ls.get(), &e))
		return fail("add");
	bool reordered = ngx_use_exclusive_accept;
	if (reordered && (epoll_ctl(ep.get(), EPOLL_CTL_DEL, ls.get(), nullptr) ||
			  epoll_ctl(ep.get(), EPOLL_CTL_ADD, ls.get(), &e)))
		return fail("reorder");
	epoll_event plain{};
	plain.events = EPOLLIN;
	if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, ev.get(), &plain))
		return fail("add eventfd");
	std::printf("ngx_use_exclusive_accept=%lu reordered=%s\n",
		    static_cast<unsigned long>(ngx_use_exclusive_accept), reordered ? "yes" : "no");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	const char *usage = "usage: nginx_standin [--fork N]";
	int children = 0;
	if (argc == 2 && (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h"))) {
		std::printf("%s\n"
			    "Does to a listening socket what nginx does (ngx_use_exclusive_accept,\n"
			    "EPOLLEXCLUSIVE add, reorder), in N more processes with --fork, for\n"
			    "the preload libraries to be tried without nginx.\n",
			    usage);
		return 0;
	} else if (argc == 3 && !std::strcmp(argv[1], "--fork")) {
		children = std::atoi(argv[2]);
	} else if (argc != 1) {
		std::fprintf(stderr, "nginx_standin: bad arguments (%s)\n", usage);
		return 2;
	}
	int failed = worker();
	if (children <= 0)
		return failed;
	return lab_test::in_children(children, worker) | failed;
}
