// SPDX-License-Identifier: GPL-2.0-only
// libepoll_rr_shim.so: round-robin for servers that use EPOLLEXCLUSIVE,
// without a rebuild.  LD_PRELOAD it, and every epoll_ctl(EPOLL_CTL_ADD)
// that carries EPOLLEXCLUSIVE also carries EPOLLROUNDROBIN, so the worker
// processes that each watch one shared listening socket take turns (nginx
// with accept_mutex off, its default, is one such server).
//
// Whether the kernel has the flag is probed once, when the library loads
// (nginx's workers clear their environment and may drop privileges: the
// shim needs neither), with the documented probe: an ADD of
// EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN fails with EINVAL on kernels
// without it.  There the shim says so once on stderr and passes every call
// through unchanged, so the server works as it would without the shim.
// EPOLLROUNDROBIN's value is the series' proposal (proposed_uapi.h): do not
// preload this on a kernel without the series, which may give the bit
// another meaning.
#include <dlfcn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "next_epoll_ctl.h"
#include "proposed_uapi.h"
#include "rewrite.h"

namespace {

preload::epoll_ctl_fn real_epoll_ctl;
bool kernel_has_roundrobin;

// The documented feature probe, on a private epoll instance and eventfd.
bool probe_roundrobin()
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int ev = eventfd(0, EFD_CLOEXEC);
	bool ok = false;
	if (ep >= 0 && ev >= 0) {
		epoll_event e{};
		e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN;
		ok = real_epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) == 0;
		if (!ok)
			std::fprintf(stderr,
				     "epoll_rr_shim: this kernel lacks EPOLLROUNDROBIN (%s on the "
				     "probe): EPOLLEXCLUSIVE is left as it is\n",
				     std::strerror(errno));
	}
	if (ev >= 0)
		close(ev);
	if (ep >= 0)
		close(ep);
	return ok;
}

// Before main(), and so before any worker forks: each process inherits
// the result, and the message is printed once.
__attribute__((constructor)) void init()
{
	int saved = errno;
	real_epoll_ctl = preload::find_next_epoll_ctl();
	if (real_epoll_ctl)
		kernel_has_roundrobin = probe_roundrobin();
	else
		std::fprintf(stderr, "epoll_rr_shim: no epoll_ctl() to wrap: %s\n", dlerror());
	errno = saved;
}

} // namespace

extern "C" int epoll_ctl(int epfd, int op, int fd, epoll_event *event)
{
	// Only an add on a kernel with the flag is read and copied; every
	// other call goes through exactly as it came, pointer and all.
	if (op != EPOLL_CTL_ADD || !kernel_has_roundrobin || !event)
		return preload::call(real_epoll_ctl, epfd, op, fd, event);
	epoll_event e = *event;
	e.events = epoll_rr::add_roundrobin(op, e.events, kernel_has_roundrobin);
	return preload::call(real_epoll_ctl, epfd, op, fd, &e);
}
