// SPDX-License-Identifier: GPL-2.0-only
// libnginx_no_reorder.so: a demo aid, not a fix.  Since 1.21.6 nginx works
// around EPOLLEXCLUSIVE's skew by itself: ngx_reorder_accept_events()
// deletes and re-adds the listening socket after a worker's 1st, 17th,
// 33rd... accept, which moves that worker to the back of the wait queue.
// LD_PRELOAD this library to turn the workaround off, and nginx shows what
// plain EPOLLEXCLUSIVE does (one worker takes every connection), or, with
// libepoll_rr_shim.so too, that EPOLLROUNDROBIN rotates the workers
// without those two epoll_ctl() calls per 16 connections.
//
// How: nginx sets its global ngx_use_exclusive_accept to 1 just before it
// adds a listening socket with EPOLLEXCLUSIVE, and the reorder does nothing
// while it is 0.  Debian's binary exports the symbol; after each such add
// this library sets it back to 0.  In a program without the symbol it says
// so once on stderr and changes nothing.
#include <dlfcn.h>
#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "next_epoll_ctl.h"

namespace {

preload::epoll_ctl_fn real_epoll_ctl;
uintptr_t *use_exclusive_accept; // nginx's ngx_uint_t ngx_use_exclusive_accept

__attribute__((constructor)) void init()
{
	int saved = errno;
	real_epoll_ctl = preload::find_next_epoll_ctl();
	use_exclusive_accept =
		static_cast<uintptr_t *>(dlsym(RTLD_DEFAULT, "ngx_use_exclusive_accept"));
	if (!use_exclusive_accept)
		std::fprintf(stderr, "nginx_no_reorder: this program exports no "
				     "ngx_use_exclusive_accept (not nginx 1.21.6 or later?): "
				     "nothing to turn off\n");
	errno = saved;
}

} // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event *event)
{
	int ret = preload::call(real_epoll_ctl, epfd, op, fd, event);
	if (use_exclusive_accept && op == EPOLL_CTL_ADD && event &&
	    (event->events & EPOLLEXCLUSIVE))
		*use_exclusive_accept = 0;
	return ret;
}
