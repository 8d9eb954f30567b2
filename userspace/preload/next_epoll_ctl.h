// SPDX-License-Identifier: GPL-2.0-only
// What each preload library wraps: the epoll_ctl() after its own in the
// symbol lookup order (libc's, or the next preloaded library's), found
// once when the library loads.
#pragma once

#include <dlfcn.h>
#include <sys/epoll.h>

#include <cerrno>

namespace preload {

using epoll_ctl_fn = int (*)(int, int, int, epoll_event *);

inline epoll_ctl_fn find_next_epoll_ctl()
{
	return reinterpret_cast<epoll_ctl_fn>(dlsym(RTLD_NEXT, "epoll_ctl"));
}

// The call passed on; ENOSYS if dlsym() found nothing to pass it to.
inline int call(epoll_ctl_fn next, int epfd, int op, int fd, epoll_event *event)
{
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(epfd, op, fd, event);
}

} // namespace preload
